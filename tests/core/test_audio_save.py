"""save_audio: formats, atomicity, refusals."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from deeptrance_gui.core.audio import AudioClip, load_audio, save_audio
from deeptrance_gui.core.audio import save as save_module
from deeptrance_gui.core.errors import AudioWriteError
from tests.conftest import tone


@pytest.mark.parametrize(
    ("name", "subtype"),
    [
        ("a.wav", "PCM_16"),
        ("a.wav", "PCM_24"),
        ("a.wav", "FLOAT"),
        ("a.flac", "PCM_16"),
        ("a.flac", "PCM_24"),
        ("A.WAV", None),
    ],
)
def test_formats(tmp_path: Path, name: str, subtype: str | None) -> None:
    clip = AudioClip(tone(duration_s=0.3), 44_100)
    out = save_audio(clip, tmp_path / name, subtype=subtype)
    info = sf.info(out)
    assert info.subtype == (subtype or "PCM_24")
    np.testing.assert_allclose(load_audio(out).samples, clip.samples, atol=1e-4)
    assert not list(tmp_path.glob(".*.part"))


def test_refusals(tmp_path: Path) -> None:
    clip = AudioClip(tone(duration_s=0.1), 44_100)
    with pytest.raises(AudioWriteError, match="mp3"):
        save_audio(clip, tmp_path / "x.mp3")
    with pytest.raises(AudioWriteError, match="FLOAT"):
        save_audio(clip, tmp_path / "x.flac", subtype="FLOAT")
    with pytest.raises(AudioWriteError, match="does not exist"):
        save_audio(clip, tmp_path / "missing" / "x.wav")


def test_never_overwrites_without_asking_nor_the_source(tmp_path: Path) -> None:
    src = tmp_path / "src.wav"
    sf.write(src, tone(duration_s=0.1).T, 44_100)
    before = src.read_bytes()
    clip = load_audio(src)
    with pytest.raises(AudioWriteError, match="came from"):
        save_audio(clip, src, overwrite=True)
    other = tmp_path / "other.wav"
    other.write_bytes(b"keep me")
    with pytest.raises(AudioWriteError, match="already exists"):
        save_audio(clip, other)
    assert other.read_bytes() == b"keep me"
    save_audio(clip, other, overwrite=True)
    assert sf.info(other).frames == clip.frames
    assert src.read_bytes() == before


def test_failed_write_leaves_destination_untouched(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    dest = tmp_path / "take.wav"
    dest.write_bytes(b"old take")

    def broken_write(*_a: object, **_k: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(save_module.sf, "write", broken_write)
    with pytest.raises(AudioWriteError, match="nothing was changed"):
        save_audio(AudioClip(tone(duration_s=0.1), 44_100), dest, overwrite=True)
    assert dest.read_bytes() == b"old take"
    assert not list(tmp_path.glob(".*.part"))


def test_out_of_range_is_clipped_not_wrapped(tmp_path: Path) -> None:
    clip = AudioClip(np.full((1, 100), 1.5, np.float32), 8_000)
    out = save_audio(clip, tmp_path / "loud.wav", subtype="PCM_16")
    assert load_audio(out).samples.min() > 0.99
