"""The Qt-free session: a whole dream → take → export headless, the takes' undo and redo, the
parts' mute/solo, refusals and failures that keep what the user has. No Qt is imported here."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from deeptrance_gui import Session
from deeptrance_gui.core.audio import load_audio
from deeptrance_gui.core.dream.takes import read_sidecar, sidecar_path
from deeptrance_gui.core.errors import DeepTranceError, DreamError
from deeptrance_gui.core.playback import ManualBackend, Player
from deeptrance_gui.core.session import DreamChoices, InlineRunner
from tests.core.test_analysis import click_track
from tests.tiny_model import tiny_model

TINY = {"tiny-a": tiny_model("tiny-a", seed=1), "tiny-b": tiny_model("tiny-b", seed=2)}
CHOICES = {"dreamer": "tiny-a", "judge": "tiny-b", "toward": "rock", "iterations": 3}


def music(path: Path, duration_s: float = 4.0, rate: int = 22_050) -> Path:
    t = np.arange(int(duration_s * rate)) / rate
    mono = sum(np.sin(2 * np.pi * f * t) / k for k, f in enumerate((110, 220, 440, 880), 1)) * 0.2
    sf.write(path, np.stack([mono, mono * 0.9]).T, rate, subtype="PCM_16")
    return path


@pytest.fixture
def session() -> Session:
    s = Session(model_loader=TINY.__getitem__, player=Player(ManualBackend()))
    s.load_models(["tiny-a", "tiny-b"])
    return s


def record(session: Session) -> list[tuple]:
    """Every event the session emits, in order, with its arguments."""
    seen: list[tuple] = []
    for name in session.events.NAMES:
        getattr(session.events, name).connect(lambda *args, n=name: seen.append((n, *args)))
    return seen


def test_the_session_imports_neither_qt_nor_torch() -> None:
    """A notebook gets the session without Qt; torch comes with the first model or dream."""
    code = (
        "import sys; from deeptrance_gui import Session; Session(recovery=False); "
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'PySide6', 'pyqtgraph', 'superqt', 'torch'}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_a_whole_dream_take_and_export_headless(session: Session, tmp_path: Path) -> None:
    events = record(session)
    session.open(music(tmp_path / "song.wav"))
    assert session.track is not None and session.track_prediction is not None
    assert [e[0] for e in events][:3] == ["busy", "status", "busy"] and ("track_loaded", session.track) in events
    take = session.dream(**CHOICES)
    assert take is not None and take.final.final and session.takes.current is take
    assert [s.iteration for n, s, *_ in [e for e in events if e[0] == "dream_step"]] == [1, 2, 3]
    assert ("dream_finished", take) in events and events[-1][0] in ("dream_ended", "take_journaled", "prediction_shown")
    assert take.prediction is not None and take.display_db.shape == session.track.spectrogram.db.shape
    assert session.journal is not None and (session.journal.folder / "take-001.flac").is_file()
    assert session.close_question() == "1 take was never exported and will be lost. Quit anyway?"
    dest = tmp_path / "out.wav"
    session.export_take(take, dest, subtype="PCM_16")
    assert take.exported and session.close_question() is None and ("exported", dest) in events
    assert load_audio(dest).samples.shape == session.track.clip.samples.shape
    assert read_sidecar(sidecar_path(dest))["request"]["judges"] == ["tiny-b"]
    # The player plays the take where it was dreamed; A/B goes back to the original.
    backend = session.player._backend
    session.player.play()
    backend.pump(512)  # the start's crossfade
    np.testing.assert_allclose(backend.pump(256), take.audio.T[512:768], atol=1e-6)
    assert session.toggle_ab() == "original"
    session.close()
    assert not session.journal.folder.exists()


def test_the_same_request_gives_the_same_take(session: Session, tmp_path: Path) -> None:
    session.open(music(tmp_path / "song.wav"))
    first = session.dream(**CHOICES, seed=5)
    second = session.dream(**CHOICES, seed=5)
    assert first is not None and second is not None and first is not second
    np.testing.assert_array_equal(first.audio, second.audio)
    assert [t.name for t in session.takes.takes] == ["Take 1: toward rock", "Take 2: toward rock"]


def test_takes_undo_redo_and_dream_from_a_take(session: Session, tmp_path: Path) -> None:
    session.open(music(tmp_path / "song.wav"))
    take = session.dream(**CHOICES)
    assert take is not None
    stack = session.takes
    stack.rename(take, "bright chorus")
    assert take.name == "bright chorus" and stack.undo_text == "rename take Take 1: toward rock → bright chorus"
    stack.delete(take)
    assert len(stack) == 0 and stack.current is None
    stack.undo()
    assert stack.takes == [take] and stack.current is take
    stack.undo()
    assert take.name.startswith("Take 1")
    stack.redo()
    assert take.name == "bright chorus" and stack.redo_text is not None
    session.start_dream(DreamChoices(**CHOICES), base_take=take)
    assert len(stack) == 2 and stack.current is not take and stack.redo_text is None


def test_takes_stay_with_their_track(session: Session, tmp_path: Path) -> None:
    first, second = music(tmp_path / "a.wav"), music(tmp_path / "b.wav", duration_s=3.0)
    session.open(first)
    take = session.dream(**CHOICES)
    session.open(second)
    assert len(session.takes) == 0 and session.takes.undo_text is None
    assert "1 take was never exported" in (session.close_question() or "")
    session.open(first)
    assert session.takes.takes == [take] and session.takes.current is take


def test_a_failed_load_keeps_the_track_and_says_what_to_do(session: Session, tmp_path: Path) -> None:
    session.open(music(tmp_path / "song.wav"))
    bad = tmp_path / "notes.mp3"
    bad.write_text("this is a shopping list, not a song\n" * 10)
    with pytest.raises(DeepTranceError, match="text file"):
        session.open(bad)
    assert session.track is not None and session.track.path.name == "song.wav"
    assert session.last_error is not None and "Still loaded: song.wav" in session.last_error
    quiet = Session(model_loader=TINY.__getitem__, raise_errors=False, recovery=False)
    errors = record(quiet)
    quiet.open(bad)
    assert quiet.track is None and any(e[0] == "error" and "text file" in e[2] for e in errors)


def test_refusals_say_why_before_any_step(session: Session, tmp_path: Path) -> None:
    with pytest.raises(DeepTranceError, match="Open a track first"):
        session.dream(**CHOICES)
    blip = tmp_path / "blip.wav"
    sf.write(blip, np.full((8000, 1), 0.1, np.float32) * np.sin(np.arange(8000))[:, None], 16_000)
    session.open(blip)
    events = record(session)
    with pytest.raises(DreamError, match="at least 1 s"):
        session.dream(**CHOICES)
    assert ("dream_failed", session.last_error, True) in events and not session.dreaming
    assert not any(e[0] == "dream_step" for e in events)
    unloaded = Session(model_loader=TINY.__getitem__, recovery=False)
    unloaded.open(blip)
    with pytest.raises(DeepTranceError, match="still loading"):
        unloaded.dream(**CHOICES)


def test_a_dream_cancelled_from_its_own_step_keeps_nothing(session: Session, tmp_path: Path) -> None:
    session.open(music(tmp_path / "song.wav", duration_s=6.0))
    events = record(session)
    session.events.dream_step.connect(lambda step: session.cancel_dream())
    assert session.dream(**{**CHOICES, "iterations": 50}) is None
    names = [e[0] for e in events]
    assert names.count("dream_step") == 1 and "dream_cancelled" in names and names[-1] == "dream_ended"
    assert len(session.takes) == 0 and not session.dreaming


def test_keep_whats_done_makes_a_take_early(session: Session, tmp_path: Path) -> None:
    session.open(music(tmp_path / "song.wav", duration_s=6.0))
    session.events.dream_step.connect(lambda step: session.keep_dream())
    take = session.dream(**{**CHOICES, "iterations": 50})
    # Asked during the first step, the dream ends at the next iteration with what it has.
    assert take is not None and take.final.iteration == 2 and take.final.total_iterations == 50


def test_a_band_take_mutes_and_solos_without_a_new_dream(session: Session, tmp_path: Path) -> None:
    clip, _ = click_track(120, duration_s=8.0)
    path = tmp_path / "band.wav"
    sf.write(path, clip.samples.T, clip.sample_rate_hz, subtype="PCM_16")
    session.open(path)
    assert session.analysis is not None and abs(session.analysis.tempo_bpm - 120) < 2.4
    take = session.dream(**{**CHOICES, "mode": "band", "iterations": 2})
    assert take is not None and take.final.band is not None and session.parts.take is take.final.band
    mixed = record(session)
    session.parts.set_soloed("drums", True)
    audio = next(e[1] for e in mixed if e[0] == "band_mixed")
    assert not np.allclose(audio, take.audio) and session.parts.heard() == ("drums",)
    lanes = take.final.band.lanes()
    assert lanes.names == take.final.band.part_names and lanes.levels_db.shape[0] == len(lanes.names)
    session.export_take(take, tmp_path / "banded.wav", subtype="PCM_16")
    assert all((tmp_path / f"banded.{n}.wav").is_file() for n in (*lanes.names, "original"))
    assert (tmp_path / "banded.mid").is_file()
    session.takes.select(None)
    assert session.parts.take is None


def test_cost_line_and_region(session: Session, tmp_path: Path) -> None:
    assert session.cost_line(DreamChoices()) == ""
    session.open(music(tmp_path / "song.wav"))
    assert "whole track" in session.cost_line(DreamChoices(**CHOICES))
    session.set_region(1.0, 3.0)
    assert session.region_s == (1.0, 3.0) and "region 0:01.0–0:03.0 (2.0 s)" in session.cost_line(DreamChoices())
    take = session.dream(**CHOICES)
    assert take is not None and (take.final.region_start_s, take.final.region_end_s) == (1.0, 3.0)
    session.set_region(0.0, 4.0)
    assert session.region_s is None


def test_the_inline_runner_reports_errors_and_always_ends() -> None:
    runner, seen = InlineRunner(), []

    def broken() -> object:
        raise ValueError("no")

    runner.call(broken, done=seen.append, failed=lambda err: seen.append(str(err)), ended=lambda: seen.append("end"))

    def steps():
        yield 1
        raise ValueError("half way")

    runner.iterate(steps, step=seen.append, failed=lambda err: seen.append(str(err)), ended=lambda: seen.append("end"))
    assert seen == ["no", "end", 1, "half way", "end"]


def test_a_closed_session_starts_no_more_work(session: Session, tmp_path: Path) -> None:
    """Results that arrive while the window closes must not start more work (seen in the frozen
    app: a worker started after the pool was awaited ran into deleted signals at exit)."""
    session.open(music(tmp_path / "song.wav"))
    session.close()
    session.open(music(tmp_path / "other.wav"))
    assert session.track is not None and session.track.path.name == "song.wav"
    assert session.dream(**CHOICES) is None and len(session.takes) == 0
