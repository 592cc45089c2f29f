"""Dream modes register themselves here; the engine looks them up by name and imports none.

A mode is what differs between dreams: its :class:`~.parameterisation.Parameterisation` (how
parameters become what the models hear and how they sound), the settings it reads, and, for
modes that play parts (the band), what its take leaves behind (:class:`.parts.PlayedParts`:
stems, MIDI, the sidecar's record, the lanes' view). Modes living outside ``core.dream`` (the band)
register when their module is imported; :mod:`deeptrance_gui.core.modes` imports every
built-in one, so the session and the CLI see them all.

A plain dictionary, not entry points: every mode ships in this package, and a registry that
is filled by ordinary imports keeps the import graph visible to import-linter.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from deeptrance_gui.core.errors import DreamError

if TYPE_CHECKING:
    from deeptrance_gui.core.audio.clip import AudioClip
    from deeptrance_gui.core.dream.settings import DreamSettings, Objective
    from deeptrance_gui.core.dream.steps import DreamStep
    from deeptrance_gui.core.model.loading import LoadedModel


@dataclass(frozen=True)
class DreamCall:
    """One dream as the engine hands it to its mode; the fields are
    :func:`~deeptrance_gui.core.dream.engine.dream`'s arguments."""

    clip: AudioClip
    models: Sequence[LoadedModel]
    objective: Objective
    settings: DreamSettings
    judges: Sequence[LoadedModel] = ()
    region: tuple[float, float] | None = None
    start_s: float | None = None
    seed: int | None = None
    cancel: threading.Event | None = None
    finish: threading.Event | None = None
    live: bool = True


#: A mode's start: check the call and return the engine's generator of steps (errors before
#: the first step).
StartDream = Callable[[DreamCall], Iterator["DreamStep"]]


@dataclass(frozen=True)
class DreamMode:
    """One dream mode.

    Attributes
    ----------
    name
        ``DreamSettings.mode`` and ``--mode`` value.
    reads
        The :class:`DreamSettings` fields beyond the common ones that this mode reads: the
        window enables exactly these controls.
    start
        Checks the call and returns the dream's generator (see :data:`StartDream`).
    part_names
        Parts a take toward a style will have, before the dream (to plan stem files); None for
        modes that play no parts.
    plays
        Whether this mode can add the instruments of ``tag`` (the advice after an EQ dream).
    """

    name: str
    reads: tuple[str, ...]
    start: StartDream
    part_names: Callable[[str], tuple[str, ...]] | None = None
    plays: Callable[[str], bool] | None = None


_MODES: dict[str, DreamMode] = {}


def register_mode(mode: DreamMode) -> DreamMode:
    """Make ``mode`` available by name (a module registers its mode when imported)."""
    _MODES[mode.name] = mode
    return mode


def get_mode(name: str) -> DreamMode:
    """The registered mode ``name``; :class:`DreamError` says which exist."""
    try:
        return _MODES[name]
    except KeyError:
        known = ", ".join(sorted(_MODES)) or "none (import deeptrance_gui.core.modes)"
        raise DreamError(f"no dream mode '{name}'; modes: {known}") from None


def registered_modes() -> tuple[str, ...]:
    """Names of the registered modes, in registration order."""
    return tuple(_MODES)


def mode_that_plays(tag: str) -> DreamMode | None:
    """A registered mode that can add the instruments of ``tag``, if any."""
    return next((m for m in _MODES.values() if m.plays is not None and m.plays(tag)), None)
