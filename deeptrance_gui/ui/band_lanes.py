"""Band lanes under the spectrogram: one lane per part (its dreamed level bar by bar and the
variant it plays), with mute/solo buttons. A view of the session's
:class:`~deeptrance_gui.core.session.MuteSolo`; what it draws comes from the take's
:meth:`~deeptrance_gui.core.dream.modes.PlayedParts.lanes`. GUI thread only."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QHBoxLayout, QLabel, QToolButton, QVBoxLayout, QWidget

from deeptrance_gui.core.session import ORIGINAL, MuteSolo
from deeptrance_gui.ui.spectrogram_view import COLORBAR_WIDTH_PX, LEFT_AXIS_WIDTH_PX

LANE_COLOURS = ("#e8743b", "#19a979", "#ed4a7b", "#945ecf", "#13a4b4")


class BandLanes(QWidget):
    """Level-over-time lanes and mute/solo per part; hidden when no band take is auditioned."""

    def __init__(self, session: MuteSolo, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.controls = QHBoxLayout()
        self.controls.setContentsMargins(0, 0, 0, 0)
        self.plot = pg.PlotWidget()
        self.plot.setMouseEnabled(x=True, y=False)
        self.plot.setMenuEnabled(False)
        self.plot.setMinimumHeight(90)
        self.plot.setMaximumHeight(150)
        self.plot.getAxis("left").setWidth(LEFT_AXIS_WIDTH_PX)
        self.plot.hideButtons()
        spacer = QWidget()
        spacer.setFixedWidth(COLORBAR_WIDTH_PX)
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(0)
        row.addWidget(self.plot, 1)
        row.addWidget(spacer)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(self.controls)
        layout.addLayout(row)
        self.mute_buttons: dict[str, QToolButton] = {}
        self.solo_buttons: dict[str, QToolButton] = {}
        self.variant_labels: dict[str, QLabel] = {}
        self._shown: object = None
        session.observe(self._changed)
        self.setVisible(False)

    def _changed(self) -> None:
        if self.session.take is not self._shown:
            self.show_take()
        else:
            self._sync_buttons()

    def show_take(self) -> None:
        """Draw the session's take (its region starts at ``session.start_s`` in the track)."""
        take, start_s = self.session.take, self.session.start_s
        self._shown = take
        self.plot.clear()
        while self.controls.count():
            item = self.controls.takeAt(0)
            if item is not None and item.widget() is not None:
                item.widget().deleteLater()  # type: ignore[union-attr]
        self.mute_buttons.clear()
        self.solo_buttons.clear()
        self.variant_labels.clear()
        if take is None:
            self.setVisible(False)
            return
        lanes = take.lanes()
        bars = np.asarray(lanes.bar_starts_s) + start_s
        edges = np.append(bars, bars[-1] + (float(np.diff(bars).mean()) if bars.size > 1 else 2.0))
        scale = max(1e-6, float(np.max(np.abs(lanes.levels_db))))
        ticks = []
        for lane, (name, label) in enumerate(zip(lanes.names, lanes.labels, strict=True)):
            base = len(lanes.names) - 1 - lane
            # Lane height: the dreamed level per bar (0.45 of the lane = the arrangement's own level).
            heights = base + 0.45 + 0.4 * lanes.levels_db[lane] / scale
            colour = LANE_COLOURS[lane % len(LANE_COLOURS)]
            self.plot.plot(
                edges, heights, stepMode="center", fillLevel=base, pen=pg.mkPen(colour, width=2),
                brush=pg.mkBrush(colour + "55"),
            )  # fmt: skip
            ticks.append((base + 0.5, name))
            self._add_controls(name, label)
        self._add_controls(ORIGINAL, "original")
        self.controls.addStretch(1)
        self.plot.getAxis("left").setTicks([ticks])
        self.plot.setYRange(0, len(lanes.names), padding=0.02)
        self._sync_buttons()
        self.setVisible(True)

    def _add_controls(self, name: str, text: str) -> None:
        label = QLabel(text)
        label.setToolTip("The part and the variant the dream chose" if name != ORIGINAL else "The track itself")
        mute, solo = QToolButton(), QToolButton()
        for button, kind in ((mute, "M"), (solo, "S")):
            button.setText(kind)
            button.setCheckable(True)
            button.setToolTip(f"{'Mute' if kind == 'M' else 'Solo'} {name} while auditioning (no new dream needed)")
        mute.toggled.connect(lambda on, n=name: self.session.set_muted(n, on))
        solo.toggled.connect(lambda on, n=name: self.session.set_soloed(n, on))
        for widget in (label, mute, solo):
            self.controls.addWidget(widget)
        self.controls.addSpacing(10)
        self.mute_buttons[name], self.solo_buttons[name] = mute, solo
        self.variant_labels[name] = label

    def _sync_buttons(self) -> None:
        for name, button in self.mute_buttons.items():
            button.blockSignals(True)
            button.setChecked(name in self.session.muted)
            button.blockSignals(False)
        for name, button in self.solo_buttons.items():
            button.blockSignals(True)
            button.setChecked(name in self.session.soloed)
            button.blockSignals(False)
