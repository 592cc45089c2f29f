"""Deep Trance: DeepDream for music.

``from deeptrance_gui import Session`` is the scripting API (see the README); it is imported on
first use, so ``python -m deeptrance_gui`` and the CLI start without it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from deeptrance_gui._version import __version__

if TYPE_CHECKING:
    from deeptrance_gui.core.session import Session

__all__ = ["Session", "__version__"]


def __getattr__(name: str) -> Any:
    if name == "Session":
        from deeptrance_gui.core.session import Session

        return Session
    raise AttributeError(f"module 'deeptrance_gui' has no attribute '{name}'")
