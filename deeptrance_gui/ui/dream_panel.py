"""The dream controls: mode, models, judges, target, strength, band level, iterations, seed,
Dream / Cancel / Keep what's done, and a line saying what will be dreamed and what it costs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from deeptrance_gui.core.dream.settings import MAX_COVER_LEVEL_DB, MIN_BAND_LEVEL_DB, MODE_DESCRIPTIONS
from deeptrance_gui.core.dream.takes import DreamRequest
from deeptrance_gui.core.session import MODE_CHOICES, NONE, PANEL, DreamChoices
from deeptrance_gui.core.session.choices import enabled_controls, level_control

PANEL_LABEL = "Judge panel (other dataset)"


class DreamPanel(QWidget):
    """Shows and edits :class:`DreamChoices`; the session turns them into a dream. GUI thread only."""

    dreamRequested = Signal()
    cancelRequested = Signal()
    keepRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        defaults = DreamChoices()
        #: The level control edits one of these (band level, cover amount) depending on the mode.
        self._levels = {"band_level_db": defaults.band_level_db, "cover_amount_db": defaults.cover_amount_db}
        self._level_field: str | None = None
        self.mode = QComboBox()
        for key, label, _engine in MODE_CHOICES:
            self.mode.addItem(label, key)
        self.mode.setToolTip("What kind of dream; each mode's description appears below")
        self.description = QLabel()
        self.description.setWordWrap(True)
        self.description.setStyleSheet("color: palette(mid)")
        self.description.setMinimumHeight(84)
        self.dreamer = QComboBox()
        self.dreamer.setToolTip("The model whose ear the dream optimises")
        self.judge = QComboBox()
        self.judge.setToolTip(
            "An independent model (never the dreamer) that tells you whether the change is heard"
        )
        self.toward = QComboBox()
        self.toward.setToolTip("Tag to push toward")
        self.away = QComboBox()
        self.away.setToolTip("Tag to push away from (optional)")
        self.layer = QComboBox()
        self.layer.setToolTip("Layer to intensify (see 'deeptrance layers')")
        self.channel = QSpinBox()
        self.channel.setRange(-1, 1023)
        self.channel.setSpecialValueText("all channels")
        self.channel.setToolTip("One channel of the layer, or all")
        self.iterations = QSpinBox()
        self.iterations.setRange(1, 500)
        self.iterations.setToolTip("Optimiser steps per ≈30 s window; 20 is the measured sweet spot")
        self.strength = QDoubleSpinBox()
        self.strength.setRange(3.0, 12.0)
        self.strength.setSingleStep(0.5)
        self.strength.setSuffix(" dB")
        self.strength.setToolTip("Largest boost or cut of the gain mask (±dB)")
        self.band_level = QDoubleSpinBox()
        self.band_level.setRange(MIN_BAND_LEVEL_DB, MAX_COVER_LEVEL_DB)
        self.band_level.setSingleStep(1.0)
        self.band_level.setSuffix(" dB")
        self.band_level.setToolTip(
            "Band: the band's loudness relative to the track (−18…0 dB). Cover: the band over the "
            "original (−6 under it … +18 in front; above 0 the original's drums are taken out). The "
            "dream balances the parts within it but never raises it (louder always convinces more)."
        )
        self.seed = QSpinBox()
        self.seed.setRange(0, 2**31 - 1)
        self.seed.setToolTip("Same seed, same dream")
        self.dream_button = QPushButton("Dream")
        self.dream_button.setToolTip("Dream from the playhead over the selected region (Ctrl+D)")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop the dream (Esc)")
        self.cancel_button.setEnabled(False)
        self.keep_button = QPushButton("Keep what's done")
        self.keep_button.setToolTip("Stop now and keep the dreamed part as a take; the rest stays original")
        self.keep_button.setEnabled(False)
        self.cost = QLabel("")
        self.cost.setWordWrap(True)
        self.cost.setToolTip("What Dream will change, and about how long it takes on this machine")
        #: dreamer name → its judge panel (set by the window from the loaded models)
        self.panel_for: Callable[[str], tuple[str, ...]] = lambda _name: ()
        self.progress = QProgressBar()
        self.progress.setToolTip("Iteration, objective and time left")
        self.progress.setFormat("idle")
        self.progress.setValue(0)
        form = QFormLayout()
        form.addRow("Mode", self.mode)
        form.addRow(self.description)
        form.addRow("Dreaming model", self.dreamer)
        form.addRow("Judge", self.judge)
        form.addRow("Toward", self.toward)
        form.addRow("Away from", self.away)
        form.addRow("Layer", self.layer)
        form.addRow("Channel", self.channel)
        form.addRow("Iterations", self.iterations)
        form.addRow("Strength", self.strength)
        self.level_label = QLabel("Band level")
        form.addRow(self.level_label, self.band_level)
        form.addRow("Seed", self.seed)
        buttons = QHBoxLayout()
        buttons.addWidget(self.dream_button)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.keep_button)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.cost)
        layout.addLayout(buttons)
        layout.addWidget(self.progress)
        self.mode.currentIndexChanged.connect(self._mode_changed)
        self.dreamer.currentTextChanged.connect(self._dreamer_changed)
        self.dream_button.clicked.connect(self.dreamRequested)
        self.cancel_button.clicked.connect(self.cancelRequested)
        self.keep_button.clicked.connect(self.keepRequested)
        self._labels: dict[str, tuple[str, ...]] = {}
        self._layers: dict[str, tuple[str, ...]] = {}

    def set_models(self, labels: dict[str, tuple[str, ...]], layers: dict[str, tuple[str, ...]]) -> None:
        """Model names with their tags and layers (fills the combos)."""
        self._labels, self._layers = labels, layers
        for combo in (self.dreamer, self.judge):
            keep = combo.currentText()
            combo.blockSignals(True)
            combo.clear()
            if combo is self.judge:
                combo.addItem(PANEL_LABEL, PANEL)
                combo.addItem(NONE, NONE)
            combo.addItems(sorted(labels))
            if keep:
                combo.setCurrentText(keep)
            combo.blockSignals(False)
        self._dreamer_changed(self.dreamer.currentText())

    def _dreamer_changed(self, name: str) -> None:
        tags = self._labels.get(name, ())
        for combo, blank in ((self.toward, False), (self.away, True)):
            keep = combo.currentText()
            combo.clear()
            if blank:
                combo.addItem(NONE)
            combo.addItems(tags)
            if keep in tags:
                combo.setCurrentText(keep)
        keep = self.layer.currentText()
        self.layer.clear()
        self.layer.addItems(self._layers.get(name, ()))
        if keep:
            self.layer.setCurrentText(keep)

    def _mode_changed(self) -> None:
        mode = self.mode.currentData()
        self.description.setText(MODE_DESCRIPTIONS[mode])
        enabled = enabled_controls(mode)
        controls = {
            "toward": self.toward, "away": self.away, "layer": self.layer, "channel": self.channel,
            "strength": self.strength, "band_level": self.band_level,
        }  # fmt: skip
        for name, widget in controls.items():
            widget.setEnabled(name in enabled)
        # One level control: the band's level under the track, or the cover's band over it.
        if self._level_field is not None:
            self._levels[self._level_field] = self.band_level.value()
        level = level_control(mode)
        self._level_field = None if level is None else level[0]
        if level is not None:
            field, low, high = level
            self.band_level.setRange(low, high)
            self.band_level.setValue(self._levels[field])
            self.level_label.setText("Cover amount" if field == "cover_amount_db" else "Band level")

    def apply_state(self, state: DreamChoices) -> None:
        """Restore remembered values (unknown ones are ignored)."""
        self._levels = {"band_level_db": state.band_level_db, "cover_amount_db": state.cover_amount_db}
        self._level_field = None
        index = self.mode.findData(state.mode)
        self.mode.setCurrentIndex(max(0, index))
        self._mode_changed()
        self.dreamer.setCurrentText(state.dreamer)
        self.judge.setCurrentText(PANEL_LABEL if state.judge == PANEL else state.judge)
        self.toward.setCurrentText(state.toward)
        self.away.setCurrentText(state.away or NONE)
        self.layer.setCurrentText(state.layer)
        self.channel.setValue(state.channel)
        self.iterations.setValue(state.iterations)
        self.strength.setValue(state.strength_db)
        self.seed.setValue(state.seed)
        self._soundfont = state.soundfont

    def state(self) -> DreamChoices:
        """Current values (the settings remember them, the session dreams them)."""
        away = self.away.currentText()
        return DreamChoices(
            mode=str(self.mode.currentData()),
            dreamer=self.dreamer.currentText(),
            judge=PANEL if self.judge.currentData() == PANEL else self.judge.currentText(),
            toward=self.toward.currentText(),
            away="" if away == NONE else away,
            layer=self.layer.currentText(),
            channel=self.channel.value(),
            iterations=self.iterations.value(),
            strength_db=self.strength.value(),
            seed=self.seed.value(),
            **{**self._levels, **({self._level_field: self.band_level.value()} if self._level_field else {})},
            soundfont=getattr(self, "_soundfont", ""),
        )

    def request(self, *, region: tuple[float, float] | None, start_s: float | None) -> DreamRequest:
        """The dream these controls describe (:meth:`DreamChoices.request`)."""
        return self.state().request(region=region, start_s=start_s, judge_panel=self.panel_for)

    def set_running(self, running: bool) -> None:
        """Enable Cancel while dreaming, Dream otherwise."""
        self.dream_button.setEnabled(not running)
        self.cancel_button.setEnabled(running)
        self.keep_button.setEnabled(running)

    def watch(self, session: Any) -> None:
        """Show a session's running dream: Dream/Cancel/Keep, iteration, objective, time left."""
        events, progress = session.events, self.progress

        def started(request: Any, _base: object) -> None:
            self.set_running(True)
            progress.setRange(0, request.settings.iterations)
            progress.setValue(0)
            progress.setFormat("starting…")

        def step(step: Any) -> None:
            progress.setRange(0, step.total_iterations)
            progress.setValue(step.iteration)
            progress.setFormat(session.progress(step))

        def ended() -> None:
            self.set_running(False)
            if progress.format().startswith(("cancelling", "starting")):
                progress.setFormat("cancelled")

        events.dream_started.connect(started)
        events.dream_step.connect(step)
        events.dream_failed.connect(lambda _message, refused: progress.setFormat("not started" if refused else "failed"))
        events.dream_ended.connect(ended)
