"""The workstation window: drag in, see, dream, listen, compare, export.

Threads: everything here runs on the GUI thread. Decoding, analysis, model loading, dreaming
and export run in superqt generator/function workers (QThreadPool) and hand immutable results
back through signals to bound methods of this window. The PortAudio callback only touches the
:class:`~deeptrance_gui.core.playback.Player`, which this window polls on a timer.
"""

from __future__ import annotations

import contextlib
import functools
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QDragEnterEvent, QDropEvent, QKeySequence
from PySide6.QtWidgets import (
    QDockWidget,
    QFileDialog,
    QInputDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QSplitter,
    QVBoxLayout,
    QWidget,
)
from superqt.utils import create_worker

from deeptrance_gui.core.audio.clip import AudioClip
from deeptrance_gui.core.band.session import BandSession
from deeptrance_gui.core.dream.cost import remaining_s
from deeptrance_gui.core.dream.recovery import LeftBehind, TakeJournal
from deeptrance_gui.core.errors import DeepTranceError, SettingsSaveError
from deeptrance_gui.ui.band_lanes import BandLanes
from deeptrance_gui.ui.dream_panel import DreamPanel
from deeptrance_gui.ui.predictions_view import GenreBars, GenreTimeline, HonestMeter
from deeptrance_gui.ui.settings import AppSettings, remember_file, save_settings
from deeptrance_gui.ui.spectrogram_view import SpectrogramView
from deeptrance_gui.ui.takes import Take, TakeList

AUDIO_FILTER = "Audio (*.wav *.flac *.mp3 *.ogg *.opus *.aif *.aiff *.m4a *.aac);;All files (*)"
POLL_INTERVAL_MS = 30


@dataclass(frozen=True)
class LoadedTrack:
    """Result of the load worker."""

    path: Path
    clip: AudioClip
    spectrogram: Any  # DisplaySpectrogram


def _load_track(path: Path) -> LoadedTrack:
    """Worker thread: decode and analyse for display."""
    from deeptrance_gui.core.audio import load_audio
    from deeptrance_gui.core.dsp.stft import display_spectrogram

    clip = load_audio(path)
    return LoadedTrack(path, clip, display_spectrogram(clip.samples, sample_rate_hz=clip.sample_rate_hz))


def _musical_analysis(clip: AudioClip) -> Any:
    """Worker thread: beats and chords (≈ 1 s for 5 minutes), after the track is shown; None
    when there is no steady pulse (the band dream says why when it is asked for). The result is
    cached, so a band dream over the whole track does not analyse again."""
    from deeptrance_gui.core.analysis import analyse
    from deeptrance_gui.core.errors import AnalysisError

    try:
        return analyse(clip)
    except AnalysisError:
        return None


