"""Eight classes of generated music that differ in timbre and rhythm (for training tests)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf

RATE = 16_000
GENRES = (
    "sine-slow",
    "square-fast",
    "saw-swing",
    "noise-beats",
    "bell-sparse",
    "pluck-arp",
    "organ-drone",
    "fuzz-riff",
)


def _tone(kind: str, freq: float, n: int, rng: np.random.Generator) -> np.ndarray:
    t = np.arange(n) / RATE
    phase = 2 * np.pi * freq * t
    if kind == "sine":
        return np.sin(phase)
    if kind == "square":
        return np.sign(np.sin(phase)) * 0.6
    if kind == "saw":
        return 2 * ((freq * t) % 1.0) - 1
    if kind == "noise":
        return rng.standard_normal(n) * np.exp(-t * 30)
    if kind == "bell":
        return np.sin(phase + 3 * np.sin(2 * np.pi * freq * 3.5 * t) * np.exp(-t * 3)) * np.exp(-t * 4)
    if kind == "pluck":
        return np.sin(phase) * np.exp(-t * 12) + 0.5 * np.sin(2 * phase) * np.exp(-t * 20)
    if kind == "organ":
        return sum(np.sin(k * phase) / k for k in (1, 2, 3, 4, 6, 8)) * 0.5
    return np.tanh(8 * (np.sin(phase) + 0.5 * np.sin(1.5 * phase)))


def clip(genre: str, *, seed: int, duration_s: float = 3.2) -> np.ndarray:
    """One clip of ``genre``, float32 (samples,), with random pitch, tempo and level."""
    rng = np.random.default_rng(seed)
    kind, rhythm = genre.split("-")
    n = int(duration_s * RATE)
    out = np.zeros(n)
    tempo = {
        "slow": 60,
        "fast": 180,
        "swing": 120,
        "beats": 140,
        "sparse": 50,
        "arp": 150,
        "drone": 30,
        "riff": 110,
    }[rhythm] * rng.uniform(0.9, 1.1)
    beat = 60 / tempo
    base = rng.uniform(110, 330)
    k, time = 0, 0.0
    while time < duration_s:
        length = int(min(beat * (2 if rhythm == "drone" else 1), duration_s - time) * RATE)
        freq = base * (2 ** (rng.integers(0, 12) / 12) if rhythm in ("arp", "riff") else 1.0)
        start = int(time * RATE)
        out[start : start + length] += _tone(kind, freq, length, rng)[: n - start]
        time += beat * (1.5 if rhythm == "swing" and k % 2 == 0 else 0.5 if rhythm == "swing" else 1)
        k += 1
    out *= rng.uniform(0.2, 0.8) / (np.abs(out).max() + 1e-9)
    return out.astype(np.float32)


def make_folder_dataset(root: Path, *, per_class: int = 30, seed: int = 0) -> Path:
    """``root/<genre>/<genre>_NN.wav`` for every genre."""
    for g, genre in enumerate(GENRES):
        folder = root / genre
        folder.mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            sf.write(
                folder / f"{genre}_{i:02d}.wav",
                clip(genre, seed=seed * 10_000 + g * 1000 + i),
                RATE,
                subtype="PCM_16",
            )
    return root
