"""Tempo, beats and downbeats from an onset-strength envelope.

Method (Ellis 2007, "Beat tracking by dynamic programming", as librosa's ``beat_track``):
spectral-flux onset envelope on log-frequency bands → tempo from its autocorrelation weighted
by a broad log-tempo prior → beats by dynamic programming (onset strength minus a penalty for
intervals that stray from the period) → downbeats by the phase (in 4/4) whose beats carry the
most low-frequency onset energy and harmonic change. numpy only (see :mod:`chroma` for why not
librosa).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from deeptrance_gui.core.analysis.chroma import ANALYSIS_RATE_HZ
from deeptrance_gui.core.audio.clip import FloatArray
from deeptrance_gui.core.dsp.grid import frequency_weights
from deeptrance_gui.core.dsp.stft import bin_frequencies_hz, stft

ONSET_N_FFT = 1024
ONSET_HOP = 256  # 11.6 ms at 22.05 kHz
MIN_BPM, MAX_BPM = 40.0, 240.0
PRIOR_BPM = 120.0  # librosa's beat_track prior: 120 BPM, one octave
PRIOR_OCTAVES = 1.0
TIGHTNESS = 100.0

Float64 = npt.NDArray[np.float64]


def onset_envelope(mono: FloatArray) -> tuple[Float64, Float64]:
    """(all-band onset strength, low-band (< 200 Hz) onset strength), one value per
    :data:`ONSET_HOP` of ``mono`` (shape (1, frames) at :data:`ANALYSIS_RATE_HZ`)."""
    spec = np.abs(stft(mono, n_fft=ONSET_N_FFT, hop=ONSET_HOP)[0]).astype(np.float64)
    freqs = bin_frequencies_hz(n_fft=ONSET_N_FFT, sample_rate_hz=ANALYSIS_RATE_HZ)
    bands = frequency_weights(freqs, n_bands=40, low_hz=40.0, high_hz=8_000.0).T.astype(np.float64) @ spec
    log_bands = np.log1p(1000.0 * bands / max(float(bands.max()), 1e-12))
    flux = np.maximum(0.0, np.diff(log_bands, axis=1, prepend=log_bands[:, :1]))
    full = flux.sum(axis=0)
    low = flux[:8].sum(axis=0)  # the lowest 8 of 40 log bands: below ≈ 150 Hz (kick, bass)
    return _normalise(full), _normalise(low)


def _normalise(envelope: Float64) -> Float64:
    # Remove the slowly varying level (a 1-s moving average), keep what rises above it.
    n = max(1, min(envelope.size, int(ANALYSIS_RATE_HZ / ONSET_HOP)))
    trend = np.convolve(envelope, np.ones(n) / n, mode="same")
    out = np.maximum(0.0, envelope - trend)
    scale = float(out.std())
    return out / scale if scale > 0 else out


def estimate_tempo(envelope: Float64) -> tuple[float, float]:
    """(tempo in BPM, pulse clarity 0–1): autocorrelation peak under a log-tempo prior.

    Pulse clarity is the chosen lag's autocorrelation relative to lag 0; below ≈0.1 there is
    no steady beat (rubato, drones, free time)."""
    fps = ANALYSIS_RATE_HZ / ONSET_HOP
    n = envelope.size
    spectrum = np.fft.rfft(envelope - envelope.mean(), 2 * n)
    ac = np.fft.irfft(np.abs(spectrum) ** 2)[:n]
    if ac[0] <= 0:
        return 0.0, 0.0
    ac = ac / ac[0]
    lags = np.arange(n)
    min_lag = int(np.floor(60.0 * fps / MAX_BPM))
    max_lag = min(n - 1, int(np.ceil(60.0 * fps / MIN_BPM)))
    if max_lag <= min_lag + 2:
        return 0.0, 0.0
    lag_range = lags[min_lag : max_lag + 1]
    bpm = 60.0 * fps / lag_range
    prior = np.exp(-0.5 * (np.log2(bpm / PRIOR_BPM) / PRIOR_OCTAVES) ** 2)
    score = np.maximum(ac[min_lag : max_lag + 1], 0.0) * prior
    best = int(lag_range[int(np.argmax(score))])
    # Metrical ambiguity: a lag half as long that correlates almost as well is the beat
    # (a click at 200 BPM correlates as well at 100 BPM's lag; the prior alone picks 100).
    # Repeated: over a whole track the bar, or two bars, can correlate best.
    while (half := best // 2) - 1 >= min_lag:
        half = half - 1 + int(np.argmax(ac[half - 1 : half + 2]))  # the peak nearest half the lag
        if ac[half] < 0.85 * ac[best]:
            break
        best = half
    refined = _parabolic_peak(ac, best)
    return 60.0 * fps / refined, float(max(0.0, ac[best]))


def _parabolic_peak(values: Float64, index: int) -> float:
    if 0 < index < values.size - 1:
        a, b, c = values[index - 1], values[index], values[index + 1]
        denom = a - 2 * b + c
        if denom < 0:
            return float(index + 0.5 * (a - c) / denom)
    return float(index)


def track_beats(envelope: Float64, tempo_bpm: float) -> Float64:
    """Beat times in seconds by dynamic programming (Ellis 2007), given the tempo."""
    fps = ANALYSIS_RATE_HZ / ONSET_HOP
    period = 60.0 * fps / tempo_bpm
    n = envelope.size
    if n < 2 * period:
        return np.zeros(0)
    local = np.convolve(envelope, np.exp(-0.5 * (np.arange(-period, period + 1) * 32.0 / period) ** 2), "same")
    score = local.copy()
    backlink = -np.ones(n, dtype=np.int64)
    window = np.arange(-round(2 * period), -round(period / 2) + 1)
    penalty = -TIGHTNESS * np.log(-window / period) ** 2
    for t in range(n):
        candidates = t + window
        valid = candidates >= 0
        if not valid.any():
            continue
        totals = score[candidates[valid]] + penalty[valid]
        best = int(np.argmax(totals))
        if totals[best] > 0:
            score[t] = local[t] + totals[best]
            backlink[t] = candidates[valid][best]
    # Start from the best-scoring frame within the last period, then follow the links back.
    tail = np.arange(max(0, n - round(period)), n)
    t = int(tail[np.argmax(score[tail])])
    beats = [t]
    while backlink[t] >= 0:
        t = int(backlink[t])
        beats.append(t)
    frames = np.array(beats[::-1], dtype=np.float64)
    # Trim weak beats at the edges (silence before the music starts / after it ends).
    strength = local[frames.astype(int)]
    keep = strength >= 0.3 * np.median(strength) if strength.size else np.zeros(0, bool)
    if keep.any():
        first, last = int(np.argmax(keep)), int(keep.size - np.argmax(keep[::-1]))
        frames = frames[first:last]
    return frames / fps


def downbeat_phase(beat_times_s: Float64, low_envelope: Float64, harmonic_change: Float64, *, meter: int = 4) -> int:
    """Index (0..meter-1) of the first downbeat among the beats: the phase whose beats carry the
    most low-frequency onset energy (kick, bass) plus harmonic change (chords change on bars)."""
    if beat_times_s.size < meter:
        return 0
    fps = ANALYSIS_RATE_HZ / ONSET_HOP
    frames = np.clip(np.round(beat_times_s * fps).astype(int), 0, low_envelope.size - 1)
    low = low_envelope[frames]
    low = low / max(float(low.max()), 1e-12)
    change = harmonic_change / max(float(harmonic_change.max()), 1e-12) if harmonic_change.size else 0 * low
    strength = low + change[: low.size]
    scores = [float(np.mean(strength[phase::meter])) for phase in range(meter)]
    return int(np.argmax(scores))
