"""What the networks hear: genre bars, top tags, a genre-over-time strip, the honest meter."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QHBoxLayout, QLabel, QVBoxLayout, QWidget

from deeptrance_gui.core.dream.settings import DreamSettings
from deeptrance_gui.core.dream.verdict import MeterReport, meter_report
from deeptrance_gui.core.model.genres import genre_tags
from deeptrance_gui.core.model.predictions import Predictions
from deeptrance_gui.ui.spectrogram_view import COLORBAR_WIDTH_PX, LEFT_AXIS_WIDTH_PX

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
    """Genre-over-time heat map (the 5 strongest genre tags × time), x-linked to the
    spectrogram and ending where the track ends. Columns are laid on a fine time grid so the
    last, partial patch (the tail) gets a column of its own width; a dream writes its spans in
    as it goes."""

    GRID_S = 0.1

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.plot = pg.PlotWidget()
        self.plot.setMouseEnabled(x=True, y=False)
        self.plot.setMenuEnabled(False)
        self.plot.setMinimumHeight(120)
        self.plot.setMaximumHeight(170)
        self.plot.getAxis("left").setWidth(LEFT_AXIS_WIDTH_PX)
        self.image = pg.ImageItem()
        self.image.setColorMap(pg.colormap.get("viridis"))
        self.plot.addItem(self.image)
        # The spectrogram has its colour bar at the right: keep the same width free here so
        # both plots share one time axis, pixel for pixel.
        spacer = QWidget()
        spacer.setFixedWidth(COLORBAR_WIDTH_PX)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.plot, 1)
        layout.addWidget(spacer)
        self.rows: np.ndarray | None = None  # (genres, grid columns)
        self.tag_index: list[int] = []
        self.duration_s = 0.0

    def show_timeline(self, labels: tuple[str, ...], dataset: str, probs: np.ndarray, edges_s: np.ndarray) -> None:
        """probs (n_columns, n_tags) between ``edges_s`` (n_columns + 1,) → rows = the 5
        strongest genre tags, drawn from 0 to the last edge (the end of the track)."""
        tags = [t for t in genre_tags(dataset, labels) if t in labels]
        index = [labels.index(t) for t in tags]
        data = probs[:, index]
        order = np.argsort(-data.mean(axis=0))[:5]
        self.tag_index = [index[i] for i in order]
        self.duration_s = float(edges_s[-1])
        n = max(1, int(np.ceil(self.duration_s / self.GRID_S)))
        centres = (np.arange(n) + 0.5) * self.duration_s / n
        column = np.clip(np.searchsorted(edges_s, centres, side="right") - 1, 0, probs.shape[0] - 1)
        self.rows = np.ascontiguousarray(probs[column][:, self.tag_index].T[::-1], dtype=np.float32)
        self.image.setImage(self.rows, autoLevels=False, levels=(0, 1))
        self.image.setRect(pg.QtCore.QRectF(0, 0, self.duration_s, self.rows.shape[0]))
        names = [tags[i] for i in order][::-1]
        self.plot.getAxis("left").setTicks([[(k + 0.5, name) for k, name in enumerate(names)]])
        self.plot.setYRange(0, self.rows.shape[0], padding=0)
        self.plot.setLimits(xMin=0, xMax=self.duration_s)

    def write_span(self, start_s: float, probs: np.ndarray, patch_s: float) -> None:
        """A dream's new view of the audio from ``start_s``: probs (n_patches, n_tags) of
        consecutive ``patch_s`` patches replace those columns (GUI thread)."""
        if self.rows is None or not self.tag_index or probs.shape[0] == 0:
            return
        n = self.rows.shape[1]
        seconds_per_column = self.duration_s / n
        for k in range(probs.shape[0]):
            a = round((start_s + k * patch_s) / seconds_per_column)
            z = round((start_s + (k + 1) * patch_s) / seconds_per_column)
            if a >= n:
                break
            self.rows[:, a : min(z, n)] = probs[k, self.tag_index][::-1, None]
        self.image.setImage(self.rows, autoLevels=False, levels=(0, 1))
        self.image.setRect(pg.QtCore.QRectF(0, 0, self.duration_s, self.rows.shape[0]))


MIN_METER_HEIGHT_PX = 110


class HonestMeter(QWidget):
    """Dreamer and judge, before → after, for the dream's target, in words and numbers."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.dreamer_label = QLabel("Dreaming model: —")
        self.judge_label = QLabel("Independent judge: —")
        self.sentence = QLabel("Dream to see whether an independent model hears the change.")
        self.next_try = QLabel("")  # what to try when the judges do not confirm a finished dream
        for label in (self.dreamer_label, self.judge_label, self.sentence, self.next_try):
            label.setWordWrap(True)
        self.sentence.setStyleSheet("font-weight: bold")
        self.next_try.setStyleSheet("font-style: italic")
        self.next_try.hide()
        self.setMinimumHeight(MIN_METER_HEIGHT_PX)
        layout = self._layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.dreamer_label)
        layout.addWidget(self.judge_label)
        layout.addWidget(self.sentence)
        layout.addWidget(self.next_try)

    def show_step(self, tag: str, step: Any, *, toward: bool = True, settings: DreamSettings | None = None) -> None:
        """Before → after for ``tag`` from a dream step, in the one rule's words
        (:func:`~deeptrance_gui.core.dream.verdict.meter_report`)."""
        self.show_report(meter_report(tag, step, toward=toward, settings=settings))

    def show_report(self, report: MeterReport) -> None:
        """Draw a :class:`~deeptrance_gui.core.dream.verdict.MeterReport`."""
        self.dreamer_label.setText(report.dreamer)
        self.judge_label.setText(report.judges)
        self.sentence.setText(report.headline)
        self.next_try.setText(report.advice or "")
        self.next_try.setVisible(report.advice is not None)
        self._fit()

    def _fit(self) -> None:
        """As tall as its wrapped words: a dock gives a widget its minimum height, not its
        height for its width, so a long verdict and its advice were cut off at the bottom."""
        needed = self._layout.totalHeightForWidth(self.width())
        self.setMinimumHeight(max(MIN_METER_HEIGHT_PX, needed))

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit()

    def show_text(self, text: str) -> None:
        """A message instead of scores (intensify mode, no dream yet)."""
        self.dreamer_label.setText("")
        self.judge_label.setText("")
        self.sentence.setText(text)
        self.next_try.hide()
        self._fit()


def watch_predictions(session: Any, bars: GenreBars, timeline: GenreTimeline, meter: HonestMeter) -> None:
    """The bars, the genre-over-time strip and the honest meter follow a session: what the
    listening model hears in what plays, and during a dream what every model hears."""
    from deeptrance_gui.core.dream.verdict import meter_for
    from deeptrance_gui.core.model.geometry import PATCH_S

    def shown(prediction: Any) -> None:
        bars.show_predictions(prediction.track())
        timeline.show_timeline(prediction.labels, prediction.dataset, *prediction.timeline())

    def step(step: Any) -> None:
        request = session.dream_request
        if step.span_patch_probs is not None:
            timeline.write_span(step.span_start_s, step.span_patch_probs, PATCH_S)
        bars.show_predictions(step.dreamers[0])
        meter.show_report(meter_for(request.objective, request.settings, step))

    def audition(take: Any) -> None:
        if take is not None:
            meter.show_report(meter_for(take.request.objective, take.request.settings, take.final))

    session.events.prediction_shown.connect(shown)
    session.events.dream_step.connect(step)
    session.events.audition.connect(audition)
