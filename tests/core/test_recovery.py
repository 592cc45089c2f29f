"""A crash never takes a take: each one is kept as an export in the session's recovery folder,
a clean close removes it, and a folder left by a process that is gone is found at start-up."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from deeptrance_gui.core.audio import load_audio
from deeptrance_gui.core.dream.recovery import (
    TakeJournal,
    discard_left_behind,
    keep_left_behind,
    left_behind,
    recovered_root,
)
from deeptrance_gui.core.dream.settings import DreamSettings, Objective
from deeptrance_gui.core.dream.takes import DreamRequest, read_sidecar, sidecar_path, splice
from deeptrance_gui.core.errors import AudioWriteError
from deeptrance_gui.core.modes import dream
from tests.core.test_dream import music
from tests.tiny_model import tiny_model

SETTINGS = DreamSettings(iterations=2, render_interval_s=0.0)


def _dead_pid() -> int:
    """The pid of a process that has exited."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_takes_are_kept_until_a_clean_close_and_found_after_a_crash(tmp_path: Path) -> None:
    clip = music(duration_s=3.0)
    request = DreamRequest(dreamers=("tiny-a",), judges=(), objective=Objective(toward="rock"), settings=SETTINGS)
    final = list(dream(clip, [tiny_model("tiny-a")], objective=request.objective, settings=SETTINGS))[-1]
    root = tmp_path / "recovery"

    journal = TakeJournal(root)
    assert journal.folder.name.endswith(f"-{os.getpid()}")
    first = journal.record(clip, request, final, number=1, source=tmp_path / "song.wav")
    journal.record(clip, request, final, number=2, source=tmp_path / "song.wav")
    np.testing.assert_allclose(load_audio(first).samples, splice(clip, final).samples, atol=2e-6)  # 24-bit
    assert read_sidecar(sidecar_path(first))["request"]["objective"]["toward"] == "rock"
    assert left_behind(root=root) == []  # this session is alive
    journal.close()
    assert not journal.folder.exists()

    # A session whose process is gone: its takes are found; an empty one is tidied away.
    crashed = TakeJournal(root)
    crashed.folder = root / f"20260101-000000-{_dead_pid()}"
    crashed.record(clip, request, final, number=3, source=tmp_path / "song.wav")
    (root / f"20260101-000001-{_dead_pid()}").mkdir()
    (found,) = left_behind(root=root)
    assert found.folder == crashed.folder and [p.name for p in found.takes] == ["take-003.flac"]
    assert len(list(root.iterdir())) == 1

    kept = keep_left_behind(found)
    assert kept.parent == recovered_root() and (kept / "take-003.flac.json").is_file()
    assert left_behind(root=root) == []  # not asked about again

    again = TakeJournal(root)
    again.folder = root / f"20260101-000002-{_dead_pid()}"
    again.record(clip, request, final, number=1, source=tmp_path / "song.wav")
    (found,) = left_behind(root=root)
    discard_left_behind(found)
    assert not found.folder.exists() and left_behind(root=root) == []


def test_a_journal_that_cannot_write_says_so(tmp_path: Path) -> None:
    clip = music(duration_s=2.0)
    request = DreamRequest(dreamers=("tiny-a",), judges=(), objective=Objective(toward="rock"), settings=SETTINGS)
    final = list(dream(clip, [tiny_model("tiny-a")], objective=request.objective, settings=SETTINGS))[-1]
    (tmp_path / "blocker").write_text("a file, not a folder")
    journal = TakeJournal(tmp_path / "blocker" / "recovery")
    with pytest.raises(AudioWriteError, match="choose another folder"):
        journal.record(clip, request, final, number=1, source=tmp_path / "song.wav")
