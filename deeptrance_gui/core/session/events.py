"""Events a :class:`~deeptrance_gui.core.session.Session` emits: a plain callback registry.

Chosen over psygnal (napari's choice) because every event here is emitted on the session's own
thread (the GUI thread in the app, the script's thread elsewhere), so nothing needs psygnal's
thread queueing, and forty lines are cheaper than a compiled dependency in the bundle. A
callback that raises is not swallowed: tests see it, as they would see a Qt slot's error.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


class Event:
    """One kind of change; ``connect(callback)``, then every ``emit(*args)`` calls it."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._callbacks: list[Callable[..., Any]] = []

    def connect(self, callback: Callable[..., Any]) -> Callable[..., Any]:
        """Call ``callback(*args)`` on every emit, in the order connected; returns it."""
        self._callbacks.append(callback)
        return callback

    def disconnect(self, callback: Callable[..., Any]) -> None:
        """Stop calling ``callback`` (a callback never connected is ignored)."""
        if callback in self._callbacks:
            self._callbacks.remove(callback)

    def emit(self, *args: Any) -> None:
        """Call every connected callback with ``args``."""
        for callback in list(self._callbacks):
            callback(*args)

    def __repr__(self) -> str:
        return f"<Event {self.name}: {len(self._callbacks)} callbacks>"


class SessionEvents:
    """Everything a session tells its observers. Arguments, in order, per event:

    * ``status(text, timeout_ms)``: a passing message (the status bar);
    * ``error(title, message)``: something failed or was refused; what to do is in ``message``;
    * ``busy(on)``: loading a track or the models;
    * ``model_loaded(name)``, ``models_ready()``, ``pace_measured(seconds_per_patch_iteration)``;
    * ``track_loaded(track)``, ``load_failed(message)``, ``analysis_ready(analysis or None)``;
    * ``prediction_shown(prediction)``: what the listening model hears in what plays now;
    * ``dream_started(request, base_take or None)``, ``dream_step(step)``,
      ``dream_finished(take)``, ``dream_cancelled()``, ``dream_failed(message, refused)``,
      ``dream_ended()`` (its worker is done, whatever the outcome);
    * ``audition(take or None)``: the take (or the original) that plays now;
    * ``band_mixed(audio)``: a mute/solo mix was published;
    * ``exported(path)``, ``take_journaled(path)``, ``soundfont_changed(path, name)``;
    * ``output_changed()``: playback moved to another output.
    """

    NAMES = (
        "status", "error", "busy", "model_loaded", "models_ready", "pace_measured",
        "track_loaded", "load_failed", "analysis_ready", "prediction_shown",
        "dream_started", "dream_step", "dream_finished", "dream_cancelled", "dream_failed", "dream_ended",
        "audition", "band_mixed", "exported", "take_journaled", "soundfont_changed", "output_changed",
    )  # fmt: skip

    def __init__(self) -> None:
        for name in self.NAMES:
            setattr(self, name, Event(name))

    def __getattr__(self, name: str) -> Event:  # for the type checker: every name is an Event
        raise AttributeError(name)
