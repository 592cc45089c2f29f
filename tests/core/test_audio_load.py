"""load_audio on every format and every way a file can be wrong (fixtures made here)."""

from __future__ import annotations

import os
import socket
import struct
import threading
from pathlib import Path

import av
import numpy as np
import pytest
import soundfile as sf

from deeptrance_gui.core.audio import AudioClip, load_audio, save_audio
from deeptrance_gui.core.audio import load as load_module
from deeptrance_gui.core.errors import (
    AudioFileNotFoundError,
    AudioLoadError,
    AudioPermissionError,
    CorruptAudioError,
    EmptyAudioError,
    FileChangedError,
    NotARegularFileError,
    NotAudioError,
    TrackTooLongError,
    UnsupportedFormatError,
)
from tests.conftest import tone

WAV_SUBTYPES = ["PCM_U8", "PCM_16", "PCM_24", "PCM_32", "FLOAT", "DOUBLE"]


@pytest.mark.parametrize("subtype", WAV_SUBTYPES)
@pytest.mark.parametrize("fmt", ["WAV", "WAVEX"])
def test_wav_subtypes_round_trip(tmp_path: Path, subtype: str, fmt: str) -> None:
    data = tone(duration_s=0.5, sample_rate_hz=22_050)
    path = tmp_path / f"t_{fmt}_{subtype}.wav"
    sf.write(path, data.T, 22_050, subtype=subtype, format=fmt)
    clip = load_audio(path)
    assert clip.sample_rate_hz == 22_050
    assert clip.samples.shape == data.shape
    assert clip.samples.dtype == np.float32
    tolerance = 1e-2 if subtype == "PCM_U8" else 1e-4
    np.testing.assert_allclose(clip.samples, data, atol=tolerance)
    assert not clip.samples.flags.writeable


@pytest.mark.parametrize(
    ("fmt", "subtype", "ext", "rate"),
    [
        ("FLAC", "PCM_24", "flac", 96_000),
        ("OGG", "VORBIS", "ogg", 44_100),
        ("OGG", "OPUS", "opus", 48_000),
        ("MP3", "MPEG_LAYER_III", "mp3", 44_100),
        ("MP3", "MPEG_LAYER_III", "mp3", 22_050),
        ("MP3", "MPEG_LAYER_III", "mp3", 48_000),
        ("AIFF", "PCM_16", "aiff", 8_000),
    ],
)
def test_compressed_formats(tmp_path: Path, fmt: str, subtype: str, ext: str, rate: int) -> None:
    data = tone(duration_s=1.0, sample_rate_hz=rate, frequency_hz=330.0)
    path = tmp_path / f"clip.{ext}"
    sf.write(path, data.T, rate, format=fmt, subtype=subtype)
    clip = load_audio(path)
    assert clip.sample_rate_hz == rate
    assert clip.channels == 2
    assert abs(clip.duration_s - 1.0) < 0.1
    # Lossy codecs: compare energy, not samples.
    assert abs(np.sqrt(np.mean(clip.samples**2)) - np.sqrt(np.mean(data**2))) < 0.05


def test_vbr_mp3(tmp_path: Path) -> None:
    data = tone(duration_s=1.0)
    path = tmp_path / "vbr.mp3"
    with sf.SoundFile(
        path,
        "w",
        44_100,
        2,
        format="MP3",
        subtype="MPEG_LAYER_III",
        compression_level=0.3,
        bitrate_mode="VARIABLE",
    ) as fh:
        fh.write(data.T)
    assert abs(load_audio(path).duration_s - 1.0) < 0.1


def test_m4a_aac_through_ffmpeg(tmp_path: Path) -> None:
    path = tmp_path / "clip.m4a"
    rate = 44_100
    data = tone(duration_s=1.0, sample_rate_hz=rate)
    with av.open(str(path), "w") as container:
        stream = container.add_stream("aac", rate=rate, layout="stereo")
        frame = av.AudioFrame.from_ndarray(data, format="fltp", layout="stereo")
        frame.sample_rate = rate
        for packet in stream.encode(frame):
            container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    clip = load_audio(path)
    assert clip.sample_rate_hz == rate
    assert clip.channels == 2
    assert abs(clip.duration_s - 1.0) < 0.1
    assert clip.source is not None and clip.source.codec == "aac"


@pytest.mark.parametrize("rate", [8_000, 192_000])
@pytest.mark.parametrize("channels", [1, 8])
def test_rates_and_channels(tmp_path: Path, rate: int, channels: int) -> None:
    data = tone(duration_s=0.25, sample_rate_hz=rate, channels=channels, frequency_hz=200)
    path = tmp_path / "x.wav"
    sf.write(path, data.T, rate, subtype="PCM_16")
    clip = load_audio(path)
    assert clip.samples.shape == data.shape


