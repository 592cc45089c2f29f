"""musicnn's mel filterbank and log-mel in numpy, without torch.

The torch front end (:mod:`.frontend`) registers this filterbank as a buffer; the feature
cache's decode workers compute the same log-mel here, so a spawned worker never imports torch
(about a second per worker, and torch's own thread pool beside the worker's).
"""

from __future__ import annotations

from functools import cache

import numpy as np
import numpy.typing as npt
from scipy import fft as sp_fft

from deeptrance_gui.core.model.geometry import FMAX_HZ, HOP, N_FFT, N_MELS, SAMPLE_RATE_HZ


def _hz_to_mel_slaney(hz: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    f_sp = 200.0 / 3
    mels = hz / f_sp
    min_log_hz = 1000.0
    min_log_mel = min_log_hz / f_sp
    logstep = np.log(6.4) / 27.0
    log_region = hz >= min_log_hz
    mels = np.where(log_region, min_log_mel + np.log(np.maximum(hz, min_log_hz) / min_log_hz) / logstep, mels)
    return mels


def _mel_to_hz_slaney(mels: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    f_sp = 200.0 / 3
    freqs = f_sp * mels
    min_log_hz = 1000.0
    min_log_mel = min_log_hz / f_sp
    logstep = np.log(6.4) / 27.0
    log_region = mels >= min_log_mel
    return np.where(log_region, min_log_hz * np.exp(logstep * (mels - min_log_mel)), freqs)


@cache
def mel_filterbank(
    *,
    sample_rate_hz: int = SAMPLE_RATE_HZ,
    n_fft: int = N_FFT,
    n_mels: int = N_MELS,
    fmin_hz: float = 0.0,
    fmax_hz: float = FMAX_HZ,
) -> npt.NDArray[np.float32]:
    """Slaney-scale, area-normalised mel filterbank (librosa's default).

    Returns
    -------
    numpy.ndarray
        float32, shape (n_mels, n_fft // 2 + 1).
    """
    fft_freqs = np.fft.rfftfreq(n_fft, 1.0 / sample_rate_hz)
    mel_points = np.linspace(
        _hz_to_mel_slaney(np.array(fmin_hz)), _hz_to_mel_slaney(np.array(fmax_hz)), n_mels + 2
    )
    mel_f = _mel_to_hz_slaney(mel_points)
    fdiff = np.diff(mel_f)
    ramps = mel_f[:, None] - fft_freqs[None, :]
    lower = -ramps[:-2] / fdiff[:-1, None]
    upper = ramps[2:] / fdiff[1:, None]
    weights = np.maximum(0.0, np.minimum(lower, upper))
    enorm = 2.0 / (mel_f[2 : n_mels + 2] - mel_f[:n_mels])
    weights *= enorm[:, None]
    out = weights.astype(np.float32)
    out.flags.writeable = False  # cached and shared: read-only
    return out


def log_mel_numpy(wave_16k: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    """musicnn's log-mel in numpy (the same as the torch front end), shape (frames, 96)."""
    n = wave_16k.shape[0]
    frames = 1 + n // HOP
    padded = np.zeros((frames - 1) * HOP + N_FFT, np.float32)
    padded[N_FFT // 2 : N_FFT // 2 + n] = wave_16k
    window = (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(N_FFT) / N_FFT)).astype(np.float32)
    view = np.lib.stride_tricks.sliding_window_view(padded, N_FFT)[::HOP][:frames]
    spec = sp_fft.rfft(view * window, axis=-1)
    power = (spec.real**2 + spec.imag**2).astype(np.float32)
    mel = power @ mel_filterbank().T
    log_mel: npt.NDArray[np.float32] = np.log10(1.0 + 10000.0 * mel).astype(np.float32)
    return log_mel
