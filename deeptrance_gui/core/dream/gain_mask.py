"""The mask dream's parameterisation: a time-varying EQ.

A gain mask θ (``n_bands`` log bands × ``mask_step_s`` steps, ``strength_db · tanh θ``) is
interpolated onto the 16 kHz power spectrogram of the window; the masked power is renormalised
to the original total, so a model cannot win by loudness. θ is one continuous array over the
region, so windows meet without seams. The render applies the same mask to the source's own
STFT (see :mod:`.source_render`).
"""

from __future__ import annotations

import math
import time

import numpy as np
import torch

from deeptrance_gui.core.audio.clip import AudioClip
from deeptrance_gui.core.dream.modes import DreamMode, register_mode
from deeptrance_gui.core.dream.parameterisation import Rendered, Window
from deeptrance_gui.core.dream.settings import DreamSettings, Objective
from deeptrance_gui.core.dream.source_render import SourceSpans
from deeptrance_gui.core.dsp import grid as mask_grid
from deeptrance_gui.core.dsp.stft import bin_frequencies_hz
from deeptrance_gui.core.model.frontend import HOP, N_FFT, PATCH_FRAMES, SAMPLE_RATE_HZ
from deeptrance_gui.core.model.loading import LoadedModel


class GainMask(SourceSpans):
    """Mask mode (see the module docstring)."""

    def start(self) -> None:
        settings = self.settings
        self.n_steps = math.ceil(self.duration_s / settings.mask_step_s) + 2
        self.theta = torch.zeros(settings.n_bands, self.n_steps)
        self.freq16 = torch.from_numpy(
            mask_grid.frequency_weights(
                bin_frequencies_hz(n_fft=N_FFT, sample_rate_hz=SAMPLE_RATE_HZ),
                n_bands=settings.n_bands,
                low_hz=settings.band_low_hz,
                high_hz=settings.band_high_hz,
            )
        )

    def begin(self, window: Window) -> list[torch.Tensor]:
        step_s = self.settings.mask_step_s
        frames = 1 + (window.end16 - window.start16) // HOP
        times16 = (window.start16 + np.arange(frames) * HOP) / SAMPLE_RATE_HZ
        self.s0 = max(0, int(times16[0] // step_s))
        self.s1 = min(self.n_steps, math.ceil(times16[-1] / step_s) + 2)
        self.lower, self.upper, self.frac = (
            torch.from_numpy(a) for a in mask_grid.linear_indices(times16 / step_s - self.s0, self.s1 - self.s0)
        )
        self.taper16 = torch.from_numpy(mask_grid.edge_taper(times16, duration_s=self.duration_s))
        with torch.no_grad():
            self.power = self.frontend.power(self.wave16[window.start16 : window.end16])
        self.total_power = self.power.sum()
        self.param = self.theta[:, self.s0 : self.s1].clone().requires_grad_(True)
        return [self.param]

    def heard(self, window: Window, progress: float) -> torch.Tensor:
        gain_db = self.settings.strength_db * torch.tanh(self.param)
        bands_db = self.freq16 @ gain_db  # (257, steps)
        # Linear interpolation in time: two columns per frame, no dense matrix.
        # index_select (backward: index_add_, deterministic), not [:, idx] (index_put_ accumulate).
        grid_db = (
            bands_db.index_select(1, self.lower) * (1 - self.frac) + bands_db.index_select(1, self.upper) * self.frac
        ) * self.taper16
        masked = self.power * torch.pow(10.0, grid_db.T / 10.0)
        return masked * (self.total_power / masked.sum().clamp_min(1e-20))

    def render(self, window: Window) -> Rendered:
        gains = (self.settings.strength_db * torch.tanh(self.param)).detach().numpy()
        return self.rendered(window, *self.renderer.mask_span(window, gains, self.s0, self.buffer))

    def end(self, window: Window) -> None:
        with torch.no_grad():
            self.theta[:, self.s0 : self.s1] = self.param.detach()


MASK = register_mode(DreamMode(name="mask", reads=("strength_db", "n_bands", "mask_step_s"), start=GainMask.dream))


def warm_up(model: LoadedModel) -> None:
    """Run a tiny dream once so first-use imports (torch._dynamo via the first Adam step,
    sympy, pyloudnorm, scipy.signal) happen now, on the caller's worker thread, and not while
    audio plays: an import holds the GIL for up to ~100 ms, which would starve the audio
    callback."""
    from deeptrance_gui.core.dream.engine import dream

    t = np.arange(2 * 16_000, dtype=np.float32) / 16_000
    clip = AudioClip(np.stack([np.sin(2 * np.pi * 220 * t) * 0.3]).astype(np.float32), 16_000)
    for _ in dream(
        clip,
        [model],
        objective=Objective(kind="intensify", toward=None, layer=model.network.FEATURES[0]),
        settings=DreamSettings(iterations=1, render_interval_s=0.0),
    ):
        pass


def calibrate(model: LoadedModel) -> float:
    """Seconds per patch-iteration of a mask dream on this machine, measured on 10 patches of
    noise (3 iterations; the second is timed). Worker thread; ≈ 0.5–1 s."""
    from deeptrance_gui.core.dream.engine import dream

    rng = np.random.default_rng(0)
    frames = PATCH_FRAMES * HOP * 10
    clip = AudioClip((rng.standard_normal((1, frames)) * 0.1).astype(np.float32), SAMPLE_RATE_HZ)
    stamps = [
        time.perf_counter()
        for _ in dream(
            clip,
            [model],
            objective=Objective(kind="intensify", toward=None, layer=model.network.FEATURES[0]),
            settings=DreamSettings(iterations=3, render_interval_s=1e9, judge_interval_s=1e9),
        )
    ]
    return max(1e-3, (stamps[1] - stamps[0]) / 10)
