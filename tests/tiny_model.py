"""A tiny random tagger with the LoadedModel interface: dream and UI tests run in seconds."""

from __future__ import annotations

from collections.abc import Collection

import torch
from torch import nn

from deeptrance_gui.core.model.frontend import MelFrontend
from deeptrance_gui.core.model.loading import LoadedModel
from deeptrance_gui.core.model.registry import ModelSpec

TINY_LABELS = ("rock", "pop", "electronic", "jazz", "ambient", "metal")


class TinyTagger(nn.Module):
    """conv (16 ch) → ReLU → mean/max pool → linear; same features() contract as musicnn."""

    architecture = "tiny"
    FEATURES = ("conv1", "output")

    def __init__(self, n_tags: int, seed: int) -> None:
        super().__init__()
        generator = torch.Generator().manual_seed(seed)
        self.conv = nn.Conv2d(1, 16, (5, 8), stride=(2, 4))
        self.output = nn.Linear(32, n_tags)
        with torch.no_grad():
            for p in self.parameters():
                p.copy_(torch.randn(p.shape, generator=generator) * 0.3)

    def features(self, patches: torch.Tensor, wanted: Collection[str] = ("output",)) -> dict[str, torch.Tensor]:
        x = torch.relu(self.conv((patches.unsqueeze(1) - 2.0) / 2.0))
        out = {"conv1": x}
        pooled = torch.cat([x.amax(dim=(2, 3)), x.mean(dim=(2, 3))], dim=1)
        out["output"] = self.output(pooled)
        return out

    def forward(self, patches: torch.Tensor) -> torch.Tensor:
        return self.features(patches)["output"]


def tiny_model(name: str = "tiny-a", *, seed: int = 0, dataset: str = "tiny") -> LoadedModel:
    """A frozen tiny tagger named ``name``."""
    network = TinyTagger(len(TINY_LABELS), seed).eval()
    for p in network.parameters():
        p.requires_grad_(False)
    spec = ModelSpec(
        name=name,
        architecture="tiny",
        dataset=dataset,
        labels=TINY_LABELS,
        weights_path=__import__("pathlib").Path("/nonexistent"),
        user_trained=True,
        description="tiny random test model",
    )
    return LoadedModel(spec=spec, network=network, frontend=MelFrontend())  # type: ignore[arg-type]
