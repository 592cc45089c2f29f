"""The immutable values a dream yields (torch-free, so the window can import them at start-up)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from deeptrance_gui.core.audio.clip import FloatArray
from deeptrance_gui.core.dsp.stft import DisplaySpectrogram
from deeptrance_gui.core.model.predictions import Predictions

if TYPE_CHECKING:  # numpy/scipy-heavy modules stay off the window's start-up path
    from deeptrance_gui.core.dream.parts import PlayedParts


def readonly(array: npt.NDArray[np.float32]) -> FloatArray:
    """A read-only float32 copy (or the array itself if it is a fresh private one)."""
    out = np.ascontiguousarray(array, dtype=np.float32)
    if out is array:
        out = out.copy()
    out.flags.writeable = False
    return out


@dataclass(frozen=True)
class DreamStep:
    """One iteration of a dream. Immutable; arrays are read-only.

    Attributes
    ----------
    iteration, total_iterations
        1-based iteration over all windows, and their total.
    audio
        float32, shape (channels, frames) at ``sample_rate_hz``: the dreamed audio that starts
        at ``span_start_s`` in the track, or None if this iteration did not render. The final
        step holds the whole region.
    spectrogram
        Display columns of ``audio`` (log-frequency dB); its column 0 is column
        ``spectrogram_first_column`` of the track's display spectrogram.
    dreamers, judges
        Current predictions of each dreaming model (on the patches they optimise) and of each
        judge of the panel (on the latest rendered audio; empty until the first render).
    dreamers_before, judges_before
        The same models on the original region; the judges' is empty until they first
        listen (it is not needed before, and the first audio goes out sooner without it).
    judge_names
        The panel, known from the first step (empty: no judge).
    band
        A mode that plays parts (the band): what it played, its stems and exports
        (:class:`~.modes.PlayedParts`; None in the other modes and on steps that did not render).
    span_patch_probs
        float32, shape (n_patches, n_tags): what the first dreamer hears in consecutive ≈3 s
        patches of ``audio`` from ``span_start_s`` (for the live genre-over-time strip), at
        the judges' pace and on the final step (the whole region); None on other steps.
    """

    iteration: int
    total_iterations: int
    window_index: int
    n_windows: int
    objective: float
    elapsed_s: float
    sample_rate_hz: int
    region_start_s: float
    region_end_s: float
    span_start_s: float
    audio: FloatArray | None
    spectrogram: DisplaySpectrogram | None
    spectrogram_first_column: int
    dreamers: tuple[Predictions, ...]
    judges: tuple[Predictions, ...]
    dreamers_before: tuple[Predictions, ...]
    judges_before: tuple[Predictions, ...]
    final: bool
    judge_names: tuple[str, ...] = ()
    band: PlayedParts | None = None
    span_patch_probs: FloatArray | None = None

    @property
    def span_end_s(self) -> float:
        """End of ``audio`` in the track."""
        frames = 0 if self.audio is None else self.audio.shape[1]
        return self.span_start_s + frames / self.sample_rate_hz

    @property
    def judged(self) -> bool:
        """The judges have heard rendered audio (their before and now can be compared)."""
        return bool(self.judges) and len(self.judges) == len(self.judges_before)
