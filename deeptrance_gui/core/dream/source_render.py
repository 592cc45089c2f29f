"""Rendering at the source rate for the mask and waveform dreams: each window's span through
the source's own STFT (every channel, original phase, own rate), spliced into a buffer of the
region, and the final region loudness-matched and limited. :class:`SourceSpans` is what the two
parameterisations share: the windows, the buffer and the final render.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, cast

import numpy as np
import numpy.typing as npt

from deeptrance_gui.core.audio.clip import AudioClip, FloatArray
from deeptrance_gui.core.audio.load import resample
from deeptrance_gui.core.dream.parameterisation import (
    DreamRegion,
    Parameterisation,
    Rendered,
    Window,
    plan_windows,
)
from deeptrance_gui.core.dream.settings import DreamSettings
from deeptrance_gui.core.dream.steps import readonly
from deeptrance_gui.core.dsp import grid as mask_grid
from deeptrance_gui.core.dsp.limiter import match_and_limit, true_peak_limit
from deeptrance_gui.core.dsp.loudness import integrated_loudness_lufs
from deeptrance_gui.core.dsp.stft import (
    DISPLAY_HOP,
    DISPLAY_N_FFT,
    DisplaySpectrogram,
    bin_frequencies_hz,
    display_from_stft,
    display_spectrogram,
    istft,
    stft,
)
from deeptrance_gui.core.model.frontend import MelFrontend
from deeptrance_gui.core.model.geometry import SAMPLE_RATE_HZ

if TYPE_CHECKING:
    from deeptrance_gui.core.dream.modes import DreamCall
    from deeptrance_gui.core.dream.steps import DreamStep

SPAN_CROSSFADE_S = 0.02
REGION_CROSSFADE_S = 0.05


class SourceSpans:
    """The part of the mask and waveform parameterisations that is the same: windows from the
    playhead, the region buffer each window's render is spliced into, the final region."""

    windows: list[Window]

    def __init__(
        self, region: DreamRegion, settings: DreamSettings, *, start_s: float | None, frontend: MelFrontend
    ) -> None:
        clip, r0, r1 = region.clip, region.r0, region.r1
        self.frontend = frontend
        self.clip, self.r0, self.r1 = clip, r0, r1
        self.rate = region.rate_hz
        self.wave16 = region.wave16
        self.settings = settings
        self.duration_s = region.duration_s
        self.windows = plan_windows(
            self.wave16.shape[0], r1 - r0, self.rate, settings, start_s=start_s, region_start_s=r0 / self.rate
        )
        self.renderer = SourceRenderer(clip, r0, r1, settings)
        self.buffer = np.array(region.samples, dtype=np.float32)
        self.start()

    def start(self) -> None:
        """The mode's own state over the whole region (called once, at the end of __init__)."""

    @classmethod
    def dream(cls, call: DreamCall) -> Iterator[DreamStep]:
        """The mode's start (:data:`~deeptrance_gui.core.dream.modes.StartDream`): the engine's
        checks, then its loop over this parameterisation."""
        from deeptrance_gui.core.dream.engine import prepare, run  # torch: only when a dream starts

        objectives, r0, r1 = prepare(call)

        def parameterisation(region: DreamRegion) -> Parameterisation:
            # A subclass (GainMask, AddedWaveform) completes the protocol.
            made = cls(region, call.settings, start_s=call.start_s, frontend=call.models[0].frontend)
            return cast("Parameterisation", made)

        return run(parameterisation, call, objectives, r0=r0, r1=r1)

    def rendered(self, window: Window, span: FloatArray, spectrogram: DisplaySpectrogram, first: int) -> Rendered:
        return Rendered(readonly(span), (self.r0 + window.start_src) / self.rate, spectrogram, first)

    def finish(self) -> Rendered:
        audio = self.renderer.finish(self.buffer)
        audio.flags.writeable = False  # a fresh array nobody else holds: no copy
        return Rendered(audio, self.r0 / self.rate, self.renderer.final_spectrogram(audio), self.renderer.first_column(0))