def test_resample_and_mono(tmp_path: Path) -> None:
    data = tone(duration_s=1.0, sample_rate_hz=44_100, frequency_hz=1000)
    path = tmp_path / "x.wav"
    sf.write(path, data.T, 44_100, subtype="FLOAT")
    clip = load_audio(path, target_sample_rate_hz=16_000, mono=True)
    assert clip.sample_rate_hz == 16_000
    assert clip.samples.shape == (1, 16_000)
    assert clip.source is not None and clip.source.sample_rate_hz == 44_100
    spectrum = np.abs(np.fft.rfft(clip.samples[0]))
    assert abs(np.argmax(spectrum) - 1000) <= 1  # 1 Hz bins: the tone stays at 1 kHz


def test_too_many_channels(tmp_path: Path) -> None:
    path = tmp_path / "x.wav"
    sf.write(path, np.zeros((100, 9), np.float32), 44_100)
    with pytest.raises(UnsupportedFormatError, match="9 channels"):
        load_audio(path)


def test_rate_out_of_range(tmp_path: Path) -> None:
    path = tmp_path / "x.wav"
    sf.write(path, np.zeros((100, 1), np.float32), 4_000)
    with pytest.raises(UnsupportedFormatError, match="4000 Hz"):
        load_audio(path)


# --- files that are wrong in some way --------------------------------------------------------


def test_missing(tmp_path: Path) -> None:
    with pytest.raises(AudioFileNotFoundError) as err:
        load_audio(tmp_path / "nope.wav")
    assert "nope.wav" in str(err.value)


def test_directory(tmp_path: Path) -> None:
    with pytest.raises(NotARegularFileError, match="folder"):
        load_audio(tmp_path)


def test_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.wav"
    os.mkfifo(fifo)
    result: list[BaseException] = []
    worker = threading.Thread(target=lambda: _capture(result, fifo), daemon=True)
    worker.start()
    worker.join(5.0)
    assert not worker.is_alive(), "load_audio blocked on a FIFO"
    assert isinstance(result[0], NotARegularFileError)


def _capture(result: list[BaseException], path: Path) -> None:
    try:
        load_audio(path)
    except BaseException as err:
        result.append(err)


def test_socket_and_device(tmp_path: Path) -> None:
    sock_path = tmp_path / "s.wav"
    server = socket.socket(socket.AF_UNIX)
    try:
        server.bind(str(sock_path))
        with pytest.raises(NotARegularFileError, match="socket"):
            load_audio(sock_path)
    finally:
        server.close()
    with pytest.raises(NotARegularFileError, match="device"):
        load_audio("/dev/zero")


