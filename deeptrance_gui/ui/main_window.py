"""The workstation window: it draws a :class:`~deeptrance_gui.core.session.Session` and
forwards clicks to it (napari's ``QtViewer`` over its ``ViewerModel``).

Threads: everything here runs on the GUI thread. The session's long work runs on superqt
workers (:class:`~deeptrance_gui.ui.qt_runner.QtRunner`), whose results come back here. The
PortAudio callback only touches the session's player, which this window polls on a timer.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import (
    QDockWidget,
    QLabel,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from deeptrance_gui.core.dream.recovery import LeftBehind
from deeptrance_gui.core.errors import SettingsSaveError
from deeptrance_gui.core.session import Session, Take
from deeptrance_gui.ui import dialogs
from deeptrance_gui.ui.band_lanes import BandLanes
from deeptrance_gui.ui.dream_panel import DreamPanel
from deeptrance_gui.ui.predictions_view import GenreBars, GenreTimeline, HonestMeter, watch_predictions
from deeptrance_gui.ui.qt_runner import QtRunner
from deeptrance_gui.ui.settings import AppSettings, remember_file, save_settings
from deeptrance_gui.ui.spectrogram_view import SpectrogramView
from deeptrance_gui.ui.takes import TakeList
from deeptrance_gui.ui.transport import TransportBar
from deeptrance_gui.ui.window_actions import build_actions

POLL_INTERVAL_MS = 30


class MainWindow(QMainWindow):
    """The Deep Trance window.

    Parameters
    ----------
    settings
        Loaded settings (saved on close).
    player
        Playback over an already chosen backend (the session's player).
    model_loader
        name → LoadedModel; called on a worker thread (tests pass tiny models).
    startup_notice
        Shown once in the status bar: no audio output, settings that cannot be saved.
    """

    session: Session
    take_list: TakeList
    spectrogram: SpectrogramView
    # The session's events as Qt signals, for whoever waits on the window (tests, tools).
    trackLoaded = Signal(object)
    loadFailed = Signal(str)
    modelsReady = Signal()
    dreamStep = Signal(object)
    dreamFinished = Signal(object)
    dreamCancelled = Signal()
    exportFinished = Signal(object)
    predictionsShown = Signal(object)
    bandMixed = Signal(object)
    soundfontChanged = Signal(str)
    analysisShown = Signal(object)  # MusicalAnalysis or None
    takeJournaled = Signal(object)  # Path of the take's recovery copy

    def __init__(
        self,
        settings: AppSettings,
        player: Any,
        *,
        model_loader: Callable[[str], Any],
        startup_notice: str | None = None,
    ) -> None:
        super().__init__()
        self.setWindowTitle("Deep Trance")
        self.setAcceptDrops(True)
        self.settings = settings
        self.session = Session(player=player, model_loader=model_loader, runner=QtRunner(), raise_errors=False)
        self.session.soundfont = settings.dream.soundfont
        self.last_error: str | None = None
        self._error_box: QMessageBox | None = None
        self._recovery_box: QMessageBox | None = None
        self._startup_notice = startup_notice
        self._build()
        self.acts, menus = build_actions(self)
        self.recent_menu, self.device_menu = menus["recent"], menus["devices"]
        self.device_menu.aboutToShow.connect(lambda: dialogs.fill_device_menu(self))
        self._refresh_recent()
        self._connect()
        if settings.geometry is not None:
            self.restoreGeometry(settings.geometry)
        else:
            self.resize(1400, 860)
        self.spectrogram.set_db_range(*settings.db_range)
        self.poll_timer = QTimer(self)
        self.poll_timer.setInterval(POLL_INTERVAL_MS)
        self.poll_timer.timeout.connect(self._poll_player)
        self.poll_timer.start()
        self._update_status()

    # --- layout -------------------------------------------------------------------------------

    def _build(self) -> None:
        self.spectrogram = SpectrogramView()
        self.timeline = GenreTimeline()
        self.timeline.plot.setXLink(self.spectrogram.plot)
        self.band_lanes = BandLanes(self.session.parts)
        self.band_lanes.plot.setXLink(self.spectrogram.plot)
        center = QSplitter(Qt.Orientation.Vertical)
        for index, (widget, stretch) in enumerate(((self.spectrogram, 4), (self.band_lanes, 1), (self.timeline, 1))):
            center.addWidget(widget)
            center.setStretchFactor(index, stretch)
        self.drop_hint = QLabel("Drop an audio file here, or File ▸ Open (Ctrl+O)")
        self.drop_hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        wrapper = QWidget()
        self._central = QVBoxLayout(wrapper)
        self._central.setContentsMargins(4, 4, 4, 4)
        self._central.addWidget(self.drop_hint)
        self._central.addWidget(center, 1)
        self.setCentralWidget(wrapper)
        self.dream_panel = DreamPanel()
        # The remembered mode and numbers show at once, not the fields' minimums while the
        # models load (the model and tag lists fill in when they are ready).
        self.dream_panel.apply_state(self.settings.dream)
        self.dream_panel.panel_for = self.session.judge_panel
        self.bars, self.meter = GenreBars(), HonestMeter()
        self.take_list = TakeList(self.session.takes)
        for title, widget, area in (
            ("Dream", self.dream_panel, Qt.DockWidgetArea.RightDockWidgetArea),
            ("What the network hears", self.bars, Qt.DockWidgetArea.RightDockWidgetArea),
            ("Honest meter", self.meter, Qt.DockWidgetArea.RightDockWidgetArea),
            ("Takes", self.take_list, Qt.DockWidgetArea.LeftDockWidgetArea),
        ):
            dock = QDockWidget(title, self)
            dock.setObjectName(title)
            dock.setWidget(widget)
            dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable | QDockWidget.DockWidgetFeature.DockWidgetFloatable)
            self.addDockWidget(area, dock)
        self.status_device, self.status_model, self.status_rate = QLabel(), QLabel("models: loading…"), QLabel()
        self.busy = QProgressBar()
        self.busy.setMaximumWidth(160)
        self.busy.setRange(0, 0)
        self.busy.setVisible(False)
        for status_widget in (self.busy, self.status_device, self.status_model, self.status_rate):
            self.statusBar().addPermanentWidget(status_widget)

    def _connect(self) -> None:
        """Clicks go to the session; the session's events come back to the widgets."""
        session, events, panel = self.session, self.session.events, self.dream_panel
        self.transport = TransportBar(play=self.acts["play"], stop=self.acts["stop"], loop=self.acts["loop"], ab=self.acts["ab"])
        self._central.addWidget(self.transport)
        self.transport.volumeChanged.connect(lambda volume: session.player.set_volume(volume))
        self.transport.show_device(session.player.backend_description, muted=session.player.poll().muted)
        self.spectrogram.seekRequested.connect(self.seek)
        self.spectrogram.regionChanged.connect(self._region_changed)
        panel.dreamRequested.connect(self.start_dream)
        panel.cancelRequested.connect(session.cancel_dream)
        panel.keepRequested.connect(self.keep_dream)
        panel.mode.currentIndexChanged.connect(self._update_cost)
        panel.iterations.valueChanged.connect(self._update_cost)
        panel.dreamer.currentTextChanged.connect(lambda name: setattr(session, "listener", name or None))
        session.takes.changed.connect(self._takes_changed)
        self.spectrogram.watch(events)  # each panel draws what it shows of the session
        panel.watch(session)
        watch_predictions(session, self.bars, self.timeline, self.meter)
        for name, slot in (
            ("status", lambda text, ms: self.statusBar().showMessage(text, ms)),
            ("error", self.show_error), ("busy", self.busy.setVisible), ("model_loaded", self._update_status),
            ("models_ready", self._models_ready), ("pace_measured", self._update_cost),
            ("track_loaded", self._track_loaded), ("load_failed", self.loadFailed.emit),
            ("analysis_ready", self.analysisShown.emit), ("prediction_shown", self.predictionsShown.emit),
            ("dream_step", self.dreamStep.emit), ("dream_finished", self.dreamFinished.emit),
            ("dream_cancelled", self.dreamCancelled.emit), ("band_mixed", self.bandMixed.emit),
            ("exported", self.exportFinished.emit), ("take_journaled", self.takeJournaled.emit),
            ("soundfont_changed", self._soundfont_changed), ("output_changed", self._output_changed),
        ):  # fmt: skip
            getattr(events, name).connect(slot)

    def _refresh_recent(self) -> None:
        self.recent_menu.clear()
        for path in self.settings.recent_files:
            act = self.recent_menu.addAction(path)
            act.triggered.connect(lambda _=False, p=path: self.open_path(Path(p)))
        self.recent_menu.setEnabled(bool(self.settings.recent_files))

    def _update_status(self, *_args: object) -> None:
        session = self.session
        self.status_device.setText(f"output: {session.player.backend_description}")
        clip = session.track.clip if session.track else None
        self.status_rate.setText(f"{clip.sample_rate_hz} Hz · {clip.channels} ch" if clip else "no track")
        self.status_model.setText(f"models: {', '.join(sorted(session.models)) or 'loading…'}")

    def _update_cost(self, *_args: object) -> None:
        """The line under Dream: what will be dreamed and about how long it takes."""
        self.dream_panel.cost.setText(self.session.cost_line(self.dream_panel.state()))

    # --- forwarded to the session -------------------------------------------------------------

    def load_models(self, names: list[str]) -> None:
        """Load models on a worker; the dream panel fills when they are ready."""
        self.session.load_models(names)

    def open_path(self, path: Path) -> None:
        """Decode and analyse ``path``; the current track stays until it succeeds."""
        self.session.open(path)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        urls = [u for u in event.mimeData().urls() if u.isLocalFile()]
        if urls:
            event.acceptProposedAction()
            self.open_path(Path(urls[0].toLocalFile()))

    def seek(self, position_s: float) -> None:
        """Click or drag on the spectrogram."""
        self.session.seek(position_s)
        self.spectrogram.set_playhead(position_s)

    def toggle_ab(self) -> None:
        """B: dream ↔ original at the same position (crossfaded by the player)."""
        self.statusBar().showMessage(f"Listening to the {self.session.toggle_ab()}", 2000)

    def switch_output(self, device: str, *, backend: Any = None) -> None:
        """Move playback to another output at the same position (``backend``: tests)."""
        self.settings.output_device = device
        self.session.switch_output(device, backend=backend)

    def set_soundfont(self, path: str) -> None:
        """Check ``path`` ("" = the shipped one); a bad file keeps the current one."""
        self.session.set_soundfont(path)

    def start_dream(self, *_args: object, base_take: Take | None = None) -> None:
        """Dream from the playhead over the selected region (Ctrl+D)."""
        self.session.start_dream(self.dream_panel.state(), base_take=base_take)

    def dream_from_take(self) -> None:
        """Continue dreaming from the selected take."""
        if self.session.takes.current is not None:
            self.start_dream(base_take=self.session.takes.current)

    def cancel_dream(self) -> None:
        """Esc: stop the dream within 0.5 s; what was heard so far is discarded."""
        if self.session.dreaming:
            self.session.cancel_dream()
            self.dream_panel.progress.setFormat("cancelling…")

    def keep_dream(self) -> None:
        """Stop now and keep what is done as a take."""
        if self.session.dreaming:
            self.session.keep_dream()
            self.dream_panel.progress.setFormat("finishing: keeping what's done…")

    def export_take(self, take: Take, dest: Path, *, subtype: str = "PCM_24", overwrite: bool = False) -> None:
        """Write ``take`` (and for a band its stems and MIDI) and its sidecar atomically."""
        self.session.export_take(take, dest, subtype=subtype, overwrite=overwrite)

    def export_png(self, dest: Path) -> bool:
        """Grab the spectrogram widget into a PNG."""
        ok = bool(self.spectrogram.grab().save(str(dest), "PNG"))
        if not ok:
            self.show_error("Export failed", f"Could not write {dest}")
        return ok

    def open_train_dialog(self) -> Any:
        """Tools ▸ Train: a trained model joins the model list when it is done."""
        from deeptrance_gui.ui.train_dialog import TrainDialog

        dialog = TrainDialog(self)
        dialog.finishedTraining.connect(lambda report: self.load_models([report.name]) if report is not None else None)
        dialog.show()
        self._train_dialog = dialog
        return dialog

    def offer_recovery(self, sessions: list[LeftBehind]) -> QMessageBox:
        """Say where the takes of sessions that did not close are; keep or delete them."""
        self._recovery_box = dialogs.recovery_box(self, sessions, lambda keep: self.session.settle_left_behind(sessions, keep=keep))
        return self._recovery_box

    # --- drawing the session's events ---------------------------------------------------------

    def _poll_player(self) -> None:
        status, track = self.session.player.poll(), self.session.track
        self.spectrogram.set_playhead(status.position_s)
        self.transport.show_status(
            position_s=status.position_s,
            length_s=track.clip.duration_s if track else 0.0,
            playing=status.playing,
            original=not status.listening_to_dream,
            has_take=self.session.takes.current is not None or self.session.dreaming,
        )
        if status.error and self.last_error != status.error:
            self.show_error("Audio output stopped", status.error + "\n\nThe track and takes are kept.")
        if self._startup_notice:
            self.statusBar().showMessage(self._startup_notice, 15000)
            self._startup_notice = None

    def _models_ready(self) -> None:
        models = self.session.models
        self.dream_panel.set_models(
            {name: tuple(m.labels) for name, m in models.items()}, {name: tuple(m.network.FEATURES) for name, m in models.items()}
        )
        self.dream_panel.apply_state(self.settings.dream)
        self.session.listener = self.dream_panel.dreamer.currentText() or None
        self._update_cost()
        self.modelsReady.emit()

    def _track_loaded(self, loaded: Any) -> None:
        self.drop_hint.setVisible(False)
        self.setWindowTitle(f"Deep Trance — {loaded.path.name}")
        self.settings.last_folder = str(loaded.path.parent)
        remember_file(self.settings, str(loaded.path))
        self._refresh_recent()
        self._update_status()
        self._update_cost()
        self.trackLoaded.emit(loaded)

    def _region_changed(self, start_s: float, end_s: float) -> None:
        self.session.set_region(start_s, end_s)
        self._update_cost()

    def _takes_changed(self) -> None:
        self.acts["undo"].setEnabled(self.session.takes.undo_text is not None)
        self.acts["redo"].setEnabled(self.session.takes.redo_text is not None)

    def _soundfont_changed(self, path: str, name: str) -> None:
        self.settings.dream.soundfont = path
        state = self.dream_panel.state()
        state.soundfont = path
        self.dream_panel.apply_state(state)
        self.statusBar().showMessage(f"Band SoundFont: {name}", 5000)
        self.soundfontChanged.emit(path)

    def _output_changed(self) -> None:
        self._update_status()
        self.transport.show_device(self.session.player.backend_description, muted=self.session.player.poll().muted)

    # --- errors and closing -------------------------------------------------------------------

    def show_error(self, title: str, message: str) -> None:
        """A non-blocking error dialog (GUI thread)."""
        self.last_error = message
        self.statusBar().showMessage(message.splitlines()[0], 8000)
        if self._error_box is not None:
            self._error_box.close()
        self._error_box = dialogs.error_box(self, title, message)

    def confirm_close(self) -> bool:
        """Ask before quitting when closing would lose something (tests replace this)."""
        question = self.session.close_question()
        if question is None:
            return True
        return QMessageBox.question(self, "Quit Deep Trance?", question) == QMessageBox.StandardButton.Yes

    def shutdown(self) -> None:
        """Stop the stream, cancel and await workers, save settings."""
        self.poll_timer.stop()
        self.spectrogram.stop()
        self.session.close()
        self.settings.geometry = self.saveGeometry()
        self.settings.db_range = self.spectrogram.db_range
        self.settings.dream = self.dream_panel.state() if self.session.models else self.settings.dream
        try:
            save_settings(self.settings)
        except SettingsSaveError as err:
            # Closing: nothing left to show it in; the track and takes were never at stake.
            print(f"deeptrance: {err}", file=sys.stderr)

    def closeEvent(self, event: QCloseEvent) -> None:
        if not self.confirm_close():
            event.ignore()
            return
        self.shutdown()
        event.accept()
