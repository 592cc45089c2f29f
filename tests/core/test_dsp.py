"""DSP: STFT round trip, display spectrogram scale, BS.1770 loudness, true-peak limiter."""

from __future__ import annotations

import warnings

import numpy as np
import pyloudnorm
import pytest

from deeptrance_gui.core.dsp.limiter import match_and_limit, true_peak_limit
from deeptrance_gui.core.dsp.loudness import (
    gain_to_level_db,
    integrated_loudness_lufs,
    k_weighting_power,
    levels,
    true_peak_dbtp,
)
from deeptrance_gui.core.dsp.stft import display_from_stft, display_spectrogram, istft, stft


def test_stft_round_trip() -> None:
    x = np.random.default_rng(0).standard_normal((2, 10_000)).astype(np.float32)
    spec = stft(x)
    assert spec.shape == (2, 1025, 1 + 10_000 // 512)
    np.testing.assert_allclose(istft(spec, frames=10_000), x, atol=1e-5)


def test_display_spectrogram_full_scale_sine_and_consistency() -> None:
    t = np.arange(44_100) / 44_100
    sine = np.sin(2 * np.pi * 1000 * t)[None].astype(np.float32)
    db = display_spectrogram(sine, sample_rate_hz=44_100).db
    assert -3.0 < db.max() <= 0.5
    stereo = np.random.default_rng(1).standard_normal((2, 20_000)).astype(np.float32)
    np.testing.assert_allclose(
        display_spectrogram(stereo, sample_rate_hz=22_050).db,
        display_from_stft(stft(stereo), sample_rate_hz=22_050).db,
        atol=1e-3,
    )


@pytest.mark.parametrize(
    ("rate", "channels", "duration_s"), [(44_100, 2, 12.0), (48_000, 1, 3.0), (22_050, 6, 2.0), (11_025, 2, 2.3)]
)
def test_loudness_equals_pyloudnorm(rate: int, channels: int, duration_s: float) -> None:
    rng = np.random.default_rng(rate)
    n = int(rate * duration_s)
    x = (rng.standard_normal((channels, n)) * np.linspace(0.01, 0.5, n)).astype(np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = pyloudnorm.Meter(rate).integrated_loudness(x[:5].T.astype(np.float64))
    assert integrated_loudness_lufs(x, sample_rate_hz=rate) == pytest.approx(expected, abs=1e-6)


def test_loudness_carries_the_filter_across_chunks() -> None:
    """30 s at 44.1 kHz is filtered in two chunks (2^20 samples); a DC offset under quiet noise
    makes the high-pass stage ring if its state were not carried over the boundary."""
    rng = np.random.default_rng(0)
    x = (0.5 + 0.01 * rng.standard_normal((2, 30 * 44_100))).astype(np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = pyloudnorm.Meter(44_100).integrated_loudness(x.T.astype(np.float64))
    assert integrated_loudness_lufs(x, sample_rate_hz=44_100) == pytest.approx(expected, abs=1e-6)


@pytest.mark.parametrize("rate", [16_000, 44_100])
def test_k_weighting_power_predicts_loudness_differences(rate: int) -> None:
    """Sines of equal amplitude differ in LUFS by the K-weighting's power gain at their frequency
    (what the band dream uses to hear levels the way the render sets them)."""
    t = np.arange(3 * rate) / rate
    freqs = np.array([50.0, 200.0, 1_000.0, 4_000.0])
    lufs = [integrated_loudness_lufs((0.3 * np.sin(2 * np.pi * f * t)).astype(np.float32)[None, :], sample_rate_hz=rate) for f in freqs]
    gain_db = 10 * np.log10(k_weighting_power(freqs, sample_rate_hz=rate))
    assert np.allclose(np.diff(lufs), np.diff(gain_db), atol=0.05)
    assert gain_db[0] < -1.0 and gain_db[-1] > 3.0  # the low cut and the high shelf


def test_loudness_of_silence_and_short_clips() -> None:
    assert integrated_loudness_lufs(np.zeros((2, 48_000), np.float32), sample_rate_hz=48_000) is None
    assert integrated_loudness_lufs(np.ones((1, 100), np.float32), sample_rate_hz=48_000) is None
    assert levels(np.zeros((1, 0), np.float32), sample_rate_hz=8_000).loudness_lufs is None


def test_gain_to_level_db_sets_one_signal_under_another() -> None:
    rate = 44_100
    rng = np.random.default_rng(3)
    track = (0.3 * rng.standard_normal((2, 3 * rate))).astype(np.float32)
    t = np.arange(3 * rate) / rate
    band = (0.05 * np.sin(2 * np.pi * 110 * t)).astype(np.float32)[None, :].repeat(2, axis=0)
    gain_db = gain_to_level_db(band, track, level_db=-6.0, sample_rate_hz=rate)
    louder = band * np.float32(10 ** (gain_db / 20))
    track_lufs = integrated_loudness_lufs(track, sample_rate_hz=rate)
    assert track_lufs is not None
    assert integrated_loudness_lufs(louder, sample_rate_hz=rate) == pytest.approx(track_lufs - 6.0, abs=0.01)
    # Nothing to measure (a silent band or track): the level itself, never inf or NaN.
    assert gain_to_level_db(np.zeros_like(band), track, level_db=-6.0, sample_rate_hz=rate) == -6.0
    assert gain_to_level_db(band, np.zeros_like(track), level_db=-9.0, sample_rate_hz=rate) == -9.0


def test_limiter_holds_the_ceiling_smoothly() -> None:
    rng = np.random.default_rng(2)
    t = np.arange(44_100 * 3) / 44_100
    x = (np.sin(2 * np.pi * 220 * t) * (0.3 + 0.7 * (t > 1.5)) + 0.05 * rng.standard_normal(t.size)).astype(
        np.float32
    )
    x = np.stack([x, x * 0.9]) * np.float32(1.6)
    limited = true_peak_limit(x, sample_rate_hz=44_100, ceiling_dbtp=-1.0)
    assert true_peak_dbtp(limited, sample_rate_hz=44_100) <= -1.0
    gain = limited[0] / np.where(np.abs(x[0]) > 1e-3, x[0], np.nan)
    assert np.nanmax(np.abs(np.diff(gain))) < 0.01  # no gain steps: no clicks
    np.testing.assert_allclose(limited[:, :10_000], x[:, :10_000], rtol=1e-6)  # quiet part untouched
    assert np.array_equal(x, x.copy())  # the input is not modified


def test_match_and_limit_matches_loudness_and_clears_nan() -> None:
    rng = np.random.default_rng(3)
    x = (rng.standard_normal((2, 44_100 * 2)) * 0.05).astype(np.float32)
    x[0, 100] = np.nan
    out = match_and_limit(x, reference_lufs=-20.0, sample_rate_hz=44_100)
    assert np.all(np.isfinite(out))
    assert integrated_loudness_lufs(out, sample_rate_hz=44_100) == pytest.approx(-20.0, abs=0.05)
    assert true_peak_dbtp(out, sample_rate_hz=44_100) <= -1.0


@pytest.mark.parametrize("reference_lufs", [-12.0, -9.0, -7.0])
def test_match_and_limit_reaches_a_loud_reference_when_the_limiter_works_hard(reference_lufs: float) -> None:
    """Loud hits over a quiet pad: most of each gain step is limited away. Adding the shortfall
    again for three passes ended 1.0, 2.5 and 3.5 LU short of these references."""
    rate = 44_100
    rng = np.random.default_rng(0)
    t = np.arange(rate * 10) / rate
    hits = np.exp(-(t % 0.25) * 40) * rng.standard_normal(t.size) * 0.9
    mono = 0.02 * np.sin(2 * np.pi * 220 * t) + hits
    x = np.stack([mono, mono]).astype(np.float32)
    x /= np.abs(x).max()
    out = match_and_limit(x, reference_lufs=reference_lufs, sample_rate_hz=rate)
    assert integrated_loudness_lufs(out, sample_rate_hz=rate) == pytest.approx(reference_lufs, abs=0.15)
    assert true_peak_dbtp(out, sample_rate_hz=rate) <= -1.0
