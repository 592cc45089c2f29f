"""Every built-in dream mode, registered with the engine by importing it, and the one way to
start a :class:`~deeptrance_gui.core.dream.takes.DreamRequest` by its mode's name.

The engine (:mod:`deeptrance_gui.core.dream.engine`) imports no mode; this module is where
they meet (the session, the CLI and the tools import it). A new mode is a module that calls
:func:`~deeptrance_gui.core.dream.modes.register_mode`, plus one import line here.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

from deeptrance_gui.core.audio.clip import AudioClip

# Imported for their registration (torch-heavy: this module is imported when a dream starts).
from deeptrance_gui.core.band import cover as _cover_mode  # noqa: F401
from deeptrance_gui.core.band import mode as _band_mode  # noqa: F401
from deeptrance_gui.core.dream import gain_mask as _mask_mode  # noqa: F401
from deeptrance_gui.core.dream import waveform as _waveform_mode  # noqa: F401
from deeptrance_gui.core.dream.engine import dream, start
from deeptrance_gui.core.dream.modes import DreamCall, get_mode, registered_modes
from deeptrance_gui.core.dream.steps import DreamStep
from deeptrance_gui.core.dream.takes import DreamRequest

__all__ = ["dream", "dream_request", "get_mode", "registered_modes"]


def dream_request(
    clip: AudioClip,
    request: DreamRequest,
    *,
    load_model: Callable[[str], Any],
    cancel: threading.Event | None = None,
    finish: threading.Event | None = None,
    live: bool = True,
) -> Iterator[DreamStep]:
    """Start the dream ``request`` describes; models come from ``load_model(name)``;
    ``cancel``, ``finish`` and ``live`` as in :func:`~deeptrance_gui.core.dream.engine.dream`.

    Raises what :func:`~deeptrance_gui.core.dream.engine.dream` raises, before the first step.
    """
    return start(
        DreamCall(
            clip=clip,
            models=[load_model(name) for name in request.dreamers],
            objective=request.objective,
            settings=request.settings,
            judges=[load_model(name) for name in request.judges],
            region=request.region,
            start_s=request.start_s,
            seed=request.seed,
            cancel=cancel,
            finish=finish,
            live=live,
        )
    )
