"""Atomic export of WAV and FLAC files."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf

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
        Unknown extension or subtype, destination exists, is the source, or cannot be written.
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
    source = clip.source.path if clip.source is not None else None
    if source is not None and dest.exists() and _same_file(dest, source):
        raise AudioWriteError(f"{dest}: that is the file the audio came from; choose another name")
    if dest.exists() and not overwrite:
        raise AudioWriteError(f"{dest}: already exists; choose another name or allow overwriting")
    if dest.is_dir():
        raise AudioWriteError(f"{dest}: is a folder; give a file name")
    folder = dest.parent if str(dest.parent) else Path(".")
    if not folder.is_dir():
        raise AudioWriteError(f"{dest}: the folder {folder} does not exist")

    data = clip.samples.T
    if chosen != "FLOAT":
        # libsndfile would wrap out-of-range floats around instead of clipping them.
        data = np.clip(data, -1.0, 1.0)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=folder)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as fh:
            sf.write(fh, data, clip.sample_rate_hz, subtype=chosen, format=fmt)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, dest)
    except (OSError, sf.LibsndfileError, RuntimeError) as err:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise AudioWriteError(f"{dest}: could not be written ({err}); nothing was changed") from None
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    _fsync_dir(folder)
    return dest


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def _fsync_dir(folder: Path) -> None:
    # The rename is durable only once the directory entry is on disk (POSIX).
    try:
        dir_fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dir_fd)
    except OSError:
        pass
    finally:
        os.close(dir_fd)
