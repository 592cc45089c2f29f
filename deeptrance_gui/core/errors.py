"""Typed errors: one class per thing a user can get wrong, each message says what to do.

Every error raised on purpose by Deep Trance derives from :class:`DeepTranceError`, so the CLI and
the window can show its message as it is (one line, no traceback).
"""

from __future__ import annotations

from pathlib import Path


class DeepTranceError(Exception):
    """Base of every error Deep Trance raises on purpose; ``str(err)`` is meant for the user."""


# --- audio loading -------------------------------------------------------------------------


class AudioLoadError(DeepTranceError):
    """A file could not be loaded as audio.

    Parameters
    ----------
    path
        The file the user asked for.
    message
        What went wrong and what to do, without the path (it is prefixed).
    """

    def __init__(self, path: str | Path, message: str) -> None:
        self.path = Path(path)
        self.reason = message
        super().__init__(f"{self.path}: {message}")


class AudioFileNotFoundError(AudioLoadError):
    """The path does not exist."""


class NotARegularFileError(AudioLoadError):
    """A directory, FIFO, socket or device file: refused before opening (never blocks)."""


class AudioPermissionError(AudioLoadError):
    """The file exists but cannot be read."""


class EmptyAudioError(AudioLoadError):
    """Zero bytes, or a header with no sample data."""


class NotAudioError(AudioLoadError):
    """The content is not audio (text, image, PDF, archive … with an audio extension)."""


class UnsupportedFormatError(AudioLoadError):
    """Audio in a format, rate or channel layout that Deep Trance does not decode."""


class CorruptAudioError(AudioLoadError):
    """The data could not be decoded at all."""


class TrackTooLongError(AudioLoadError):
    """Longer than the duration Deep Trance loads (memory stays bounded)."""


class FileChangedError(AudioLoadError):
    """The file was modified while it was being read."""


# --- audio writing --------------------------------------------------------------------------


class AudioWriteError(DeepTranceError):
    """An export could not be written; nothing at the destination was changed."""


# --- models ---------------------------------------------------------------------------------


class ModelError(DeepTranceError):
    """A model file is missing, corrupt, from another architecture, or unknown."""


class UnknownTagError(ModelError):
    """A tag, genre or layer name the model does not have."""


# --- dreaming -------------------------------------------------------------------------------


class AnalysisError(DeepTranceError):
    """The music cannot be analysed for a band to play along (silence, no steady beat, too short)."""


class SoundFontError(DeepTranceError):
    """A SoundFont is missing, unreadable, corrupt or has no usable presets."""


class DreamError(DeepTranceError):
    """A dream was refused (bad settings, too short or silent audio, judge among dreamers …)."""


# --- playback -------------------------------------------------------------------------------


class PlaybackError(DeepTranceError):
    """The audio output could not be opened or failed while playing."""


# --- settings / training ------------------------------------------------------------------


class SettingsSaveError(DeepTranceError):
    """The settings could not be written; the app goes on with them in memory."""


class TrainingError(DeepTranceError):
    """A dataset or training run could not go on."""
