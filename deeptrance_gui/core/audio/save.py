"""Atomic export of WAV and FLAC files."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import soundfile as sf

from deeptrance_gui.core.atomic import atomic_write
from deeptrance_gui.core.audio.clip import AudioClip
from deeptrance_gui.core.errors import AudioWriteError

#: Extension → (libsndfile format, allowed subtypes, default subtype).
FORMATS: dict[str, tuple[str, tuple[str, ...], str]] = {
    ".wav": ("WAV", ("PCM_16", "PCM_24", "FLOAT"), "PCM_24"),
    ".flac": ("FLAC", ("PCM_16", "PCM_24"), "PCM_24"),
}


def save_audio(
    clip: AudioClip,
    path: str | os.PathLike[str],
    *,
    subtype: str | None = None,
    overwrite: bool = False,
) -> Path:
    """Write ``clip`` atomically: temp file in the same folder, fsync, then rename.

    Parameters
    ----------
    clip
        Audio to write, shape (channels, frames).
    path
        Destination ending in ``.wav`` or ``.flac``.
    subtype
        ``PCM_16``, ``PCM_24`` (default) or ``FLOAT`` (WAV only).
    overwrite
        Replace an existing file. The file the clip was decoded from is never replaced.

    Returns
    -------
    Path
        The written file.

    Raises
    ------
    AudioWriteError
        Unknown extension or subtype, destination exists, is the source, the folder is
        missing, unwritable or full, or the write fails (see :mod:`deeptrance_gui.core.atomic`).
        Nothing at the destination changes when it is raised.
    """
    dest = Path(path)
    ext = dest.suffix.lower()
    if ext not in FORMATS:
        raise AudioWriteError(f"{dest}: cannot write '{ext or 'no extension'}' files; use .wav or .flac")
    fmt, subtypes, default = FORMATS[ext]
    chosen = (subtype or default).upper()
    if chosen not in subtypes:
        raise AudioWriteError(f"{dest}: {fmt} supports {', '.join(subtypes)}, not {chosen}")
    size = wav_size_bytes(clip.frames, clip.channels, chosen)
    if fmt == "FLAC":  # music compresses to ≈ 50–70 %; a write that still runs out is caught as ENOSPC
        size = int(size * 0.7)
    source = clip.source.path if clip.source is not None else None
    if source is not None and _same_file(dest, source):
        raise AudioWriteError(f"{dest}: that is the file the audio came from; choose another name")

    data = clip.samples.T
    if chosen != "FLOAT":
        # libsndfile would wrap out-of-range floats around instead of clipping them.
        data = np.clip(data, -1.0, 1.0)
    return atomic_write(
        dest,
        lambda fh: sf.write(fh, data, clip.sample_rate_hz, subtype=chosen, format=fmt),
        overwrite=overwrite,
        size_bytes=size,
    )


def wav_size_bytes(frames: int, channels: int, subtype: str) -> int:
    """Size of a WAV file of this shape (an upper bound for FLAC of the same audio)."""
    bytes_per_sample = {"PCM_16": 2, "PCM_24": 3, "FLOAT": 4}.get(subtype.upper(), 4)
    return 44 + frames * channels * bytes_per_sample


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:  # either missing (or a name too long to exist): not the same file
        return False
