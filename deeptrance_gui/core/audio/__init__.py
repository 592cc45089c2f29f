"""Decode, resample and write audio."""

from deeptrance_gui.core.audio.clip import AudioClip, FloatArray, SourceInfo
from deeptrance_gui.core.audio.load import MAX_DURATION_S, load_audio, resample
from deeptrance_gui.core.audio.save import FORMATS, save_audio

__all__ = [
    "FORMATS",
    "MAX_DURATION_S",
    "AudioClip",
    "FloatArray",
    "SourceInfo",
    "load_audio",
    "resample",
    "save_audio",
]
