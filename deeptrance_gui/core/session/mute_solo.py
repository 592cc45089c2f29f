"""The parts of the take being auditioned (a band) and which of them are muted or soloed.
Qt-free (the window's lanes observe it, as napari's QtViewer observes its ViewerModel), so the
rules live here and are tested without a display."""

from __future__ import annotations

from collections.abc import Callable

from deeptrance_gui.core.dream.parts import ORIGINAL, PlayedParts


class MuteSolo:
    """Mute/solo state over one played take (:class:`PlayedParts`); tells observers when what is
    heard changes. The mix itself is the take's :meth:`PlayedParts.mix` of a snapshot."""

    def __init__(self) -> None:
        self.take: PlayedParts | None = None
        self.start_s = 0.0  # where the take's region starts in the track
        self.muted: set[str] = set()
        self.soloed: set[str] = set()
        self._observers: list[Callable[[], None]] = []

    def observe(self, callback: Callable[[], None]) -> None:
        """Call ``callback()`` after every change."""
        self._observers.append(callback)

    def _changed(self) -> None:
        for callback in self._observers:
            callback()

    @property
    def names(self) -> tuple[str, ...]:
        """The parts, then the original."""
        return () if self.take is None else (*self.take.part_names, ORIGINAL)

    def set_take(self, take: PlayedParts | None, *, start_s: float = 0.0) -> None:
        """Audition another take's parts (mute/solo reset: parts differ between takes)."""
        self.take = take
        self.start_s = start_s
        self.muted.clear()
        self.soloed.clear()
        self._changed()

    def set_muted(self, name: str, muted: bool) -> None:
        """Mute or unmute a part (or the original)."""
        self._check(name)
        (self.muted.add if muted else self.muted.discard)(name)
        self._changed()

    def set_soloed(self, name: str, soloed: bool) -> None:
        """Solo or unsolo a part; while any part is soloed only soloed parts are heard."""
        self._check(name)
        (self.soloed.add if soloed else self.soloed.discard)(name)
        self._changed()

    def heard(self) -> tuple[str, ...]:
        """The names that are audible now."""
        if self.soloed:
            return tuple(n for n in self.names if n in self.soloed)
        return tuple(n for n in self.names if n not in self.muted)

    @property
    def everything_heard(self) -> bool:
        """No mute or solo in effect: the take's own mix is what plays."""
        return set(self.heard()) == set(self.names)

    def _check(self, name: str) -> None:
        if name not in self.names:
            raise KeyError(f"no part '{name}' in this band; parts: {', '.join(self.names)}")
