"""UI fixtures: a window over tiny models and a manual audio backend; leak checks."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from PySide6.QtCore import QThreadPool, QTimer

from deeptrance_gui.core.playback import ManualBackend, Player
from deeptrance_gui.core.session import DreamChoices
from deeptrance_gui.ui.main_window import MainWindow
from deeptrance_gui.ui.settings import AppSettings
from tests.tiny_model import tiny_model

TINY = {"tiny-a": tiny_model("tiny-a", seed=1), "tiny-b": tiny_model("tiny-b", seed=2)}


@pytest.fixture(autouse=True)
def _no_leaked_threads_or_timers(qapp: object) -> Iterator[None]:
    """Fail a test that leaves workers running, timers ticking or Python threads alive."""
    before = set(threading.enumerate())
    created: list[QTimer] = []
    original_start = QTimer.start

    def tracking_start(self: QTimer, *args: object) -> None:
        created.append(self)
        original_start(self, *args)

    QTimer.start = tracking_start  # type: ignore[method-assign]
    try:
        yield
    finally:
        QTimer.start = original_start  # type: ignore[method-assign]
    pool = QThreadPool.globalInstance()
    assert pool.waitForDone(10_000), "a worker was still running 10 s after the test"
    leaked = [t for t in created if _alive(t) and t.isActive()]
    assert not leaked, f"{len(leaked)} QTimer(s) still running after the test"
    extra = [t for t in set(threading.enumerate()) - before if t.is_alive() and not t.daemon]
    assert not extra, f"threads left running: {extra}"


def _alive(timer: QTimer) -> bool:
    try:
        timer.objectName()
    except RuntimeError:  # the C++ object is gone
        return False
    return True


def write_music(path: Path, duration_s: float = 4.0, rate: int = 22_050) -> Path:
    t = np.arange(int(duration_s * rate)) / rate
    mono = sum(np.sin(2 * np.pi * f * t) / k for k, f in enumerate((110, 220, 440, 880, 1760), 1)) * 0.2
    beat = (np.sin(2 * np.pi * 2 * t) > 0.9) * np.random.default_rng(0).standard_normal(t.size) * 0.2
    sf.write(path, np.stack([mono + beat, mono]).T, rate, subtype="PCM_16")
    return path


@pytest.fixture
def music_file(tmp_path: Path) -> Path:
    return write_music(tmp_path / "song.wav")


def _load(name: str) -> object:
    """Tiny models by name; anything else (a model trained in the test) from the registry."""
    if name in TINY:
        return TINY[name]
    from deeptrance_gui.core.model.loading import load_model

    return load_model(name)


@pytest.fixture
def window(qtbot: object) -> Iterator[MainWindow]:
    settings = AppSettings(dream=DreamChoices(dreamer="tiny-a", judge="tiny-b", toward="rock", iterations=3))
    backend = ManualBackend()
    win = MainWindow(settings, Player(backend), model_loader=_load)
    win.backend = backend  # type: ignore[attr-defined]
    win.confirm_close = lambda: True  # type: ignore[method-assign]
    qtbot.addWidget(win)  # type: ignore[attr-defined]
    win.show()
    with qtbot.waitSignal(win.modelsReady, timeout=10_000):  # type: ignore[attr-defined]
        win.load_models(["tiny-a", "tiny-b"])
    yield win
    win.close()
