"""Train a genre model from the window: pick a folder, watch progress, read the report."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)
from superqt.utils import create_worker

MODES = (
    ("frozen", "Fine-tune: new head on the frozen musicnn (fast)"),
    ("partial", "Fine-tune: retrain musicnn's back end"),
    ("full", "Fine-tune: all of musicnn (slow on a CPU)"),
    ("cnn", "From scratch: small CNN (the original project's kind)"),
)


class _Relay(QObject):
    """Carries progress from the training thread to the dialog (queued signal)."""

    progress = Signal(str, object)


class TrainDialog(QDialog):
    """Folder → feature cache → training → report. Cancel stops cleanly (checkpoint kept)."""

    finishedTraining = Signal(object)  # TrainReport or None

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Train a genre model")
        self.folder = QLineEdit()
        self.folder.setToolTip("FMA root (with fma_metadata/) or a folder with one sub-folder per genre")
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        row = QHBoxLayout()
        row.addWidget(self.folder)
        row.addWidget(browse)
        self.layout_choice = QComboBox()
        self.layout_choice.addItem("One folder per genre", "folders")
        self.layout_choice.addItem("FMA (tracks.csv + fma_small)", "fma")
        self.name = QLineEdit("my-genres")
        self.name.setToolTip("The model's name in the app and in 'deeptrance predict --model'")
        self.mode = QComboBox()
        for key, label in MODES:
            self.mode.addItem(label, key)
        self.epochs = QSpinBox()
        self.epochs.setRange(1, 500)
        self.epochs.setValue(40)
        self.progress = QProgressBar()
        self.log = QPlainTextEdit()
        self.log.setReadOnly(True)
        self.start_button = QPushButton("Train")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.start_button.clicked.connect(self.start)
        self.cancel_button.clicked.connect(self.cancel)
        form = QFormLayout()
        form.addRow("Data", row)
        form.addRow("Layout", self.layout_choice)
        form.addRow("Model name", self.name)
        form.addRow("Mode", self.mode)
        form.addRow("Epochs", self.epochs)
        buttons = QHBoxLayout()
        buttons.addWidget(self.start_button)
        buttons.addWidget(self.cancel_button)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.progress)
        layout.addWidget(self.log, 1)
        layout.addLayout(buttons)
        self._cancel = threading.Event()
        self._worker: Any = None
        self._relay = _Relay(self)
        self._relay.progress.connect(self._on_progress)
        self.report: Any = None

    def _browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Training data")
        if folder:
            self.folder.setText(folder)

    def start(self) -> None:
        """Run training on a worker."""
        from deeptrance_gui.cli_train import check_name, run_training
        from deeptrance_gui.core.errors import DeepTranceError
        from deeptrance_gui.core.train.trainer import TrainConfig

        data = Path(self.folder.text())
        try:
            check_name(self.name.text())
        except DeepTranceError as err:
            self.log.appendPlainText(f"error: {err}")
            return
        config = TrainConfig(name=self.name.text(), mode=self.mode.currentData(), epochs=self.epochs.value())
        layout = self.layout_choice.currentData()
        relay, cancel = self._relay, self._cancel
        cancel.clear()

        def job() -> Any:
            return run_training(
                data,
                layout=layout,
                config=config,
                progress=lambda kind, value: relay.progress.emit(kind, value),
                cancel=cancel.is_set,
            )

        self._worker = create_worker(job, _start_thread=False, _ignore_errors=True)
        self._worker.returned.connect(self._done)
        self._worker.errored.connect(lambda err: self.log.appendPlainText(f"error: {err}"))
        self._worker.finished.connect(lambda *_: self._set_running(False))
        self._set_running(True)
        self.log.appendPlainText(f"training '{config.name}' ({config.mode}) on {data}")
        self._worker.start()

    def cancel(self) -> None:
        """Stop after the current file or epoch; the checkpoint is kept for --resume."""
        self._cancel.set()
        self.log.appendPlainText("cancelling…")

    def is_running(self) -> bool:
        """Training in progress."""
        return self._worker is not None

    def _set_running(self, running: bool) -> None:
        self.start_button.setEnabled(not running)
        self.cancel_button.setEnabled(running)
        if not running:
            self._worker = None

    def _on_progress(self, kind: str, value: Any) -> None:
        if kind == "cache":
            done, total = value
            self.progress.setRange(0, total)
            self.progress.setValue(done)
            self.progress.setFormat(f"features {done}/{total}")
        elif value.stage == "train":
            self.progress.setRange(0, value.epochs)
            self.progress.setValue(value.epoch)
            self.progress.setFormat(
                f"epoch {value.epoch}/{value.epochs} · val acc {value.val_accuracy:.2f} · ETA {value.eta_s:.0f} s"
            )

    def _done(self, result: Any) -> None:
        report, skipped = result
        self.report = report
        for path, reason in skipped.items():
            self.log.appendPlainText(f"skipped {path}: {reason}")
        if report is None:
            self.log.appendPlainText("cancelled; run again with the same name and --resume (CLI) to continue")
        else:
            test = "n/a" if report.test_accuracy is None else f"{report.test_accuracy:.3f}"
            self.log.appendPlainText(f"done: validation accuracy {report.val_accuracy:.3f}, test accuracy {test}")
            for c in report.test_classes or report.val_classes:
                self.log.appendPlainText(f"  {c.label}: precision {c.precision:.2f}, recall {c.recall:.2f}")
            self.log.appendPlainText(f"saved {report.weights_path}; it is now in the model list")
        self.finishedTraining.emit(report)

    def closeEvent(self, event: Any) -> None:
        if self._worker is not None:
            self.cancel()
        super().closeEvent(event)
