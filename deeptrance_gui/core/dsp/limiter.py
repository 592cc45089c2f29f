"""Loudness matching followed by a look-ahead true-peak limiter.

Matching a dream's loudness to the original alone overshoots to +1.3…+2.6 dBTP (measured in
``reference/dream-findings.md``), so every dream goes through :func:`match_and_limit`.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy.ndimage import minimum_filter1d, uniform_filter1d

from deeptrance_gui.core.audio.clip import FloatArray
from deeptrance_gui.core.dsp.loudness import frame_peaks, integrated_loudness_lufs, true_peak_dbtp

LOOKAHEAD_S = 0.005


def true_peak_limit(
    samples: FloatArray,
    *,
    sample_rate_hz: int,
    ceiling_dbtp: float = -1.0,
    oversample: bool = True,
    in_place: bool = False,
) -> FloatArray:
    """Limit ``samples`` so their true peak stays at or below ``ceiling_dbtp``.

    A gain envelope, shared by all channels (no image shift), is the running minimum of the
    gain each sample needs, widened by the look-ahead, then box-smoothed within that width, so
    it never rises above the needed gain and ramps over ≈5 ms instead of stepping (no clicks).

    Parameters
    ----------
    samples
        float32, shape (channels, frames).
    sample_rate_hz
        Rate of ``samples``.
    ceiling_dbtp
        Maximum true peak.
    oversample
        True: exact (4× oversampled peaks, verified). False: a fast preview for audio heard
        while dreaming: sample peaks with 0.5 dB extra margin, not verified.
    in_place
        Work in ``samples`` itself (float32, writable) instead of a copy: long tracks.

    Returns
    -------
    numpy.ndarray
        float32, shape (channels, frames); true peak ≤ ``ceiling_dbtp`` when ``oversample``.
    """
    out = np.asarray(samples, dtype=np.float32) if in_place else np.array(samples, dtype=np.float32)
    if out.size == 0:
        return out
    width = max(1, int(LOOKAHEAD_S * sample_rate_hz))
    ceiling_lin = 10.0 ** (ceiling_dbtp / 20.0)
    if not oversample:
        peak = np.abs(out).max(axis=0)
        if float(peak.max()) <= ceiling_lin * 10 ** (-0.5 / 20):
            return out
        return _apply_gain(out, peak, ceiling_lin * 10 ** (-0.5 / 20), width)
    # Inter-sample peaks move a little when the gain changes: aim slightly lower and check.
    for margin_db in (0.05, 0.2, 0.5):
        peak = frame_peaks(out, sample_rate_hz=sample_rate_hz)
        if float(peak.max()) <= ceiling_lin:
            return out
        out = _apply_gain(out, peak, ceiling_lin * 10.0 ** (-margin_db / 20.0), width)
    tp = true_peak_dbtp(out, sample_rate_hz=sample_rate_hz)
    if tp > ceiling_dbtp:
        out *= np.float32(10.0 ** ((ceiling_dbtp - tp - 0.05) / 20.0))
    return out


def _apply_gain(out: FloatArray, peak: npt.NDArray[np.float32], ceiling: float, width: int) -> FloatArray:
    """Multiply by the smoothed gain that brings every per-frame ``peak`` under ``ceiling``."""
    needed = np.minimum(1.0, ceiling / np.maximum(peak, 1e-12))
    # The running minimum spreads each dip ±width; a centred moving average no wider than that
    # stays below every needed gain (it averages values that are all ≤ it) and has no steps.
    held = minimum_filter1d(needed, size=2 * width + 1, mode="nearest")
    gain = uniform_filter1d(held, size=width | 1, mode="nearest")
    out *= gain.astype(np.float32, copy=False)[None, :]
    return out


MATCH_PASSES = 8
MATCH_TOLERANCE_LU = 0.1
MAX_STEP_DB = 6.0


def match_and_limit(
    samples: FloatArray,
    *,
    reference_lufs: float | None,
    sample_rate_hz: int,
    ceiling_dbtp: float = -1.0,
    in_place: bool = False,
) -> FloatArray:
    """Gain ``samples`` to ``reference_lufs`` (BS.1770), then true-peak limit them.

    Parameters
    ----------
    samples
        float32, shape (channels, frames).
    reference_lufs
        Loudness to match; None (silence or too short to measure) skips the matching.
    sample_rate_hz
        Rate of ``samples``.
    ceiling_dbtp
        True-peak ceiling of the result.

    Returns
    -------
    numpy.ndarray
        float32, shape (channels, frames), finite; within ``MATCH_TOLERANCE_LU`` of
        ``reference_lufs`` unless that needs more than ``MATCH_PASSES`` passes (the first
        gains the whole difference, each later one at most ``MAX_STEP_DB``).
    """
    out = np.asarray(samples, dtype=np.float32) if in_place else np.array(samples, dtype=np.float32)
    np.nan_to_num(out, nan=0.0, posinf=0.0, neginf=0.0, copy=False)
    if reference_lufs is None:
        return true_peak_limit(out, sample_rate_hz=sample_rate_hz, ceiling_dbtp=ceiling_dbtp, in_place=True)
    current = integrated_loudness_lufs(out, sample_rate_hz=sample_rate_hz)
    if current is None:
        return true_peak_limit(out, sample_rate_hz=sample_rate_hz, ceiling_dbtp=ceiling_dbtp, in_place=True)
    # Gain, limit, re-measure. A limiter working hard (a dense band on a loud track) takes back
    # part of each gain, so adding just the shortfall again converges slowly (a 1-LU miss after
    # three passes, measured): each later step up divides the shortfall by the share of the last
    # step that was kept (a secant step; no copy of the signal is needed), at most 6 dB a step.
    step_db = reference_lufs - current
    for _ in range(MATCH_PASSES):
        out *= np.float32(10.0 ** (step_db / 20.0))
        out = true_peak_limit(out, sample_rate_hz=sample_rate_hz, ceiling_dbtp=ceiling_dbtp, in_place=True)
        previous, current = current, integrated_loudness_lufs(out, sample_rate_hz=sample_rate_hz)
        if current is None or abs(reference_lufs - current) <= MATCH_TOLERANCE_LU:
            break
        if current > reference_lufs:  # too loud: turning down leaves the limiter idle, all is kept
            step_db = reference_lufs - current
            continue
        kept = (current - previous) / step_db if abs(step_db) > 1e-6 else 1.0
        step_db = float(np.clip((reference_lufs - current) / max(kept, 0.1), -MAX_STEP_DB, MAX_STEP_DB))
    return out
