"""The session: every user action and every piece of state, without Qt (see :mod:`.session`).

``from deeptrance_gui import Session`` is the scripting API; the window draws the same object.
torch stays out of this import: it comes with the first model or dream.
"""

from deeptrance_gui.core.dream.parts import ORIGINAL
from deeptrance_gui.core.session.choices import MODE_CHOICES, NONE, PANEL, DreamChoices, engine_mode
from deeptrance_gui.core.session.events import Event, SessionEvents
from deeptrance_gui.core.session.mute_solo import MuteSolo
from deeptrance_gui.core.session.runner import InlineRunner, Runner, Task
from deeptrance_gui.core.session.session import LoadedTrack, Session, load_track, musical_analysis
from deeptrance_gui.core.session.takes import Take, TakeStack

__all__ = [
    "MODE_CHOICES",
    "NONE",
    "ORIGINAL",
    "PANEL",
    "DreamChoices",
    "Event",
    "InlineRunner",
    "LoadedTrack",
    "MuteSolo",
    "Runner",
    "Session",
    "SessionEvents",
    "Take",
    "TakeStack",
    "Task",
    "engine_mode",
    "load_track",
    "musical_analysis",
]
