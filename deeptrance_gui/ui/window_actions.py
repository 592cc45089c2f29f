"""The window's actions (shortcuts, tooltips) and menus. Each action forwards to the window,
which forwards to its session. GUI thread only."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenu

from deeptrance_gui.ui import dialogs

Shortcut = str | QKeySequence.StandardKey | None
Target = Callable[[Any], Callable[..., Any]]  # the window → what the action calls

#: name → (text, shortcut, what it calls on the window, tip, checkable)
ACTIONS: dict[str, tuple[str, Shortcut, Target, str, bool]] = {
    "open": ("&Open…", QKeySequence.StandardKey.Open, lambda w: lambda: dialogs.open_track(w), "Open an audio file (Ctrl+O)", False),
    "export": ("&Export take…", "Ctrl+E", lambda w: lambda: dialogs.export_current_take(w), "Export the current take as WAV or FLAC", False),
    "export_png": ("Export spectrogram PNG…", None, lambda w: lambda: dialogs.export_spectrogram(w), "Save the spectrogram view as PNG", False),
    "quit": ("&Quit", QKeySequence.StandardKey.Quit, lambda w: w.close, "Quit Deep Trance", False),
    "undo": ("&Undo", "Ctrl+Z", lambda w: w.session.takes.undo, "Undo the last change to the takes (Ctrl+Z)", False),
    "redo": ("&Redo", "Ctrl+Shift+Z", lambda w: w.session.takes.redo, "Redo (Ctrl+Shift+Z)", False),
    "delete_take": ("Delete take", None, lambda w: w.take_list.delete_current, "Delete the selected take", False),
    "continue": ("Dream from this take", None, lambda w: w.dream_from_take,
                 "Use the selected take as the starting point of the next dream", False),
    "play": ("Play/Pause", "Space", lambda w: w.session.toggle_play, "Play or pause (Space)", False),
    "stop": ("Stop", None, lambda w: w.session.stop, "Stop and rewind", False),
    "ab": ("A/B: dream ↔ original", "B", lambda w: w.toggle_ab,
           "Switch between the dream and the original at the same position (B)", False),
    "loop": ("Loop region", "L", lambda w: w.session.set_loop, "Loop the selected region (L)", True),
    "dream": ("&Dream", "Ctrl+D", lambda w: w.start_dream, "Dream from the playhead (Ctrl+D)", False),
    "cancel": ("Cancel dream", "Esc", lambda w: w.cancel_dream, "Stop the dream (Esc)", False),
    "difference": ("Difference view", "D", lambda w: w.spectrogram.set_difference,
                   "Show what the network added: dreamed minus original, dB (D)", True),
    "db_range": ("dB range…", None, lambda w: lambda: dialogs.choose_db_range(w), "Colour range of the spectrogram", False),
    "soundfont": ("Band SoundFont…", None, lambda w: lambda: dialogs.choose_soundfont(w),
                  "The General MIDI SoundFont (.sf2/.sf3) the band dream plays; the shipped FluidR3 subset by default",
                  False),
    "default_soundfont": ("Use the shipped SoundFont", None, lambda w: lambda: w.set_soundfont(""),
                          "Back to the shipped FluidR3 GM subset", False),
    "train": ("Train a genre model…", None, lambda w: w.open_train_dialog,
              "Fine-tune on FMA or your own folders of genres", False),
}  # fmt: skip

#: menu title → action names (None: a separator; "recent" and "devices": submenus)
MENUS: tuple[tuple[str, tuple[str | None, ...]], ...] = (
    ("&File", ("open", "recent", "export", "export_png", None, "quit")),
    ("&Edit", ("undo", "redo", "delete_take", "continue")),
    ("&Transport", ("play", "stop", "ab", "loop", "devices")),
    ("&Dream", ("dream", "cancel", None, "soundfont", "default_soundfont")),
    ("&View", ("difference", "db_range")),
    ("T&ools", ("train",)),
)


def build_actions(window: Any) -> tuple[dict[str, QAction], dict[str, QMenu]]:
    """Every action of ``window`` (added to it, so shortcuts work anywhere) and its menu bar;
    returns the actions and the submenus ("recent", "devices") by name."""
    actions: dict[str, QAction] = {}
    for name, (text, shortcut, target, tip, checkable) in ACTIONS.items():
        act = QAction(text, window)
        if shortcut is not None:
            act.setShortcut(QKeySequence(shortcut))
        act.setToolTip(tip)
        act.setStatusTip(tip)
        act.setCheckable(checkable)
        slot = target(window)
        act.triggered.connect(lambda checked=False, s=slot, c=checkable: s(checked) if c else s())
        window.addAction(act)
        actions[name] = act
    submenus: dict[str, QMenu] = {}
    for title, entries in MENUS:
        menu = window.menuBar().addMenu(title)
        for entry in entries:
            if entry is None:
                menu.addSeparator()
            elif entry in ("recent", "devices"):
                submenus[entry] = menu.addMenu("Open &recent" if entry == "recent" else "Output device")
            else:
                menu.addAction(actions[entry])
    submenus["devices"].setToolTip("Where playback goes; the system default if unsure")
    return actions, submenus
