"""Synthesise the small clips the musicnn equivalence test runs on (tests/fixtures/audio/).

Deterministic, original material (CC0): a distorted power-chord riff with drums at 22.05 kHz
stereo, and a piano-like arpeggio at 48 kHz mono; the demo clip is the third reference clip.
Different rates and channel counts exercise the resampler as musicnn's reference used it.

    .venv/bin/python tools/make_reference_clips.py
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf

OUT = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "audio"


def _hz(note: float) -> float:
    return 440.0 * 2.0 ** ((note - 69) / 12.0)


def rock_riff(rate_hz: int = 22_050, duration_s: float = 6.5) -> np.ndarray:
    rng = np.random.default_rng(1)
    n = int(rate_hz * duration_s)
    out = np.zeros(n)
    beat = 60 / 140
    roots = [40, 40, 43, 45, 40, 38, 40, 43]
    for k in range(int(duration_s / (beat / 2))):
        start = int(k * beat / 2 * rate_hz)
        seg = np.arange(min(n - start, int(beat / 2 * rate_hz))) / rate_hz
        root = roots[k % len(roots)]
        tone = sum(np.sin(2 * np.pi * _hz(root + iv) * seg + rng.uniform(0, 6)) for iv in (0, 7, 12))
        out[start : start + seg.size] += np.tanh(6 * tone) * np.exp(-seg * 2.5) * 0.35
    for k in range(int(duration_s / beat)):
        start = int(k * beat * rate_hz)
        seg = np.arange(min(n - start, int(0.3 * rate_hz))) / rate_hz
        if k % 2 == 0:
            out[start : start + seg.size] += np.sin(2 * np.pi * 55 * seg) * np.exp(-seg * 12) * 0.8
        else:
            noise = rng.standard_normal(seg.size)
            out[start : start + seg.size] += noise * np.exp(-seg * 18) * 0.4
        hat = rng.standard_normal(min(n - start, int(0.05 * rate_hz)))
        out[start : start + hat.size] += np.diff(np.r_[0, hat]) * 0.08
    stereo = np.stack([out, np.roll(out, 80)])
    return (0.8 * stereo / np.max(np.abs(stereo))).astype(np.float32)


def piano_arpeggio(rate_hz: int = 48_000, duration_s: float = 6.5) -> np.ndarray:
    n = int(rate_hz * duration_s)
    out = np.zeros(n)
    notes = [60, 64, 67, 72, 76, 72, 67, 64, 57, 60, 64, 69, 72, 69, 64, 60]
    step = 0.4
    for k in range(int(duration_s / step)):
        start = int(k * step * rate_hz)
        seg = np.arange(n - start) / rate_hz
        f0 = _hz(notes[k % len(notes)])
        tone = sum(
            np.sin(2 * np.pi * f0 * h * np.sqrt(1 + 0.0004 * h * h) * seg)
            / h**1.3
            * np.exp(-seg * (1.2 + 0.6 * h))
            for h in range(1, 9)
        )
        out[start:] += tone * np.minimum(1, seg / 0.003) * 0.3
    return (0.7 * out / np.max(np.abs(out)))[None, :].astype(np.float32)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    sf.write(OUT / "rock_riff.flac", rock_riff().T, 22_050, subtype="PCM_16")
    sf.write(OUT / "piano_arpeggio.flac", piano_arpeggio().T, 48_000, subtype="PCM_16")
    print("wrote", sorted(p.name for p in OUT.iterdir()))


if __name__ == "__main__":
    main()
