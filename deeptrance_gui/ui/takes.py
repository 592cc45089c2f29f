"""Takes: finished dreams kept for comparison, with undo/redo of add, delete and rename."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QUndoCommand, QUndoStack
from PySide6.QtWidgets import QListWidget, QListWidgetItem, QWidget

from deeptrance_gui.core.audio.clip import FloatArray
from deeptrance_gui.core.dream.steps import DreamStep
from deeptrance_gui.core.dream.takes import DreamRequest


@dataclass(eq=False)
class Take:
    """A finished dream: region audio, its parameters and scores."""

    name: str
    request: DreamRequest
    final: DreamStep
    display_db: np.ndarray  # full-track display spectrogram with this take in place
    created: float = field(default_factory=time.time)
    prediction: Any = None  # TagPrediction of the whole track with this take, once computed
    exported: bool = False  # written somewhere by the user (closing asks about takes that were not)

    @property
    def audio(self) -> FloatArray:
        """Dreamed region, (channels, frames), read-only."""
        assert self.final.audio is not None
        return self.final.audio

    @property
    def start_s(self) -> float:
        """Where the region starts in the track."""
        return self.final.span_start_s

    def summary(self) -> str:
        """Tooltip: parameters, time and before/after scores."""
        tag = self.request.objective.toward or self.request.objective.away
        lines = [
            f"{self.request.objective.describe()} · {self.request.settings.iterations} it · "
            f"±{self.request.settings.strength_db:g} dB · seed {self.request.seed}",
            f"dreamer {', '.join(self.request.dreamers)} · judges {', '.join(self.request.judges) or 'none'}",
            f"region {self.final.region_start_s:.1f}–{self.final.region_end_s:.1f} s · "
            f"made {time.strftime('%H:%M:%S', time.localtime(self.created))}",
        ]
        if tag:
            d0, d1 = self.final.dreamers_before[0], self.final.dreamers[0]
            lines.append(f"dreamer: {tag} {d0.probability(tag):.3f} → {d1.probability(tag):.3f}")
            if self.final.judged:
                from deeptrance_gui.core.dream.verdict import panel_verdict

                toward = self.request.objective.toward is not None
                panel = panel_verdict(tag, self.final.judges_before, self.final.judges, toward=toward)
                lines += [f"judge {v.describe()}" for v in panel.verdicts]
        return "\n".join(lines)


class TakeList(QListWidget):
    """The side list of takes; edits go through an undo stack."""

    takeActivated = Signal(object)  # Take or None

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.undo_stack = QUndoStack(self)
        self.setToolTip("Takes: click to audition, double-click to rename, Del to delete")
        self.currentItemChanged.connect(self._current_changed)
        self.itemChanged.connect(self._item_edited)
        self._editing = False

    def takes(self) -> list[Take]:
        """All takes, in list order."""
        return [self.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.count())]

    def current_take(self) -> Take | None:
        """The selected take, if any."""
        item = self.currentItem()
        if item is None:
            return None
        take: Take = item.data(Qt.ItemDataRole.UserRole)
        return take

    def add_take(self, take: Take) -> None:
        """Add (undoable) and select ``take``."""
        self.undo_stack.push(_AddTake(self, take))

    def delete_current(self) -> None:
        """Delete the selected take (undoable)."""
        item = self.currentItem()
        if item is not None:
            self.undo_stack.push(_DeleteTake(self, item.data(Qt.ItemDataRole.UserRole), self.row(item)))

    def rename(self, take: Take, name: str) -> None:
        """Rename ``take`` (undoable)."""
        if name and name != take.name:
            self.undo_stack.push(_RenameTake(self, take, take.name, name))

    def clear_takes(self) -> None:
        """Remove every take (new track); not undoable."""
        self.undo_stack.clear()
        self.clear()

    def keyPressEvent(self, event: object) -> None:
        from PySide6.QtGui import QKeyEvent

        assert isinstance(event, QKeyEvent)
        if event.key() in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace):
            self.delete_current()
            return
        super().keyPressEvent(event)

    # --- used by the undo commands --------------------------------------------------------

    def _insert(self, row: int, take: Take) -> None:
        self._editing = True
        item = QListWidgetItem(take.name)
        item.setData(Qt.ItemDataRole.UserRole, take)
        item.setToolTip(take.summary())
        item.setFlags(item.flags() | Qt.ItemFlag.ItemIsEditable)
        self.insertItem(row, item)
        self._editing = False
        self.setCurrentItem(item)

    def _remove(self, take: Take) -> int:
        for row in range(self.count()):
            if self.item(row).data(Qt.ItemDataRole.UserRole) is take:
                self.takeItem(row)
                return row
        return -1

    def _set_name(self, take: Take, name: str) -> None:
        take.name = name
        self._editing = True
        for row in range(self.count()):
            item = self.item(row)
            if item.data(Qt.ItemDataRole.UserRole) is take:
                item.setText(name)
        self._editing = False

    def _current_changed(self, current: QListWidgetItem | None, _previous: object) -> None:
        self.takeActivated.emit(None if current is None else current.data(Qt.ItemDataRole.UserRole))

    def _item_edited(self, item: QListWidgetItem) -> None:
        if self._editing:
            return
        take: Take = item.data(Qt.ItemDataRole.UserRole)
        new_name = item.text().strip()
        if new_name and new_name != take.name:
            self.rename(take, new_name)
        else:
            self._set_name(take, take.name)


class _AddTake(QUndoCommand):
    def __init__(self, view: TakeList, take: Take) -> None:
        super().__init__(f"add take {take.name}")
        self.view, self.take, self.row = view, take, view.count()

    def redo(self) -> None:
        self.view._insert(self.row, self.take)

    def undo(self) -> None:
        self.view._remove(self.take)


class _DeleteTake(QUndoCommand):
    def __init__(self, view: TakeList, take: Take, row: int) -> None:
        super().__init__(f"delete take {take.name}")
        self.view, self.take, self.row = view, take, row

    def redo(self) -> None:
        self.view._remove(self.take)

    def undo(self) -> None:
        self.view._insert(self.row, self.take)


class _RenameTake(QUndoCommand):
    def __init__(self, view: TakeList, take: Take, old: str, new: str) -> None:
        super().__init__(f"rename take {old} → {new}")
        self.view, self.take, self.old, self.new = view, take, old, new

    def redo(self) -> None:
        self.view._set_name(self.take, self.new)

    def undo(self) -> None:
        self.view._set_name(self.take, self.old)
