"""Shared test set-up: offscreen Qt, an isolated per-user folder, generated audio fixtures."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("NUMBA_CACHE_DIR", str(Path(__file__).parent / ".." / ".pytest_cache" / "numba"))

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures"


@pytest.fixture(autouse=True)
def _isolated_user_dir(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Tests never touch the user's models, caches or settings."""
    home = tmp_path_factory.mktemp("deeptrance_home")
    monkeypatch.setenv("DEEPTRANCE_HOME", str(home))
    return home


def tone(
    *,
    duration_s: float = 2.0,
    sample_rate_hz: int = 44_100,
    channels: int = 2,
    frequency_hz: float = 440.0,
    amplitude: float = 0.5,
) -> np.ndarray:
    """A sine tone with a little harmonic content, float32, shape (channels, frames)."""
    t = np.arange(int(duration_s * sample_rate_hz)) / sample_rate_hz
    mono = amplitude * (
        0.8 * np.sin(2 * np.pi * frequency_hz * t) + 0.2 * np.sin(2 * np.pi * 3 * frequency_hz * t)
    )
    return np.stack([mono * (1 - 0.1 * c) for c in range(channels)]).astype(np.float32)


@pytest.fixture
def demo_path() -> Path:
    return ROOT / "resources" / "demo" / "demo.flac"
