"""Takes: finished dreams kept for comparison, per track, with undo and redo of add, delete
and rename. Qt-free; the window's take list draws a :class:`TakeStack`."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from deeptrance_gui.core.audio.clip import FloatArray
from deeptrance_gui.core.dream.steps import DreamStep
from deeptrance_gui.core.dream.takes import DreamRequest
from deeptrance_gui.core.session.events import Event


@dataclass(eq=False)
class Take:
    """A finished dream: the region's audio, its request and scores.

    Attributes
    ----------
    display_db
        float32, shape (rows, columns): the track's display spectrogram with this take in place.
    prediction
        What the listening model hears in the whole track with this take, once computed.
    exported
        Written somewhere by the user (closing asks about takes that were not).
    """

    name: str
    request: DreamRequest
    final: DreamStep
    display_db: npt.NDArray[np.float32]
    created: float = field(default_factory=time.time)
    prediction: Any = None
    exported: bool = False

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
        """Parameters, time and before/after scores (the take list's tooltip)."""
        request, final = self.request, self.final
        tag = request.objective.toward or request.objective.away
        lines = [
            f"{request.objective.describe()} · {request.settings.iterations} it · "
            f"±{request.settings.strength_db:g} dB · seed {request.seed}",
            f"dreamer {', '.join(request.dreamers)} · judges {', '.join(request.judges) or 'none'}",
            f"region {final.region_start_s:.1f}–{final.region_end_s:.1f} s · "
            f"made {time.strftime('%H:%M:%S', time.localtime(self.created))}",
        ]
        if tag:
            d0, d1 = final.dreamers_before[0], final.dreamers[0]
            lines.append(f"dreamer: {tag} {d0.probability(tag):.3f} → {d1.probability(tag):.3f}")
            if final.judged:
                from deeptrance_gui.core.dream.verdict import panel_verdict

                toward = request.objective.toward is not None
                panel = panel_verdict(tag, final.judges_before, final.judges, toward=toward)
                lines += [f"judge {v.describe()}" for v in panel.verdicts]
        return "\n".join(lines)


@dataclass(frozen=True)
class _Edit:
    text: str
    redo: Callable[[], None]
    undo: Callable[[], None]


class TakeStack:
    """The takes of the track being worked on, in order, the current one, and the edits that
    can be undone. ``events.changed()`` after every change of the list or a name,
    ``events.current(take or None)`` when another take (or the original) is selected."""

    def __init__(self) -> None:
        self.takes: list[Take] = []
        self.current: Take | None = None
        self._undo: list[_Edit] = []
        self._redo: list[_Edit] = []
        self.changed = Event("changed")
        self.selected = Event("selected")

    def __len__(self) -> int:
        return len(self.takes)

    def select(self, take: Take | None) -> None:
        """Make ``take`` (None: the original) the current one."""
        if take is not None and take not in self.takes:
            raise ValueError(f"'{take.name}' is not a take of this track")
        self.current = take
        self.selected.emit(take)

    def add(self, take: Take) -> None:
        """Add ``take`` at the end and select it (undoable)."""
        row = len(self.takes)
        self._do(_Edit(f"add take {take.name}", lambda: self._insert(row, take), lambda: self._remove(take)))

    def delete(self, take: Take) -> None:
        """Delete ``take`` (undoable)."""
        row = self.takes.index(take)
        self._do(_Edit(f"delete take {take.name}", lambda: self._remove(take), lambda: self._insert(row, take)))

    def rename(self, take: Take, name: str) -> None:
        """Rename ``take`` (undoable); an empty or unchanged name is no edit."""
        old, new = take.name, name.strip()
        if new and new != old:
            self._do(_Edit(f"rename take {old} → {new}", lambda: self._name(take, new), lambda: self._name(take, old)))

    def undo(self) -> None:
        """Undo the last edit (nothing to undo: nothing happens)."""
        self._move(self._undo, self._redo, undo=True)

    def redo(self) -> None:
        """Redo the last undone edit."""
        self._move(self._redo, self._undo, undo=False)

    def _move(self, source: list[_Edit], target: list[_Edit], *, undo: bool) -> None:
        if source:
            edit = source.pop()
            (edit.undo if undo else edit.redo)()
            target.append(edit)
            self.changed.emit()

    @property
    def undo_text(self) -> str | None:
        """What undo would undo, or None."""
        return self._undo[-1].text if self._undo else None

    @property
    def redo_text(self) -> str | None:
        """What redo would redo, or None."""
        return self._redo[-1].text if self._redo else None

    def replace(self, takes: list[Take]) -> None:
        """Another track's takes (not undoable: edits belong to the track they were made on)."""
        self._undo.clear()
        self._redo.clear()
        self.takes = list(takes)
        self.changed.emit()
        self.select(self.takes[-1] if self.takes else None)

    def _do(self, edit: _Edit) -> None:
        edit.redo()
        self._undo.append(edit)
        self._redo.clear()
        self.changed.emit()

    def _insert(self, row: int, take: Take) -> None:
        self.takes.insert(row, take)
        self.changed.emit()
        self.select(take)

    def _remove(self, take: Take) -> None:
        row = self.takes.index(take)
        self.takes.remove(take)
        self.changed.emit()
        if self.current is take:
            self.select(self.takes[min(row, len(self.takes) - 1)] if self.takes else None)

    def _name(self, take: Take, name: str) -> None:
        take.name = name
