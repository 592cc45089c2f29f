"""Light/dark theme: follow the system by default (Qt ≥ 6.8 color scheme), or force one."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication


def apply_theme(app: QApplication, theme: str) -> None:
    """'system', 'light' or 'dark'; pyqtgraph's plot colours follow."""
    app.setStyle("Fusion")
    hints = app.styleHints()
    if theme in ("light", "dark") and hasattr(hints, "setColorScheme"):
        hints.setColorScheme(Qt.ColorScheme.Dark if theme == "dark" else Qt.ColorScheme.Light)
    dark = hints.colorScheme() == Qt.ColorScheme.Dark if hasattr(hints, "colorScheme") else False
    pg.setConfigOptions(background="k" if dark else "w", foreground="w" if dark else "k")
