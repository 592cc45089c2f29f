"""Chroma (pitch-class energy over time) from the audio at its own rate.

Hand-written on top of the project's own STFT (numpy/scipy) rather than librosa: librosa
would pull numba/llvmlite into the app and the bundle (≈150 MB) and JIT-compiles on first use
(seconds), while a chroma for chords and similarity needs only a log-frequency fold of an STFT.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from deeptrance_gui.core.audio.clip import FloatArray
from deeptrance_gui.core.audio.load import resample
from deeptrance_gui.core.dsp.stft import bin_frequencies_hz, stft

ANALYSIS_RATE_HZ = 22_050
CHROMA_N_FFT = 4096
CHROMA_HOP = 512
CHROMA_FMIN_HZ = 55.0
CHROMA_FMAX_HZ = 2_000.0
PITCH_CLASSES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")

Float64 = npt.NDArray[np.float64]


def to_analysis_rate(samples: FloatArray, *, sample_rate_hz: int) -> FloatArray:
    """Mono at :data:`ANALYSIS_RATE_HZ`, shape (1, frames): what rhythm and harmony are read from."""
    mono = np.ascontiguousarray(samples.mean(axis=0, keepdims=True, dtype=np.float32))
    if sample_rate_hz == ANALYSIS_RATE_HZ:
        return mono
    return resample(mono, sample_rate_hz, ANALYSIS_RATE_HZ)


def fold_matrix(n_fft: int, rate_hz: int) -> Float64:
    """(12, bins) weights: each bin's energy to its pitch classes (Gaussian, σ = 0.35 semitone)."""
    freqs = bin_frequencies_hz(n_fft=n_fft, sample_rate_hz=rate_hz)
    weights = np.zeros((12, freqs.size))
    inside = (freqs >= CHROMA_FMIN_HZ) & (freqs <= CHROMA_FMAX_HZ)
    midi = 69.0 + 12.0 * np.log2(np.maximum(freqs[inside], 1.0) / 440.0)
    for pc in range(12):
        distance = (midi - pc + 6.0) % 12.0 - 6.0  # semitones to the nearest pitch of class pc
        weights[pc, inside] = np.exp(-0.5 * (distance / 0.35) ** 2)
    return weights


def chroma(samples: FloatArray, *, sample_rate_hz: int) -> tuple[Float64, float]:
    """Chroma of ``samples``.

    Parameters
    ----------
    samples
        float32, shape (channels, frames), any rate.

    Returns
    -------
    chroma, hop_s
        float64, shape (12, n_frames), each column scaled to max 1 (silent columns 0), and the
        time between columns in seconds (column k is centred at k · hop_s).
    """
    mono = to_analysis_rate(samples, sample_rate_hz=sample_rate_hz)
    spec = np.abs(stft(mono, n_fft=CHROMA_N_FFT, hop=CHROMA_HOP)[0]).astype(np.float64)
    folded = fold_matrix(CHROMA_N_FFT, ANALYSIS_RATE_HZ) @ np.square(spec)  # power, as librosa.feature.chroma_stft
    peak = folded.max(axis=0, keepdims=True)
    loud = peak > 1e-3 * max(float(peak.max()), 1e-12)
    return np.where(loud, folded / np.maximum(peak, 1e-12), 0.0), CHROMA_HOP / ANALYSIS_RATE_HZ


def chroma_similarity(a: FloatArray, b: FloatArray, *, sample_rate_hz: int) -> float:
    """Mean cosine similarity of the chroma of ``a`` and ``b`` (same length), frame by frame,
    over frames where either is not silent: 1 = the same harmony throughout."""
    ca, _ = chroma(a, sample_rate_hz=sample_rate_hz)
    cb, _ = chroma(b, sample_rate_hz=sample_rate_hz)
    n = min(ca.shape[1], cb.shape[1])
    ca, cb = ca[:, :n], cb[:, :n]
    na, nb = np.linalg.norm(ca, axis=0), np.linalg.norm(cb, axis=0)
    used = (na > 0) | (nb > 0)
    if not used.any():
        return 1.0
    cosine = np.sum(ca * cb, axis=0)[used] / np.maximum(na[used] * nb[used], 1e-12)
    return float(np.mean(cosine))
