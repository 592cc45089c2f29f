"""The dream controls: mode, models, target, strength, iterations, seed, Dream/Cancel."""

from __future__ import annotations

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

from deeptrance_gui.core.dream.settings import MODE_DESCRIPTIONS, DreamSettings, Objective
from deeptrance_gui.core.dream.takes import DreamRequest
from deeptrance_gui.ui.settings import DreamPanelState

MODES = (
    ("genre", "Genre dream"),
    ("intensify", "Intensify (classic DeepDream)"),
    ("waveform", "Waveform (experimental)"),
)
NONE = "—"


class DreamPanel(QWidget):
    """Builds a :class:`DreamRequest` from its controls. GUI thread only."""

    dreamRequested = Signal()
    cancelRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.mode = QComboBox()
        for key, label in MODES:
            self.mode.addItem(label, key)
        self.mode.setToolTip("What kind of dream; each mode's description appears below")
        self.description = QLabel()
        self.description.setWordWrap(True)
        self.description.setStyleSheet("color: palette(mid)")
        self.description.setMinimumHeight(70)
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
        self.seed = QSpinBox()
        self.seed.setRange(0, 2**31 - 1)
        self.seed.setToolTip("Same seed, same dream")
        self.dream_button = QPushButton("Dream")
        self.dream_button.setToolTip("Dream from the playhead over the selected region (Ctrl+D)")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop the dream (Esc)")
        self.cancel_button.setEnabled(False)
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
        form.addRow("Seed", self.seed)
        buttons = QHBoxLayout()
        buttons.addWidget(self.dream_button)
        buttons.addWidget(self.cancel_button)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addLayout(buttons)
        layout.addWidget(self.progress)
        self.mode.currentIndexChanged.connect(self._mode_changed)
        self.dreamer.currentTextChanged.connect(self._dreamer_changed)
        self.dream_button.clicked.connect(self.dreamRequested)
        self.cancel_button.clicked.connect(self.cancelRequested)
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
                combo.addItem(NONE)
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
        genre = mode in ("genre", "waveform")
        targets: tuple[QWidget, ...] = (self.toward, self.away)
        layers: tuple[QWidget, ...] = (self.layer, self.channel)
        for widget in targets:
            widget.setEnabled(genre)
        for widget in layers:
            widget.setEnabled(not genre)
        self.strength.setEnabled(mode != "waveform")

    def apply_state(self, state: DreamPanelState) -> None:
        """Restore remembered values (unknown ones are ignored)."""
        index = self.mode.findData(state.mode)
        self.mode.setCurrentIndex(max(0, index))
        self._mode_changed()
        self.dreamer.setCurrentText(state.dreamer)
        self.judge.setCurrentText(state.judge)
        self.toward.setCurrentText(state.toward)
        self.away.setCurrentText(state.away or NONE)
        self.layer.setCurrentText(state.layer)
        self.channel.setValue(state.channel)
        self.iterations.setValue(state.iterations)
        self.strength.setValue(state.strength_db)
        self.seed.setValue(state.seed)

    def state(self) -> DreamPanelState:
        """Current values, for the settings."""
        away = self.away.currentText()
        return DreamPanelState(
            mode=str(self.mode.currentData()),
            dreamer=self.dreamer.currentText(),
            judge=self.judge.currentText(),
            toward=self.toward.currentText(),
            away="" if away == NONE else away,
            layer=self.layer.currentText(),
            channel=self.channel.value(),
            iterations=self.iterations.value(),
            strength_db=self.strength.value(),
            seed=self.seed.value(),
        )

    def request(self, *, region: tuple[float, float] | None, start_s: float | None) -> DreamRequest:
        """The dream these controls describe."""
        state = self.state()
        if state.mode == "intensify":
            objective = Objective(
                kind="intensify",
                toward=None,
                layer=state.layer,
                channel=None if state.channel < 0 else state.channel,
            )
        else:
            objective = Objective(kind="genre", toward=state.toward or None, away=state.away or None)
        settings = DreamSettings(
            mode="waveform" if state.mode == "waveform" else "mask",
            iterations=state.iterations,
            strength_db=state.strength_db,
            learning_rate=0.05 if state.mode == "waveform" else 0.1,
        )
        judge = None if state.judge in ("", NONE) else state.judge
        return DreamRequest(
            dreamers=(state.dreamer,),
            judge=judge,
            objective=objective,
            settings=settings,
            region=region,
            start_s=start_s,
            seed=state.seed,
        )

    def set_running(self, running: bool) -> None:
        """Enable Cancel while dreaming, Dream otherwise."""
        self.dream_button.setEnabled(not running)
        self.cancel_button.setEnabled(running)
