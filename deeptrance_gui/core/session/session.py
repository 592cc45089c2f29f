"""The session: everything a musician does with Deep Trance, without Qt.

One :class:`Session` holds the track, its analysis and predictions, the models, the takes
(with undo and the recovery journal), the player, the dream being run, the parts' mute/solo,
exports and recovery. Every user action is a method; every change is an event
(:class:`~.events.SessionEvents`). The window draws a session and forwards clicks (napari's
``ViewerModel`` behind its ``QtViewer``); a script or a notebook drives the same object.

Threads: every method runs on the session's thread (the GUI thread in the app, the caller's
in a script). Long work (decoding, analysis, model loading, dreaming, mixing, export) goes to
the :class:`~.runner.Runner`: inline for scripts, Qt workers in the window; its callbacks come
back on the session's thread.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from deeptrance_gui.core.audio.clip import AudioClip
from deeptrance_gui.core.dream.recovery import LeftBehind, TakeJournal
from deeptrance_gui.core.dream.steps import DreamStep
from deeptrance_gui.core.dream.takes import DreamRequest
from deeptrance_gui.core.dsp.stft import DisplaySpectrogram
from deeptrance_gui.core.errors import DeepTranceError, DreamError
from deeptrance_gui.core.playback import NullBackend, Player
from deeptrance_gui.core.session.choices import DreamChoices
from deeptrance_gui.core.session.events import SessionEvents
from deeptrance_gui.core.session.mute_solo import MuteSolo
from deeptrance_gui.core.session.runner import InlineRunner, Runner, Task
from deeptrance_gui.core.session.takes import Take, TakeStack


@dataclass(frozen=True)
class LoadedTrack:
    """A decoded track and its display spectrogram."""

    path: Path
    clip: AudioClip
    spectrogram: DisplaySpectrogram


def load_track(path: Path) -> LoadedTrack:
    """Decode ``path`` and compute its display spectrogram (worker thread)."""
    from deeptrance_gui.core.audio import load_audio
    from deeptrance_gui.core.dsp.stft import display_spectrogram

    clip = load_audio(path)
    return LoadedTrack(path, clip, display_spectrogram(clip.samples, sample_rate_hz=clip.sample_rate_hz))


def musical_analysis(clip: AudioClip) -> Any:
    """Beats and chords (≈ 1 s for 5 minutes; worker thread), or None when there is no steady
    pulse (the band dream says why when it is asked for)."""
    from deeptrance_gui.core.analysis import analyse
    from deeptrance_gui.core.errors import AnalysisError

    try:
        return analyse(clip)
    except AnalysisError:
        return None


def with_columns(base_db: npt.NDArray[np.float32], first_column: int, db: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    """``base_db`` (rows, columns) with ``db`` written in from ``first_column`` (a copy)."""
    out = np.array(base_db, dtype=np.float32)
    end = min(out.shape[1], first_column + db.shape[1])
    if end > first_column:
        out[:, first_column:end] = db[:, : end - first_column]
    return out


@dataclass
class _RunningDream:
    request: DreamRequest
    base_take: Take | None
    cancel: threading.Event = field(default_factory=threading.Event)
    finish: threading.Event = field(default_factory=threading.Event)
    task: Task | None = None
    take: Take | None = None
    first_step_elapsed_s: float | None = None


def _shipped_model(name: str) -> Any:
    from deeptrance_gui.core.model.loading import load_model

    return load_model(name)


class Session:
    """Deep Trance without a window (see the module docstring).

    Parameters
    ----------
    player
        Playback; default: a silent one (a script plays nothing).
    model_loader
        name → LoadedModel, called on the runner's thread; default: the shipped models.
    runner
        Where long work runs; default: inline (each call returns when its work is done).
    raise_errors
        Raise a failure from the method that caused it (scripts; the default with the inline
        runner) instead of only emitting ``events.error``.
    journal
        Where every finished take is also written so a crash never takes it; default: this
        session's folder in the per-user recovery folder. None with ``recovery=False``.
    """

    def __init__(
        self,
        *,
        player: Player | None = None,
        model_loader: Callable[[str], Any] | None = None,
        runner: Runner | None = None,
        raise_errors: bool | None = None,
        recovery: bool = True,
    ) -> None:
        self.events = SessionEvents()
        self.player = player or Player(NullBackend("a session without audio output"))
        self.runner: Runner = runner or InlineRunner()
        self.raise_errors = isinstance(self.runner, InlineRunner) if raise_errors is None else raise_errors
        self._model_loader = model_loader or _shipped_model
        self.models: dict[str, Any] = {}
        self.listener: str | None = None  # the model whose predictions are shown (the dreamer)
        self.seconds_per_patch_iteration: float | None = None  # measured on this machine
        self.track: LoadedTrack | None = None
        self.analysis: Any = None  # beats and chords of the track, once analysed (None: no pulse)
        self.track_prediction: Any = None
        self.region_s: tuple[float, float] | None = None  # the selection; None: the whole track
        self.takes = TakeStack()
        self.takes.selected.connect(self._audition)
        self.parts = MuteSolo()
        self.parts.observe(self._parts_heard_changed)
        self.journal: TakeJournal | None = TakeJournal() if recovery else None
        self.soundfont = ""  # "" = the shipped one
        self.exporting = 0
        self.last_error: str | None = None
        self._dream: _RunningDream | None = None
        self._takes_by_track: dict[Path, list[Take]] = {}

    # --- errors -------------------------------------------------------------------------------

    def _fail(self, title: str, err: BaseException, *, message: str | None = None) -> None:
        """Say what failed (``events.error``: ``title`` and ``message``, default the error's
        text); with ``raise_errors`` (scripts) raise ``err`` too."""
        self.last_error = message or str(err)
        self.events.error.emit(title, self.last_error)
        if self.raise_errors:
            raise err

    # --- models -------------------------------------------------------------------------------

    def load_models(self, names: list[str]) -> None:
        """Load models (warming up and measuring this machine's pace with the first one)."""
        self.events.busy.emit(True)
        self.events.status.emit("Loading the listening models…", 0)
        measure, soundfont, loader = self.seconds_per_patch_iteration is None, self.soundfont or None, self._model_loader

        def job() -> Iterator[tuple[str, Any]]:
            from deeptrance_gui.core.band.render import load_soundfont
            from deeptrance_gui.core.dream.gain_mask import calibrate, warm_up

            for index, name in enumerate(names):
                model = loader(name)
                if index == 0:
                    warm_up(model)  # first-use imports now, not while audio plays
                    # The band checks its SoundFont when a dream starts: read the 45 MB now
                    # (0.16 s), not before the first band is heard (a bad file is said then).
                    with contextlib.suppress(DeepTranceError):
                        load_soundfont(soundfont)
                yield name, model
                if index == 0 and measure:
                    yield "", calibrate(model)  # this machine's pace, for the cost line

        self.runner.iterate(
            job,
            step=self._model_loaded,
            failed=lambda err: self._fail("Could not load a model", err),
            ended=self._models_done,
        )

    def _model_loaded(self, item: tuple[str, Any]) -> None:
        name, model = item
        if not name:  # the calibration
            if self.seconds_per_patch_iteration is None:
                self.seconds_per_patch_iteration = float(model)
            self.events.pace_measured.emit(self.seconds_per_patch_iteration)
            return
        self.models[name] = model
        self.events.model_loaded.emit(name)

    def _models_done(self) -> None:
        self.events.busy.emit(False)
        self.events.status.emit("Models ready", 3000)
        self.events.models_ready.emit()
        if self.track is not None:
            self.predict()

    def judge_panel(self, dreamer: str) -> tuple[str, ...]:
        """The loaded models trained on another dataset than ``dreamer`` (its judge panel)."""
        model = self.models.get(dreamer)
        if model is None:
            return ()
        return tuple(name for name, m in sorted(self.models.items()) if m.spec.dataset != model.spec.dataset)

    # --- the track ----------------------------------------------------------------------------

    def open(self, path: str | Path) -> None:
        """Decode and analyse ``path``; the current track stays until it succeeds."""
        path = Path(path)
        self.events.busy.emit(True)
        self.events.status.emit(f"Loading {path.name}…", 0)
        self.runner.call(
            lambda: load_track(path), done=self._track_ready, failed=lambda err: self._load_failed(path, err)
        )

    def _load_failed(self, path: Path, err: BaseException) -> None:
        self.events.busy.emit(False)
        message = str(err) if isinstance(err, DeepTranceError) else f"{path}: {type(err).__name__}: {err}"
        self.events.load_failed.emit(message)
        kept = f"\n\nStill loaded: {self.track.path.name}" if self.track else ""
        self._fail("Could not open this file", err, message=message + kept)

    def _track_ready(self, loaded: LoadedTrack) -> None:
        self.events.busy.emit(False)
        if self.track is not None:
            self._takes_by_track[self.track.path] = list(self.takes.takes)
        self.cancel_dream()
        self.track, self.track_prediction, self.analysis, self.region_s = loaded, None, None, None
        try:
            self.player.load(loaded.clip)
        except DeepTranceError as err:
            self._fail("Audio output", err)
        self.parts.set_take(None)
        self.events.track_loaded.emit(loaded)
        self.takes.replace(self._takes_by_track.get(loaded.path, []))
        for warning in loaded.clip.warnings:
            self.events.status.emit(f"{loaded.path.name}: {warning}", 8000)
        self.runner.call(
            lambda: musical_analysis(loaded.clip),
            done=lambda analysis: self._analysis_ready(loaded, analysis),
            failed=lambda err: self._fail("Could not analyse the track", err),
        )
        if self.models:
            self.predict()

    def _analysis_ready(self, loaded: LoadedTrack, analysis: Any) -> None:
        if self.track is not loaded:  # another track was opened meanwhile
            return
        self.analysis = analysis
        self.events.analysis_ready.emit(analysis)

    def predict(self, take: Take | None = None) -> None:
        """What the listening model hears in the track (or with ``take`` in place): the bars
        and the genre-over-time strip; a take keeps its result for later auditions."""
        if self.track is None or not self.models:
            return
        model = self.models.get(self.listener or "") or next(iter(self.models.values()))
        clip = self.track.clip

        def job() -> Any:
            from deeptrance_gui.core.dream.takes import splice
            from deeptrance_gui.core.model.predict import predict

            return predict(clip if take is None else splice(clip, take.final), model, tail=True)

        def done(prediction: Any) -> None:
            if take is not None:
                take.prediction = prediction
            else:
                self.track_prediction = prediction
            if self.takes.current is take:  # still what the user is looking at
                self.events.prediction_shown.emit(prediction)

        self.runner.call(job, done=done, failed=lambda err: self._fail("Prediction failed", err))

    def cost_line(self, choices: DreamChoices) -> str:
        """What Dream will dream with ``choices`` and about how long it takes on this machine."""
        from deeptrance_gui.core.dream.cost import (
            BAND_LIKE_MODES,
            DEFAULT_SECONDS_PER_PATCH_ITERATION,
            describe_plan,
            estimate_dream_s,
        )

        if self.track is None:
            return ""
        duration, region = self.track.clip.duration_s, self.region_s
        settings = choices.request(region=region, start_s=None, judge_panel=self.judge_panel).settings
        estimate = estimate_dream_s(
            duration if region is None else region[1] - region[0],
            settings,
            seconds_per_patch_iteration=self.seconds_per_patch_iteration or DEFAULT_SECONDS_PER_PATCH_ITERATION,
        )
        return describe_plan(region, track_duration_s=duration, estimate_s=estimate, band=settings.mode in BAND_LIKE_MODES)

    def set_region(self, start_s: float, end_s: float) -> None:
        """Select what the next dream dreams (the whole track when the selection covers it)."""
        if self.track is None:
            return
        duration = self.track.clip.duration_s
        start_s, end_s = sorted((start_s, end_s))
        whole = start_s <= 0.01 and end_s >= duration - 0.01
        self.region_s = None if whole else (start_s, end_s)

    # --- transport ----------------------------------------------------------------------------

    def toggle_play(self) -> None:
        """Play or pause."""
        self.player.toggle()

    def stop(self) -> None:
        """Stop and rewind."""
        self.player.stop()

    def seek(self, position_s: float) -> None:
        """Move the playhead."""
        self.player.seek(position_s)

    def toggle_ab(self) -> str:
        """Dream ↔ original at the same position (crossfaded); returns what is heard now."""
        listening = self.player.poll().listening_to_dream
        self.player.set_ab(dream=not listening)
        return "original" if listening else "dream"

    def set_loop(self, on: bool) -> None:
        """Loop the selected region (the whole track when nothing is selected)."""
        if not on or self.track is None:
            self.player.set_loop(None)
            return
        self.player.set_loop(self.region_s or (0.0, self.track.clip.duration_s))

    def switch_output(self, device: str, *, backend: Any = None) -> str | None:
        """Move playback to output ``device`` ("" = the system default) at the same position;
        the old stream is closed. Returns why it plays muted, if it does. ``backend`` is for
        tests; normally it is created from the device name."""
        from deeptrance_gui.core.playback import create_backend

        status = self.player.poll()
        message = None
        if backend is None:
            backend, message = create_backend(device or None)
        self.player.close()
        self.player = Player(backend)
        if self.track is not None:
            try:
                self.player.load(self.track.clip)
            except DeepTranceError as err:
                self._fail("Audio output", err)
            self._audition(self.takes.current)
            self.player.set_ab(dream=status.listening_to_dream)
            self.player.seek(status.position_s)
            if status.playing:
                self.player.play()
        if message:
            self.events.status.emit(message, 8000)
        self.events.output_changed.emit()
        return message

    def set_soundfont(self, path: str) -> None:
        """Check ``path`` ("" = the shipped one) and let the band play it; a bad file keeps the
        current one."""
        from deeptrance_gui.core.band.render import load_soundfont

        def done(font: Any) -> None:
            self.soundfont = path
            self.events.soundfont_changed.emit(path, font.path.name)

        self.runner.call(
            lambda: load_soundfont(path or None),
            done=done,
            failed=lambda err: self._fail(
                "Cannot use this SoundFont", err, message=f"{err}\n\nThe band keeps its current SoundFont."
            ),
        )

    # --- dreaming -----------------------------------------------------------------------------

    @property
    def dreaming(self) -> bool:
        """A dream is running."""
        return self._dream is not None

    @property
    def dream_request(self) -> DreamRequest | None:
        """The request of the dream being run."""
        return None if self._dream is None else self._dream.request

    @property
    def dream_task(self) -> Task | None:
        """The runner's handle of the dream being run."""
        return None if self._dream is None else self._dream.task

    def make_request(self, choices: DreamChoices) -> DreamRequest:
        """The dream ``choices`` describe over the selection, from the playhead."""
        return choices.request(
            region=self.region_s, start_s=self.player.poll().position_s, judge_panel=self.judge_panel
        )

    def start_dream(self, request: DreamRequest | DreamChoices, *, base_take: Take | None = None) -> None:
        """Dream (from ``base_take`` when given: "dream from this take"); each step is heard and
        shown as it comes, the last becomes a take. Nothing happens while a dream runs."""
        if self._dream is not None:
            return
        if self.track is None:
            return self._fail("Nothing to dream", DreamError("Open a track first."))
        if not self.models:
            return self._fail(
                "Models are still loading", DreamError(
                    "The models are still loading: wait until the status bar says they are ready "
                    "(in a script: call load_models first)."
                )
            )
        if isinstance(request, DreamChoices):
            request = self.make_request(request)
        missing = [n for n in (*request.dreamers, *request.judges) if n not in self.models]
        if missing:
            return self._fail("Cannot dream", DreamError(f"model '{missing[0]}' is not loaded yet; load_models first"))
        from deeptrance_gui.core.dream.takes import splice

        clip = self.track.clip if base_take is None else splice(self.track.clip, base_take.final)
        running = self._dream = _RunningDream(request, base_take)
        models = dict(self.models)

        def job() -> Iterator[DreamStep | None]:
            # Built on the worker: the band analyses the region and lays out the band here
            # (0.1–0.2 s for 30 s); its refusals come before any step, as the job's error.
            from deeptrance_gui.core.modes import dream_request

            yield from dream_request(
                clip, request, load_model=models.__getitem__, cancel=running.cancel, finish=running.finish
            )
            if running.cancel.is_set():
                yield None  # a last yield lets a Qt worker report 'aborted', never 'returned'

        self.player.clear_regions()
        self.player.set_ab(dream=True)
        if base_take is not None:
            self.player.publish_region(base_take.start_s, base_take.audio)
        self.events.dream_started.emit(request, base_take)
        task = self.runner.iterate(job, step=self._dream_step, failed=self._dream_failed, ended=self._dream_ended)
        if self._dream is running:
            running.task = task
        return None

    def dream(self, **choices: Any) -> Take | None:
        """Dream with :class:`DreamChoices` given by keyword (``toward="rock", mode="band",
        iterations=10``) over the selection and return the take; None when the dream was
        refused or cancelled, or when the runner works in the background (the take then comes
        with ``events.dream_finished``)."""
        made: list[Take] = []
        self.events.dream_finished.connect(made.append)
        try:
            self.start_dream(DreamChoices(**choices))
        finally:
            self.events.dream_finished.disconnect(made.append)
        return made[-1] if made else None

    def cancel_dream(self) -> None:
        """Stop the dream within 0.5 s; nothing of it is kept."""
        if self._dream is None:
            return
        self._dream.cancel.set()
        if self._dream.task is not None:
            self._dream.task.stop()

    def keep_dream(self) -> None:
        """Stop now and keep what is done as a take (the rest of the region stays original)."""
        if self._dream is not None:
            self._dream.finish.set()

    def progress(self, step: DreamStep) -> str:
        """'iteration 3/20 · objective 1.234 · ETA 12 s' for a step of the running dream."""
        from deeptrance_gui.core.dream.cost import progress_line

        first = None if self._dream is None else self._dream.first_step_elapsed_s
        return progress_line(step, first_elapsed_s=first)

    def _dream_step(self, step: DreamStep | None) -> None:
        running = self._dream
        if step is None or running is None:
            return
        if step.audio is not None:
            self.player.publish_region(step.span_start_s, step.audio)
        self.events.dream_step.emit(step)
        if step.iteration == 1:
            running.first_step_elapsed_s = step.elapsed_s
        if step.final:
            self._finish_take(running, step)

    def _finish_take(self, running: _RunningDream, final: DreamStep) -> None:
        from deeptrance_gui.core.dream.cost import measured_seconds_per_patch_iteration

        assert self.track is not None and final.spectrogram is not None
        self.seconds_per_patch_iteration = measured_seconds_per_patch_iteration(
            final.region_end_s - final.region_start_s, final.iteration, final.elapsed_s
        )
        base = self.track.spectrogram.db if running.base_take is None else running.base_take.display_db
        take = Take(
            name=f"Take {len(self.takes) + 1}: {running.request.objective.describe()}",
            request=running.request,
            final=final,
            display_db=with_columns(base, final.spectrogram_first_column, final.spectrogram.db),
        )
        running.take = take
        self.takes.add(take)  # selected, but not auditioned while the dream runs: it plays already
        self._show_parts(take)
        self.predict(take)
        self._journal(take)
        self.events.dream_finished.emit(take)

    def _dream_failed(self, err: BaseException) -> None:
        refused = isinstance(err, DeepTranceError)  # bad input or settings, said before any step
        self.events.dream_failed.emit(str(err), refused)
        self._discard_dream()
        self._fail("Cannot dream" if refused else "The dream failed", err)

    def _dream_ended(self) -> None:
        running, self._dream = self._dream, None
        if running is not None and running.take is None and running.cancel.is_set():
            self._discard_dream()
            self.events.dream_cancelled.emit()
        self.events.dream_ended.emit()

    def _discard_dream(self) -> None:
        """Nothing of this dream is kept: the current take (or the original) plays again."""
        self._play(self.takes.current)

    # --- takes --------------------------------------------------------------------------------

    def _audition(self, take: Take | None) -> None:
        """The user selected ``take`` (None: the original): it plays, unless a dream does."""
        if self._dream is None:
            self._play(take)

    def _play(self, take: Take | None) -> None:
        """Play and show ``take`` (None: the original)."""
        if self.track is None:
            return
        self._show_parts(take)
        self.player.clear_regions()
        if take is not None:
            self.player.publish_region(take.start_s, take.audio)
            self.player.set_ab(dream=True)
        self.events.audition.emit(take)
        prediction = self.track_prediction if take is None else take.prediction
        if prediction is not None:
            self.events.prediction_shown.emit(prediction)

    def _show_parts(self, take: Take | None) -> None:
        """The parts (and their mute/solo) of a played take; none for any other."""
        self.parts.set_take(None if take is None else take.final.band, start_s=0.0 if take is None else take.start_s)

    def _parts_heard_changed(self) -> None:
        """Mute/solo changed: re-mix the parts and publish them (no new dream)."""
        take, parts = self.takes.current, self.parts
        if self.track is None or take is None or parts.take is None or take.final.band is not parts.take:
            return
        if parts.everything_heard:
            self.player.publish_region(take.start_s, take.audio)
            return
        played, rate = parts.take, self.track.clip.sample_rate_hz
        muted, soloed, heard = frozenset(parts.muted), frozenset(parts.soloed), parts.heard()

        def done(audio: Any) -> None:
            # Publish only if nothing changed since: an older mix finishing late is dropped.
            if self.takes.current is take and self.parts.heard() == heard:
                self.player.publish_region(take.start_s, audio)
                self.events.band_mixed.emit(audio)

        self.runner.call(
            lambda: played.mix(sample_rate_hz=rate, muted=muted, soloed=soloed),
            done=done,
            failed=lambda err: self._fail("Could not mix the band", err),
        )

    def _journal(self, take: Take) -> None:
        """Keep a recovery copy of ``take`` (the whole track as FLAC and its sidecar)."""
        if self.journal is None or self.track is None:
            return
        clip, source, journal = self.track.clip, self.track.path, self.journal
        number = journal.next_number()  # on this thread: numbers are never given twice
        self.runner.call(
            lambda: journal.record(clip, take.request, take.final, number=number, source=source),
            done=self.events.take_journaled.emit,
            failed=lambda err: self.events.status.emit(
                f"No recovery copy of this take (export it to keep it): {err}", 15000
            ),
        )

    # --- export and recovery ------------------------------------------------------------------

    def export_take(self, take: Take, dest: str | Path, *, subtype: str = "PCM_24", overwrite: bool = False) -> None:
        """Write ``take`` (the whole track) and its sidecar atomically; a take with parts also
        writes one file per part plus the original (``NAME.drums.wav`` …) and ``NAME.mid``. A
        failure says what to do, and the take stays, so it can be exported elsewhere."""
        assert self.track is not None
        clip, source, dest = self.track.clip, self.track.path, Path(dest)

        def job() -> Path:
            from deeptrance_gui.core.dream.export import export_take, plan_export

            played = take.final.band
            names = played.part_names if played is not None else ()
            plan = plan_export(dest, part_names=names, stems=played is not None, midi=played is not None)
            export_take(clip, take.request, take.final, plan, source=source, subtype=subtype, overwrite=overwrite)
            return dest

        def done(path: Path) -> None:
            take.exported = True
            self.events.status.emit(f"Exported {path}", 8000)
            self.events.exported.emit(path)

        def ended() -> None:
            self.exporting -= 1

        self.exporting += 1
        self.runner.call(job, done=done, failed=lambda err: self._fail("Export failed", err), ended=ended)

    def settle_left_behind(self, sessions: list[LeftBehind], *, keep: bool) -> None:
        """Keep (move to the recovered-takes folder) or delete what crashed sessions left."""
        from deeptrance_gui.core.dream.recovery import discard_left_behind, keep_left_behind

        try:
            if keep:
                kept = [keep_left_behind(s) for s in sessions]
                self.events.status.emit(f"Recovered takes kept in {kept[0].parent}", 15000)
            else:
                for left in sessions:
                    discard_left_behind(left)
        except OSError as err:
            folders = "\n".join(str(s.folder) for s in sessions)
            self._fail("Could not move the recovered takes", err, message=f"{err}\n\nThey stay in {folders}.")

    # --- closing ------------------------------------------------------------------------------

    def close_question(self) -> str | None:
        """What closing now would lose, as a question; None when nothing."""
        if self._dream is not None or self.exporting:
            return "A dream or export is still running. Stop it and quit?"
        current = self.track.path if self.track is not None else None
        others = (t for path, ts in self._takes_by_track.items() if path != current for t in ts)
        unexported = sum(1 for t in (*self.takes.takes, *others) if not t.exported)
        if unexported:
            return (
                f"{unexported} take{'s' if unexported != 1 else ''} {'were' if unexported != 1 else 'was'} never "
                "exported and will be lost. Quit anyway?"
            )
        return None

    def close(self, *, timeout_s: float = 10.0) -> None:
        """Stop playback and the dream, wait for the work in flight, remove the recovery copies
        (a clean close: the user chose what to keep)."""
        self.player.close()
        self.cancel_dream()
        self.runner.shutdown(timeout_s)
        if self.journal is not None:
            self.journal.close()

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()
