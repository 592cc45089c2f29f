"""Smooth, bounded gain grids over time × log-frequency (the gain mask, the band's EQ, rhythm bands).

``gain_db = strength_db · tanh(θ)`` on ``n_bands`` log-spaced bands × ``step_s`` time steps,
linearly interpolated onto any STFT grid (the model's 16 kHz grid while optimising, the
source's full-rate grid when rendering). Frequency is never resized (that would change pitch).

Above the model's 8 kHz view the top band's gain is **held, capped at ±3 dB, and tapered to
0 dB by 16 kHz**: the models cannot hear there, so letting the optimiser swing the air band by
up to ±12 dB (what a plain "hold" does at full strength) only adds uncontrolled hiss or
dullness, while forcing 0 dB right at 8 kHz would leave a spectral step where the mask ends.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

HIGH_HOLD_CAP_DB = 3.0
HIGH_TAPER_START_HZ = 8_000.0
HIGH_TAPER_END_HZ = 16_000.0
EDGE_FADE_S = 0.05

Matrix = npt.NDArray[np.float32]


def linear_indices(
    positions: npt.NDArray[np.float64], n_points: int
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.float32]]:
    """(lower, upper, frac) so that value(pos) = v[lower]·(1 − frac) + v[upper]·frac; clamped."""
    pos = np.clip(positions, 0.0, n_points - 1)
    lower = np.floor(pos).astype(np.int64)
    upper = np.minimum(lower + 1, n_points - 1)
    return lower, upper, (pos - lower).astype(np.float32)


def linear_weights(positions: npt.NDArray[np.float64], n_points: int) -> Matrix:
    """(n_points, len(positions)) matrix interpolating values on 0..n_points-1 at
    ``positions`` (clamped to the ends)."""
    pos = np.clip(positions, 0.0, n_points - 1)
    lower = np.floor(pos).astype(int)
    upper = np.minimum(lower + 1, n_points - 1)
    frac = (pos - lower).astype(np.float32)
    weights = np.zeros((n_points, pos.size), np.float32)
    cols = np.arange(pos.size)
    weights[lower, cols] = 1.0 - frac
    weights[upper, cols] += frac
    return weights


def frequency_weights(
    frequencies_hz: npt.NDArray[np.float64], *, n_bands: int, low_hz: float, high_hz: float
) -> Matrix:
    """(bins, n_bands) matrix from band gains to the gain of each frequency bin (log axis)."""
    f = np.maximum(frequencies_hz, 1.0)
    positions = (np.log(f) - np.log(low_hz)) / (np.log(high_hz) - np.log(low_hz)) * (n_bands - 1)
    return np.ascontiguousarray(linear_weights(positions, n_bands).T)


def edge_taper(times_s: npt.NDArray[np.float64], *, duration_s: float) -> npt.NDArray[np.float32]:
    """1 inside the region, ramping to 0 over ``EDGE_FADE_S`` at both borders and outside:
    the mask is 0 dB where the region meets untouched audio."""
    inside = np.minimum(times_s, duration_s - times_s) / EDGE_FADE_S
    return np.clip(inside, 0.0, 1.0).astype(np.float32)


def high_band_policy(frequencies_hz: npt.NDArray[np.float64]) -> tuple[Matrix, Matrix]:
    """(scale, cap) per bin: gain_db_bin = clip(gain, ±cap) · scale above 8 kHz, unchanged below.

    Returns
    -------
    scale, cap
        float32, shape (bins,): multiplier (1 → 0 from 8 to 16 kHz) and the dB cap (inf below
        8 kHz, 3 dB above).
    """
    f = frequencies_hz
    scale = np.clip(1.0 - (f - HIGH_TAPER_START_HZ) / (HIGH_TAPER_END_HZ - HIGH_TAPER_START_HZ), 0.0, 1.0).astype(
        np.float32
    )
    cap = np.where(f > HIGH_TAPER_START_HZ, HIGH_HOLD_CAP_DB, np.inf).astype(np.float32)
    return scale, cap