class MainWindow(QMainWindow):
    """The Deep Trance window.

    Parameters
    ----------
    settings
        Loaded settings (saved on close).
    player
        Playback over an already chosen backend.
    model_loader
        name → LoadedModel; called on a worker thread (tests pass tiny models).
    startup_notice
        Shown once in the status bar: no audio output, settings that cannot be saved.
    """

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
        self.player = player
        self._model_loader = model_loader
        self.models: dict[str, Any] = {}
        self.track: LoadedTrack | None = None
        self.track_analysis: Any = None  # beats and chords of the track, once analysed
        self.last_error: str | None = None
        self._workers: set[Any] = set()
        self._dream_worker: Any = None
        self._dream_cancel: threading.Event | None = None
        self._dream_finish: threading.Event | None = None
        self._first_step_elapsed_s: float | None = None
        self.seconds_per_patch_iteration: float | None = None  # measured on this machine
        self._dream_request: Any = None
        self._exporting = False
        self._takes_by_track: dict[Path, list[Take]] = {}
        self._track_prediction: Any = None
        self._error_box: QMessageBox | None = None
        self._startup_notice = startup_notice
        # Every finished take is also written here, so a crash never takes it (recovery.py).
        self.journal = TakeJournal()
        self._recovery_box: QMessageBox | None = None
        self._build()
        self._build_actions()
        self._build_transport()
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
        self.band_session = BandSession()
        self.band_session.observe(self._band_heard_changed)
        self.band_lanes = BandLanes(self.band_session)
        self.band_lanes.plot.setXLink(self.spectrogram.plot)
        center = QSplitter(Qt.Orientation.Vertical)
        center.addWidget(self.spectrogram)
        center.addWidget(self.band_lanes)
        center.addWidget(self.timeline)
        center.setStretchFactor(0, 4)
        center.setStretchFactor(1, 1)
        center.setStretchFactor(2, 1)
        self.drop_hint = QLabel("Drop an audio file here, or File ▸ Open (Ctrl+O)")
        self.drop_hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        wrapper = QWidget()
        layout = QVBoxLayout(wrapper)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.drop_hint)
        layout.addWidget(center, 1)
        self.setCentralWidget(wrapper)

        self.dream_panel = DreamPanel()
        # The remembered mode, iterations, strength and band level show at once, not the fields'
        # minimums while the models load (the model and tag lists fill in when they are ready).
        self.dream_panel.apply_state(self.settings.dream)
        self.bars = GenreBars()
        self.meter = HonestMeter()
        self.take_list = TakeList()
        for title, widget, area in (
            ("Dream", self.dream_panel, Qt.DockWidgetArea.RightDockWidgetArea),
            ("What the network hears", self.bars, Qt.DockWidgetArea.RightDockWidgetArea),
            ("Honest meter", self.meter, Qt.DockWidgetArea.RightDockWidgetArea),
            ("Takes", self.take_list, Qt.DockWidgetArea.LeftDockWidgetArea),
        ):
            dock = QDockWidget(title, self)
            dock.setObjectName(title)
            dock.setWidget(widget)
            dock.setFeatures(
                QDockWidget.DockWidgetFeature.DockWidgetMovable | QDockWidget.DockWidgetFeature.DockWidgetFloatable
            )
            self.addDockWidget(area, dock)

        self.status_device = QLabel()
        self.status_model = QLabel("models: loading…")
        self.status_rate = QLabel()
        self.busy = QProgressBar()
        self.busy.setMaximumWidth(160)
        self.busy.setRange(0, 0)
        self.busy.setVisible(False)
        status_widgets: tuple[QWidget, ...] = (self.busy, self.status_device, self.status_model, self.status_rate)
        for status_widget in status_widgets:
            self.statusBar().addPermanentWidget(status_widget)

        self.spectrogram.seekRequested.connect(self.seek)
        self.dream_panel.dreamRequested.connect(self.start_dream)
        self.dream_panel.cancelRequested.connect(self.cancel_dream)
        self.dream_panel.keepRequested.connect(self.keep_dream)
        self.dream_panel.panel_for = self._judge_panel
        self.spectrogram.regionChanged.connect(lambda *_: self._update_cost())
        for signal in (self.dream_panel.mode.currentIndexChanged, self.dream_panel.iterations.valueChanged):
            signal.connect(lambda *_: self._update_cost())
        self.take_list.takeActivated.connect(self._audition)

    def _build_actions(self) -> None:
        def action(
            text: str,
            shortcut: str | QKeySequence.StandardKey | None,
            slot: Callable[..., Any],
            tip: str,
            checkable: bool = False,
        ) -> QAction:
            act = QAction(text, self)
            if shortcut is not None:
                act.setShortcut(QKeySequence(shortcut))
            act.setToolTip(tip)
            act.setStatusTip(tip)
            act.setCheckable(checkable)
            act.triggered.connect(slot)
            self.addAction(act)
            return act

        self.open_action = action(
            "&Open…", QKeySequence.StandardKey.Open, self.open_dialog, "Open an audio file (Ctrl+O)"
        )
        self.export_action = action(
            "&Export take…", "Ctrl+E", self.export_dialog, "Export the current take as WAV or FLAC"
        )
        self.export_png_action = action(
            "Export spectrogram PNG…", None, self.export_png_dialog, "Save the spectrogram view as PNG"
        )
        self.quit_action = action("&Quit", QKeySequence.StandardKey.Quit, self.close, "Quit Deep Trance")
        self.undo_action = self.take_list.undo_stack.createUndoAction(self, "&Undo")
        self.undo_action.setShortcut(QKeySequence("Ctrl+Z"))
        self.redo_action = self.take_list.undo_stack.createRedoAction(self, "&Redo")
        self.redo_action.setShortcut(QKeySequence("Ctrl+Shift+Z"))
        self.addAction(self.undo_action)
        self.addAction(self.redo_action)
        self.delete_take_action = action(
            "Delete take", None, self.take_list.delete_current, "Delete the selected take"
        )
        self.continue_action = action(
            "Dream from this take",
            None,
            self.dream_from_take,
            "Use the selected take as the starting point of the next dream",
        )
        self.play_action = action("Play/Pause", "Space", self.toggle_play, "Play or pause (Space)")
        self.stop_action = action("Stop", None, self.stop, "Stop and rewind")
        self.ab_action = action(
            "A/B: dream ↔ original",
            "B",
            self.toggle_ab,
            "Switch between the dream and the original at the same position (B)",
        )
        self.loop_action = action(
            "Loop region", "L", self.toggle_loop, "Loop the selected region (L)", checkable=True
        )
        self.dream_action = action("&Dream", "Ctrl+D", self.start_dream, "Dream from the playhead (Ctrl+D)")
        self.cancel_action = action("Cancel dream", "Esc", self.cancel_dream, "Stop the dream (Esc)")
        self.diff_action = action(
            "Difference view",
            "D",
            self.toggle_difference,
            "Show what the network added: dreamed minus original, dB (D)",
            checkable=True,
        )
        self.db_action = action("dB range…", None, self.db_range_dialog, "Colour range of the spectrogram")
        self.soundfont_action = action(
            "Band SoundFont…",
            None,
            self.soundfont_dialog,
            "The General MIDI SoundFont (.sf2/.sf3) the band dream plays; the shipped FluidR3 subset by default",
        )
        self.default_soundfont_action = action(
            "Use the shipped SoundFont", None, lambda: self.set_soundfont(""), "Back to the shipped FluidR3 GM subset"
        )
        self.train_action = action(
            "Train a genre model…", None, self.open_train_dialog, "Fine-tune on FMA or your own folders of genres"
        )

        menu = self.menuBar()
        file_menu = menu.addMenu("&File")
        file_menu.addAction(self.open_action)
        self.recent_menu = file_menu.addMenu("Open &recent")
        self._refresh_recent()
        file_menu.addAction(self.export_action)
        file_menu.addAction(self.export_png_action)
        file_menu.addSeparator()
        file_menu.addAction(self.quit_action)
        edit = menu.addMenu("&Edit")
        for act in (self.undo_action, self.redo_action, self.delete_take_action, self.continue_action):
            edit.addAction(act)
        transport = menu.addMenu("&Transport")
        for act in (self.play_action, self.stop_action, self.ab_action, self.loop_action):
            transport.addAction(act)
        self.device_menu = transport.addMenu("Output device")
        self.device_menu.setToolTip("Where playback goes; the system default if unsure")
        self.device_menu.aboutToShow.connect(self._fill_device_menu)
        dream = menu.addMenu("&Dream")
        dream.addAction(self.dream_action)
        dream.addAction(self.cancel_action)
        dream.addSeparator()
        dream.addAction(self.soundfont_action)
        dream.addAction(self.default_soundfont_action)
        view = menu.addMenu("&View")
        view.addAction(self.diff_action)
        view.addAction(self.db_action)
        tools = menu.addMenu("T&ools")
        tools.addAction(self.train_action)

    def _build_transport(self) -> None:
        from deeptrance_gui.ui.transport import TransportBar

        self.transport = TransportBar(
            play=self.play_action, stop=self.stop_action, loop=self.loop_action, ab=self.ab_action
        )
        self.transport.volumeChanged.connect(lambda volume: self.player.set_volume(volume))
        central = self.centralWidget()
        assert central is not None
        layout = central.layout()
        assert layout is not None
        layout.addWidget(self.transport)
        self.transport.show_device(self.player.backend_description, muted=self.player.poll().muted)

    def _refresh_recent(self) -> None:
        self.recent_menu.clear()
        for path in self.settings.recent_files:
            act = self.recent_menu.addAction(path)
            act.triggered.connect(lambda _=False, p=path: self.open_path(Path(p)))
        self.recent_menu.setEnabled(bool(self.settings.recent_files))

    def _update_status(self) -> None:
        self.status_device.setText(f"output: {self.player.backend_description}")
        rate = self.track.clip.sample_rate_hz if self.track else 0
        channels = self.track.clip.channels if self.track else 0
        self.status_rate.setText(f"{rate} Hz · {channels} ch" if rate else "no track")
        loaded = ", ".join(sorted(self.models)) or "loading…"
        self.status_model.setText(f"models: {loaded}")

    # --- workers --------------------------------------------------------------------------------

    def _start(self, worker: Any) -> Any:
        self._workers.add(worker)
        worker.finished.connect(lambda w=worker: self._workers.discard(w))
        worker.start()
        return worker

    def busy_workers(self) -> int:
        """Workers still running (tests, close)."""
        return len(self._workers)

    # --- models ---------------------------------------------------------------------------------

    def load_models(self, names: list[str]) -> None:
        """Load models on a worker; the dream panel fills when they are ready."""
        self.busy.setVisible(True)
        self.statusBar().showMessage("Loading the listening models…")

        measure_pace = self.seconds_per_patch_iteration is None
        soundfont = self.settings.dream.soundfont or None

        def job() -> Iterator[tuple[str, Any]]:
            warmed = False
            for name in names:
                model = self._model_loader(name)
                if not warmed:
                    from deeptrance_gui.core.band.render import load_soundfont
                    from deeptrance_gui.core.dream.engine import warm_up
                    from deeptrance_gui.core.errors import DeepTranceError

                    warm_up(model)  # first-use imports now, not while audio plays
                    # The band dream checks its SoundFont when Dream is clicked (on the dream's
                    # worker, before the first band is heard): read and check the 45 MB here
                    # (0.16 s), so that the first band is not heard later for it.
                    with contextlib.suppress(DeepTranceError):  # a bad file is reported at Dream
                        load_soundfont(soundfont)
                yield name, model
                if not warmed and measure_pace:
                    from deeptrance_gui.core.dream.engine import calibrate

                    yield "", calibrate(model)  # this machine's pace, for the cost line
                warmed = True

        worker = create_worker(job, _start_thread=False, _ignore_errors=True)
        worker.yielded.connect(self._model_loaded)
        worker.errored.connect(lambda err: self.show_error("Could not load a model", str(err)))
        worker.finished.connect(lambda *_: self._models_done())
        self._start(worker)

    def _model_loaded(self, item: tuple[str, Any]) -> None:
        name, model = item
        if not name:  # the calibration
            if self.seconds_per_patch_iteration is None:
                self.seconds_per_patch_iteration = float(model)
            self._update_cost()
            return
        self.models[name] = model
        self._update_status()

    def _models_done(self) -> None:
        self.busy.setVisible(False)
        self.statusBar().showMessage("Models ready", 3000)
        labels = {name: tuple(model.labels) for name, model in self.models.items()}
        layers = {name: tuple(model.network.FEATURES) for name, model in self.models.items()}
        self.dream_panel.set_models(labels, layers)
        self.dream_panel.apply_state(self.settings.dream)
        self._update_cost()
        self.modelsReady.emit()
        if self.track is not None:
            self._predict_track()

    # --- loading --------------------------------------------------------------------------------

    def open_dialog(self) -> None:
        """File ▸ Open."""
        path, _ = QFileDialog.getOpenFileName(self, "Open audio", self.settings.last_folder, AUDIO_FILTER)
        if path:
            self.open_path(Path(path))

    def open_path(self, path: Path) -> None:
        """Decode and analyse ``path`` on a worker; the current track stays until it succeeds."""
        self.busy.setVisible(True)
        self.statusBar().showMessage(f"Loading {path.name}…")
        worker = create_worker(_load_track, path, _start_thread=False, _ignore_errors=True)
        worker.returned.connect(self._track_ready)
        worker.errored.connect(lambda err: self._load_failed(path, err))
        self._start(worker)

    def _load_failed(self, path: Path, err: BaseException) -> None:
        self.busy.setVisible(False)
        message = str(err) if isinstance(err, DeepTranceError) else f"{path}: {type(err).__name__}: {err}"
        self.loadFailed.emit(message)
        kept = f"\n\nStill loaded: {self.track.path.name}" if self.track else ""
        self.show_error("Could not open this file", message + kept)

    def _track_ready(self, loaded: LoadedTrack) -> None:
        self.busy.setVisible(False)
        if self.track is not None:
            self._takes_by_track[self.track.path] = self.take_list.takes()
        self.cancel_dream()
        self.track = loaded
        self._track_prediction = None
        try:
            self.player.load(loaded.clip)
        except DeepTranceError as err:
            self.show_error("Audio output", str(err))
        self.spectrogram.set_spectrogram(loaded.spectrogram)
        self.spectrogram.set_region(0.0, loaded.clip.duration_s)
        self.spectrogram.set_playhead(0.0)
        self.track_analysis = None
        self.spectrogram.show_beats(np.zeros(0), downbeat_index=0, chord_names=[])
        worker = create_worker(_musical_analysis, loaded.clip, _start_thread=False, _ignore_errors=True)
        worker.returned.connect(functools.partial(self._analysis_ready, loaded))
        self._start(worker)
        self.band_session.set_take(None)
        self.band_lanes.show_take(0.0)
        self.drop_hint.setVisible(False)
        self.take_list.clear_takes()
        for take in self._takes_by_track.get(loaded.path, []):
            self.take_list._insert(self.take_list.count(), take)
        self.setWindowTitle(f"Deep Trance — {loaded.path.name}")
        self.settings.last_folder = str(loaded.path.parent)
        remember_file(self.settings, str(loaded.path))
        self._refresh_recent()
        self._update_status()
        for warning in loaded.clip.warnings:
            self.statusBar().showMessage(f"{loaded.path.name}: {warning}", 8000)
        self._update_cost()
        self.trackLoaded.emit(loaded)
        if self.models:
            self._predict_track()

    def _analysis_ready(self, loaded: LoadedTrack, analysis: Any) -> None:
        if self.track is not loaded:  # another track was opened meanwhile
            return
        self.track_analysis = analysis
        if analysis is not None:
            self.spectrogram.show_beats(
                analysis.beat_times_s, downbeat_index=analysis.downbeat_index, chord_names=analysis.chord_names()
            )
        self.analysisShown.emit(analysis)

    def _predict_track(self, take: Take | None = None) -> None:
        """Predictions (bars + genre-over-time strip) of the track, or of the track with
        ``take`` in place, on a worker; a take keeps its result for later auditions."""
        assert self.track is not None
        name = self.dream_panel.dreamer.currentText() or next(iter(self.models))
        model = self.models.get(name)
        if model is None:
            return
        clip = self.track.clip

        def job() -> Any:
            from deeptrance_gui.core.dream.takes import splice
            from deeptrance_gui.core.model.predict import predict

            return predict(clip if take is None else splice(clip, take.final), model, tail=True)

        def done(prediction: Any) -> None:
            if take is not None:
                take.prediction = prediction
            else:
                self._track_prediction = prediction
            current = self.take_list.current_take()
            if current is take:  # still what the user is looking at
                self._show_track_prediction(prediction)

        worker = create_worker(job, _start_thread=False, _ignore_errors=True)
        worker.returned.connect(done)
        worker.errored.connect(lambda err: self.show_error("Prediction failed", str(err)))
        self._start(worker)

    def _show_track_prediction(self, prediction: Any) -> None:
        self.bars.show_predictions(prediction.track())
        self.timeline.show_timeline(prediction.labels, prediction.dataset, *prediction.timeline())
        self.predictionsShown.emit(prediction)

    # --- drag and drop ----------------------------------------------------------------------

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        urls = [u for u in event.mimeData().urls() if u.isLocalFile()]
        if urls:
            event.acceptProposedAction()
            self.open_path(Path(urls[0].toLocalFile()))

    # --- transport ------------------------------------------------------------------------------

    def toggle_play(self) -> None:
        """Space."""
        self.player.toggle()

    def stop(self) -> None:
        """Stop and rewind."""
        self.player.stop()

    def seek(self, position_s: float) -> None:
        """Click or drag on the spectrogram."""
        self.player.seek(position_s)
        self.spectrogram.set_playhead(position_s)

    def toggle_ab(self) -> None:
        """B: dream ↔ original at the same position (crossfaded by the player)."""
        listening = self.player.poll().listening_to_dream
        self.player.set_ab(dream=not listening)
        self.statusBar().showMessage("Listening to the " + ("original" if listening else "dream"), 2000)

    def toggle_loop(self, on: bool) -> None:
        """Loop the selected region."""
        self.player.set_loop(self.spectrogram.region_s() if on else None)

    def _fill_device_menu(self) -> None:
        from deeptrance_gui.core.playback import output_devices

        self.device_menu.clear()
        choices = [("", "System default")] + [(name, name) for _, name in output_devices()]
        for key, label in choices:
            act = self.device_menu.addAction(label)
            act.setCheckable(True)
            act.setChecked(key == self.settings.output_device)
            act.triggered.connect(lambda _=False, k=key: self.switch_output(k))
        if len(choices) == 1:
            self.device_menu.addAction("(no output devices found: playing muted)").setEnabled(False)

    def switch_output(self, device: str, *, backend: Any = None) -> None:
        """Move playback to another output at the same position; the old stream is closed.

        ``backend`` is for tests; normally it is created from the device name."""
        from deeptrance_gui.core.playback import Player, create_backend

        status = self.player.poll()
        message = None
        if backend is None:
            backend, message = create_backend(device or None)
        self.player.close()
        self.player = Player(backend)
        self.settings.output_device = device
        if self.track is not None:
            try:
                self.player.load(self.track.clip)
            except DeepTranceError as err:
                self.show_error("Audio output", str(err))
            self._audition(self.take_list.current_take())
            self.player.set_ab(dream=status.listening_to_dream)
            self.player.seek(status.position_s)
            if status.playing:
                self.player.play()
        if message:
            self.statusBar().showMessage(message, 8000)
        self._update_status()
        self.transport.show_device(self.player.backend_description, muted=self.player.poll().muted)

    def soundfont_dialog(self) -> None:
        """Dream ▸ Band SoundFont…: pick a .sf2/.sf3; it is checked before it is used."""
        path, _ = QFileDialog.getOpenFileName(
            self, "Band SoundFont", self.settings.last_folder, "SoundFonts (*.sf2 *.sf3);;All files (*)"
        )
        if path:
            self.set_soundfont(path)

    def set_soundfont(self, path: str) -> None:
        """Check ``path`` on a worker ("" = the shipped one); a bad file keeps the current one."""
        from deeptrance_gui.core.band.render import load_soundfont

        worker = create_worker(load_soundfont, path or None, _start_thread=False, _ignore_errors=True)
        worker.returned.connect(lambda font: self._soundfont_ready(path, font))
        worker.errored.connect(
            lambda err: self.show_error("Cannot use this SoundFont", f"{err}\n\nThe band keeps its current SoundFont.")
        )
        self._start(worker)

    def _soundfont_ready(self, path: str, font: Any) -> None:
        self.settings.dream.soundfont = path
        state = self.dream_panel.state()
        state.soundfont = path
        self.dream_panel.apply_state(state)
        self.statusBar().showMessage(f"Band SoundFont: {font.path.name}", 5000)
        self.soundfontChanged.emit(path)

    def toggle_difference(self, on: bool) -> None:
        """Difference view."""
        self.spectrogram.set_difference(on)

    def db_range_dialog(self) -> None:
        """Ask for the lower dB bound (upper stays)."""
        low, high = self.spectrogram.db_range
        value, ok = QInputDialog.getDouble(self, "dB range", "Lowest dB shown", low, -200, high - 6, 1)
        if ok:
            self.spectrogram.set_db_range(value, high)

    def _poll_player(self) -> None:
        status = self.player.poll()
        self.spectrogram.set_playhead(status.position_s)
        self.transport.show_status(
            position_s=status.position_s,
            length_s=self.track.clip.duration_s if self.track else 0.0,
            playing=status.playing,
            original=not status.listening_to_dream,
            has_take=self.take_list.current_take() is not None or self.is_dreaming(),
        )
        if status.error and self.last_error != status.error:
            self.show_error("Audio output stopped", status.error + "\n\nThe track and takes are kept.")
        if self._startup_notice:
            self.statusBar().showMessage(self._startup_notice, 15000)
            self._startup_notice = None

    # --- dreaming ---------------------------------------------------------------------------

    def dream_from_take(self) -> None:
        """Continue dreaming from the selected take."""
        take = self.take_list.current_take()
        if take is not None:
            self.start_dream(base_take=take)

    def start_dream(self, *_args: object, base_take: Take | None = None) -> None:
        """Dream from the playhead over the selected region (Ctrl+D)."""
        if self._dream_worker is not None:
            return
        if self.track is None:
            self.show_error("Nothing to dream", "Open a track first.")
            return
        if not self.models:
            self.show_error("Models are still loading", "Wait until the status bar says the models are ready.")
            return
        from deeptrance_gui.core.dream.takes import dream_request, splice

        region = self.spectrogram.region_s()
        full = region[0] <= 0.01 and region[1] >= self.track.clip.duration_s - 0.01
        request = self.dream_panel.request(region=None if full else region, start_s=self.player.poll().position_s)
        clip = self.track.clip if base_take is None else splice(self.track.clip, base_take.final)
        missing = [n for n in (*request.dreamers, *request.judges) if n not in self.models]
        if missing:
            self.show_error("Cannot dream", f"model '{missing[0]}' is not loaded yet")
            return
        cancel, finish = threading.Event(), threading.Event()
        models = dict(self.models)

        def job() -> Iterator[Any]:
            # Built on the worker: the band dream analyses the region and lays out the band here
            # (0.1–0.2 s for 30 s), which would stall the window. Its refusals come before any
            # step, so they arrive as the worker's error (_on_dream_error).
            steps = dream_request(clip, request, load_model=models.__getitem__, cancel=cancel, finish=finish)
            yield from steps
            if cancel.is_set():
                yield None  # a last yield lets the worker report 'aborted', never 'returned'

        self._dream_cancel = cancel
        self._dream_finish = finish
        self._dream_request = request
        self._first_step_elapsed_s = None
        worker = create_worker(job, _start_thread=False, _ignore_errors=True)
        worker.yielded.connect(self._on_dream_step)
        worker.errored.connect(self._on_dream_error)
        worker.aborted.connect(lambda *_: self._on_dream_aborted())
        worker.finished.connect(lambda *_: self._on_dream_finished())
        self._dream_worker = worker
        self.dream_panel.set_running(True)
        self.dream_panel.progress.setRange(0, request.settings.iterations)
        self.dream_panel.progress.setValue(0)
        self.dream_panel.progress.setFormat("starting…")
        self.player.clear_regions()
        self.player.set_ab(dream=True)
        if base_take is not None:
            self.player.publish_region(base_take.start_s, base_take.audio)
            self.spectrogram.show_dream_layer(base_take.display_db)
        else:
            self.spectrogram.reset_dream()
        self._start(worker)

    def _on_dream_step(self, step: Any) -> None:
        if step is None or self._dream_request is None:
            return
        request = self._dream_request
        bar = self.dream_panel.progress
        bar.setRange(0, step.total_iterations)
        bar.setValue(step.iteration)
        eta = remaining_s(step, first_elapsed_s=self._first_step_elapsed_s)
        if step.iteration == 1:
            self._first_step_elapsed_s = step.elapsed_s
        bar.setFormat(
            f"iteration {step.iteration}/{step.total_iterations} · objective {step.objective:.3f} · "
            f"ETA {eta:.0f} s"
        )
        if step.audio is not None:
            self.player.publish_region(step.span_start_s, step.audio)
            if step.spectrogram is not None:
                self.spectrogram.write_columns(step.spectrogram_first_column, step.spectrogram.db)
        if step.span_patch_probs is not None:
            from deeptrance_gui.core.model.frontend import PATCH_S

            self.timeline.write_span(step.span_start_s, step.span_patch_probs, PATCH_S)
        self.bars.show_predictions(step.dreamers[0])
        tag = request.objective.toward or request.objective.away
        if tag:
            self.meter.show_step(tag, step, toward=request.objective.toward is not None, settings=request.settings)
        else:
            self.meter.show_text(
                f"Intensifying {request.objective.describe()}: a timbre effect, genre scores are not its goal."
            )
        self.dreamStep.emit(step)
        if step.final:
            self._finish_take(step)

    def _show_band(self, take: Take | None) -> None:
        """Band lanes and mute/solo for a band take; hidden for any other."""
        band = None if take is None else take.final.band
        self.band_session.set_take(band)
        self.band_lanes.show_take(0.0 if take is None else take.start_s)

    def _band_heard_changed(self) -> None:
        """Mute/solo changed: re-mix the band on a worker and publish it (no new dream)."""
        take = self.take_list.current_take()
        session = self.band_session
        if self.track is None or take is None or session.take is None or take.final.band is not session.take:
            return
        if session.everything_heard:
            self.player.publish_region(take.start_s, take.audio)
            return
        from deeptrance_gui.core.band.take import band_mix

        # The worker gets a snapshot: the GUI may toggle again while it mixes.
        worker = create_worker(
            band_mix,
            session.take,
            sample_rate_hz=self.track.clip.sample_rate_hz,
            muted=frozenset(session.muted),
            soloed=frozenset(session.soloed),
            _start_thread=False,
            _ignore_errors=True,
        )
        worker.returned.connect(functools.partial(self._band_mixed, take, session.heard()))
        worker.errored.connect(lambda err: self.show_error("Could not mix the band", str(err)))
        self._start(worker)

    def _band_mixed(self, take: Take, heard: tuple[str, ...], audio: Any) -> None:
        # Publish only if nothing changed since: an older mix finishing late is dropped.
        if self.take_list.current_take() is take and self.band_session.heard() == heard:
            self.player.publish_region(take.start_s, audio)
            self.bandMixed.emit(audio)

    def _finish_take(self, final: Any) -> None:
        from deeptrance_gui.core.dream.cost import measured_seconds_per_patch_iteration

        request = self._dream_request
        self.seconds_per_patch_iteration = measured_seconds_per_patch_iteration(
            final.region_end_s - final.region_start_s, final.iteration, final.elapsed_s
        )
        number = sum(1 for _ in self.take_list.takes()) + 1
        display = self.spectrogram.current_db()
        assert display is not None
        take = Take(
            name=f"Take {number}: {request.objective.describe()}", request=request, final=final, display_db=display
        )
        self.take_list.add_take(take)
        self._show_band(take)
        self._predict_track(take)
        self._journal_take(take)
        self.dreamFinished.emit(take)

    def _journal_take(self, take: Take) -> None:
        """Keep a recovery copy of the take (the whole track as FLAC and its sidecar), on a worker."""
        assert self.track is not None
        clip, source, journal = self.track.clip, self.track.path, self.journal
        number = self.journal.next_number()  # on this thread: numbers are never given twice

        def job() -> Path:
            return journal.record(clip, take.request, take.final, number=number, source=source)

        worker = create_worker(job, _start_thread=False, _ignore_errors=True)
        worker.returned.connect(self.takeJournaled.emit)
        worker.errored.connect(
            lambda err: self.statusBar().showMessage(f"No recovery copy of this take (export it to keep it): {err}", 15000)
        )
        self._start(worker)

    def offer_recovery(self, sessions: list[LeftBehind]) -> QMessageBox:
        """Say where the takes of sessions that did not close are, and keep or delete them
        (non-blocking; GUI thread)."""
        count = sum(len(s.takes) for s in sessions)
        folders = "\n".join(str(s.folder) for s in sessions)
        box = QMessageBox(
            QMessageBox.Icon.Information,
            "Takes from a session that did not close",
            f"Deep Trance did not close properly last time. {count} take{'s' if count != 1 else ''} from "
            f"that session {'were' if count != 1 else 'was'} kept, each the whole track as FLAC with its "
            f"sidecar:\n\n{folders}\n\nOpen them like any track (File ▸ Open).",
            QMessageBox.StandardButton.NoButton,
            self,
        )
        keep = box.addButton("Keep them", QMessageBox.ButtonRole.AcceptRole)
        box.addButton("Delete them", QMessageBox.ButtonRole.DestructiveRole)
        box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        box.setWindowModality(Qt.WindowModality.NonModal)

        def chosen(button: Any) -> None:
            from deeptrance_gui.core.dream.recovery import discard_left_behind, keep_left_behind

            try:
                if button is keep:
                    kept = [keep_left_behind(s) for s in sessions]
                    self.statusBar().showMessage(f"Recovered takes kept in {kept[0].parent}", 15000)
                else:
                    for session in sessions:
                        discard_left_behind(session)
            except OSError as err:
                self.show_error("Could not move the recovered takes", f"{err}\n\nThey stay in {folders}.")

        box.buttonClicked.connect(chosen)
        box.show()
        self._recovery_box = box
        return box

    def cancel_dream(self) -> None:
        """Esc: stop the dream within 0.5 s; what was heard so far is discarded."""
        if self._dream_worker is None or self._dream_cancel is None:
            return
        self._dream_cancel.set()
        self._dream_worker.quit()
        self.dream_panel.progress.setFormat("cancelling…")

    def keep_dream(self) -> None:
        """Stop now and keep what is done as a take (the rest of the region stays original)."""
        if self._dream_worker is None or self._dream_finish is None:
            return
        self._dream_finish.set()
        self.dream_panel.progress.setFormat("finishing: keeping what's done…")

    def _judge_panel(self, dreamer: str) -> tuple[str, ...]:
        """The loaded models trained on another dataset than ``dreamer`` (its judge panel)."""
        model = self.models.get(dreamer)
        if model is None:
            return ()
        return tuple(
            name for name, m in sorted(self.models.items()) if m.spec.dataset != model.spec.dataset
        )

    def _update_cost(self) -> None:
        """The line under Dream: what will be dreamed and about how long it takes."""
        from deeptrance_gui.core.dream.cost import (
            DEFAULT_SECONDS_PER_PATCH_ITERATION,
            describe_plan,
            estimate_dream_s,
        )

        if self.track is None:
            self.dream_panel.cost.setText("")
            return
        duration = self.track.clip.duration_s
        start, end = self.spectrogram.region_s()
        whole = start <= 0.01 and end >= duration - 0.01
        region = None if whole else (start, end)
        settings = self.dream_panel.request(region=region, start_s=None).settings
        estimate = estimate_dream_s(
            duration if whole else end - start,
            settings,
            seconds_per_patch_iteration=self.seconds_per_patch_iteration or DEFAULT_SECONDS_PER_PATCH_ITERATION,
        )
        self.dream_panel.cost.setText(
            describe_plan(region, track_duration_s=duration, estimate_s=estimate, band=settings.mode == "band")
        )

    def _on_dream_aborted(self) -> None:
        self._discard_dream()
        self.dreamCancelled.emit()

    def _on_dream_error(self, err: BaseException) -> None:
        refused = isinstance(err, DeepTranceError)  # bad input or settings, said before any step
        self.show_error("Cannot dream" if refused else "The dream failed", str(err))
        self.dream_panel.progress.setFormat("not started" if refused else "failed")
        self._discard_dream()

    def _discard_dream(self) -> None:
        """Nothing of this dream is kept: the current take (or the original) plays again."""
        self.player.clear_regions()
        self.spectrogram.reset_dream()
        self._audition(self.take_list.current_take())

    def _on_dream_finished(self) -> None:
        self._dream_worker = None
        self._dream_cancel = None
        self._dream_finish = None
        self.dream_panel.set_running(False)
        if self.dream_panel.progress.format().startswith(("cancelling", "starting")):
            self.dream_panel.progress.setFormat("cancelled")

    def is_dreaming(self) -> bool:
        """A dream worker is running."""
        return self._dream_worker is not None

    # --- takes ----------------------------------------------------------------------------------

    def _audition(self, take: Take | None) -> None:
        if self._dream_worker is not None or self.track is None:
            return
        self._show_band(take)
        self.player.clear_regions()
        if take is None:
            self.spectrogram.reset_dream()
            if self._track_prediction is not None:
                self._show_track_prediction(self._track_prediction)
            return
        if take.prediction is not None:
            self._show_track_prediction(take.prediction)
        self.player.publish_region(take.start_s, take.audio)
        self.player.set_ab(dream=True)
        self.spectrogram.show_dream_layer(take.display_db)
        tag = take.request.objective.toward or take.request.objective.away
        if tag:
            self.meter.show_step(
                tag, take.final, toward=take.request.objective.toward is not None, settings=take.request.settings
            )

    # --- export -----------------------------------------------------------------------------------

    def export_dialog(self) -> None:
        """File ▸ Export take (Ctrl+E): WAV or FLAC, 16/24-bit or float, with a JSON sidecar."""
        take = self.take_list.current_take()
        if take is None or self.track is None:
            self.show_error("Nothing to export", "Dream first, then select a take.")
            return
        start = str(Path(self.settings.last_folder or ".") / f"{self.track.path.stem} - {take.name}.wav")
        path, chosen = QFileDialog.getSaveFileName(self, "Export take", start, "WAV (*.wav);;FLAC (*.flac)")
        if not path:
            return
        dest = Path(path)
        if dest.suffix.lower() not in (".wav", ".flac"):
            dest = dest.with_suffix(".flac" if "FLAC" in chosen else ".wav")
        options = ["PCM_24", "PCM_16"] + (["FLOAT"] if dest.suffix.lower() == ".wav" else [])
        subtype, ok = QInputDialog.getItem(self, "Sample format", "Sample format", options, 0, False)
        if ok:
            # The save dialog already asked before replacing an existing file.
            self.export_take(take, dest, subtype=subtype, overwrite=dest.exists())

    def export_take(self, take: Take, dest: Path, *, subtype: str = "PCM_24", overwrite: bool = False) -> None:
        """Write ``take`` (whole track) and its sidecar atomically, on a worker; a band take also
        writes one file per part plus the original (``NAME.drums.wav`` …) and ``NAME.mid``.
        A failure shows a dialog and the take stays, so it can be exported elsewhere."""
        assert self.track is not None
        clip, source = self.track.clip, self.track.path

        def job() -> Path:
            from deeptrance_gui.core.dream.export import export_take, plan_export

            band = take.final.band  # a band take also leaves its stems and a MIDI file of the parts
            names = band.part_names if band is not None else ()
            plan = plan_export(dest, part_names=names, stems=band is not None, midi=band is not None)
            export_take(clip, take.request, take.final, plan, source=source, subtype=subtype, overwrite=overwrite)
            return dest

        self._exporting = True
        worker = create_worker(job, _start_thread=False, _ignore_errors=True)
        worker.returned.connect(lambda path: self._exported(take, path))
        worker.errored.connect(lambda err: self.show_error("Export failed", str(err)))
        worker.finished.connect(lambda *_: setattr(self, "_exporting", False))
        self._start(worker)

    def _exported(self, take: Take, path: Path) -> None:
        take.exported = True
        self.statusBar().showMessage(f"Exported {path}", 8000)
        self.exportFinished.emit(path)

    def export_png_dialog(self) -> None:
        """Save the spectrogram view as PNG."""
        path, _ = QFileDialog.getSaveFileName(self, "Export spectrogram", self.settings.last_folder, "PNG (*.png)")
        if path:
            self.export_png(Path(path))

    def export_png(self, dest: Path) -> bool:
        """Grab the spectrogram widget into a PNG."""
        ok = bool(self.spectrogram.grab().save(str(dest), "PNG"))
        if not ok:
            self.show_error("Export failed", f"Could not write {dest}")
        return ok

    # --- training -----------------------------------------------------------------------------

    def open_train_dialog(self) -> Any:
        """Tools ▸ Train: a trained model joins the model list when it is done."""
        from deeptrance_gui.ui.train_dialog import TrainDialog

        dialog = TrainDialog(self)
        dialog.finishedTraining.connect(self._model_trained)
        dialog.show()
        self._train_dialog = dialog
        return dialog

    def _model_trained(self, report: Any) -> None:
        if report is not None:
            self.load_models([report.name])

    # --- errors and closing -------------------------------------------------------------------

    def show_error(self, title: str, message: str) -> None:
        """A non-blocking error dialog (GUI thread)."""
        self.last_error = message
        self.statusBar().showMessage(message.splitlines()[0], 8000)
        if self._error_box is not None:
            self._error_box.close()
        box = QMessageBox(QMessageBox.Icon.Warning, title, message, QMessageBox.StandardButton.Ok, self)
        box.setWindowModality(Qt.WindowModality.WindowModal)
        box.open()
        self._error_box = box

    def confirm_close(self) -> bool:
        """Ask before quitting while dreaming or exporting, or with takes never exported (tests
        replace this)."""
        question = self.close_question()
        if question is None:
            return True
        answer = QMessageBox.question(self, "Quit Deep Trance?", question)
        return answer == QMessageBox.StandardButton.Yes

    def close_question(self) -> str | None:
        """What closing now would lose, as a question; None when nothing."""
        if self.is_dreaming() or self._exporting:
            return "A dream or export is still running. Stop it and quit?"
        current = self.track.path if self.track is not None else None
        takes = [*self.take_list.takes(), *(t for path, ts in self._takes_by_track.items() if path != current for t in ts)]
        unexported = sum(1 for t in takes if not t.exported)
        if unexported:
            return (
                f"{unexported} take{'s' if unexported != 1 else ''} {'were' if unexported != 1 else 'was'} never "
                "exported and will be lost. Quit anyway?"
            )
        return None

    def shutdown(self) -> None:
        """Stop the stream, cancel and await workers, save settings."""
        self.poll_timer.stop()
        self.spectrogram.stop()
        self.player.close()
        self.cancel_dream()
        from PySide6.QtCore import QThreadPool

        QThreadPool.globalInstance().waitForDone(10_000)
        self.journal.close()  # a clean close: the user chose what to keep
        self.settings.geometry = self.saveGeometry()
        self.settings.db_range = self.spectrogram.db_range
        self.settings.dream = self.dream_panel.state() if self.models else self.settings.dream
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
