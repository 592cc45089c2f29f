"""Find, verify and load taggers: the shipped musicnn ports and the user's own models.

A models folder holds ``<name>.safetensors`` (weights, metadata: architecture, dataset,
labels), ``<name>.json`` (manifest) and ``SHA256SUMS``. Weights are checked against the sums
before they are read; loading never unpickles anything.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from deeptrance_gui.core import paths
from deeptrance_gui.core.errors import ModelError

SHIPPED_MODELS = ("msd-musicnn", "mtt-musicnn", "msd-vgg", "mtt-vgg")
DEFAULT_MODEL = "msd-musicnn"
CHECKSUMS = "SHA256SUMS"


@dataclass(frozen=True)
class ModelSpec:
    """A model that can be loaded (nothing read but its manifest)."""

    name: str
    architecture: str
    dataset: str
    labels: tuple[str, ...]
    weights_path: Path
    user_trained: bool
    description: str = ""
    activation: str = "sigmoid"  # taggers: independent tags; trained genre models: "softmax"

    @property
    def judge_default(self) -> str:
        """The independent judge for this dreamer: other training data (MSD ↔ MTT)."""
        return "mtt-musicnn" if self.dataset == "MSD" else "msd-musicnn"

    @property
    def judge_panel_default(self) -> tuple[str, ...]:
        """The independent judge panel for this dreamer: both architectures trained on the
        other dataset (MSD ↔ MTT), so neither shares training data with the dreamer."""
        other = "mtt" if self.dataset == "MSD" else "msd"
        return (f"{other}-musicnn", f"{other}-vgg")


def _read_sums(folder: Path) -> dict[str, str]:
    sums_file = folder / CHECKSUMS
    if not sums_file.is_file():
        return {}
    sums: dict[str, str] = {}
    for line in sums_file.read_text().splitlines():
        parts = line.split()
        if len(parts) == 2:
            sums[parts[1].lstrip("*")] = parts[0]
    return sums


def sha256_file(path: Path) -> str:
    """Hex SHA-256 of a file."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _spec_from_manifest(manifest_path: Path, *, user_trained: bool) -> ModelSpec:
    try:
        data = json.loads(manifest_path.read_text())
        return ModelSpec(
            name=str(data["name"]),
            architecture=str(data["architecture"]),
            dataset=str(data.get("dataset", "user")),
            labels=tuple(str(t) for t in data["labels"]),
            weights_path=manifest_path.with_suffix(".safetensors"),
            user_trained=user_trained,
            description=str(data.get("description", data.get("source", ""))),
            activation="softmax" if data.get("activation") == "softmax" else "sigmoid",
        )
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise ModelError(f"{manifest_path}: unreadable model manifest ({err})") from None


def model_folders() -> list[tuple[Path, bool]]:
    """(folder, user_trained) pairs searched for models, shipped first."""
    return [(paths.shipped_models_dir(), False), (paths.user_models_dir(), True)]


def scan_models() -> tuple[dict[str, ModelSpec], list[str]]:
    """Every model found, by stable name, and one line per user model that was skipped
    (which file, and why). A broken shipped model raises: the install itself is damaged."""
    found: dict[str, ModelSpec] = {}
    problems: list[str] = []
    for folder, user in model_folders():
        if not folder.is_dir():
            continue
        for manifest in sorted(folder.glob("*.json")):
            try:
                spec = _spec_from_manifest(manifest, user_trained=user)
            except ModelError as err:
                if not user:
                    raise
                problems.append(f"skipped {manifest.name}: {err}")
                continue
            found.setdefault(spec.name, spec)
    return found, problems


def available_models() -> dict[str, ModelSpec]:
    """Every usable model, by stable name; broken user models are left out (see :func:`scan_models`)."""
    return scan_models()[0]


def get_spec(name: str) -> ModelSpec:
    """The spec of model ``name``, or a :class:`ModelError` listing the known names."""
    models = available_models()
    if name not in models:
        known = ", ".join(sorted(models)) or "none"
        raise ModelError(f"unknown model '{name}'; available: {known}")
    return models[name]


def verify_checksum(spec: ModelSpec) -> None:
    """Compare the weights with the folder's SHA256SUMS; raise :class:`ModelError` if off."""
    path = spec.weights_path
    if not path.is_file():
        raise ModelError(
            f"model '{spec.name}': weights file {path} is missing; reinstall Deep Trance (or retrain the model)"
        )
    expected = _read_sums(path.parent).get(path.name)
    if expected is None:
        raise ModelError(f"model '{spec.name}': no checksum for {path.name} in {path.parent / CHECKSUMS}")
    if sha256_file(path) != expected:
        raise ModelError(
            f"model '{spec.name}': {path.name} is corrupt (checksum mismatch); reinstall Deep "
            "Trance or retrain the model"
        )


def write_checksums(folder: Path) -> None:
    """(Re)write ``SHA256SUMS`` for every model file in ``folder`` (used by training)."""
    files = sorted(p for p in folder.iterdir() if p.suffix in {".safetensors", ".json"})
    tmp = folder / f".{CHECKSUMS}.tmp"
    tmp.write_text("".join(f"{sha256_file(p)}  {p.name}\n" for p in files))
    tmp.replace(folder / CHECKSUMS)
