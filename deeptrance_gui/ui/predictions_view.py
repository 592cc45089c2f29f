"""What the networks hear: genre bars, top tags, a genre-over-time strip, the honest meter."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from deeptrance_gui.core.model.predictions import Predictions
from deeptrance_gui.core.model.genres import genre_tags

MAX_BARS = 8


class GenreBars(QWidget):
    """Horizontal bars: the model's genre tags, best first, plus its top tags as text."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.plot = pg.PlotWidget()
        self.plot.setMouseEnabled(x=False, y=False)
        self.plot.setMenuEnabled(False)
        self.plot.setXRange(0, 1, padding=0)
        self.plot.setMaximumHeight(230)
        self.plot.hideButtons()
        self.bars = pg.BarGraphItem(x0=[], y=[], height=0.7, width=[], brush="#4fa3e0")
        self.plot.addItem(self.bars)
        self.title = QLabel("What the network hears")
        self.title.setWordWrap(True)
        self.top_tags = QLabel("")
        self.top_tags.setWordWrap(True)
        self.top_tags.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.title)
        layout.addWidget(self.plot, 1)
        layout.addWidget(self.top_tags)
        self.shown: list[tuple[str, float]] = []

    def show_predictions(self, predictions: Predictions) -> None:
        """Update the bars to ``predictions`` (GUI thread)."""
        tags = genre_tags(predictions.dataset, predictions.labels)
        values = [(t, predictions.probability(t)) for t in tags if t in predictions.labels]
        values.sort(key=lambda item: -item[1])
        values = values[:MAX_BARS]
        self.shown = values
        n = len(values)
        ys = np.arange(n)[::-1].astype(float)
        self.bars.setOpts(x0=np.zeros(n), y=ys, width=[v for _, v in values], height=0.7)
        axis = self.plot.getAxis("left")
        axis.setTicks([[(float(y), tag) for y, (tag, _) in zip(ys, values, strict=True)]])
        self.plot.setYRange(-0.5, max(n, 1) - 0.5, padding=0)
        self.title.setText(f"Genres heard by {predictions.model_name}")
        self.top_tags.setText("Top tags: " + ", ".join(f"{t} {p:.2f}" for t, p in predictions.top(6)))


class GenreTimeline(QWidget):
    """Genre-over-time heat map (genre tags × ≈3 s patches), x-linked to the spectrogram."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.plot = pg.PlotWidget()
        self.plot.setMouseEnabled(x=True, y=False)
        self.plot.setMenuEnabled(False)
        self.plot.setMinimumHeight(120)
        self.plot.setMaximumHeight(170)
        self.plot.getAxis("left").setWidth(110)
        self.image = pg.ImageItem()
        self.image.setColorMap(pg.colormap.get("viridis"))
        self.plot.addItem(self.image)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.plot)

    def show_timeline(
        self, labels: tuple[str, ...], dataset: str, patch_probs: np.ndarray, patch_s: float
    ) -> None:
        """patch_probs (n_patches, n_tags) → rows = the 8 strongest genre tags."""
        tags = [t for t in genre_tags(dataset, labels) if t in labels]
        index = [labels.index(t) for t in tags]
        data = patch_probs[:, index]
        order = np.argsort(-data.mean(axis=0))[:5]
        rows = data[:, order].T  # (genres, patches)
        self.image.setImage(np.ascontiguousarray(rows[::-1], dtype=np.float32), autoLevels=False, levels=(0, 1))
        self.image.setRect(pg.QtCore.QRectF(0, 0, patch_s * rows.shape[1], rows.shape[0]))
        names = [tags[i] for i in order][::-1]
        self.plot.getAxis("left").setTicks([[(k + 0.5, name) for k, name in enumerate(names)]])
        self.plot.setYRange(0, rows.shape[0], padding=0)


def honest_sentence(
    tag: str, dreamer: tuple[Predictions, Predictions], judge: tuple[Predictions, Predictions] | None
) -> str:
    """Plain words: does the independent judge hear what the dreaming model hears?"""
    d_before, d_after = dreamer
    d_up = d_after.probability(tag) > d_before.probability(tag)
    if judge is None:
        return (
            f"The dreaming model ({d_after.model_name}) {'now hears more' if d_up else 'does not hear more'} "
            f"{tag}. No independent judge was chosen, so nothing confirms it."
        )
    j_before, j_after = judge
    if j_after.rank(tag) is None:
        return f"The judge ({j_after.model_name}) has no '{tag}' tag; it cannot confirm this dream."
    jb, ja = j_before.probability(tag), j_after.probability(tag)
    confirmed = ja >= 2 * jb and (j_after.rank(tag) or 99) <= 5
    if confirmed:
        return f"Confirmed: an independent model ({j_after.model_name}) also hears {tag} ({jb:.2f} → {ja:.2f})."
    rank_before, rank_after = j_before.rank(tag) or 99, j_after.rank(tag) or 99
    change = f"{jb:.3f} → {ja:.3f}, #{rank_before} → #{rank_after}"
    if d_up and ja > jb and rank_after < rank_before:
        return (
            f"The dreaming model hears {tag}; an independent model moves only a little ({change}), "
            "so the change is mostly in the dreaming model's ear."
        )
    if d_up:
        return f"The dreaming model hears {tag}; an independent model does not ({change})."
    return f"Neither model hears more {tag} yet."


class HonestMeter(QWidget):
    """Dreamer and judge, before → after, for the dream's target, in words and numbers."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.dreamer_label = QLabel("Dreaming model: —")
        self.judge_label = QLabel("Independent judge: —")
        self.sentence = QLabel("Dream to see whether an independent model hears the change.")
        for label in (self.dreamer_label, self.judge_label, self.sentence):
            label.setWordWrap(True)
        self.sentence.setStyleSheet("font-weight: bold")
        self.setMinimumHeight(110)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.dreamer_label)
        layout.addWidget(self.judge_label)
        layout.addWidget(self.sentence)

    def show_scores(
        self, tag: str, dreamer: tuple[Predictions, Predictions], judge: tuple[Predictions, Predictions] | None
    ) -> None:
        """Before → after for ``tag``."""

        def line(prefix: str, before: Predictions, after: Predictions) -> str:
            if after.rank(tag) is None:
                return f"{prefix} ({after.model_name}): no '{tag}' tag"
            return (
                f"{prefix} ({after.model_name}): {tag} {before.probability(tag):.3f} (#{before.rank(tag)}) → "
                f"{after.probability(tag):.3f} (#{after.rank(tag)})"
            )

        self.dreamer_label.setText(line("Dreaming model", *dreamer))
        self.judge_label.setText("Independent judge: none" if judge is None else line("Independent judge", *judge))
        self.sentence.setText(honest_sentence(tag, dreamer, judge))

    def show_text(self, text: str) -> None:
        """A message instead of scores (intensify mode, no dream yet)."""
        self.dreamer_label.setText("")
        self.judge_label.setText("")
        self.sentence.setText(text)
