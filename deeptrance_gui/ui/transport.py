"""The transport bar: play/pause, stop, loop region, A/B, position / length, volume, output.

A view only: its buttons trigger the window's actions (so shortcuts, menu and bar are one
thing), and :meth:`TransportBar.show_status` paints what the player reports on each poll.
GUI thread only.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSlider, QToolButton, QWidget


def clock(seconds: float) -> str:
    """m:ss.s (a DAW's short form)."""
    seconds = max(0.0, seconds)
    minutes, secs = divmod(seconds, 60.0)
    return f"{int(minutes)}:{secs:04.1f}"


class TransportBar(QWidget):
    """Buttons bound to the window's transport actions, a time read-out and a volume slider."""

    volumeChanged = Signal(float)  # 0–1

    def __init__(
        self, *, play: QAction, stop: QAction, loop: QAction, ab: QAction, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.buttons: dict[str, QToolButton] = {}
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 2, 4, 2)
        for key, action, text in (("play", play, "▶ Play"), ("stop", stop, "■ Stop"), ("loop", loop, "⟲ Loop"), ("ab", ab, "A/B")):
            button = QToolButton()
            button.setDefaultAction(action)
            button.setText(text)
            button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
            button.setAutoRaise(False)
            layout.addWidget(button)
            self.buttons[key] = button
        self.buttons["ab"].setCheckable(True)  # lit while the original is heard
        self.time = QLabel(clock(0.0) + " / " + clock(0.0))
        self.time.setToolTip("Position / length (m:ss.s)")
        self.time.setMinimumWidth(130)
        self.listening = QLabel("")
        self.volume = QSlider(Qt.Orientation.Horizontal)
        self.volume.setRange(0, 100)
        self.volume.setValue(100)
        self.volume.setMinimumWidth(100)
        self.volume.setMaximumWidth(140)
        self.volume.setToolTip("Playback volume")
        self.volume.valueChanged.connect(lambda value: self.volumeChanged.emit(value / 100.0))
        self.device = QLabel("")
        self.device.setToolTip("Audio output (Transport ▸ Output device)")
        layout.addSpacing(12)
        layout.addWidget(self.time)
        layout.addWidget(self.listening)
        layout.addStretch(1)
        layout.addWidget(QLabel("Volume"))
        layout.addWidget(self.volume)
        layout.addWidget(self.device)

    def show_status(self, *, position_s: float, length_s: float, playing: bool, original: bool, has_take: bool) -> None:
        """Paint one poll of the player."""
        self.time.setText(f"{clock(position_s)} / {clock(length_s)}")
        self.buttons["play"].setText("❚❚ Pause" if playing else "▶ Play")
        self.buttons["ab"].setChecked(original and has_take)
        self.listening.setText(("original" if original else "dream") if has_take else "")

    def show_device(self, description: str, *, muted: bool) -> None:
        """Output state: the device, or why playback is muted."""
        prefix = "" if description.lower().startswith("muted") else ("muted: " if muted else "output: ")
        self.device.setText(prefix + description)
