"""Playback: a Player over an injected output backend (sounddevice, null or manual)."""

from deeptrance_gui.core.playback.backends import (
    ManualBackend,
    NullBackend,
    SoundDeviceBackend,
    create_backend,
    output_devices,
)
from deeptrance_gui.core.playback.player import Player, PlayerStatus

__all__ = [
    "ManualBackend",
    "NullBackend",
    "Player",
    "PlayerStatus",
    "SoundDeviceBackend",
    "create_backend",
    "output_devices",
]
