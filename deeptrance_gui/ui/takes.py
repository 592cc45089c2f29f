"""The take list: draws the session's :class:`~deeptrance_gui.core.session.TakeStack` and
forwards clicks, renames and deletes to it (undo and redo live in the stack)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QListWidget, QListWidgetItem, QWidget

from deeptrance_gui.core.session import Take, TakeStack


class TakeList(QListWidget):
    """The side list of takes. GUI thread only."""

    def __init__(self, stack: TakeStack, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.stack = stack
        self.setToolTip("Takes: click to audition, double-click to rename, Del to delete")
        # A take's name says what it is ("Take 1: toward metal"); in a narrow dock it wraps
        # rather than being cut off behind a horizontal scroll bar.
        self.setWordWrap(True)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self._drawing = False
        stack.changed.connect(self._redraw)
        stack.selected.connect(self._select)
        self.currentItemChanged.connect(self._current_changed)
        self.itemChanged.connect(self._item_edited)

    def takes(self) -> list[Take]:
        """All takes, in list order."""
        return list(self.stack.takes)

    def current_take(self) -> Take | None:
        """The selected take, if any."""
        return self.stack.current

    def rename(self, take: Take, name: str) -> None:
        """Rename ``take`` (undoable)."""
        self.stack.rename(take, name)

    def delete_current(self) -> None:
        """Delete the selected take (undoable)."""
        if self.stack.current is not None:
            self.stack.delete(self.stack.current)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace):
            self.delete_current()
            return
        super().keyPressEvent(event)

    def _redraw(self) -> None:
        self._drawing = True
        self.clear()
        for take in self.stack.takes:
            item = QListWidgetItem(take.name)
            item.setData(Qt.ItemDataRole.UserRole, take)
            item.setToolTip(take.summary())
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsEditable)
            self.addItem(item)
        self._drawing = False
        self._select(self.stack.current)

    def _select(self, take: Take | None) -> None:
        row = self.stack.takes.index(take) if take in self.stack.takes else -1
        if self.currentRow() != row:
            self._drawing = True
            self.setCurrentRow(row)
            self._drawing = False

    def _current_changed(self, current: QListWidgetItem | None, _previous: object) -> None:
        if not self._drawing:
            self.stack.select(None if current is None else current.data(Qt.ItemDataRole.UserRole))

    def _item_edited(self, item: QListWidgetItem) -> None:
        if self._drawing:
            return
        take: Take = item.data(Qt.ItemDataRole.UserRole)
        self.stack.rename(take, item.text())
        if item.text() != take.name:  # an empty or unchanged name: show the name it has
            self._redraw()
