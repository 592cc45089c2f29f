"""Takes survive a crash: every finished take is also written, as an export writes it (the
whole track as FLAC, sidecar last), into this session's recovery folder. A clean close removes
the folder, so a folder left behind by a process that is gone means the app did not close;
the next start says where those takes are.

Takes otherwise live in memory until exported; the window asks before a close discards them,
but a crash (killed, out of memory, power cut) did not ask. The files are ordinary exports, so
a musician can open them in the app or anywhere else, and ``deeptrance dream --from-sidecar``
reproduces them. Written on a worker, never on the GUI thread; a failure to write one (a full
disk) is reported and never stops dreaming.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from deeptrance_gui.core import paths

if TYPE_CHECKING:
    from deeptrance_gui.core.audio.clip import AudioClip
    from deeptrance_gui.core.dream.steps import DreamStep
    from deeptrance_gui.core.dream.takes import DreamRequest

#: Lossless and about half the size of a 24-bit WAV; what an export of the take would be.
RECOVERY_SUFFIX = ".flac"
RECOVERY_SUBTYPE = "PCM_24"


def recovery_root() -> Path:
    """Where each session keeps its takes until it closes."""
    return paths.user_data_dir() / "recovery"


@dataclass(frozen=True)
class LeftBehind:
    """The takes of a session that did not close.

    Attributes
    ----------
    folder
        The session's recovery folder.
    takes
        The takes' audio files, oldest first (each is whole: written atomically; its sidecar
        beside it unless the crash came between the two).
    """

    folder: Path
    takes: tuple[Path, ...]


class TakeJournal:
    """This session's recovery folder; :meth:`record` on a worker, :meth:`close` on a clean close.

    Parameters
    ----------
    root
        Folder of the sessions' folders (default :func:`recovery_root`).
    """

    def __init__(self, root: Path | None = None) -> None:
        stamp = time.strftime("%Y%m%d-%H%M%S")
        self.folder = (root if root is not None else recovery_root()) / f"{stamp}-{os.getpid()}"
        self._numbers = 0

    def next_number(self) -> int:
        """The next take's number (the caller's thread; never reused, so a deleted take's copy is
        not overwritten by a later take's)."""
        self._numbers += 1
        return self._numbers

    def record(
        self, clip: AudioClip, request: DreamRequest, final: DreamStep, *, number: int, source: Path
    ) -> Path:
        """Write take ``number`` (the whole track with ``final`` in place) and its sidecar
        (worker thread). Returns the audio file; :class:`AudioWriteError` when it cannot be
        written (nothing half-written is left)."""
        from deeptrance_gui.core.atomic import folder_problem
        from deeptrance_gui.core.dream.export import export_take, plan_export
        from deeptrance_gui.core.errors import AudioWriteError

        problem = folder_problem(self.folder)
        if problem:
            raise AudioWriteError(problem)
        plan = plan_export(self.folder / f"take-{number:03d}{RECOVERY_SUFFIX}")
        export_take(clip, request, final, plan, source=source, subtype=RECOVERY_SUBTYPE, overwrite=True)
        return plan.audio

    def close(self) -> None:
        """Remove the folder: the session closed and the user chose what to keep (GUI thread,
        after the workers are done)."""
        shutil.rmtree(self.folder, ignore_errors=True)


def _process_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    if sys.platform == "win32":  # no signal 0 there: another instance's folder counts as left behind
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists, owned by someone else
        return True
    return True


def left_behind(*, root: Path | None = None) -> list[LeftBehind]:
    """Sessions that did not close and left takes, oldest first; empty folders of such sessions
    are removed on the way (GUI thread at start-up: a directory listing)."""
    base = root if root is not None else recovery_root()
    if not base.is_dir():
        return []
    found = []
    for folder in sorted(p for p in base.iterdir() if p.is_dir()):
        pid_text = folder.name.rsplit("-", 1)[-1]
        if pid_text.isdigit() and _process_alive(int(pid_text)):
            continue
        takes = tuple(sorted(folder.glob(f"take-*{RECOVERY_SUFFIX}")))
        if takes:
            found.append(LeftBehind(folder, takes))
        else:
            with contextlib.suppress(OSError):
                shutil.rmtree(folder)
    return found


def recovered_root() -> Path:
    """Where kept takes of sessions that did not close go (not asked about again)."""
    return paths.user_data_dir() / "recovered takes"


def keep_left_behind(session: LeftBehind) -> Path:
    """Move ``session``'s folder to :func:`recovered_root` and return its new place
    (:class:`OSError` when it cannot be moved; it then stays where it was)."""
    destination = recovered_root() / session.folder.name
    destination.parent.mkdir(parents=True, exist_ok=True)
    return Path(shutil.move(session.folder, destination))


def discard_left_behind(session: LeftBehind) -> None:
    """Delete ``session``'s takes."""
    shutil.rmtree(session.folder, ignore_errors=True)
