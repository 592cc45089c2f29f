"""The musician's first hour (transport, cost line, keep what's done, strip to the end, exports
that fail cleanly) and the band in the window (beat grid, lanes, mute/solo), offscreen."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf

from deeptrance_gui.core.audio import load_audio
from deeptrance_gui.core.band.take import ORIGINAL
from deeptrance_gui.ui.main_window import MainWindow
from tests.core.test_analysis import click_track
from tests.ui.conftest import write_music


def load(qtbot, window: MainWindow, path: Path) -> None:
    with qtbot.waitSignal(window.trackLoaded, timeout=10_000):
        window.open_path(path)
    agree(window)


def agree(window: MainWindow) -> None:
    """What the window shows is what its session holds (the window decides nothing)."""
    session = window.session
    assert [window.take_list.item(i).text() for i in range(window.take_list.count())] == [t.name for t in session.takes.takes]
    current = session.takes.current
    assert window.take_list.currentRow() == (-1 if current is None else session.takes.takes.index(current))
    assert window.dream_panel.cancel_button.isEnabled() == session.dreaming
    assert window.band_lanes.isVisibleTo(window) == (session.parts.take is not None)
    if session.parts.take is not None:
        assert set(window.band_lanes.mute_buttons) == set(session.parts.names)
        assert {n for n, b in window.band_lanes.solo_buttons.items() if b.isChecked()} == session.parts.soloed
        assert {n for n, b in window.band_lanes.mute_buttons.items() if b.isChecked()} == session.parts.muted
    if session.track is not None:
        assert session.track.path.name in window.windowTitle()
        assert f"{session.track.clip.sample_rate_hz} Hz" in window.status_rate.text()
        start, end = window.spectrogram.region_s()
        whole = start <= 0.01 and end >= session.track.clip.duration_s - 0.01
        assert session.region_s == (None if whole else (start, end))
    assert window.acts["undo"].isEnabled() == (session.takes.undo_text is not None)


def band_file(tmp_path: Path, duration_s: float = 8.0) -> Path:
    clip, _ = click_track(120, duration_s=duration_s)
    path = tmp_path / "band.wav"
    sf.write(path, clip.samples.T, clip.sample_rate_hz, subtype="PCM_16")
    return path


def test_transport_bar_controls_and_time_readout(qtbot, window: MainWindow, music_file: Path) -> None:
    load(qtbot, window, music_file)
    bar = window.transport
    assert set(bar.buttons) == {"play", "stop", "loop", "ab"}
    qtbot.waitUntil(lambda: bar.time.text() == "0:00.0 / 0:04.0", timeout=2_000)
    assert "output:" in bar.device.text() or "muted" in bar.device.text()
    bar.buttons["play"].click()
    assert window.session.player.poll().playing
    for _ in range(21):  # half a second of audio (22.05 kHz) through the callback, in blocks
        window.backend.pump(525)
    qtbot.waitUntil(lambda: bar.time.text().startswith("0:00.5"), timeout=2_000)
    assert "Pause" in bar.buttons["play"].text()
    bar.buttons["stop"].click()
    window.backend.pump(256)  # the audio thread takes the rewind at its next block
    qtbot.waitUntil(lambda: bar.time.text().startswith("0:00.0"), timeout=2_000)
    assert not window.session.player.poll().playing
    bar.buttons["loop"].click()
    assert window.acts["loop"].isChecked()
    bar.volume.setValue(50)
    assert window.session.player._transport.volume == 0.5
    # A/B is lit while the original of a take is heard.
    with qtbot.waitSignal(window.dreamFinished, timeout=30_000):
        window.start_dream()
    qtbot.waitUntil(lambda: not window.session.dreaming, timeout=5_000)
    agree(window)
    assert not bar.buttons["ab"].isChecked()
    bar.buttons["ab"].click()
    qtbot.waitUntil(lambda: bar.buttons["ab"].isChecked() and bar.listening.text() == "original", timeout=2_000)


def test_cost_line_says_what_will_be_dreamed(qtbot, window: MainWindow, music_file: Path) -> None:
    load(qtbot, window, music_file)
    qtbot.waitUntil(lambda: "whole track" in window.dream_panel.cost.text(), timeout=2_000)
    assert "0:04.0" in window.dream_panel.cost.text() and "about" in window.dream_panel.cost.text()
    window.spectrogram.set_region(1.0, 3.0)
    window.spectrogram._region_changed()
    assert "region 0:01.0–0:03.0 (2.0 s)" in window.dream_panel.cost.text()
    agree(window)


def test_keep_whats_done_makes_a_take_of_the_dreamed_part(qtbot, window: MainWindow, tmp_path: Path) -> None:
    load(qtbot, window, write_music(tmp_path / "long.wav", duration_s=40.0))
    window.dream_panel.iterations.setValue(200)
    with qtbot.waitSignal(window.dreamStep, timeout=20_000):
        window.start_dream()
    assert window.dream_panel.keep_button.isEnabled()
    with qtbot.waitSignal(window.dreamFinished, timeout=20_000) as blocker:
        window.dream_panel.keep_button.click()
    take = blocker.args[0]
    assert take.final.final and take.final.iteration < take.final.total_iterations
    assert window.take_list.count() == 1
    qtbot.waitUntil(lambda: not window.session.dreaming, timeout=5_000)
    agree(window)
    # In a narrow dock the take's whole name shows, wrapped, with no horizontal scrolling.
    listing = window.take_list
    listing.setFixedWidth(90)
    item, metrics = listing.item(0), listing.fontMetrics()
    assert metrics.horizontalAdvance(take.name) > listing.viewport().width()
    qtbot.waitUntil(lambda: listing.visualItemRect(item).height() >= 2 * metrics.height(), timeout=2_000)
    assert listing.visualItemRect(item).width() <= listing.viewport().width()
    assert not listing.horizontalScrollBar().isVisible()
    # The window that was dreamed changed; the window never reached stays the original (up to
    # the one loudness-matching gain applied to the whole region).
    original = window.session.track.clip.samples
    def snr_db(a: np.ndarray, b: np.ndarray) -> float:
        gain = float(np.sum(a * b) / np.sum(b * b))
        return float(10 * np.log10(np.sum(a**2) / np.sum((a - gain * b) ** 2)))

    reached, untouched = slice(22_050, 22_050 * 25), slice(-22_050 * 8, None)
    assert snr_db(take.audio[:, untouched], original[:, untouched]) > snr_db(take.audio[:, reached], original[:, reached]) + 6


def test_genre_strip_ends_at_the_track_end_with_a_tail_column(qtbot, window: MainWindow, tmp_path: Path) -> None:
    load(qtbot, window, write_music(tmp_path / "odd.wav", duration_s=7.7))  # 2 patches + a 1.7-s tail
    qtbot.waitUntil(lambda: window.session.track_prediction is not None, timeout=10_000)
    prediction = window.session.track_prediction
    assert prediction.tail_probs is not None
    probs, edges = prediction.timeline()
    assert (probs.shape[0] == 3 and edges[-1] == np.float64(7.7)) or abs(edges[-1] - 7.7) < 1e-3
    rect = window.timeline.image.boundingRect()
    assert window.timeline.image.width() > 0
    assert abs(window.timeline.duration_s - 7.7) < 1e-3
    # The last columns (the tail) hold the tail's prediction, not the previous patch's.
    tail = probs[-1, window.timeline.tag_index][::-1]
    np.testing.assert_allclose(window.timeline.rows[:, -1], tail, atol=1e-6)
    assert rect.width() > 0
    # Both plots share one time axis: same left axis width and the same space kept at the right.
    assert window.timeline.plot.getAxis("left").width() == window.spectrogram.plot.getAxis("left").width()
    assert window.timeline.width() == window.spectrogram.width()
    assert window.timeline.plot.width() == window.spectrogram.plot.width()


def test_failed_export_keeps_the_take_and_says_what_to_do(qtbot, window: MainWindow, music_file: Path) -> None:
    load(qtbot, window, music_file)
    with qtbot.waitSignal(window.dreamFinished, timeout=30_000) as blocker:
        window.start_dream()
    take = blocker.args[0]
    qtbot.waitUntil(lambda: not window.session.dreaming, timeout=5_000)
    window.export_take(take, Path("/proc/nope.wav"))
    qtbot.waitUntil(lambda: window.session.runner.busy() == 0, timeout=5_000)
    assert window.last_error is not None and window.last_error.startswith("/proc/nope.wav")
    assert "Traceback" not in window.last_error
    assert window.take_list.count() == 1 and window.take_list.current_take() is take
    agree(window)


def test_a_crash_never_takes_the_takes(qtbot, window: MainWindow, music_file: Path, tmp_path: Path) -> None:
    """Each take is kept in the session's recovery folder until a clean close; closing asks about
    takes never exported; a folder left by a crashed session is offered back at start-up."""
    from PySide6.QtWidgets import QMessageBox

    from deeptrance_gui.core.dream.recovery import TakeJournal, left_behind, recovered_root
    from deeptrance_gui.core.dream.takes import read_sidecar, sidecar_path
    from tests.core.test_recovery import _dead_pid

    load(qtbot, window, music_file)
    with qtbot.waitSignal(window.dreamFinished, timeout=30_000) as blocker:
        window.start_dream()
    take = blocker.args[0]
    kept = window.session.journal.folder / "take-001.flac"
    qtbot.waitUntil(lambda: sidecar_path(kept).is_file() and window.session.runner.busy() == 0, timeout=10_000)
    assert load_audio(kept).samples.shape == window.session.track.clip.samples.shape
    assert read_sidecar(sidecar_path(kept))["request"]["objective"]["toward"] == "rock"
    question = window.session.close_question()
    assert question is not None and "1 take was never exported" in question
    with qtbot.waitSignal(window.exportFinished, timeout=10_000):
        window.export_take(take, tmp_path / "kept.wav")
    qtbot.waitUntil(lambda: window.session.runner.busy() == 0, timeout=5_000)  # the export's worker ends after it
    assert window.session.close_question() is None

    # What a crash leaves: the folder of a process that is gone. The window says where it is.
    crashed = TakeJournal()
    crashed.folder = crashed.folder.parent / f"20260101-000000-{_dead_pid()}"
    crashed.folder.mkdir(parents=True)
    (crashed.folder / "take-001.flac").write_bytes(kept.read_bytes())
    sessions = left_behind()
    assert [s.folder for s in sessions] == [crashed.folder]
    box = window.offer_recovery(sessions)
    assert str(crashed.folder) in box.text() and "1 take from that session was kept" in box.text()
    keep = next(b for b in box.buttons() if box.buttonRole(b) == QMessageBox.ButtonRole.AcceptRole)
    keep.click()
    assert (recovered_root() / crashed.folder.name / "take-001.flac").is_file() and left_behind() == []

    window.close()
    assert not window.session.journal.folder.exists()  # a clean close keeps nothing behind


def test_band_dream_in_the_window_lanes_mute_solo_and_exports(qtbot, window: MainWindow, tmp_path: Path) -> None:
    with qtbot.waitSignal(window.analysisShown, timeout=10_000):
        load(qtbot, window, band_file(tmp_path))
    assert window.session.analysis is not None and abs(window.session.analysis.tempo_bpm - 120) < 2.4
    assert window.spectrogram.beat_count >= 14 and window.spectrogram.chord_labels[:4] == ["C", "Am", "F", "G"]
    panel = window.dream_panel
    panel.mode.setCurrentIndex(panel.mode.findData("band"))
    assert panel.band_level.isEnabled() and not panel.strength.isEnabled()
    panel.band_level.setValue(-9.0)
    request = panel.request(region=None, start_s=None)
    assert request.settings.mode == "band" and request.settings.band_level_db == -9.0
    with qtbot.waitSignal(window.dreamFinished, timeout=60_000) as blocker:
        window.start_dream()
    take = blocker.args[0]
    qtbot.waitUntil(lambda: not window.session.dreaming, timeout=5_000)
    band = take.final.band
    assert band is not None and window.session.parts.take is band
    assert window.band_lanes.isVisible()
    agree(window)
    assert set(window.band_lanes.mute_buttons) == {*band.part_names, ORIGINAL}
    assert all(v.name in window.band_lanes.variant_labels[n].text() for n, v in zip(band.part_names, band.chosen_variants(), strict=True))
    # Solo the drums: the player gets a new mix without a new dream.
    with qtbot.waitSignal(window.bandMixed, timeout=10_000) as mixed:
        window.band_lanes.solo_buttons["drums"].click()
    assert window.session.parts.heard() == ("drums",)
    agree(window)
    assert not np.allclose(mixed.args[0], take.audio)
    window.band_lanes.solo_buttons["drums"].click()  # back to everything: the take's own mix
    assert window.session.parts.everything_heard
    agree(window)
    window.take_list.setCurrentRow(-1)  # the original: no lanes
    agree(window)
    window.take_list.setCurrentRow(0)
    agree(window)
    # Mix, stems and MIDI from the window.
    dest = tmp_path / "banded.wav"
    with qtbot.waitSignal(window.exportFinished, timeout=20_000):
        window.export_take(take, dest, subtype="PCM_16")
    written = load_audio(dest)
    assert written.samples.shape == window.session.track.clip.samples.shape
    for name in (*band.part_names, ORIGINAL):
        assert (tmp_path / f"banded.{name}.wav").is_file()
    assert (tmp_path / "banded.mid").stat().st_size > 100


def test_soundfont_setting_checks_the_file_and_keeps_the_default_on_error(qtbot, window: MainWindow, tmp_path: Path) -> None:
    from deeptrance_gui.core.band.render import default_soundfont_path

    bad = tmp_path / "broken.sf2"
    bad.write_bytes(b"RIFF\x10\x00\x00\x00sfbkLIST")
    window.set_soundfont(str(bad))
    qtbot.waitUntil(lambda: window.session.runner.busy() == 0, timeout=10_000)
    assert window.last_error is not None and "broken.sf2" in window.last_error
    assert window.dream_panel.state().soundfont == ""
    good = tmp_path / "mine.sf2"
    good.write_bytes(default_soundfont_path().read_bytes())
    with qtbot.waitSignal(window.soundfontChanged, timeout=10_000):
        window.set_soundfont(str(good))
    assert window.dream_panel.request(region=None, start_s=None).settings.soundfont == str(good)
    assert window.settings.dream.soundfont == str(good)


def test_strip_follows_the_dream_live_and_the_time_axis_seeks(qtbot, window: MainWindow, tmp_path: Path) -> None:
    load(qtbot, window, write_music(tmp_path / "song.wav", duration_s=9.0))
    qtbot.waitUntil(lambda: window.session.track_prediction is not None and window.timeline.rows is not None, timeout=10_000)
    before = window.timeline.rows.copy()
    window.dream_panel.strength.setValue(12.0)
    views = []
    window.dreamStep.connect(lambda step: views.append(step.span_patch_probs is not None))
    with qtbot.waitSignal(window.dreamFinished, timeout=30_000):
        window.start_dream()
    # A 9-s dream lasts about a second: the strip follows it with the final take's view (longer
    # dreams also send views of rendered spans at the judges' pace; tested in the core).
    assert views[-1]
    qtbot.waitUntil(lambda: not window.session.dreaming, timeout=5_000)
    assert not np.array_equal(before, window.timeline.rows)

    class Click:
        def __init__(self, pos: object) -> None:
            self._pos = pos

        def scenePos(self) -> object:
            return self._pos

    axis = window.spectrogram.plot.getAxis("bottom").sceneBoundingRect()
    with qtbot.waitSignal(window.spectrogram.seekRequested, timeout=1_000) as seek:
        window.spectrogram._clicked(Click(axis.center()))
    assert 0.0 < seek.args[0] < 9.0


def test_cost_line_says_a_long_band_is_dreamed_in_windows(qtbot, window: MainWindow, tmp_path: Path) -> None:
    load(qtbot, window, write_music(tmp_path / "long.wav", duration_s=50.0))
    panel = window.dream_panel
    panel.mode.setCurrentIndex(panel.mode.findData("band"))
    qtbot.waitUntil(lambda: "whole track, 0:50.0 in 3 windows" in panel.cost.text(), timeout=2_000)
    window.spectrogram.set_region(10.0, 30.0)
    window.spectrogram._region_changed()
    assert "region 0:10.0–0:30.0 (20.0 s), about" in panel.cost.text()


def test_band_refusal_in_the_window_says_what_to_try(qtbot, window: MainWindow, tmp_path: Path) -> None:
    t = np.arange(22_050 * 6) / 22_050
    drone = tmp_path / "drone.wav"
    sf.write(drone, (0.3 * np.sin(2 * np.pi * 110 * t)).astype(np.float32), 22_050)
    with qtbot.waitSignal(window.analysisShown, timeout=10_000) as shown:
        load(qtbot, window, drone)
    assert shown.args[0] is None and window.session.analysis is None  # no beat grid for a drone
    panel = window.dream_panel
    panel.mode.setCurrentIndex(panel.mode.findData("band"))
    window.start_dream()  # the region is analysed on the dream's worker, not on the GUI thread
    qtbot.waitUntil(lambda: not window.session.dreaming, timeout=10_000)
    assert "no steady beat found" in (window.last_error or "") and "genre dream" in window.last_error
    assert panel.progress.format() == "not started"
    assert window.session.track.path == drone  # the track stays loaded
    agree(window)


def test_the_soundfont_is_read_with_the_models_not_when_dream_is_clicked(qtbot, window: MainWindow) -> None:
    from deeptrance_gui.core.band import render

    render._load_cached.cache_clear()
    with qtbot.waitSignal(window.modelsReady, timeout=60_000):
        window.load_models(["msd-musicnn"])
    assert render._load_cached.cache_info().currsize == 1  # loaded on the models' worker
    render.load_soundfont()  # what Dream does before the first band: now a cache hit
    assert render._load_cached.cache_info().hits >= 1


def test_cover_mode_in_the_window_has_its_own_amount(qtbot, window: MainWindow) -> None:
    """Mode ▸ Cover: the level control becomes the cover amount (up to +18 dB: the band in
    front), remembered apart from the band dream's level; the request carries it."""
    panel = window.dream_panel
    panel.mode.setCurrentIndex(panel.mode.findData("band"))
    assert panel.level_label.text() == "Band level" and panel.band_level.maximum() == 0.0
    panel.band_level.setValue(-9.0)
    panel.mode.setCurrentIndex(panel.mode.findData("cover"))
    assert panel.level_label.text() == "Cover amount" and panel.band_level.maximum() == 18.0
    assert panel.band_level.value() == 6.0 and panel.band_level.isEnabled() and not panel.strength.isEnabled()
    assert "melody and bassline" in panel.description.text()
    panel.band_level.setValue(15.0)
    request = panel.request(region=None, start_s=None)
    assert request.settings.mode == "cover" and request.settings.band_level_db == 15.0
    panel.mode.setCurrentIndex(panel.mode.findData("band"))
    assert panel.band_level.value() == -9.0
    state = panel.state()
    assert (state.band_level_db, state.cover_amount_db) == (-9.0, 15.0)


def test_cover_in_the_window_shows_the_melody_and_the_bass_in_its_lanes(qtbot, window: MainWindow, tmp_path: Path) -> None:
    from tests.core.test_transcribe import song

    clip, _ = song(8, bars=6)
    path = tmp_path / "tune.wav"
    sf.write(path, clip.samples.T, clip.sample_rate_hz, subtype="PCM_16")
    load(qtbot, window, path)
    panel = window.dream_panel
    panel.mode.setCurrentIndex(panel.mode.findData("cover"))
    panel.iterations.setValue(2)
    with qtbot.waitSignal(window.dreamFinished, timeout=60_000) as blocker:
        window.start_dream()
    qtbot.waitUntil(lambda: not window.session.dreaming, timeout=5_000)
    take = blocker.args[0]
    assert take.request.settings.mode == "cover" and take.request.settings.band_level_db == 6.0
    labels = {name: label.text() for name, label in window.band_lanes.variant_labels.items()}
    assert labels["lead"].startswith("lead: melody") and labels["bass"].startswith("bass: bassline")
    agree(window)
