"""Draw the app icon (resources/icons/deeptrance.png, 256 px): a spiral of spectrogram bars."""

from __future__ import annotations

import math
import sys
from pathlib import Path

from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QColor, QGuiApplication, QImage, QPainter, QPen


def main() -> None:
    QGuiApplication(sys.argv[:1])
    size = 256
    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setBrush(QColor("#14102a"))
    painter.setPen(Qt.PenStyle.NoPen)
    painter.drawRoundedRect(8, 8, size - 16, size - 16, 48, 48)
    centre = QPointF(size / 2, size / 2)
    for k in range(48):
        angle = k * 2 * math.pi / 48
        length = 40 + 50 * (0.5 + 0.5 * math.sin(3 * angle + 1.0)) * (0.6 + 0.4 * math.cos(5 * angle))
        hue = int(260 + 80 * k / 48) % 360
        pen = QPen(QColor.fromHsv(hue, 200, 255), 5)
        pen.setCapStyle(Qt.PenCapStyle.RoundCap)
        painter.setPen(pen)
        inner = QPointF(centre.x() + 28 * math.cos(angle), centre.y() + 28 * math.sin(angle))
        outer = QPointF(centre.x() + (28 + length) * math.cos(angle), centre.y() + (28 + length) * math.sin(angle))
        painter.drawLine(inner, outer)
    painter.end()
    out = Path(__file__).resolve().parents[1] / "resources" / "icons" / "deeptrance.png"
    image.save(str(out))
    print("wrote", out)


if __name__ == "__main__":
    main()
