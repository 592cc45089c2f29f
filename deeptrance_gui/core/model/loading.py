"""Load a tagger into torch (the only module here that imports torch and safetensors)."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file

from deeptrance_gui.core.errors import ModelError
from deeptrance_gui.core.model.frontend import MelFrontend
from deeptrance_gui.core.model.networks import Tagger, build_network
from deeptrance_gui.core.model.registry import ModelSpec, get_spec, verify_checksum


@dataclass(frozen=True, eq=False)
class LoadedModel:
    """A frozen, eval-mode tagger with its front end and labels.

    Thread safety: the weights never change after loading (``requires_grad`` off), so one
    instance can serve predictions and dreams on several threads.
    """

    spec: ModelSpec
    network: Tagger
    frontend: MelFrontend = field(default_factory=MelFrontend)

    @property
    def name(self) -> str:
        """Stable model name."""
        return self.spec.name

    @property
    def labels(self) -> tuple[str, ...]:
        """Tag names, index-aligned with the logits."""
        return self.spec.labels

    def probabilities(self, logits: torch.Tensor) -> torch.Tensor:
        """Logits (…, n_tags) → probabilities: sigmoid for taggers, softmax for genre models."""
        if self.spec.activation == "softmax":
            return torch.softmax(logits, dim=-1)
        return torch.sigmoid(logits)

    def tag_index(self, tag: str) -> int:
        """Index of ``tag`` (case-insensitive); :class:`UnknownTagError` otherwise."""
        from deeptrance_gui.core.errors import UnknownTagError

        lowered = [t.lower() for t in self.labels]
        if tag.lower() not in lowered:
            raise UnknownTagError(f"model '{self.name}' has no tag '{tag}'; its tags: {', '.join(self.labels)}")
        return lowered.index(tag.lower())


def load_network_from_file(spec: ModelSpec) -> Tagger:
    """Read and verify the safetensors weights of ``spec`` into a fresh network."""
    verify_checksum(spec)
    path = spec.weights_path
    try:
        with safe_open(str(path), framework="pt") as handle:
            metadata = handle.metadata() or {}
        state = load_file(str(path))
    except (SafetensorError, OSError, ValueError) as err:
        raise ModelError(f"model '{spec.name}': {path.name} is not a valid weights file ({err})") from None
    arch = metadata.get("architecture")
    if arch != spec.architecture:
        raise ModelError(
            f"model '{spec.name}': {path.name} holds a '{arch}' network, the manifest says "
            f"'{spec.architecture}'; reinstall or retrain it"
        )
    labels = json.loads(metadata.get("labels", "[]"))
    if list(labels) != list(spec.labels):
        raise ModelError(f"model '{spec.name}': labels in {path.name} differ from its manifest")
    network = build_network(spec.architecture, n_tags=len(spec.labels))
    try:
        network.load_state_dict(state, strict=True)
    except RuntimeError as err:
        first = str(err).splitlines()[0]
        raise ModelError(
            f"model '{spec.name}': weights do not fit a {spec.architecture} network ({first})"
        ) from None
    network.eval()
    for parameter in network.parameters():
        parameter.requires_grad_(False)  # frozen: +10–25 % speed when dreaming
    return network


_cache: dict[str, LoadedModel] = {}
_cache_lock = threading.Lock()


def load_model(name: str) -> LoadedModel:
    """The loaded model ``name`` (cached per process; safe to call from any thread)."""
    with _cache_lock:
        cached = _cache.get(name)
        if cached is not None:
            return cached
    spec = get_spec(name)
    model = LoadedModel(spec=spec, network=load_network_from_file(spec))
    with _cache_lock:
        return _cache.setdefault(name, model)


def clear_cache() -> None:
    """Forget loaded models (tests, retrained user models)."""
    with _cache_lock:
        _cache.clear()
