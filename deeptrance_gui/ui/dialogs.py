"""The window's questions: file choosers, the export format, the dB range, errors and the
takes a crashed session left behind. Each asks and returns; the session decides. GUI thread."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog, QInputDialog, QMessageBox, QWidget

from deeptrance_gui.core.dream.recovery import LeftBehind

AUDIO_FILTER = "Audio (*.wav *.flac *.mp3 *.ogg *.opus *.aif *.aiff *.m4a *.aac);;All files (*)"


def open_file(parent: QWidget, title: str, folder: str, filter_: str = AUDIO_FILTER) -> Path | None:
    """A file to read, or None."""
    path, _ = QFileDialog.getOpenFileName(parent, title, folder, filter_)
    return Path(path) if path else None


def save_file(parent: QWidget, title: str, start: str, filter_: str) -> tuple[Path, str] | None:
    """A file to write and the filter chosen, or None (the dialog asks before replacing)."""
    path, chosen = QFileDialog.getSaveFileName(parent, title, start, filter_)
    return (Path(path), chosen) if path else None


def ask_export(parent: QWidget, start: Path) -> tuple[Path, str] | None:
    """Where to export a take and in which sample format (WAV or FLAC), or None."""
    answer = save_file(parent, "Export take", str(start), "WAV (*.wav);;FLAC (*.flac)")
    if answer is None:
        return None
    dest, chosen = answer
    if dest.suffix.lower() not in (".wav", ".flac"):
        dest = dest.with_suffix(".flac" if "FLAC" in chosen else ".wav")
    options = ["PCM_24", "PCM_16"] + (["FLOAT"] if dest.suffix.lower() == ".wav" else [])
    subtype, ok = QInputDialog.getItem(parent, "Sample format", "Sample format", options, 0, False)
    return (dest, subtype) if ok else None


def ask_lowest_db(parent: QWidget, low: float, high: float) -> float | None:
    """The lowest dB shown (the highest stays), or None."""
    value, ok = QInputDialog.getDouble(parent, "dB range", "Lowest dB shown", low, -200, high - 6, 1)
    return value if ok else None


def error_box(parent: QWidget, title: str, message: str) -> QMessageBox:
    """A non-blocking, window-modal warning."""
    box = QMessageBox(QMessageBox.Icon.Warning, title, message, QMessageBox.StandardButton.Ok, parent)
    box.setWindowModality(Qt.WindowModality.WindowModal)
    box.open()
    return box


def recovery_box(parent: QWidget, sessions: list[LeftBehind], chosen: Callable[[bool], None]) -> QMessageBox:
    """Say where the takes of sessions that did not close are; ``chosen(keep)`` gets the answer
    (non-blocking)."""
    count = sum(len(s.takes) for s in sessions)
    folders = "\n".join(str(s.folder) for s in sessions)
    box = QMessageBox(
        QMessageBox.Icon.Information,
        "Takes from a session that did not close",
        f"Deep Trance did not close properly last time. {count} take{'s' if count != 1 else ''} from "
        f"that session {'were' if count != 1 else 'was'} kept, each the whole track as FLAC with its "
        f"sidecar:\n\n{folders}\n\nOpen them like any track (File ▸ Open).",
        QMessageBox.StandardButton.NoButton,
        parent,
    )
    keep = box.addButton("Keep them", QMessageBox.ButtonRole.AcceptRole)
    box.addButton("Delete them", QMessageBox.ButtonRole.DestructiveRole)
    box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    box.setWindowModality(Qt.WindowModality.NonModal)
    box.buttonClicked.connect(lambda button: chosen(button is keep))
    box.show()
    return box


# --- the window's menu commands that ask first (``window``: the MainWindow) ---------------------


def open_track(window: Any) -> None:
    """File ▸ Open."""
    path = open_file(window, "Open audio", window.settings.last_folder)
    if path is not None:
        window.open_path(path)


def choose_soundfont(window: Any) -> None:
    """Dream ▸ Band SoundFont…: pick a .sf2/.sf3; the session checks it before it is used."""
    path = open_file(window, "Band SoundFont", window.settings.last_folder, "SoundFonts (*.sf2 *.sf3);;All files (*)")
    if path is not None:
        window.set_soundfont(str(path))


def choose_db_range(window: Any) -> None:
    """View ▸ dB range…: the lowest dB shown."""
    low, high = window.spectrogram.db_range
    value = ask_lowest_db(window, low, high)
    if value is not None:
        window.spectrogram.set_db_range(value, high)


def export_current_take(window: Any) -> None:
    """File ▸ Export take (Ctrl+E): WAV or FLAC, 16/24-bit or float, with a JSON sidecar."""
    take, track = window.session.takes.current, window.session.track
    if take is None or track is None:
        window.show_error("Nothing to export", "Dream first, then select a take.")
        return
    answer = ask_export(window, Path(window.settings.last_folder or ".") / f"{track.path.stem} - {take.name}.wav")
    if answer is not None:  # the save dialog already asked before replacing a file
        window.export_take(take, answer[0], subtype=answer[1], overwrite=answer[0].exists())


def export_spectrogram(window: Any) -> None:
    """File ▸ Export spectrogram PNG…"""
    answer = save_file(window, "Export spectrogram", window.settings.last_folder, "PNG (*.png)")
    if answer is not None:
        window.export_png(answer[0])


def fill_device_menu(window: Any) -> None:
    """Transport ▸ Output device: the system default and every output PortAudio sees."""
    from deeptrance_gui.core.playback import output_devices

    menu = window.device_menu
    menu.clear()
    choices = [("", "System default")] + [(name, name) for _, name in output_devices()]
    for key, label in choices:
        act = menu.addAction(label)
        act.setCheckable(True)
        act.setChecked(key == window.settings.output_device)
        act.triggered.connect(lambda _=False, k=key: window.switch_output(k))
    if len(choices) == 1:
        menu.addAction("(no output devices found: playing muted)").setEnabled(False)
