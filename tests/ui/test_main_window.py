"""The workstation window with tiny models, offscreen."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent
from PySide6.QtWidgets import QMessageBox

from deeptrance_gui.core.audio import load_audio
from deeptrance_gui.core.dream.takes import read_sidecar, sidecar_path
from deeptrance_gui.core.playback import ManualBackend, Player
from deeptrance_gui.core.session import DreamChoices
from deeptrance_gui.ui.main_window import MainWindow
from deeptrance_gui.ui.settings import AppSettings, load_settings, save_settings
from tests.ui.conftest import write_music


def load(qtbot, window: MainWindow, path: Path) -> None:
    with qtbot.waitSignal(window.trackLoaded, timeout=10_000):
        window.open_path(path)


def test_drop_loads_a_file(qtbot, window: MainWindow, music_file: Path) -> None:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(music_file))])
    event = QDropEvent(
        QPointF(10, 10), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    )
    with qtbot.waitSignal(window.trackLoaded, timeout=10_000):
        window.dropEvent(event)
    assert window.session.track is not None and window.session.track.path == music_file
    assert window.spectrogram.current_db() is not None
    assert "song.wav" in window.windowTitle()
    with qtbot.waitSignal(window.predictionsShown, timeout=10_000):
        pass
    assert window.bars.shown


def test_bad_file_keeps_the_current_track(qtbot, window: MainWindow, music_file: Path, tmp_path: Path) -> None:
    load(qtbot, window, music_file)
    bad = tmp_path / "notes.mp3"
    bad.write_text("this is a shopping list, not a song\n" * 10)
    with qtbot.waitSignal(window.loadFailed, timeout=10_000) as blocker:
        window.open_path(bad)
    assert "text file" in blocker.args[0]
    assert window.session.track is not None and window.session.track.path == music_file
    assert window._error_box is not None and window._error_box.isVisible()
    assert "Still loaded: song.wav" in window._error_box.text()


def test_dream_updates_progress_predictions_spectrogram_and_makes_a_take(
    qtbot, window: MainWindow, music_file: Path
) -> None:
    load(qtbot, window, music_file)
    qtbot.waitUntil(lambda: window.session.track_prediction is not None, timeout=10_000)
    shown: list = []
    window.predictionsShown.connect(shown.append)
    before_updates = window.spectrogram.applied_updates
    steps = []
    window.dreamStep.connect(steps.append)
    with qtbot.waitSignal(window.dreamFinished, timeout=30_000) as blocker:
        window.start_dream()
    take = blocker.args[0]
    assert [s.iteration for s in steps] == [1, 2, 3]
    assert window.dream_panel.progress.value() == 3
    assert "iteration 3/3" in window.dream_panel.progress.text()
    qtbot.waitUntil(lambda: window.spectrogram.applied_updates > before_updates, timeout=2_000)
    assert window.bars.shown and window.bars.title.text().endswith("tiny-a")
    assert "tiny-b" in window.meter.judge_label.text()
    # What to try next comes from the one rule in core, on the finished dream only.
    from deeptrance_gui.core.dream.verdict import judge_verdict, next_try, panel_verdict

    final, request = take.final, take.request
    tag = request.objective.toward
    expected = next_try(
        panel_verdict(tag, final.judges_before, final.judges),
        settings=request.settings,
        dreamer_moved=judge_verdict(tag, final.dreamers_before[0], final.dreamers[0]).moved,
    )
    assert window.meter.next_try.text() == (expected or "")
    assert window.meter.next_try.isVisibleTo(window.meter) == (expected is not None)
    # The dock gives the meter its minimum height: that must hold every wrapped line.
    meter = window.meter
    assert meter.minimumHeight() >= meter.layout().totalHeightForWidth(meter.width())
    assert take.final.final and window.take_list.count() == 1 and window.take_list.current_take() is take
    qtbot.waitUntil(lambda: not window.session.dreaming, timeout=5_000)
    assert window.dream_panel.dream_button.isEnabled()
    # The genre-over-time strip follows the take once its prediction is in.
    qtbot.waitUntil(lambda: bool(shown) and shown[-1] is take.prediction is not None, timeout=10_000)
    window.take_list.setCurrentRow(-1)  # back to the original: its own prediction is shown
    assert shown[-1] is window.session.track_prediction


def test_cancel_stops_within_half_a_second_without_returned(qtbot, window: MainWindow, tmp_path: Path) -> None:
    load(qtbot, window, write_music(tmp_path / "long.wav", duration_s=30.0))
    window.dream_panel.iterations.setValue(200)
    with qtbot.waitSignal(window.dreamStep, timeout=20_000):
        window.start_dream()
    returned = []
    window.session.dream_task.worker.returned.connect(returned.append)
    started = time.monotonic()
    with qtbot.waitSignal(window.dreamCancelled, timeout=5_000):
        window.cancel_dream()
    qtbot.waitUntil(lambda: not window.session.dreaming, timeout=5_000)
    assert time.monotonic() - started < 0.5 + 0.3  # engine ≤ 0.5 s, plus event delivery
    assert not returned
    assert window.take_list.count() == 0
    assert window.dream_panel.progress.text() == "cancelled"


def test_take_audition_ab_export_and_decode(qtbot, window: MainWindow, music_file: Path, tmp_path: Path) -> None:
    load(qtbot, window, music_file)
    with qtbot.waitSignal(window.dreamFinished, timeout=30_000) as blocker:
        window.start_dream()
    take = blocker.args[0]
    qtbot.waitUntil(lambda: not window.session.dreaming, timeout=5_000)
    window.session.takes.select(take)
    window.session.player.seek(0.0)
    window.session.player.play()
    backend = window.backend
    backend.pump(512)  # seek crossfade
    heard = backend.pump(1024)
    start = 512
    np.testing.assert_allclose(heard, take.audio.T[start : start + 1024], atol=1e-6)
    window.toggle_ab()  # → original
    backend.pump(1024)
    original = backend.pump(1024)
    np.testing.assert_allclose(original, window.session.track.clip.samples.T[2560:3584], atol=1e-6)

    dest = tmp_path / "take.flac"
    with qtbot.waitSignal(window.exportFinished, timeout=10_000):
        window.export_take(take, dest, subtype="PCM_24")
    written = load_audio(dest)
    assert written.samples.shape == window.session.track.clip.samples.shape
    record = read_sidecar(sidecar_path(dest))
    assert record["request"]["dreamers"] == ["tiny-a"] and record["request"]["judges"] == ["tiny-b"]
    # Never overwrites without asking.
    with qtbot.waitSignal(window.loadFailed, timeout=200, raising=False):
        window.export_take(take, dest, subtype="PCM_24")
    qtbot.waitUntil(lambda: window.session.runner.busy() == 0, timeout=5_000)
    assert window.last_error is not None and "already exists" in window.last_error
    png = tmp_path / "spectrogram.png"
    assert window.export_png(png) and png.stat().st_size > 1000


def test_takes_rename_delete_undo_redo(qtbot, window: MainWindow, music_file: Path) -> None:
    load(qtbot, window, music_file)
    with qtbot.waitSignal(window.dreamFinished, timeout=30_000) as blocker:
        window.start_dream()
    take = blocker.args[0]
    qtbot.waitUntil(lambda: not window.session.dreaming, timeout=5_000)
    window.take_list.rename(take, "bright chorus")
    assert window.take_list.item(0).text() == "bright chorus"
    window.take_list.delete_current()
    assert window.take_list.count() == 0
    window.acts["undo"].trigger()
    assert window.take_list.count() == 1
    window.acts["undo"].trigger()
    assert take.name.startswith("Take 1")
    window.acts["redo"].trigger()
    assert take.name == "bright chorus"
    # Continue dreaming from the take.
    with qtbot.waitSignal(window.dreamFinished, timeout=30_000):
        window.dream_from_take()
    qtbot.waitUntil(lambda: not window.session.dreaming, timeout=5_000)
    assert window.take_list.count() == 2


def test_shortcuts_and_tooltips(window: MainWindow) -> None:
    shortcuts = {a.shortcut().toString() for a in window.actions()}
    for key in ("Space", "Ctrl+O", "Ctrl+D", "Esc", "B", "Ctrl+Z", "Ctrl+Shift+Z", "Ctrl+E"):
        assert key in shortcuts, key
    panel = window.dream_panel
    for widget in (
        panel.mode,
        panel.dreamer,
        panel.judge,
        panel.toward,
        panel.away,
        panel.iterations,
        panel.strength,
        panel.seed,
        panel.dream_button,
        panel.cancel_button,
    ):
        assert widget.toolTip(), widget
    assert "tiny" in window.status_model.text()


def test_settings_round_trip_and_bad_values(qapp) -> None:
    settings = AppSettings(
        last_folder="/music",
        recent_files=["/music/a.wav"],
        db_range=(-80.0, -5.0),
        dream=DreamChoices(toward="jazz", iterations=33, strength_db=9.0, seed=4),
    )
    save_settings(settings)
    again = load_settings()
    assert again.last_folder == "/music" and again.recent_files == ["/music/a.wav"]
    assert again.db_range == (-80.0, -5.0)
    assert (again.dream.toward, again.dream.iterations, again.dream.strength_db, again.dream.seed) == (
        "jazz",
        33,
        9.0,
        4,
    )
    from deeptrance_gui.ui import settings as settings_module

    store = settings_module._store()
    store.setValue("dream/iterations", "lots")
    store.setValue("dream/strength_db", 99)
    store.setValue("view/theme", "purple")
    store.sync()
    tolerant = load_settings()
    assert tolerant.dream.iterations == 20 and tolerant.dream.strength_db == 6.0 and tolerant.theme == "system"


def test_a_settings_folder_that_cannot_be_made_never_blocks_start_or_close(
    qtbot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Found with a read-only home: start-up crashed creating the folder, and so did closing.
    # (A file where the folder should be fails the same way for root, who writes through chmod.)
    from deeptrance_gui.ui import settings as settings_module

    (tmp_path / "blocker").write_text("a file, not a folder")
    monkeypatch.setenv("DEEPTRANCE_HOME", str(tmp_path / "blocker" / "home"))
    settings = settings_module.load_settings()
    assert settings == AppSettings()
    problem = settings_module.settings_problem()
    assert problem and "cannot be saved" in problem and "DEEPTRANCE_HOME" in problem
    with pytest.raises(settings_module.SettingsSaveError, match="cannot be saved"):
        save_settings(settings)

    win = MainWindow(settings, Player(ManualBackend()), model_loader=lambda name: None, startup_notice=problem)
    qtbot.addWidget(win)
    win.confirm_close = lambda: True
    win.show()
    qtbot.waitUntil(lambda: "cannot be saved" in win.statusBar().currentMessage(), timeout=5_000)
    win.close()
    assert not win.isVisible()
    assert "settings cannot be saved" in capsys.readouterr().err


def test_close_while_dreaming_stops_everything(qtbot, window: MainWindow, tmp_path: Path) -> None:
    load(qtbot, window, write_music(tmp_path / "long.wav", duration_s=30.0))
    window.dream_panel.iterations.setValue(200)
    with qtbot.waitSignal(window.dreamStep, timeout=20_000):
        window.start_dream()
    asked = []
    window.confirm_close = lambda: asked.append(True) or True
    window.close()
    assert asked
    assert not window.poll_timer.isActive()
    assert not window.spectrogram.update_timer.isActive()
    assert load_settings().dream.iterations == 200


def test_dream_refusals_show_errors(qtbot, window: MainWindow, tmp_path: Path) -> None:
    window.start_dream()
    assert "Open a track first" in (window.last_error or "")
    import soundfile as sf

    blip = tmp_path / "blip.wav"
    sf.write(blip, np.full((8000, 1), 0.1, np.float32) * np.sin(np.arange(8000))[:, None], 16_000)
    load(qtbot, window, blip)
    window.start_dream()
    qtbot.waitUntil(lambda: not window.session.dreaming, timeout=10_000)
    assert "at least 1 s" in (window.last_error or "")
    assert isinstance(window._error_box, QMessageBox)


@pytest.mark.parametrize("name", ["difference"])
def test_difference_view(qtbot, window: MainWindow, music_file: Path, name: str) -> None:
    load(qtbot, window, music_file)
    window.acts["difference"].trigger()
    qtbot.waitUntil(lambda: window.spectrogram._difference, timeout=1_000)
    levels = window.spectrogram.colorbar.levels()
    assert levels[0] == -levels[1]


def test_train_dialog_trains_and_the_model_joins_the_list(qtbot, window: MainWindow, tmp_path: Path) -> None:
    from tests.synthetic_genres import make_folder_dataset

    data = make_folder_dataset(tmp_path / "genres", per_class=6)
    for extra in list(data.iterdir())[3:]:  # three genres are enough here
        for f in extra.iterdir():
            f.unlink()
        extra.rmdir()
    dialog = window.open_train_dialog()
    dialog.folder.setText(str(data))
    dialog.name.setText("ui-genres")
    dialog.epochs.setValue(3)
    with qtbot.waitSignal(dialog.finishedTraining, timeout=120_000) as blocker:
        dialog.start()
    assert blocker.args[0] is not None
    # The model joins window.session.models when it is loaded, the dream panel's list when the loading
    # worker is done (after its warm-up): wait for the list, which is what the user sees.
    qtbot.waitUntil(lambda: window.dream_panel.dreamer.findText("ui-genres") >= 0, timeout=20_000)
    assert "ui-genres" in window.session.models
    qtbot.waitUntil(lambda: not dialog.is_running(), timeout=5_000)
    assert "validation accuracy" in dialog.log.toPlainText()
    dialog.close()


def test_switching_output_keeps_position_and_take(qtbot, window: MainWindow, music_file: Path) -> None:
    from deeptrance_gui.core.playback import ManualBackend

    load(qtbot, window, music_file)
    window.session.player.seek(1.0)
    window.session.player.play()
    window.backend.pump(256)
    before = window.session.player.poll().position_s
    new_backend = ManualBackend()
    window.switch_output("USB interface", backend=new_backend)
    assert window.settings.output_device == "USB interface"
    block = new_backend.pump(256)
    assert np.all(np.isfinite(block)) and window.session.player.poll().playing
    assert window.session.player.poll().position_s == pytest.approx(before + 256 / 22_050, abs=1e-6)




def test_the_meter_grows_to_show_its_advice(qtbot) -> None:
    """A narrow meter with a long verdict and advice asks its dock for the height they need."""
    from types import SimpleNamespace

    import numpy as np

    from deeptrance_gui.core.dream.settings import DreamSettings
    from deeptrance_gui.core.model.predictions import Predictions
    from deeptrance_gui.ui.predictions_view import MIN_METER_HEIGHT_PX, HonestMeter

    def heard(name: str, p_metal: float) -> Predictions:
        return Predictions(name, "MTT", ("metal", "rock"), np.array([p_metal, 0.5], np.float32))

    meter = HonestMeter()
    qtbot.addWidget(meter)
    meter.resize(220, MIN_METER_HEIGHT_PX)
    meter.show()
    step = SimpleNamespace(
        dreamers_before=(heard("dreamer", 0.01),), dreamers=(heard("dreamer", 0.04),),
        judges_before=(heard("judge-a", 0.01), heard("judge-b", 0.01)),
        judges=(heard("judge-a", 0.011), heard("judge-b", 0.01)),
        judged=True, judge_names=("judge-a", "judge-b"), final=True,
    )  # fmt: skip
    meter.show_step("metal", step, settings=DreamSettings(mode="band", band_level_db=-9.0))
    assert meter.next_try.isVisibleTo(meter) and "band level -6 dB (now -9)" in meter.next_try.text()
    needed = meter.layout().totalHeightForWidth(meter.width())
    assert needed > MIN_METER_HEIGHT_PX and meter.minimumHeight() >= needed
    meter.show_text("Intensifying: no genre to judge")
    assert not meter.next_try.isVisibleTo(meter)


def test_the_dream_panel_shows_remembered_values_while_the_models_load(qtbot) -> None:
    """Before the models are ready the panel shows the remembered mode and numbers, not the
    fields' minimums (iterations 1, band level 0 dB)."""
    from deeptrance_gui.core.playback import ManualBackend, Player
    from deeptrance_gui.core.session import DreamChoices
    from deeptrance_gui.ui.settings import AppSettings

    state = DreamChoices(mode="band", iterations=37, strength_db=9.0, band_level_db=-9.0, seed=4)
    win = MainWindow(AppSettings(dream=state), Player(ManualBackend()), model_loader=lambda name: None)
    qtbot.addWidget(win)
    win.confirm_close = lambda: True  # type: ignore[method-assign]
    panel = win.dream_panel
    assert not win.session.models and panel.mode.currentData() == "band"
    assert (panel.iterations.value(), panel.band_level.value(), panel.strength.value(), panel.seed.value()) == (
        37, -9.0, 9.0, 4,
    )  # fmt: skip
    assert panel.band_level.isEnabled() and not panel.strength.isEnabled()
    win.close()
