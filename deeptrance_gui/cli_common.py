"""Helpers shared by the ``deeptrance`` subcommand modules (each imports this, never each other)."""

from __future__ import annotations

from pathlib import Path

AUDIO_EXTENSIONS = {".wav", ".flac", ".mp3", ".ogg", ".opus", ".aif", ".aiff", ".m4a", ".aac"}


def audio_files(target: Path) -> list[Path]:
    """``target`` itself, or the audio files below it (sorted) if it is a folder."""
    if target.is_dir():
        return sorted(p for p in target.rglob("*") if p.suffix.lower() in AUDIO_EXTENSIONS)
    return [target]
