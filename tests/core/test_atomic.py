"""Every write failure is one typed AudioWriteError that names the path and says what to do;
nothing is left behind; exports are ordinary files (umask permissions)."""

from __future__ import annotations

import errno
import os
import shutil
import stat
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from deeptrance_gui.core.atomic import atomic_write, check_writable, file_mode
from deeptrance_gui.core.audio import AudioClip, save_audio
from deeptrance_gui.core.dream.takes import write_json_atomic
from deeptrance_gui.core.errors import AudioWriteError

CLIP = AudioClip(np.zeros((2, 4410), np.float32), 44_100)


def test_exports_follow_the_umask(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        wav = save_audio(CLIP, tmp_path / "a.wav")
        side = write_json_atomic({"x": 1}, tmp_path / "a.wav.json")
    finally:
        os.umask(old)
    for path in (wav, side):
        assert stat.S_IMODE(path.stat().st_mode) == 0o644
    assert file_mode() == 0o666 & ~old


@pytest.mark.parametrize(
    ("dest", "message"),
    [
        ("/proc/nope.wav", "choose another folder"),
        ("missing-folder/a.wav", "does not exist"),
        ("x" * 300 + ".wav", "too long"),
    ],
)
def test_unwritable_destinations(tmp_path: Path, dest: str, message: str) -> None:
    path = Path(dest) if dest.startswith("/") else tmp_path / dest
    with pytest.raises(AudioWriteError, match=message) as info:
        save_audio(CLIP, path)
    assert str(path)[:40] in str(info.value) and "\n" not in str(info.value)


def test_full_disk_mid_write_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real_write = sf.write

    def full(*args, **kwargs):
        try:
            raise OSError(errno.ENOSPC, "No space left on device")
        except OSError:
            raise AssertionError from None

    monkeypatch.setattr(sf, "write", full)
    with pytest.raises(AudioWriteError, match="could not be written"):
        save_audio(CLIP, tmp_path / "a.wav")
    monkeypatch.setattr(sf, "write", real_write)
    assert list(tmp_path.iterdir()) == []


def test_no_space_is_refused_before_writing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    usage = shutil.disk_usage(tmp_path)
    monkeypatch.setattr(shutil, "disk_usage", lambda _p: usage._replace(free=1000))
    with pytest.raises(AudioWriteError, match="free some space or choose another folder"):
        save_audio(CLIP, tmp_path / "a.wav")
    assert list(tmp_path.iterdir()) == []


def test_a_read_only_folder_says_so_before_the_free_space(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A read-only filesystem is often small or full too (found with a read-only tmpfs: the
    # message asked to free space on it); what to do is to choose another folder.
    import tempfile

    from deeptrance_gui.core.atomic import check_writable_all

    def read_only(*_args: object, **_kwargs: object) -> tuple[int, str]:
        raise OSError(errno.EROFS, os.strerror(errno.EROFS))

    usage = shutil.disk_usage(tmp_path)
    monkeypatch.setattr(shutil, "disk_usage", lambda _p: usage._replace(free=1000))
    monkeypatch.setattr(tempfile, "mkstemp", read_only)
    for check in (
        lambda: check_writable(tmp_path / "a.wav", size_bytes=10**6),
        lambda: check_writable_all([(tmp_path / "a.wav", 10**6), (tmp_path / "a.mid", 10**3)]),
    ):
        with pytest.raises(AudioWriteError, match="read-only filesystem; choose another folder") as info:
            check()
        assert "free" not in str(info.value)


def test_errno_advice(tmp_path: Path) -> None:
    def failing(code: int):
        def write(_fh: object) -> None:
            raise OSError(code, os.strerror(code))

        return write

    for code, words in ((errno.EROFS, "read-only"), (errno.EACCES, "no permission"), (errno.ENOSPC, "not enough free space")):
        with pytest.raises(AudioWriteError, match=words):
            atomic_write(tmp_path / "f.bin", failing(code))
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(AudioWriteError, match="already exists"):
        check_writable(Path(__file__))


def test_cli_refuses_an_unwritable_output_before_dreaming(capsys: pytest.CaptureFixture[str]) -> None:
    from deeptrance_gui.cli import main
    from deeptrance_gui.core import paths

    assert main(["dream", str(paths.demo_clip_path()), "-o", "/proc/nope.wav", "--quiet"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: /proc/nope.wav") and "Traceback" not in err[0]
