"""The immutable values a dream yields (torch-free, so the window can import them at start-up)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from deeptrance_gui.core.audio.clip import FloatArray
from deeptrance_gui.core.dsp.stft import DisplaySpectrogram


def readonly(array: npt.NDArray[np.float32]) -> FloatArray:
    """A read-only float32 copy (or the array itself if it is a fresh private one)."""
    out = np.ascontiguousarray(array, dtype=np.float32)
    if out is array:
        out = out.copy()
    out.flags.writeable = False
    return out


def _find_tag(labels: tuple[str, ...], tag: str) -> int | None:
    lowered = [label.lower() for label in labels]
    return lowered.index(tag.lower()) if tag.lower() in lowered else None


@dataclass(frozen=True)
class Predictions:
    """What one model hears: track-level tag probabilities, shape (n_tags,)."""

    model_name: str
    dataset: str
    labels: tuple[str, ...]
    probs: FloatArray

    def probability(self, tag: str) -> float:
        """Probability of ``tag`` (case-insensitive); NaN if the model lacks it."""
        index = _find_tag(self.labels, tag)
        return float("nan") if index is None else float(self.probs[index])

    def rank(self, tag: str) -> int | None:
        """1-based rank of ``tag``; None if the model lacks it."""
        index = _find_tag(self.labels, tag)
        if index is None:
            return None
        return int(np.sum(self.probs > self.probs[index])) + 1

    def top(self, k: int = 5) -> list[tuple[str, float]]:
        """Best ``k`` tags."""
        order = np.argsort(-self.probs, kind="stable")[:k]
        return [(self.labels[i], float(self.probs[i])) for i in order]


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
    dreamers, judge
        Current predictions of each dreaming model (on the patches they optimise) and of the
        judge (on the latest rendered audio; None until the first render).
    dreamers_before, judge_before
        The same models on the original region.
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
    judge: Predictions | None
    dreamers_before: tuple[Predictions, ...]
    judge_before: Predictions | None
    final: bool

    @property
    def span_end_s(self) -> float:
        """End of ``audio`` in the track."""
        frames = 0 if self.audio is None else self.audio.shape[1]
        return self.span_start_s + frames / self.sample_rate_hz
