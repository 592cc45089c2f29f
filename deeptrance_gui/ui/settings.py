"""Versioned, forgiving settings (QSettings in an INI file in the per-user folder).

A bad or foreign value never blocks start-up: every getter validates and falls back to the
default. Tests get their own folder through ``DEEPTRANCE_HOME``, never the user's settings.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from PySide6.QtCore import QByteArray, QSettings

from deeptrance_gui.core import paths
from deeptrance_gui.core.atomic import folder_problem
from deeptrance_gui.core.dream.settings import MAX_COVER_LEVEL_DB, MIN_BAND_LEVEL_DB
from deeptrance_gui.core.errors import SettingsSaveError
from deeptrance_gui.core.session.choices import MODE_CHOICES, DreamChoices

SETTINGS_VERSION = 1
MAX_RECENT = 10


@dataclass
class AppSettings:
    """Everything the app remembers between runs."""

    geometry: QByteArray | None = None
    last_folder: str = ""
    recent_files: list[str] = field(default_factory=list)
    db_range: tuple[float, float] = (-90.0, 0.0)
    output_device: str = ""
    theme: str = "system"
    dream: DreamChoices = field(default_factory=DreamChoices)


def _settings_path() -> Path:
    return paths.user_data_dir() / "settings.ini"


def _store() -> QSettings:
    # Reading never creates the folder: a read-only or missing home must not stop start-up.
    return QSettings(str(_settings_path()), QSettings.Format.IniFormat)


def settings_problem() -> str | None:
    """Why the settings cannot be saved, or None; asked at start-up so that the user learns it
    while the session is still ahead (GUI thread; creates the settings folder if need be)."""
    problem = folder_problem(_settings_path().parent)
    if problem is None:
        return None
    return (
        f"settings cannot be saved: {problem}; they are kept for this session only "
        "(DEEPTRANCE_HOME sets a writable folder)"
    )


def _get(store: QSettings, key: str, default: Any, check: Callable[[Any], Any]) -> Any:
    value = store.value(key, default)
    try:
        return check(value)
    except (TypeError, ValueError):
        return default


def _float_in(low: float, high: float) -> Callable[[Any], float]:
    def check(value: Any) -> float:
        number = float(value)
        if not low <= number <= high:
            raise ValueError(number)
        return number

    return check


def _int_in(low: int, high: int) -> Callable[[Any], int]:
    def check(value: Any) -> int:
        number = int(value)
        if not low <= number <= high:
            raise ValueError(number)
        return number

    return check


def _one_of(*allowed: str) -> Callable[[Any], str]:
    def check(value: Any) -> str:
        if str(value) not in allowed:
            raise ValueError(value)
        return str(value)

    return check


def _str_list(value: Any) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value][:MAX_RECENT]


def load_settings() -> AppSettings:
    """Read settings; unknown versions and bad values fall back to defaults."""
    store = _store()
    version = _get(store, "version", SETTINGS_VERSION, int)
    if version != SETTINGS_VERSION:
        return AppSettings()
    low = _get(store, "view/db_min", -90.0, _float_in(-200.0, 50.0))
    high = _get(store, "view/db_max", 0.0, _float_in(-150.0, 100.0))
    if high - low < 6:
        low, high = -90.0, 0.0
    geometry = store.value("window/geometry")
    defaults = DreamChoices()
    dream = DreamChoices(
        mode=_get(store, "dream/mode", defaults.mode, _one_of(*(key for key, _, _ in MODE_CHOICES))),
        dreamer=_get(store, "dream/dreamer", defaults.dreamer, str),
        judge=_get(store, "dream/judge", defaults.judge, str),
        toward=_get(store, "dream/toward", defaults.toward, str),
        away=_get(store, "dream/away", defaults.away, str),
        layer=_get(store, "dream/layer", defaults.layer, str),
        channel=_get(store, "dream/channel", defaults.channel, _int_in(-1, 1000)),
        iterations=_get(store, "dream/iterations", defaults.iterations, _int_in(1, 500)),
        strength_db=_get(store, "dream/strength_db", defaults.strength_db, _float_in(3.0, 12.0)),
        seed=_get(store, "dream/seed", defaults.seed, _int_in(0, 2**31 - 1)),
        band_level_db=_get(store, "dream/band_level_db", defaults.band_level_db, _float_in(MIN_BAND_LEVEL_DB, 0.0)),
        cover_amount_db=_get(
            store, "dream/cover_amount_db", defaults.cover_amount_db, _float_in(MIN_BAND_LEVEL_DB, MAX_COVER_LEVEL_DB)
        ),
        soundfont=_get(store, "dream/soundfont", defaults.soundfont, str),
    )
    return AppSettings(
        geometry=geometry if isinstance(geometry, QByteArray) else None,
        last_folder=_get(store, "files/last_folder", "", str),
        recent_files=_get(store, "files/recent", [], _str_list),
        db_range=(low, high),
        output_device=_get(store, "audio/output_device", "", str),
        theme=_get(store, "view/theme", "system", _one_of("system", "light", "dark")),
        dream=dream,
    )


def save_settings(settings: AppSettings) -> None:
    """Write settings (GUI thread); :class:`SettingsSaveError` when they cannot be."""
    problem = settings_problem()
    if problem:
        raise SettingsSaveError(problem)
    store = _store()
    store.setValue("version", SETTINGS_VERSION)
    if settings.geometry is not None:
        store.setValue("window/geometry", settings.geometry)
    store.setValue("files/last_folder", settings.last_folder)
    store.setValue("files/recent", settings.recent_files[:MAX_RECENT])
    store.setValue("view/db_min", settings.db_range[0])
    store.setValue("view/db_max", settings.db_range[1])
    store.setValue("view/theme", settings.theme)
    store.setValue("audio/output_device", settings.output_device)
    for item in fields(DreamChoices):
        store.setValue(f"dream/{item.name}", getattr(settings.dream, item.name))
    store.sync()
    if store.status() != QSettings.Status.NoError:
        raise SettingsSaveError(f"settings could not be written to {_settings_path()} ({store.status().name})")


def remember_file(settings: AppSettings, path: str) -> None:
    """Put ``path`` first in the recent files."""
    recent = [p for p in settings.recent_files if p != path]
    settings.recent_files = [path, *recent][:MAX_RECENT]