class SourceRenderer:
    """Applies the mask (or the added signal) to the source at its own rate and channels."""

    def __init__(self, clip: AudioClip, r0: int, r1: int, settings: DreamSettings) -> None:
        self.clip = clip
        self.r0, self.r1 = r0, r1
        self.rate = clip.sample_rate_hz
        self.settings = settings
        self.region_duration_s = (r1 - r0) / self.rate
        freqs = bin_frequencies_hz(n_fft=DISPLAY_N_FFT, sample_rate_hz=self.rate)
        self.freq_full = mask_grid.frequency_weights(
            freqs, n_bands=settings.n_bands, low_hz=settings.band_low_hz, high_hz=settings.band_high_hz
        )
        self.high_scale, self.high_cap = mask_grid.high_band_policy(freqs)
        self._cache: dict[int, tuple[int, int, npt.NDArray[np.complex64], float | None]] = {}
        self.reference_lufs = integrated_loudness_lufs(clip.samples[:, r0:r1], sample_rate_hz=self.rate)

    def first_column(self, region_relative_frame: int) -> int:
        """Display column (track grid) of the STFT frame that starts at this region frame."""
        return (self.r0 + region_relative_frame) // DISPLAY_HOP

    def _analysis(self, window: Window) -> tuple[int, int, npt.NDArray[np.complex64], float | None]:
        if window.index not in self._cache:
            self._cache.clear()  # one window at a time: memory stays bounded
            a = self.r0 + window.start_src
            b = self.r0 + window.end_src
            start = max(0, (a - DISPLAY_N_FFT) // DISPLAY_HOP * DISPLAY_HOP)
            end = min(self.clip.frames, b + DISPLAY_N_FFT)
            spec = stft(self.clip.samples[:, start:end], n_fft=DISPLAY_N_FFT, hop=DISPLAY_HOP)
            lufs = integrated_loudness_lufs(self.clip.samples[:, a:b], sample_rate_hz=self.rate)
            self._cache[window.index] = (start, end, spec, lufs)
        return self._cache[window.index]

    def mask_span(
        self, window: Window, gains_db: npt.NDArray[np.float32], first_step: int, buffer: FloatArray
    ) -> tuple[FloatArray, DisplaySpectrogram, int]:
        start, end, spec, lufs = self._analysis(window)
        n_frames = spec.shape[-1]
        times = (start + np.arange(n_frames) * DISPLAY_HOP - self.r0) / self.rate
        lower, upper, frac = mask_grid.linear_indices(
            times / self.settings.mask_step_s - first_step, gains_db.shape[1]
        )
        # Both maps are linear: interpolate the few bands in time first, then one matmul to
        # (bins, frames); the other order gathered two (bins, frames) arrays per render.
        gains = gains_db.astype(np.float32, copy=False)
        per_frame = gains[:, lower] * (1 - frac) + gains[:, upper] * frac  # (bands, frames)
        grid = self.freq_full @ per_frame  # (bins, frames), float32
        np.clip(grid, -self.high_cap[:, None], self.high_cap[:, None], out=grid)
        grid *= self.high_scale[:, None]
        grid *= (mask_grid.edge_taper(times, duration_s=self.region_duration_s) * (np.log(10.0) / 20.0)).astype(
            np.float32
        )[None, :]
        masked = spec * np.exp(grid, out=grid)[None]
        audio = istft(masked, frames=end - start, n_fft=DISPLAY_N_FFT, hop=DISPLAY_HOP)
        a = self.r0 + window.start_src - start
        span = audio[:, a : a + window.end_src - window.start_src]
        gain_db = self._level(span, lufs)
        span = span * np.float32(10 ** (gain_db / 20))
        span = self._splice(span, window, buffer)
        display = display_from_stft(masked, sample_rate_hz=self.rate, gain_db=gain_db)
        return span, *_crop_columns(display, start, self.r0 + window.start_src, self.r0 + window.end_src)

    def added_span(
        self, window: Window, added16: npt.NDArray[np.float32], buffer: FloatArray
    ) -> tuple[FloatArray, DisplaySpectrogram, int]:
        n = window.end_src - window.start_src
        added = resample(added16[None, :].astype(np.float32), SAMPLE_RATE_HZ, self.rate)[0, :n]
        a = self.r0 + window.start_src
        span = self._splice(self.clip.samples[:, a : a + n] + added[None, :n], window, buffer)
        return span, *self._display_on_grid(span, a)

    def _level(self, span: FloatArray, reference_lufs: float | None) -> float:
        if reference_lufs is None:
            return 0.0
        current = integrated_loudness_lufs(span, sample_rate_hz=self.rate)
        return 0.0 if current is None else reference_lufs - current

    def _splice(self, span: FloatArray, window: Window, buffer: FloatArray) -> FloatArray:
        """Crossfade the span's inner edges from and into the original, write it into the
        buffer, return it. The original, not what the buffer holds: that may be an earlier
        render of this window, and how many renders a window gets depends on the clock, so
        the result would too (a sidecar could not reproduce it)."""
        span = np.array(span, dtype=np.float32)
        n = min(span.shape[1] // 4, int(SPAN_CROSSFADE_S * self.rate))
        a, b = window.start_src, window.end_src
        if n > 0:
            ramp = np.linspace(0.0, 1.0, n, dtype=np.float32)
            original = self.clip.samples[:, self.r0 : self.r1]
            if a > 0:
                span[:, :n] = original[:, a : a + n] * (1 - ramp) + span[:, :n] * ramp
            if b < buffer.shape[1]:
                span[:, -n:] = span[:, -n:] * (1 - ramp) + original[:, b - n : b] * ramp
        # Intermediate spans are heard while dreaming: keep them under the ceiling too, with
        # the fast preview limiter (the final render runs the exact, oversampled one).
        span = true_peak_limit(
            span, sample_rate_hz=self.rate, ceiling_dbtp=self.settings.ceiling_dbtp, oversample=False
        )
        buffer[:, a:b] = span
        return span

    def finish(self, buffer: FloatArray) -> FloatArray:
        """Whole region: loudness matched to the original, −1 dBTP, crossfaded into untouched
        audio at the region borders."""
        out = match_and_limit(  # the buffer is not needed afterwards: work in it
            buffer,
            in_place=True,
            reference_lufs=self.reference_lufs,
            sample_rate_hz=self.rate,
            ceiling_dbtp=self.settings.ceiling_dbtp,
        )
        original = self.clip.samples[:, self.r0 : self.r1]
        n = min(out.shape[1] // 4, int(REGION_CROSSFADE_S * self.rate))
        ramp = np.linspace(0.0, 1.0, n, dtype=np.float32)
        if self.r0 > 0 and n:
            out[:, :n] = original[:, :n] * (1 - ramp) + out[:, :n] * ramp
        if self.r1 < self.clip.frames and n:
            out[:, -n:] = out[:, -n:] * (1 - ramp) + original[:, -n:] * ramp
        return out

    def final_spectrogram(self, final: FloatArray) -> DisplaySpectrogram:
        """Display columns of the final region, on the track's column grid."""
        return self._display_on_grid(final, self.r0)[0]

    def _display_on_grid(self, audio: FloatArray, start_frame: int) -> tuple[DisplaySpectrogram, int]:
        """Display spectrogram of ``audio`` (starting at track frame ``start_frame``), analysed
        from the preceding column boundary so its columns line up with the track's; returns it
        and the index of its first column."""
        start = start_frame // DISPLAY_HOP * DISPLAY_HOP
        lead = self.clip.samples[:, start:start_frame].mean(axis=0, dtype=np.float32)
        mono = np.concatenate([lead, audio.mean(axis=0, dtype=np.float32)])[None, :]
        return display_spectrogram(mono, sample_rate_hz=self.rate), start // DISPLAY_HOP


def _crop_columns(
    display: DisplaySpectrogram, analysis_start: int, a: int, b: int
) -> tuple[DisplaySpectrogram, int]:
    """Keep the columns centred in track frames [a, b); return them and the first's index."""
    first = -(-a // DISPLAY_HOP)
    last = -(-b // DISPLAY_HOP)
    offset = analysis_start // DISPLAY_HOP
    cropped = display.db[:, first - offset : last - offset]
    return DisplaySpectrogram(np.ascontiguousarray(cropped), display.frequencies_hz, display.hop_s), first
