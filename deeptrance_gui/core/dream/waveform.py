"""The waveform dream's parameterisation (experimental): a small signal added to the track.

Per window, a 16 kHz delta bounded by ``tanh`` to −20 dB of the window's RMS is added to the
models' view; the render resamples it to the source rate and adds it to every channel.
"""

from __future__ import annotations

import torch

from deeptrance_gui.core.dream.modes import DreamMode, register_mode
from deeptrance_gui.core.dream.parameterisation import Rendered, Window
from deeptrance_gui.core.dream.source_render import SourceSpans

ADDED_LEVEL_DB = -20.0  # the added signal's bound, relative to the window's RMS


class AddedWaveform(SourceSpans):
    """Waveform mode (see the module docstring)."""

    def start(self) -> None:
        self.delta16 = torch.zeros(self.wave16.shape[0])

    def begin(self, window: Window) -> list[torch.Tensor]:
        original = self.wave16[window.start16 : window.end16]
        self.epsilon = float(original.square().mean().sqrt()) * 10 ** (ADDED_LEVEL_DB / 20)
        self.param = self.delta16[window.start16 : window.end16].clone().requires_grad_(True)
        return [self.param]

    def heard(self, window: Window, progress: float) -> torch.Tensor:
        wave = self.wave16[window.start16 : window.end16] + self.epsilon * torch.tanh(self.param)
        power: torch.Tensor = self.frontend.power(wave)
        return power

    def render(self, window: Window) -> Rendered:
        added = (self.epsilon * torch.tanh(self.param)).detach().numpy()
        return self.rendered(window, *self.renderer.added_span(window, added, self.buffer))

    def end(self, window: Window) -> None:
        with torch.no_grad():
            self.delta16[window.start16 : window.end16] = self.param.detach()


WAVEFORM = register_mode(DreamMode(name="waveform", reads=(), start=AddedWaveform.dream))
