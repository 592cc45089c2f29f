"""Loudness (ITU-R BS.1770-4), true peak, and simple level measures, in bounded memory.

Loudness uses pyloudnorm's K-weighting coefficients with a chunked filter and pyloudnorm's
gating (checked against pyloudnorm in the tests); true peak follows BS.1770-4 annex 2
(4× oversampling below 96 kHz), also in chunks.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyloudnorm
import soxr
from scipy.signal import sosfilt, tf2sos

from deeptrance_gui.core.audio.clip import FloatArray

_SILENCE_DB = -200.0


@dataclass(frozen=True)
class LevelReport:
    """Levels of one clip (all channels)."""

    peak_dbfs: float
    rms_dbfs: float
    true_peak_dbtp: float
    loudness_lufs: float | None


def _db(value: float) -> float:
    return 20.0 * float(np.log10(value)) if value > 0 else _SILENCE_DB


def integrated_loudness_lufs(samples: FloatArray, *, sample_rate_hz: int) -> float | None:
    """Integrated, gated loudness in LUFS (ITU-R BS.1770-4), in bounded memory.

    The K-weighting filters are pyloudnorm's (its coefficients for this rate); they run over
    the signal in chunks with carried filter state, and only 100 ms sub-block energies are
    kept, so a 30-minute track needs a few MB instead of pyloudnorm's float64 copies (≈1 GB
    for 10 minutes of stereo). The gating is pyloudnorm's, block for block (tests compare).

    Parameters
    ----------
    samples
        float32, shape (channels, frames).
    sample_rate_hz
        Rate of ``samples``.

    Returns
    -------
    float or None
        LUFS; None when the clip is shorter than one 400 ms gating block or entirely below the
        −70 LUFS absolute gate (silence).
    """
    n = samples.shape[1]
    if n < int(0.4 * sample_rate_hz) + 1:
        return None
    channels = min(samples.shape[0], 5)  # BS.1770 weights L, R, C, Ls, Rs
    gains = np.array([1.0, 1.0, 1.0, 1.41, 1.41][:channels])
    # Both K-weighting stages as second-order sections, every channel in one call: 1.5× faster
    # than a transfer-function filter per stage and channel, equal to 1e-13.
    sos = np.concatenate([tf2sos(b, a) for b, a in _k_weighting_stages(sample_rate_hz)])
    n_blocks = int(np.round((n / sample_rate_hz - 0.4) / 0.1)) + 1
    # Sub-block k covers samples [int(0.1·k·rate), int(0.1·(k+1)·rate)); block j = sub-blocks j…j+3.
    bounds = np.array([int(0.4 * (k * 0.25) * sample_rate_hz) for k in range(n_blocks + 4)], dtype=np.int64)
    bounds = np.minimum(bounds, n)
    state = np.zeros((sos.shape[0], channels, 2))
    total = np.zeros((channels, 1))
    cumulative_at = np.zeros((channels, bounds.size))
    chunk = 1 << 20
    for start in range(0, n, chunk):
        x, state = sosfilt(sos, samples[:channels, start : start + chunk].astype(np.float64), axis=-1, zi=state)
        running = np.cumsum(np.square(x), axis=-1) + total
        inside = (bounds > start) & (bounds <= start + x.shape[1])
        cumulative_at[:, inside] = running[:, bounds[inside] - start - 1]
        total = running[:, -1:].copy()
    energy = np.diff(cumulative_at, axis=1)[:, : n_blocks + 3]
    block_len = 0.4 * sample_rate_hz
    z = np.stack([energy[:, j : j + 4].sum(axis=1) for j in range(n_blocks)], axis=1) / block_len
    with np.errstate(divide="ignore", invalid="ignore"):
        block_lufs = -0.691 + 10.0 * np.log10(gains @ z)
        above = block_lufs >= -70.0
        if not above.any():
            return None
        relative = -0.691 + 10.0 * np.log10(gains @ z[:, above].mean(axis=1)) - 10.0
        gated = (block_lufs > relative) & (block_lufs > -70.0)
        if not gated.any():
            return None
        lufs = float(-0.691 + 10.0 * np.log10(gains @ z[:, gated].mean(axis=1)))
    return lufs if np.isfinite(lufs) else None


def gain_to_level_db(samples: FloatArray, reference: FloatArray, *, level_db: float, sample_rate_hz: int) -> float:
    """Gain in dB that puts ``samples`` ``level_db`` LU relative to ``reference`` (BS.1770).

    How a band is set under its track (−6 dB: 6 LU quieter); one rule, so that the band dream and
    anything compared with it (``tools/band_ceiling.py``) mean the same by a level.

    Parameters
    ----------
    samples, reference
        float32, shape (channels, frames), at ``sample_rate_hz``.
    level_db
        Wanted loudness of ``samples`` minus that of ``reference``.

    Returns
    -------
    float
        The gain; ``level_db`` itself when either is silent or too short to measure.
    """
    own = integrated_loudness_lufs(samples, sample_rate_hz=sample_rate_hz)
    other = integrated_loudness_lufs(reference, sample_rate_hz=sample_rate_hz)
    return level_db if own is None or other is None else other + level_db - own


def k_weighting_power(frequencies_hz: npt.ArrayLike, *, sample_rate_hz: int) -> npt.NDArray[np.float64]:
    """Power gain |H(f)|² of the BS.1770 K-weighting (pyloudnorm's filters at this rate), so a
    spectrum's power can be weighted the way loudness weighs it.

    Parameters
    ----------
    frequencies_hz
        shape (n,), 0 … ``sample_rate_hz`` / 2.

    Returns
    -------
    ndarray
        float64, shape (n,).
    """
    from scipy.signal import freqz

    freqs = np.asarray(frequencies_hz, dtype=np.float64)
    power = np.ones_like(freqs)
    for b, a in _k_weighting_stages(sample_rate_hz):
        _, response = freqz(b, a, worN=freqs, fs=sample_rate_hz)
        power *= np.abs(response) ** 2
    return power


def _k_weighting_stages(sample_rate_hz: int) -> list[tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]]:
    """(b, a) of pyloudnorm's K-weighting stages at this rate (its only copy of them is a
    private attribute; ``test_dsp`` compares our loudness with pyloudnorm's, so a change there
    shows)."""
    return [(f.b, f.a) for f in pyloudnorm.Meter(sample_rate_hz)._filters.values()]


def true_peak_dbtp(samples: FloatArray, *, sample_rate_hz: int) -> float:
    """Maximum true peak in dBTP over all channels (4× oversampled below 96 kHz).

    Parameters
    ----------
    samples
        float32, shape (channels, frames).
    """
    if samples.size == 0:
        return _SILENCE_DB
    return _db(float(np.max(frame_peaks(samples, sample_rate_hz=sample_rate_hz))))


CHUNK_FRAMES = 1 << 19
_CONTEXT = 256  # samples of context on each side of a chunk for the interpolator


def frame_peaks(samples: FloatArray, *, sample_rate_hz: int) -> npt.NDArray[np.float32]:
    """Per-frame true peak (max over channels and the oversampled points), shape (frames,).

    Oversampled in chunks with context, so memory stays at a few MB for any length."""
    n = samples.shape[1]
    out = np.empty(n, np.float32)
    for start in range(0, n, CHUNK_FRAMES):
        a = max(0, start - _CONTEXT)
        b = min(n, start + CHUNK_FRAMES + _CONTEXT)
        over = oversampled(samples[:, a:b], sample_rate_hz=sample_rate_hz)
        factor = over.shape[1] // (b - a)
        peaks = np.abs(over).reshape(samples.shape[0], b - a, factor).max(axis=(0, 2))
        stop = min(n, start + CHUNK_FRAMES)
        out[start:stop] = peaks[start - a : stop - a]
    return out


def oversampled(samples: FloatArray, *, sample_rate_hz: int) -> FloatArray:
    """Samples upsampled for true-peak measurement, shape (channels, frames · factor).

    soxr's band-limited interpolator (3× faster here than a polyphase FIR, and closer to ideal
    reconstruction than BS.1770's 48-tap example filter)."""
    factor = 4 if sample_rate_hz < 96_000 else 2
    n = samples.shape[1] * factor
    up = np.asarray(
        soxr.resample(np.ascontiguousarray(samples.T), sample_rate_hz, sample_rate_hz * factor, quality="HQ"),
        dtype=np.float32,
    ).T
    if up.shape[1] < n:
        up = np.pad(up, ((0, 0), (0, n - up.shape[1])))
    return np.ascontiguousarray(up[:, :n])


def levels(samples: FloatArray, *, sample_rate_hz: int) -> LevelReport:
    """Peak, RMS, true peak and loudness of ``samples`` (shape (channels, frames))."""
    if samples.size == 0:
        return LevelReport(_SILENCE_DB, _SILENCE_DB, _SILENCE_DB, None)
    peak = float(np.max(np.abs(samples)))
    rms = float(np.sqrt(np.mean(np.square(samples, dtype=np.float64))))
    return LevelReport(
        peak_dbfs=_db(peak),
        rms_dbfs=_db(rms),
        true_peak_dbtp=true_peak_dbtp(samples, sample_rate_hz=sample_rate_hz),
        loudness_lufs=integrated_loudness_lufs(samples, sample_rate_hz=sample_rate_hz),
    )
