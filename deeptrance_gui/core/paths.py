"""Where resources, shipped models and per-user data live, in the source tree and in a bundle.

One module answers every "where is …" question so a frozen PyInstaller bundle and a source
checkout behave the same: the bundle puts ``resources/`` and ``models/`` beside the
executable's ``_internal`` folder (``sys._MEIPASS``), a checkout has them at the repo root.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import platformdirs

APP_NAME = "DeepTrance"


def install_root() -> Path:
    """Folder that holds ``resources/`` and ``models/`` (repo root or bundle root)."""
    frozen_root = getattr(sys, "_MEIPASS", None)
    if frozen_root is not None:
        return Path(frozen_root)
    return Path(__file__).resolve().parents[2]


def resources_dir() -> Path:
    """Icons, style and the demo clip."""
    return install_root() / "resources"


def shipped_models_dir() -> Path:
    """Pretrained weights shipped with the app (read-only)."""
    return install_root() / "models"


def demo_clip_path() -> Path:
    """The bundled demo clip opened on first launch."""
    return resources_dir() / "demo" / "demo.flac"


def user_data_dir() -> Path:
    """Per-user data folder; ``DEEPTRANCE_HOME`` overrides it (tests, portable installs)."""
    override = os.environ.get("DEEPTRANCE_HOME")
    if override:
        return Path(override)
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def user_models_dir() -> Path:
    """Where training writes user models; the registry lists them beside the shipped ones."""
    return user_data_dir() / "models"


def cache_dir() -> Path:
    """Feature caches and other data that can be rebuilt."""
    override = os.environ.get("DEEPTRANCE_HOME")
    if override:
        return Path(override) / "cache"
    return Path(platformdirs.user_cache_dir(APP_NAME, appauthor=False))
