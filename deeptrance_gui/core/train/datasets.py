"""Datasets: FMA (tracks.csv + fma_small/NNN/NNNNNN.mp3) and one folder per genre.

Both produce :class:`Item` s with a split ('training', 'validation', 'test'). FMA uses the
official split from ``tracks.csv``; a folder dataset gets a deterministic 80/10/10 split by a
hash of the file name (stable when files are added).
"""

from __future__ import annotations

import csv
import hashlib
from dataclasses import dataclass
from pathlib import Path

from deeptrance_gui.core.errors import TrainingError

AUDIO_EXTENSIONS = {".wav", ".flac", ".mp3", ".ogg", ".opus", ".aif", ".aiff", ".m4a"}
SPLITS = ("training", "validation", "test")


@dataclass(frozen=True)
class Item:
    """One labelled clip."""

    path: Path
    label: str
    split: str


@dataclass(frozen=True)
class Dataset:
    """Labelled clips and the label set (sorted)."""

    items: tuple[Item, ...]
    labels: tuple[str, ...]

    def split(self, name: str) -> tuple[Item, ...]:
        """Items of one split."""
        return tuple(i for i in self.items if i.split == name)


def _hash_split(name: str) -> str:
    value = int(hashlib.sha1(name.encode()).hexdigest()[:8], 16) % 10
    return "test" if value == 0 else "validation" if value == 1 else "training"


def folder_dataset(root: Path) -> Dataset:
    """``root/<genre>/*.wav|flac|mp3…``: one label per sub-folder."""
    if not root.is_dir():
        raise TrainingError(f"{root}: not a folder; give a folder with one sub-folder per genre")
    items = []
    for genre_dir in sorted(p for p in root.iterdir() if p.is_dir()):
        for path in sorted(genre_dir.rglob("*")):
            if path.suffix.lower() in AUDIO_EXTENSIONS and path.is_file():
                items.append(Item(path, genre_dir.name, _hash_split(f"{genre_dir.name}/{path.name}")))
    labels = tuple(sorted({i.label for i in items}))
    if len(labels) < 2:
        raise TrainingError(f"{root}: found {len(labels)} genre folder(s) with audio; need at least 2")
    return Dataset(tuple(items), labels)


def fma_dataset(root: Path, *, subset: str = "small") -> Dataset:
    """FMA layout: ``root/fma_metadata/tracks.csv`` and ``root/fma_<subset>/NNN/NNNNNN.mp3``.

    tracks.csv has a 3-row header (column group, column, 'track_id'); the columns used are
    ``set/split``, ``set/subset`` and ``track/genre_top``.
    """
    csv_path = root / "fma_metadata" / "tracks.csv"
    audio_root = root / f"fma_{subset}"
    if not csv_path.is_file():
        raise TrainingError(f"{csv_path} not found; download fma_metadata.zip and unzip it into {root}")
    if not audio_root.is_dir():
        raise TrainingError(f"{audio_root} not found; unzip fma_{subset}.zip into {root}")
    with open(csv_path, newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    if len(rows) < 4:
        raise TrainingError(f"{csv_path}: too short to be FMA's tracks.csv")
    groups, names = rows[0], rows[1]
    columns = {f"{g}/{n}": k for k, (g, n) in enumerate(zip(groups, names, strict=False))}
    try:
        split_col, subset_col, genre_col = columns["set/split"], columns["set/subset"], columns["track/genre_top"]
    except KeyError as err:
        raise TrainingError(f"{csv_path}: column {err} missing; is this FMA's tracks.csv?") from None
    wanted = {"small": {"small"}, "medium": {"small", "medium"}, "large": {"small", "medium", "large"}}
    items = []
    for row in rows[3:]:
        if len(row) <= max(split_col, subset_col, genre_col) or not row[0].isdigit():
            continue
        if row[subset_col] not in wanted.get(subset, {subset}) or not row[genre_col]:
            continue
        track_id = int(row[0])
        path = audio_root / f"{track_id:06d}"[:3] / f"{track_id:06d}.mp3"
        if path.is_file():
            items.append(Item(path, row[genre_col], row[split_col]))
    labels = tuple(sorted({i.label for i in items}))
    if not items:
        raise TrainingError(f"{root}: no FMA tracks found for subset '{subset}'")
    return Dataset(tuple(items), labels)
