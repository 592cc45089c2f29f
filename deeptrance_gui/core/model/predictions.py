"""What a model hears, as plain values (torch-free, so the window can import them at start-up).

The model package owns these types; dreams and the window use them, never the other way round
(import-linter contract "the model never imports the dream").
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from deeptrance_gui.core.audio.clip import FloatArray


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
