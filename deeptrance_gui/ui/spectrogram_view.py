"""Spectrogram with a log-frequency axis, playhead, dream region and a difference view.

pyqtgraph's fast image path: one ``ImageItem`` fed row-major float32 with fixed levels and a
colour map set once; ``setRect`` maps it to seconds × log10(Hz). Dream updates write into the
view's own buffer and are applied by a 10 Hz timer (coalesced), never per step.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import QHBoxLayout, QWidget

from deeptrance_gui.core.dsp.stft import DisplaySpectrogram

LEFT_AXIS_WIDTH_PX = 110  # every time plot: one axis width, so their time axes line up
COLORBAR_WIDTH_PX = 80

pg.setConfigOptions(imageAxisOrder="row-major", antialias=False)

UPDATE_INTERVAL_MS = 100
DIFF_RANGE_DB = 12.0


class LogFrequencyAxis(pg.AxisItem):  # type: ignore[misc]
    """Axis whose values are log10(Hz), labelled in Hz / kHz."""

    def tickValues(self, minVal: float, maxVal: float, size: float) -> list[tuple[float, list[float]]]:
        majors = [math.log10(f) for f in (50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000)]
        return [(1.0, [v for v in majors if minVal <= v <= maxVal])]

    def tickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:
        labels = []
        for v in values:
            hz = 10**v
            labels.append(f"{hz / 1000:g}k" if hz >= 1000 else f"{hz:g}")
        return labels


class SpectrogramView(QWidget):
    """Spectrogram of the current audio (original or dreamed) with transport overlays.

    Signals
    -------
    seekRequested(float)
        The user clicked or dragged the playhead to a time in seconds.
    regionChanged(float, float)
        The dream region changed (seconds).
    """

    seekRequested = Signal(float)
    regionChanged = Signal(float, float)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.plot = pg.PlotWidget(axisItems={"left": LogFrequencyAxis("left")})
        self.plot.setLabel("bottom", "time", units="s")
        self.plot.setLabel("left", "frequency (Hz)")
        self.plot.getAxis("left").setWidth(LEFT_AXIS_WIDTH_PX)
        self.plot.setMouseEnabled(x=True, y=False)
        self.plot.setMenuEnabled(False)
        self.image = pg.ImageItem()
        self.plot.addItem(self.image)
        self.colorbar = pg.ColorBarItem(
            values=(-90, 0), colorMap=pg.colormap.get("inferno"), label="dB", interactive=True, width=12
        )
        # The colour bar lives in its own fixed-width view beside the plot (not inside the
        # plot's layout), so the genre strip below can keep the same width free and share the
        # spectrogram's time axis pixel for pixel.
        self.colorbar.setImageItem(self.image)
        self.colorbar_view = pg.GraphicsLayoutWidget()
        self.colorbar_view.addItem(self.colorbar)
        self.colorbar_view.setFixedWidth(COLORBAR_WIDTH_PX)
        self.colorbar.sigLevelsChangeFinished.connect(self._levels_changed)
        self.playhead = pg.InfiniteLine(pos=0.0, angle=90, movable=True, pen=pg.mkPen("#7fdbff", width=2))
        self.playhead.setZValue(20)
        self.playhead.sigDragged.connect(lambda line: self.seekRequested.emit(float(line.value())))
        self.plot.addItem(self.playhead)
        self.region = pg.LinearRegionItem(values=(0.0, 1.0), brush=pg.mkBrush(120, 200, 255, 30))
        self.region.setZValue(10)
        self.region.sigRegionChangeFinished.connect(self._region_changed)
        self.plot.addItem(self.region)
        self.plot.scene().sigMouseClicked.connect(self._clicked)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.plot, 1)
        layout.addWidget(self.colorbar_view)
        self._original: np.ndarray | None = None
        self._current: np.ndarray | None = None
        self._spectrogram: DisplaySpectrogram | None = None
        self._dirty = False
        self._difference = False
        self._db_range = (-90.0, 0.0)
        self.update_timer = QTimer(self)
        self.update_timer.setInterval(UPDATE_INTERVAL_MS)
        self.update_timer.timeout.connect(self._apply_pending)
        self.update_timer.start()
        self.applied_updates = 0

    # --- data -------------------------------------------------------------------------------

    def set_spectrogram(self, spectrogram: DisplaySpectrogram) -> None:
        """Show a new track's spectrogram (resets the dream layer). GUI thread."""
        self._spectrogram = spectrogram
        self._original = spectrogram.db.copy()
        self._current = spectrogram.db.copy()
        f = spectrogram.frequencies_hz
        low, high = math.log10(f[0]), math.log10(f[-1])
        self._rect = pg.QtCore.QRectF(0.0, low, spectrogram.duration_s, high - low)
        self._dirty = True
        self._apply_pending()
        self.plot.setXRange(0, spectrogram.duration_s, padding=0)
        self.plot.setYRange(low, high, padding=0)
        self.plot.setLimits(xMin=0, xMax=spectrogram.duration_s, yMin=low, yMax=high)
        self.region.setBounds((0, spectrogram.duration_s))

    def write_columns(self, first_column: int, db: np.ndarray) -> None:
        """Replace columns of the dreamed layer (applied at ≤ 10 Hz). GUI thread."""
        if self._current is None:
            return
        end = min(self._current.shape[1], first_column + db.shape[1])
        if end <= first_column:
            return
        self._current[:, first_column:end] = db[:, : end - first_column]
        self._dirty = True

    def reset_dream(self) -> None:
        """Back to the original spectrogram."""
        if self._original is not None:
            self._current = self._original.copy()
            self._dirty = True

    def show_dream_layer(self, dream_db: np.ndarray | None) -> None:
        """Show a take's full spectrogram (or the original when None)."""
        if self._original is None:
            return
        self._current = (
            self._original.copy() if dream_db is None else dream_db[:, : self._original.shape[1]].copy()
        )
        self._dirty = True

    def set_difference(self, on: bool) -> None:
        """Toggle the difference view (dreamed − original, dB)."""
        self._difference = on
        cmap = pg.colormap.get("CET-D1") if on else pg.colormap.get("inferno")
        self.colorbar.setColorMap(cmap)
        levels = (-DIFF_RANGE_DB, DIFF_RANGE_DB) if on else self._db_range
        self.colorbar.setLevels(levels)
        self._dirty = True

    def set_db_range(self, low: float, high: float) -> None:
        """Colour range of the normal view."""
        self._db_range = (low, high)
        if not self._difference:
            self.colorbar.setLevels((low, high))

    @property
    def db_range(self) -> tuple[float, float]:
        """Current colour range of the normal view."""
        return self._db_range

    def set_region(self, start_s: float, end_s: float) -> None:
        """Move the dream region."""
        self.region.setRegion((start_s, end_s))

    def region_s(self) -> tuple[float, float]:
        """Dream region in seconds."""
        a, b = self.region.getRegion()
        return float(min(a, b)), float(max(a, b))

    def set_playhead(self, position_s: float) -> None:
        """Move the playhead (unless the user is dragging it)."""
        if not self.playhead.moving:
            self.playhead.setValue(position_s)

    def current_db(self) -> np.ndarray | None:
        """The dreamed layer (rows, frames) as shown (not the difference)."""
        return None if self._current is None else self._current.copy()

    # --- internals --------------------------------------------------------------------------

    def _apply_pending(self) -> None:
        if not self._dirty or self._current is None:
            return
        self._dirty = False
        if self._difference and self._original is not None:
            data = self._current - self._original
            levels = (-DIFF_RANGE_DB, DIFF_RANGE_DB)
        else:
            data = self._current
            levels = self._db_range
        self.image.setImage(data, autoLevels=False, levels=levels)
        self.image.setRect(self._rect)
        self.applied_updates += 1

    def _levels_changed(self) -> None:
        if not self._difference:
            low, high = self.colorbar.levels()
            self._db_range = (float(low), float(high))

    def _region_changed(self) -> None:
        start, end = self.region_s()
        self.regionChanged.emit(start, end)

    def _clicked(self, event: object) -> None:
        pos = event.scenePos()  # type: ignore[attr-defined]
        view = self.plot.getPlotItem().vb
        # Anywhere on the image or on the time axis under it seeks.
        if view.sceneBoundingRect().contains(pos) or self.plot.getAxis("bottom").sceneBoundingRect().contains(pos):
            x = float(view.mapSceneToView(pg.QtCore.QPointF(pos.x(), view.sceneBoundingRect().center().y())).x())
            self.seekRequested.emit(max(0.0, x))

    def show_beats(self, beat_times_s: np.ndarray, *, downbeat_index: int, chord_names: list[str], meter: int = 4) -> None:
        """Beat grid (ticks at the top, bars taller) and chord names where the chord changes.
        One line item for all beats: hundreds of InfiniteLines would slow every repaint."""
        for item in getattr(self, "_beat_items", []):
            self.plot.removeItem(item)
        self._beat_items: list[pg.GraphicsObject] = []
        self.beat_count = 0
        self.chord_labels: list[str] = []
        if beat_times_s.size == 0 or self._spectrogram is None:
            return
        f = self._spectrogram.frequencies_hz
        top = math.log10(f[-1])
        span = top - math.log10(f[0])
        downbeat = ((np.arange(beat_times_s.size) - downbeat_index) % meter) == 0
        lows = np.where(downbeat, top - 0.12 * span, top - 0.05 * span)
        xs = np.repeat(beat_times_s, 2)
        ys = np.column_stack([lows, np.full(beat_times_s.size, top)]).ravel()
        grid = pg.PlotDataItem(xs, ys, connect="pairs", pen=pg.mkPen(255, 255, 255, 150, width=1))
        grid.setZValue(15)
        self.plot.addItem(grid)
        self._beat_items.append(grid)
        previous = None
        for t, name in zip(beat_times_s, chord_names, strict=False):
            if name != previous and name != "N":
                label = pg.TextItem(name, color=(255, 255, 255), anchor=(0, 0))
                label.setPos(float(t), top - 0.12 * span)
                label.setZValue(16)
                self.plot.addItem(label)
                self._beat_items.append(label)
            previous = name
        self.beat_count = int(beat_times_s.size)
        self.chord_labels = [item.textItem.toPlainText() for item in self._beat_items[1:]]  # shown, in order

    def stop(self) -> None:
        """Stop the update timer (window closing)."""
        self.update_timer.stop()

    def watch(self, events: Any) -> None:
        """Draw a session's track, its beats and its dreams (``events``: its SessionEvents)."""

        def loaded(track: Any) -> None:
            self.set_spectrogram(track.spectrogram)
            self.set_region(0.0, track.clip.duration_s)
            self.set_playhead(0.0)
            self.show_beats(np.zeros(0), downbeat_index=0, chord_names=[])

        def analysed(analysis: Any) -> None:
            if analysis is not None:
                self.show_beats(analysis.beat_times_s, downbeat_index=analysis.downbeat_index, chord_names=analysis.chord_names())

        def step(step: Any) -> None:
            if step.audio is not None and step.spectrogram is not None:
                self.write_columns(step.spectrogram_first_column, step.spectrogram.db)

        events.track_loaded.connect(loaded)
        events.analysis_ready.connect(analysed)
        events.dream_started.connect(lambda _request, base: self.show_dream_layer(None if base is None else base.display_db))
        events.dream_step.connect(step)
        events.audition.connect(lambda take: self.show_dream_layer(None if take is None else take.display_db))