def test_permission_denied(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "locked.wav"
    sf.write(path, tone().T, 44_100)
    if os.geteuid() != 0:
        path.chmod(0)
    else:  # root reads everything: simulate what a normal user sees
        monkeypatch.setattr(load_module.os, "access", lambda *_a, **_k: False)
    with pytest.raises(AudioPermissionError, match="permission"):
        load_audio(path)


def test_empty_and_header_only(tmp_path: Path) -> None:
    empty = tmp_path / "empty.mp3"
    empty.write_bytes(b"")
    with pytest.raises(EmptyAudioError, match="empty"):
        load_audio(empty)
    header = tmp_path / "header.wav"
    sf.write(header, np.zeros((0, 2), np.float32), 44_100, subtype="PCM_16")
    assert header.stat().st_size == 44
    with pytest.raises(EmptyAudioError, match="no audio"):
        load_audio(header)


@pytest.mark.parametrize(
    ("content", "what"),
    [
        (b"hello, this is not a song at all\n" * 20, "text"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n" + bytes(200), "PDF"),
        (b"\x89PNG\r\n\x1a\n" + bytes(200), "PNG"),
        (b"\xff\xd8\xff\xe0" + bytes(200), "JPEG"),
        (b"PK\x03\x04" + bytes(200), "ZIP"),
    ],
)
@pytest.mark.parametrize("ext", ["mp3", "wav"])
def test_not_audio_renamed(tmp_path: Path, content: bytes, what: str, ext: str) -> None:
    path = tmp_path / f"fake.{ext}"
    path.write_bytes(content)
    with pytest.raises(NotAudioError, match=what):
        load_audio(path)


def test_random_bytes_are_unsupported(tmp_path: Path) -> None:
    path = tmp_path / "noise.mp3"
    path.write_bytes(np.random.default_rng(0).integers(0, 256, 5000, dtype=np.uint8).tobytes())
    with pytest.raises(AudioLoadError):
        load_audio(path)


def test_truncated_flac_is_salvaged(tmp_path: Path) -> None:
    path = tmp_path / "cut.flac"
    sf.write(path, tone(duration_s=4.0).T, 44_100, subtype="PCM_16")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    clip = load_audio(path)
    assert 0.5 < clip.duration_s < 4.0
    assert any("only" in w for w in clip.warnings), clip.warnings


def test_truncated_wav_header_lies(tmp_path: Path) -> None:
    path = tmp_path / "lies.wav"
    sf.write(path, tone(duration_s=2.0).T, 44_100, subtype="PCM_16")
    raw = bytearray(path.read_bytes())
    # Claim ten times more data than there is.
    data_pos = raw.index(b"data") + 4
    (size,) = struct.unpack("<I", raw[data_pos : data_pos + 4])
    raw[data_pos : data_pos + 4] = struct.pack("<I", size * 10)
    path.write_bytes(bytes(raw))
    clip = load_audio(path)
    assert abs(clip.duration_s - 2.0) < 0.01


def test_corrupt_mp3_body(tmp_path: Path) -> None:
    path = tmp_path / "bad.mp3"
    sf.write(path, tone(duration_s=3.0).T, 44_100, format="MP3", subtype="MPEG_LAYER_III")
    raw = bytearray(path.read_bytes())
    rng = np.random.default_rng(3)
    start = len(raw) // 2
    raw[start : start + 3000] = rng.integers(0, 256, 3000, dtype=np.uint8).tobytes()
    path.write_bytes(bytes(raw))
    try:
        clip = load_audio(path)
    except CorruptAudioError:
        return  # refused clearly: acceptable
    assert clip.duration_s > 0.5
    assert np.all(np.isfinite(clip.samples))


def test_nan_inf_sanitised(tmp_path: Path) -> None:
    data = tone(duration_s=0.5)
    data[0, 100] = np.nan
    data[1, 200] = np.inf
    path = tmp_path / "nan.wav"
    sf.write(path, data.T, 44_100, subtype="FLOAT")
    clip = load_audio(path)
    assert np.all(np.isfinite(clip.samples))
    assert any("NaN" in w for w in clip.warnings)


def test_silence_loads_with_warning(tmp_path: Path) -> None:
    path = tmp_path / "silence.wav"
    sf.write(path, np.zeros((44_100, 2), np.float32), 44_100)
    clip = load_audio(path)
    assert any("silent" in w for w in clip.warnings)


def test_too_short_loads(tmp_path: Path) -> None:
    path = tmp_path / "blip.wav"
    sf.write(path, tone(duration_s=0.2).T, 44_100)
    assert load_audio(path).duration_s == pytest.approx(0.2, abs=1e-3)


def test_long_track_refused_or_truncated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(load_module, "MAX_DURATION_S", 3.0)
    path = tmp_path / "long.wav"
    sf.write(path, tone(duration_s=5.0, sample_rate_hz=8_000).T, 8_000)
    with pytest.raises(TrackTooLongError, match="max-duration"):
        load_audio(path)
    clip = load_audio(path, max_duration_s=2.0)
    assert clip.duration_s == pytest.approx(2.0)
    assert any("first 2" in w for w in clip.warnings)


def test_long_mp3_without_declared_length(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(load_module, "MAX_DURATION_S", 2.0)
    path = tmp_path / "long.mp3"
    sf.write(path, tone(duration_s=4.0).T, 44_100, format="MP3", subtype="MPEG_LAYER_III")
    with pytest.raises(TrackTooLongError):
        load_audio(path)


def test_unicode_spaces_and_symlink(tmp_path: Path) -> None:
    folder = tmp_path / "Ünïcødé folder ♪"
    folder.mkdir()
    path = folder / "my song – take 1.flac"
    sf.write(path, tone().T, 44_100)
    link = tmp_path / "link.flac"
    link.symlink_to(path)
    assert load_audio(link).frames == load_audio(path).frames
    dangling = tmp_path / "dangling.wav"
    dangling.symlink_to(tmp_path / "gone.wav")
    with pytest.raises(AudioFileNotFoundError, match="link"):
        load_audio(dangling)


def test_file_changing_while_loading(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "growing.wav"
    sf.write(path, tone().T, 44_100)
    real = load_module._decode_soundfile

    def decode_then_append(*args: object, **kwargs: object) -> object:
        result = real(*args, **kwargs)  # type: ignore[arg-type]
        with open(path, "ab") as fh:
            fh.write(b"\0" * 1000)
        return result

    monkeypatch.setattr(load_module, "_decode_soundfile", decode_then_append)
    with pytest.raises(FileChangedError, match="changed"):
        load_audio(path)


def test_demo_clip_round_trips(tmp_path: Path, demo_path: Path) -> None:
    clip = load_audio(demo_path)
    assert 10 <= clip.duration_s <= 30
    out = save_audio(clip, tmp_path / "demo.flac", subtype="PCM_16")
    again = load_audio(out)
    np.testing.assert_array_equal(again.samples, clip.samples)


def test_clip_is_immutable() -> None:
    clip = AudioClip(np.zeros((1, 10), np.float32), 8_000)
    with pytest.raises(ValueError):
        clip.samples[0, 0] = 1.0
