"""Decode any audio file a user can drop on the window, or refuse it clearly.

Decoders: libsndfile through ``soundfile`` (WAV, FLAC, OGG Vorbis, Opus, MP3, AIFF; bundled in
the wheel) and FFmpeg through PyAV for everything libsndfile does not read (M4A/AAC, …). Both
ship inside their wheels, so the packaged app decodes the same files as a checkout.

Resampling is ``soxr`` at HQ quality, the resampler musicnn's reference pipeline used (librosa's
``soxr_hq``): matching it keeps the model's top mel bands identical to what it was trained on.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

from deeptrance_gui.core.audio.clip import AudioClip, FloatArray, SourceInfo
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

#: Longest track loaded whole; memory stays bounded (30 min of 48 kHz stereo float32 ≈ 660 MB).
MAX_DURATION_S = 30 * 60.0
MIN_SAMPLE_RATE_HZ = 8_000
MAX_SAMPLE_RATE_HZ = 192_000
MAX_CHANNELS = 8
_BLOCK_FRAMES = 1 << 18

# (magic bytes at offset 0, what the file really is) for content that is certainly not audio.
_NOT_AUDIO_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"%PDF", "a PDF document"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"PK\x03\x04", "a ZIP archive"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"7z\xbc\xaf", "a 7-Zip archive"),
    (b"\x7fELF", "a program"),
    (b"<!DOCTYPE", "an HTML page"),
    (b"<html", "an HTML page"),
)


def load_audio(
    path: str | os.PathLike[str],
    *,
    target_sample_rate_hz: int | None = None,
    mono: bool = False,
    max_duration_s: float | None = None,
) -> AudioClip:
    """Decode an audio file into an :class:`AudioClip`.

    Parameters
    ----------
    path
        File to decode. Symlinks are followed; FIFOs, sockets and devices are refused before
        they are opened, so loading never blocks.
    target_sample_rate_hz
        Resample once (soxr HQ) to this rate; None keeps the file's rate.
    mono
        Mix the channels down (mean, before resampling, as librosa does).
    max_duration_s
        Decode only the first this-many seconds (a warning says so). Without it, files longer
        than :data:`MAX_DURATION_S` are refused with :class:`TrackTooLongError`.

    Returns
    -------
    AudioClip
        float32 samples, shape (channels, frames); ``warnings`` lists what was repaired.

    Raises
    ------
    AudioLoadError
        A subclass that says what is wrong and what to do.
    """
    file_path = Path(path)
    before = _check_regular_file(file_path)
    _sniff(file_path)
    limit_s = MAX_DURATION_S if max_duration_s is None else min(max_duration_s, MAX_DURATION_S)
    if limit_s <= 0:
        raise ValueError(f"max_duration_s must be positive, got {max_duration_s}")
    truncate = max_duration_s is not None

    warnings: list[str] = []
    try:
        samples, rate_hz, container, codec = _decode_soundfile(
            file_path, limit_s=limit_s, truncate=truncate, warnings=warnings
        )
    except _TryAnotherDecoder as sf_failure:
        samples, rate_hz, container, codec = _decode_pyav(
            file_path,
            limit_s=limit_s,
            truncate=truncate,
            warnings=warnings,
            first_error=str(sf_failure),
        )

    after = _stat(file_path)
    if (after.st_size, after.st_mtime_ns) != (before.st_size, before.st_mtime_ns):
        raise FileChangedError(
            file_path, "the file changed while it was being read; wait until it is fully written and load it again"
        )

    channels, frames = samples.shape
    if frames == 0:
        raise EmptyAudioError(file_path, "the file contains no audio samples (only a header)")
    source = SourceInfo(
        path=file_path,
        container=container,
        codec=codec,
        sample_rate_hz=rate_hz,
        channels=channels,
        duration_s=frames / rate_hz,
    )
    samples = _sanitise(samples, warnings)
    if mono and channels > 1:
        samples = samples.mean(axis=0, keepdims=True, dtype=np.float32)
    if target_sample_rate_hz is not None and target_sample_rate_hz != rate_hz:
        samples = resample(samples, rate_hz, target_sample_rate_hz)
        rate_hz = target_sample_rate_hz
    if not np.any(samples):
        warnings.append("the file is completely silent")
    return AudioClip(samples, rate_hz, source, tuple(warnings))


def resample(samples: FloatArray, from_rate_hz: int, to_rate_hz: int) -> FloatArray:
    """Resample with soxr HQ, lengths as librosa's ``fix_length(ceil(n · to / from))``.

    Parameters
    ----------
    samples
        float32, shape (channels, frames).
    from_rate_hz, to_rate_hz
        Rates in Hz.

    Returns
    -------
    numpy.ndarray
        float32, shape (channels, ceil(frames · to_rate_hz / from_rate_hz)).
    """
    if from_rate_hz == to_rate_hz:
        return samples
    n_out = int(np.ceil(samples.shape[1] * to_rate_hz / from_rate_hz))
    out = soxr.resample(samples.T, from_rate_hz, to_rate_hz, quality="HQ")
    out = np.asarray(out, dtype=np.float32).T
    if out.shape[1] < n_out:
        out = np.pad(out, ((0, 0), (0, n_out - out.shape[1])))
    return np.ascontiguousarray(out[:, :n_out])


# --- checks before decoding ------------------------------------------------------------------


class _TryAnotherDecoder(Exception):
    pass


def _stat(path: Path) -> os.stat_result:
    try:
        return os.stat(path)
    except FileNotFoundError:
        if path.is_symlink():
            raise AudioFileNotFoundError(path, "this link points to a file that does not exist") from None
        raise AudioFileNotFoundError(path, "no such file; check the name and folder") from None
    except PermissionError:
        raise AudioPermissionError(path, "permission denied; check the folder's permissions") from None
    except OSError as err:
        raise AudioLoadError(path, f"cannot read it ({err.strerror})") from None


def _check_regular_file(path: Path) -> os.stat_result:
    info = _stat(path)
    mode = info.st_mode
    if stat.S_ISDIR(mode):
        raise NotARegularFileError(path, "this is a folder; choose an audio file inside it")
    if not stat.S_ISREG(mode):
        kind = (
            "a named pipe (FIFO)"
            if stat.S_ISFIFO(mode)
            else "a socket"
            if stat.S_ISSOCK(mode)
            else "a device file"
            if stat.S_ISCHR(mode) or stat.S_ISBLK(mode)
            else "not a regular file"
        )
        raise NotARegularFileError(path, f"this is {kind}, not an audio file; it was not opened")
    if info.st_size == 0:
        raise EmptyAudioError(path, "the file is empty (0 bytes)")
    if not os.access(path, os.R_OK):
        raise AudioPermissionError(path, "permission denied; make the file readable and try again")
    return info


def _sniff(path: Path) -> None:
    try:
        with open(path, "rb") as fh:
            head = fh.read(512)
    except PermissionError:
        raise AudioPermissionError(path, "permission denied; make the file readable") from None
    except OSError as err:
        raise AudioLoadError(path, f"cannot read it ({err.strerror})") from None
    for magic, what in _NOT_AUDIO_MAGIC:
        if head.startswith(magic):
            raise NotAudioError(path, f"this is {what}, not audio (whatever its extension says)")
    if head.startswith(b"RIFF") and len(head) <= 44 and head[8:12] == b"WAVE":
        raise EmptyAudioError(path, "the WAV file has a header but no audio data")
    if _looks_like_text(head):
        raise NotAudioError(path, "this is a text file, not audio (whatever its extension says)")


def _looks_like_text(head: bytes) -> bool:
    if len(head) < 8 or b"\x00" in head:
        return False
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        return False
    printable = sum(ch.isprintable() or ch in "\r\n\t" for ch in text)
    return printable / len(text) > 0.97


# --- decoders ----------------------------------------------------------------------------------


def _check_layout(path: Path, rate_hz: int, channels: int) -> None:
    if not MIN_SAMPLE_RATE_HZ <= rate_hz <= MAX_SAMPLE_RATE_HZ:
        raise UnsupportedFormatError(
            path, f"sample rate {rate_hz} Hz is outside the supported 8–192 kHz; convert it first"
        )
    if not 1 <= channels <= MAX_CHANNELS:
        raise UnsupportedFormatError(
            path, f"{channels} channels; Deep Trance reads mono to 8 channels, mix it down first"
        )


def _too_long(path: Path, duration_s: float, limit_s: float) -> TrackTooLongError:
    return TrackTooLongError(
        path,
        f"the track lasts {duration_s / 60:.0f}+ min; Deep Trance loads at most "
        f"{limit_s / 60:.0f} min. Cut a section, or load its start with --max-duration SECONDS",
    )


def _decode_soundfile(
    path: Path, *, limit_s: float, truncate: bool, warnings: list[str]
) -> tuple[FloatArray, int, str, str]:
    try:
        handle = sf.SoundFile(path)
    except (sf.LibsndfileError, RuntimeError, TypeError) as err:
        raise _TryAnotherDecoder(str(err)) from None
    with handle:
        rate_hz, channels = int(handle.samplerate), int(handle.channels)
        _check_layout(path, rate_hz, channels)
        limit_frames = int(limit_s * rate_hz)
        declared = int(handle.frames) if handle.frames > 0 else None
        if declared is not None and declared > limit_frames and not truncate:
            raise _too_long(path, declared / rate_hz, limit_s)
        blocks: list[FloatArray] = []
        total = 0
        while total < limit_frames:
            want = min(_BLOCK_FRAMES, limit_frames - total)
            try:
                block = handle.read(want, dtype="float32", always_2d=True)
            except (sf.LibsndfileError, RuntimeError) as err:
                # Salvage: re-read the failed block in small pieces up to the damage.
                salvaged = _salvage(handle, start_frame=total, max_frames=want)
                if salvaged is not None:
                    blocks.append(salvaged)
                    total += salvaged.shape[0]
                if total == 0:
                    raise CorruptAudioError(path, f"the audio data cannot be decoded ({err})") from None
                warnings.append(f"the file is damaged after {total / rate_hz:.1f} s; only that part was loaded")
                break
            if block.shape[0] == 0:
                break
            blocks.append(block)
            total += block.shape[0]
            if block.shape[0] < want:
                break
        else:
            if not truncate and handle.read(1, dtype="float32").shape[0] > 0:
                raise _too_long(path, limit_s, limit_s)
            if truncate:
                warnings.append(f"only the first {limit_s:g} s were loaded")
        if declared is not None and total < declared and not warnings:
            warnings.append(
                f"the header promises {declared / rate_hz:.1f} s but only {total / rate_hz:.1f} s "
                "of audio could be read (truncated file?)"
            )
        container = str(handle.format)
        codec = str(handle.subtype)
    if not blocks:
        return np.zeros((channels, 0), np.float32), rate_hz, container, codec
    samples = np.concatenate(blocks, axis=0).T
    return np.ascontiguousarray(samples), rate_hz, container, codec


def _salvage(handle: sf.SoundFile, *, start_frame: int, max_frames: int) -> FloatArray | None:
    pieces: list[FloatArray] = []
    try:
        handle.seek(start_frame)
    except (sf.LibsndfileError, RuntimeError):
        return None
    got = 0
    while got < max_frames:
        try:
            piece = handle.read(min(4096, max_frames - got), dtype="float32", always_2d=True)
        except (sf.LibsndfileError, RuntimeError):
            break
        if piece.shape[0] == 0:
            break
        pieces.append(piece)
        got += piece.shape[0]
    return np.concatenate(pieces, axis=0) if pieces else None


def _decode_pyav(
    path: Path, *, limit_s: float, truncate: bool, warnings: list[str], first_error: str
) -> tuple[FloatArray, int, str, str]:
    import av  # imported lazily: only files libsndfile cannot read need FFmpeg

    try:
        container = av.open(str(path), mode="r")
    except (av.FFmpegError, OSError, ValueError, UnicodeDecodeError) as err:
        raise UnsupportedFormatError(
            path,
            f"not a format Deep Trance can decode (libsndfile: {first_error}; FFmpeg: {err}); "
            "convert it to WAV, FLAC or MP3",
        ) from None
    with container:
        if not container.streams.audio:
            raise NotAudioError(path, "the file has no audio stream")
        stream = container.streams.audio[0]
        rate_hz = int(stream.codec_context.sample_rate or stream.rate or 0)
        channels = int(stream.codec_context.channels or 0)
        _check_layout(path, rate_hz, channels)
        if stream.duration is not None and stream.time_base is not None and not truncate:
            duration_s = float(stream.duration * stream.time_base)
            if duration_s > limit_s:
                raise _too_long(path, duration_s, limit_s)
        limit_frames = int(limit_s * rate_hz)
        resampler = av.AudioResampler(format="fltp", layout=stream.layout.name, rate=rate_hz)
        blocks: list[FloatArray] = []
        total = 0
        try:
            for frame in container.decode(stream):
                for converted in resampler.resample(frame):
                    block = converted.to_ndarray().astype(np.float32, copy=False)
                    blocks.append(block)
                    total += block.shape[1]
                if total >= limit_frames:
                    if not truncate:
                        raise _too_long(path, total / rate_hz, limit_s)
                    warnings.append(f"only the first {limit_s:g} s were loaded")
                    break
        except av.FFmpegError as err:
            if total == 0:
                raise CorruptAudioError(path, f"the audio data cannot be decoded ({err})") from None
            warnings.append(f"the file is damaged after {total / rate_hz:.1f} s; only that part was loaded")
        codec = str(stream.codec_context.name)
        container_name = str(container.format.name)
    if not blocks:
        return np.zeros((channels, 0), np.float32), rate_hz, container_name, codec
    samples = np.concatenate(blocks, axis=1)[:, :limit_frames]
    return np.ascontiguousarray(samples), rate_hz, container_name, codec


def _sanitise(samples: FloatArray, warnings: list[str]) -> FloatArray:
    bad = ~np.isfinite(samples)
    n_bad = int(bad.sum())
    if n_bad:
        samples = np.where(bad, np.float32(0.0), samples).astype(np.float32)
        warnings.append(f"{n_bad} samples were NaN or infinite and were replaced by silence")
    return samples
