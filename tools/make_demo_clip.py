"""Synthesise the bundled demo clip (resources/demo/demo.flac): 24 s of original music, CC0.

A small deterministic synth-pop loop (kick, snare, hats, bass, pad chords, arpeggio) so that a
first-time user sees and hears something without owning a file. Run:

    .venv/bin/python tools/make_demo_clip.py
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

SAMPLE_RATE_HZ = 44_100
TEMPO_BPM = 112.0
BARS = 11
CHORDS = [(57, 60, 64), (53, 57, 60), (48, 52, 55), (55, 59, 62)]  # Am F C G


def _midi_hz(note: float) -> float:
    return 440.0 * 2.0 ** ((note - 69) / 12.0)


def _env(n: int, attack_s: float, decay_s: float) -> np.ndarray:
    t = np.arange(n) / SAMPLE_RATE_HZ
    return np.minimum(1.0, t / max(attack_s, 1e-4)) * np.exp(-t / decay_s)


def render(seed: int = 7) -> np.ndarray:
    """Return the clip, float32, shape (2, frames)."""
    rng = np.random.default_rng(seed)
    beat_s = 60.0 / TEMPO_BPM
    total = int(BARS * 4 * beat_s * SAMPLE_RATE_HZ)
    out = np.zeros((2, total + SAMPLE_RATE_HZ), np.float64)

    def add(start_s: float, sig: np.ndarray, pan: float = 0.0) -> None:
        i = int(start_s * SAMPLE_RATE_HZ)
        j = min(out.shape[1], i + sig.size)
        out[0, i:j] += sig[: j - i] * np.sqrt(0.5 * (1 - pan))
        out[1, i:j] += sig[: j - i] * np.sqrt(0.5 * (1 + pan))

    n_kick = int(0.35 * SAMPLE_RATE_HZ)
    t = np.arange(n_kick) / SAMPLE_RATE_HZ
    kick = np.sin(2 * np.pi * (45 * t + 90 * (1 - np.exp(-t * 30)) / 30)) * np.exp(-t * 9) * 0.9
    n_snare = int(0.25 * SAMPLE_RATE_HZ)
    snare = (
        rng.standard_normal(n_snare) * _env(n_snare, 0.001, 0.06) * 0.35
        + np.sin(2 * np.pi * 190 * np.arange(n_snare) / SAMPLE_RATE_HZ) * _env(n_snare, 0.001, 0.05) * 0.3
    )
    n_hat = int(0.06 * SAMPLE_RATE_HZ)
    hat = np.diff(rng.standard_normal(n_hat + 1)) * _env(n_hat, 0.0005, 0.015) * 0.12

    for bar in range(BARS):
        chord = CHORDS[bar % 4]
        bar_s = bar * 4 * beat_s
        for beat in range(4):
            add(bar_s + beat * beat_s, kick)
            if beat in (1, 3):
                add(bar_s + beat * beat_s, snare, 0.1)
            for half in range(2):
                add(bar_s + (beat + half / 2) * beat_s, hat * (0.6 + 0.4 * half), 0.4)
        # bass: root, eighth notes
        n_b = int(beat_s / 2 * SAMPLE_RATE_HZ)
        tb = np.arange(n_b) / SAMPLE_RATE_HZ
        f_b = _midi_hz(chord[0] - 24)
        saw = 2 * ((tb * f_b) % 1.0) - 1
        bass = (0.6 * np.sin(2 * np.pi * f_b * tb) + 0.15 * saw) * _env(n_b, 0.005, 0.2) * 0.5
        for k in range(8):
            add(bar_s + k * beat_s / 2, bass)
        # pad: detuned saws through a one-pole low-pass, whole bar
        n_p = int(4 * beat_s * SAMPLE_RATE_HZ)
        tp = np.arange(n_p) / SAMPLE_RATE_HZ
        pad = np.zeros(n_p)
        for note in chord:
            for detune in (-0.08, 0.08):
                f = _midi_hz(note + detune)
                pad += 2 * ((tp * f) % 1.0) - 1
        alpha = 0.08
        filtered = np.empty_like(pad)
        acc = 0.0
        for idx in range(0, n_p):
            acc += alpha * (pad[idx] - acc)
            filtered[idx] = acc
        pad_env = np.minimum(1, tp / 0.3) * np.minimum(1, (tp[-1] - tp) / 0.2 + 0.01)
        add(bar_s, filtered * pad_env * 0.05, -0.3)
        add(bar_s, filtered * pad_env * 0.05, 0.3)
        # arpeggio: sixteenth notes over the chord, plucked square-ish tone
        n_a = int(beat_s / 4 * SAMPLE_RATE_HZ)
        ta = np.arange(n_a) / SAMPLE_RATE_HZ
        for k in range(16):
            note = chord[k % 3] + 12 * (1 + (k // 3) % 2)
            f = _midi_hz(note)
            tone = np.tanh(3 * np.sin(2 * np.pi * f * ta)) * _env(n_a, 0.002, 0.08) * 0.07
            add(bar_s + k * beat_s / 4, tone, 0.5 * np.sin(k))
    out = out[:, :total]
    fade = int(0.5 * SAMPLE_RATE_HZ)
    out[:, -fade:] *= np.linspace(1, 0, fade)
    out *= 0.8 / np.max(np.abs(out))
    return out.astype(np.float32)


def main() -> int:
    import soundfile as sf

    dest = (
        Path(sys.argv[1])
        if len(sys.argv) > 1
        else (Path(__file__).resolve().parents[1] / "resources" / "demo" / "demo.flac")
    )
    sf.write(dest, render().T, SAMPLE_RATE_HZ, subtype="PCM_16")
    print(f"wrote {dest}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
