"""What differs between dream modes: how parameters become what the models hear, and how they
sound at the source rate. The loop that optimises them (windows from the playhead, random
roll, chunked backward, objective ceiling, throttled renders and judges, "keep what's done")
is one, in :mod:`.engine`; each mode is a :class:`Parameterisation` in a module of its own:
:mod:`.gain_mask` (time-varying EQ), :mod:`.waveform` (an added signal), and modes outside
``core.dream`` such as the band, each registered in :mod:`.modes`.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import torch

from deeptrance_gui.core.audio.clip import AudioClip, FloatArray
from deeptrance_gui.core.dream.settings import DreamSettings
from deeptrance_gui.core.dsp.stft import DisplaySpectrogram
from deeptrance_gui.core.model.geometry import HOP, PATCH_FRAMES, SAMPLE_RATE_HZ

if TYPE_CHECKING:
    from deeptrance_gui.core.dream.parts import PlayedParts


@dataclass(frozen=True)
class DreamRegion:
    """What every parameterisation starts from: the track, the region's bounds in its frames,
    and the models' view of the region (built once by the engine)."""

    clip: AudioClip
    r0: int
    r1: int
    wave16: torch.Tensor  # float32, shape (n,): the region, mono at 16 kHz

    @property
    def rate_hz(self) -> int:
        """The track's sample rate."""
        return self.clip.sample_rate_hz

    @property
    def duration_s(self) -> float:
        """The region's length."""
        return (self.r1 - self.r0) / self.clip.sample_rate_hz

    @property
    def samples(self) -> FloatArray:
        """The original region, (channels, frames) at the track's rate (a view)."""
        return self.clip.samples[:, self.r0 : self.r1]


@dataclass(frozen=True)
class Window:
    """A stretch of the region dreamed on its own (≈ 30 s), in samples from the region start."""

    index: int
    start16: int  # at 16 kHz (the models' view)
    end16: int
    start_src: int  # at the source rate
    end_src: int


@dataclass(frozen=True)
class Rendered:
    """Audio as it sounds now: a window's span, or the whole region (read-only arrays)."""

    audio: FloatArray  # (channels, frames) at the source rate
    span_start_s: float  # where ``audio`` starts in the track
    spectrogram: DisplaySpectrogram
    first_column: int  # the spectrogram's first column on the track's display grid
    band: PlayedParts | None = None


class Parameterisation(Protocol):
    """One dream mode's parameters. The engine calls, per window in ``windows`` order:
    ``begin`` once, ``heard`` each iteration, ``render`` when someone listens (always at the
    window's last iteration), ``end`` once; then ``finish`` for the whole region."""

    @property
    def windows(self) -> Sequence[Window]:
        """The windows in the order they are dreamed (from the playhead outward)."""
        ...

    def begin(self, window: Window) -> list[torch.Tensor]:
        """The leaf tensors to optimise in ``window`` (fresh Adam state per window)."""
        ...

    def heard(self, window: Window, progress: float) -> torch.Tensor:
        """Power spectrogram the models hear, (frames, 257) at 16 kHz, differentiable in the
        parameters; ``progress`` runs 0 → 1 over the whole dream (for schedules). A mode with a
        term of its own may add its gradient to the parameters here (the engine zeroes them
        before, and normalises the sum: the cover's ``keep_song``)."""
        ...

    def render(self, window: Window) -> Rendered:
        """``window`` as it sounds with the parameters now (no gradient)."""
        ...

    def end(self, window: Window) -> None:
        """Keep ``window``'s parameters: it is done (or the dream stops here)."""
        ...

    def finish(self) -> Rendered:
        """The whole region: loudness matched to the original, ≤ the true-peak ceiling."""
        ...


def plan_windows(
    n16: int,
    n_src: int,
    rate: int,
    settings: DreamSettings,
    *,
    start_s: float | None,
    region_start_s: float,
) -> list[Window]:
    """Windows of ``settings.window_patches`` patches over a region of ``n16`` samples at
    16 kHz (``n_src`` at the source ``rate``), ordered from the playhead ``start_s`` outward."""
    window16 = settings.window_patches * PATCH_FRAMES * HOP
    bounds = [*list(range(0, n16, window16)), n16]
    # A tail shorter than 1 s joins the window before it.
    if len(bounds) > 2 and bounds[-1] - bounds[-2] < SAMPLE_RATE_HZ:
        bounds.pop(-2)
    windows = [
        Window(
            index=i,
            start16=a,
            end16=b,
            start_src=round(a * rate / SAMPLE_RATE_HZ),
            end_src=min(n_src, round(b * rate / SAMPLE_RATE_HZ)),
        )
        for i, (a, b) in enumerate(itertools.pairwise(bounds))
    ]
    return outward(windows, start_s=start_s, region_start_s=region_start_s)


def outward(windows: Sequence[Window], *, start_s: float | None, region_start_s: float) -> list[Window]:
    """``windows`` (in time order) ordered from the one holding the playhead ``start_s``
    outward: its window, then the next after it, then the one before, …"""
    playhead16 = 0 if start_s is None else int((start_s - region_start_s) * SAMPLE_RATE_HZ)
    first = next((w.index for w in windows if w.start16 <= playhead16 < w.end16), 0)
    return sorted(windows, key=lambda w: (abs(w.index - first), w.index < first))
