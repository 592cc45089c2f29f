"""Atomic writes for everything Deep Trance exports (audio, sidecars, stems, MIDI).

One place decides how a file reaches the disk: a temporary file in the destination folder,
fsync, rename over the destination, fsync of the folder. Nothing at the destination changes
unless the whole write succeeded, and every failure becomes one :class:`AudioWriteError` whose
message names the path and says what to do. Files get the permissions an ordinary file gets
under the user's umask (``mkstemp`` alone would make them 0600, unreadable to a DAW running as
another user or to a shared folder).
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import BinaryIO

from deeptrance_gui.core.errors import AudioWriteError

#: Headroom kept on top of a known size when checking free space (filesystem metadata).
SPACE_MARGIN_BYTES = 1 << 20


def _umask() -> int:
    # /proc avoids os.umask()'s set-and-restore, which races with other threads creating files.
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def file_mode() -> int:
    """Permission bits of a new ordinary file under the current umask (0644 under 022)."""
    return 0o666 & ~_umask()


def _advice(err: BaseException, dest: Path) -> str:
    folder = dest.parent
    code = getattr(err, "errno", None)
    if code in (errno.ENOSPC, errno.EDQUOT):
        return f"not enough free space in {folder}; free some space or choose another folder"
    if code == errno.EROFS:
        return f"{folder} is on a read-only filesystem; choose another folder"
    if code in (errno.EACCES, errno.EPERM):
        return f"no permission to write in {folder}; choose another folder"
    if code == errno.ENAMETOOLONG:
        return "the file name is too long for this filesystem; choose a shorter name"
    if code in (errno.ENOENT, errno.ENOTDIR):
        return f"the folder {folder} does not exist (or vanished while writing); choose another folder"
    if code == errno.EISDIR:
        return "that is a folder; give a file name"
    return f"{err}; choose another folder or name"


def check_writable(dest: str | os.PathLike[str], *, overwrite: bool = False, size_bytes: int | None = None) -> Path:
    """Raise :class:`AudioWriteError` now if ``dest`` cannot be written, so that a long job
    (a dream) is not lost to a failure found only at the end.

    Parameters
    ----------
    dest
        The file to be written.
    overwrite
        An existing destination may be replaced.
    size_bytes
        Expected size, if known: refuses when the folder's filesystem has less free space.
    """
    path = Path(dest)
    if len(path.name.encode()) > 255:
        raise AudioWriteError(f"{path}: {_advice(OSError(errno.ENAMETOOLONG, 'name too long'), path)}")
    if path.is_dir():
        raise AudioWriteError(f"{path}: is a folder; give a file name")
    if path.exists() and not overwrite:
        raise AudioWriteError(f"{path}: already exists; choose another name or allow overwriting")
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise AudioWriteError(f"{path}: the folder {folder} does not exist; create it or choose another folder")
    # The probe comes before the space check: a read-only or forbidden folder must say so, not
    # "free some space" (a read-only filesystem reports its free space too).
    failure = _probe(folder)
    if failure is not None:
        raise AudioWriteError(f"{path}: {_advice(failure, path)}")
    if size_bytes is not None:
        try:
            free = shutil.disk_usage(folder).free
        except OSError as err:
            raise AudioWriteError(f"{path}: {_advice(err, path)}") from None
        if free < size_bytes + SPACE_MARGIN_BYTES:
            raise AudioWriteError(
                f"{path}: needs about {size_bytes / 1e6:.1f} MB but {folder} has {free / 1e6:.1f} MB free; "
                "free some space or choose another folder"
            )
    return path


def folder_problem(folder: str | os.PathLike[str]) -> str | None:
    """Why files cannot be created in ``folder``, or None; the folder (with its parents) is made
    if need be. For folders the app fills itself (settings, caches, checkpoints, trained models),
    checked before the work that fills them starts."""
    path = Path(folder)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        return _advice(err, path / "probe")
    failure = _probe(path)
    return None if failure is None else _advice(failure, path / "probe")


def _probe(folder: Path) -> OSError | None:
    """Create and remove a file in ``folder``: the error that stops files being created there."""
    try:
        fd, probe = tempfile.mkstemp(prefix=".probe.", dir=folder)
    except OSError as err:
        return err
    os.close(fd)
    with contextlib.suppress(OSError):
        os.unlink(probe)
    return None


def check_writable_all(
    destinations: Sequence[tuple[str | os.PathLike[str], int | None]], *, overwrite: bool = False
) -> list[Path]:
    """:func:`check_writable` for files written together (a take with its stems, MIDI file and
    sidecar): every one is checked, and the free space is checked against their *total* size
    per filesystem — checked one by one, a full disk let the first files land and the rest fail.

    Parameters
    ----------
    destinations
        (file, expected size in bytes or None) for each file of the set.
    overwrite
        Existing destinations may be replaced.
    """
    paths = [check_writable(dest, overwrite=overwrite) for dest, _ in destinations]
    needed: dict[int, tuple[Path, int, int]] = {}  # device → (folder, bytes, files)
    for path, (_, size) in zip(paths, destinations, strict=True):
        if not size:
            continue
        folder = path.parent if str(path.parent) else Path(".")
        try:
            device = folder.stat().st_dev
        except OSError as err:
            raise AudioWriteError(f"{path}: {_advice(err, path)}") from None
        first, total, count = needed.get(device, (folder, 0, 0))
        needed[device] = (first, total + size, count + 1)
    for folder, total, count in needed.values():
        try:
            free = shutil.disk_usage(folder).free
        except OSError as err:
            raise AudioWriteError(f"{folder}: {_advice(err, folder / 'x')}") from None
        if free < total + SPACE_MARGIN_BYTES:
            what = "this file needs" if count == 1 else f"these {count} files need"
            raise AudioWriteError(
                f"{folder}: {what} about {total / 1e6:.1f} MB but there are {free / 1e6:.1f} MB free; "
                "free some space or choose another folder (nothing was written)"
            )
    return paths


def atomic_write(
    dest: str | os.PathLike[str],
    write: Callable[[BinaryIO], None],
    *,
    overwrite: bool = False,
    size_bytes: int | None = None,
) -> Path:
    """Write ``dest`` atomically with ``write(binary_file)``.

    Raises
    ------
    AudioWriteError
        Destination exists (without ``overwrite``), folder missing or unwritable, not enough
        space, name too long, or the write itself failed. Nothing at ``dest`` changed.
    """
    path = check_writable(dest, overwrite=overwrite, size_bytes=size_bytes)
    folder = path.parent if str(path.parent) else Path(".")
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name[:64]}.", suffix=".part", dir=folder)
    except OSError as err:
        raise AudioWriteError(f"{path}: {_advice(err, path)}") from None
    tmp = Path(tmp_name)
    try:
        os.fchmod(fd, file_mode())
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except Exception as err:
        with contextlib.suppress(OSError):
            tmp.unlink()
        cause: BaseException = err
        while not isinstance(cause, OSError) and cause.__context__ is not None:
            cause = cause.__context__
        raise AudioWriteError(f"{path}: could not be written: {_advice(cause, path)}; nothing was changed") from None
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    _fsync_dir(folder)
    return path


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
