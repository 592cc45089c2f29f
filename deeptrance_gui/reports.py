"""Training reports as PNG: confusion matrix and training curves (drawn with Qt, offscreen).

Not in ``core`` (it uses Qt); the CLI and the Train dialog call it after training.
"""

from __future__ import annotations

import itertools
import os
from pathlib import Path
from typing import Any


def _app() -> Any:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    # A QApplication (not just a QGuiApplication): a window created later in the same
    # process needs widgets, and Qt allows one application object per process.
    return QApplication.instance() or QApplication([])


def confusion_png(labels: tuple[str, ...], confusion: list[list[int]], path: Path, *, title: str) -> Path:
    """Confusion matrix (rows: truth, columns: prediction) as a PNG."""
    _app()
    from PySide6.QtCore import QRectF, Qt
    from PySide6.QtGui import QColor, QFont, QImage, QPainter

    n = len(labels)
    cell, margin = 56, 150
    image = QImage(margin + n * cell + 20, margin + n * cell + 40, QImage.Format.Format_RGB32)
    image.fill(QColor("white"))
    painter = QPainter(image)
    painter.setFont(QFont("Sans", 9))
    painter.drawText(QRectF(10, 5, image.width() - 20, 30), Qt.AlignmentFlag.AlignLeft, title)
    peak = max(1, max(max(row) for row in confusion))
    for i in range(n):
        painter.drawText(
            QRectF(5, margin + i * cell, margin - 10, cell),
            Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
            labels[i],
        )
        painter.save()
        painter.translate(margin + i * cell + cell / 2, margin - 8)
        painter.rotate(-60)
        painter.drawText(QRectF(0, -8, margin, 16), Qt.AlignmentFlag.AlignLeft, labels[i])
        painter.restore()
        for j in range(n):
            value = confusion[i][j]
            shade = int(255 - 200 * value / peak)
            painter.fillRect(
                QRectF(margin + j * cell, margin + i * cell, cell - 2, cell - 2),
                QColor(shade, shade, 255) if i != j else QColor(shade, 255, shade),
            )
            painter.drawText(
                QRectF(margin + j * cell, margin + i * cell, cell, cell), Qt.AlignmentFlag.AlignCenter, str(value)
            )
    painter.drawText(
        QRectF(margin, margin + n * cell + 5, n * cell, 30),
        Qt.AlignmentFlag.AlignCenter,
        "predicted →   (rows: true genre)",
    )
    painter.end()
    image.save(str(path))
    return path


def curves_png(curves: list[dict[str, float]], path: Path, *, title: str) -> Path:
    """Training loss and validation accuracy per epoch as a PNG."""
    _app()
    from PySide6.QtCore import QPointF, QRectF, Qt
    from PySide6.QtGui import QColor, QFont, QImage, QPainter, QPen

    width, height, margin = 720, 360, 50
    image = QImage(width, height, QImage.Format.Format_RGB32)
    image.fill(QColor("white"))
    painter = QPainter(image)
    painter.setFont(QFont("Sans", 9))
    painter.drawText(QRectF(10, 5, width, 20), Qt.AlignmentFlag.AlignLeft, title)
    painter.drawRect(margin, margin, width - 2 * margin, height - 2 * margin)
    if curves:
        epochs = [c["epoch"] for c in curves]
        top_loss = max(c["train_loss"] for c in curves) or 1.0
        span = max(1.0, max(epochs) - min(epochs))

        def point(epoch: float, value: float) -> QPointF:
            x = margin + (epoch - min(epochs)) / span * (width - 2 * margin)
            return QPointF(x, height - margin - value * (height - 2 * margin))

        for key, color, scale in (("train_loss", "#d62728", top_loss), ("val_accuracy", "#1f77b4", 1.0)):
            painter.setPen(QPen(QColor(color), 2))
            pts = [point(c["epoch"], c[key] / scale) for c in curves]
            for a, b in itertools.pairwise(pts):
                painter.drawLine(a, b)
        painter.setPen(QColor("#d62728"))
        painter.drawText(
            QRectF(margin, height - margin + 8, 300, 20),
            Qt.AlignmentFlag.AlignLeft,
            f"training loss (max {top_loss:.2f})",
        )
        painter.setPen(QColor("#1f77b4"))
        painter.drawText(
            QRectF(width - margin - 300, height - margin + 8, 300, 20),
            Qt.AlignmentFlag.AlignRight,
            f"validation accuracy (best {max(c['val_accuracy'] for c in curves):.2f})",
        )
    painter.end()
    image.save(str(path))
    return path
