"""Helpers shared by the benchmarks: timing and a synthetic-music generator."""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def timed(fn: Callable[[], object], *, repeat: int = 3) -> float:
    """Median wall time of ``fn`` over ``repeat`` runs, seconds."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def synth_music(duration_s: float, *, rate: int = 44_100, channels: int = 2, seed: int = 0) -> np.ndarray:
    """Band-rich synthetic music (chords, bass, noise percussion), float32 (channels, frames).

    Generated in 30 s pieces so long tracks do not inflate the benchmark's own memory."""
    rng = np.random.default_rng(seed)
    freqs = rng.choice([110, 147, 165, 196, 220, 262, 330, 392, 440, 523], 6)
    n = int(duration_s * rate)
    mono = np.empty(n, np.float32)
    piece = 30 * rate
    for start in range(0, n, piece):
        t = np.arange(start, min(n, start + piece)) / rate
        out = np.zeros(t.size)
        for k, f in enumerate(freqs):
            out += np.sin(2 * np.pi * f * t + k) * (0.6 + 0.4 * np.sin(2 * np.pi * 0.25 * (k + 1) * t)) / (k + 2)
        beat = (np.sin(2 * np.pi * 2 * t) > 0.95).astype(float)
        out += beat * rng.standard_normal(t.size) * 0.4
        mono[start : start + t.size] = out / 2.2
    return np.stack([mono * np.float32(1 - 0.1 * c) for c in range(channels)])


def report(name: str, value_s: float, baseline_s: float, *, target_s: float | None = None) -> None:
    """One benchmark line: value, baseline, ratio, target."""
    target = "" if target_s is None else f"  target ≤ {target_s:g} s: {'OK' if value_s <= target_s else 'MISSED'}"
    print(
        f"{name:44s} {value_s:8.3f} s   baseline {baseline_s:8.3f} s   ratio {value_s / baseline_s:6.2f}{target}"
    )
