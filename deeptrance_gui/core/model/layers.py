"""The layer catalogue: stable ids of what can be dreamed on, with channel counts.

Ids are used by the CLI (``--intensify LAYER[:CHANNEL]``), sidecars and settings; they never
change meaning. Descriptions say what a layer tends to respond to (from musicnn's design: the
timbral filters span 38/67 mel bands over 7 frames, the temporal ones one band over 0.5–2 s).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LayerInfo:
    """One dreamable layer."""

    layer_id: str
    channels: int
    description: str


MUSICNN_LAYERS = (
    LayerInfo(
        "timbral.k38", 204, "front end, 7 frames × 38 mel bands: narrow-band timbre, pitched partials and formants"
    ),
    LayerInfo(
        "timbral.k67", 204, "front end, 7 frames × 67 mel bands: broad spectral shape, brightness, noise vs tone"
    ),
    LayerInfo("temporal.k128", 51, "front end, 128 frames (2 s) in one band: slow envelopes, sustained notes"),
    LayerInfo("temporal.k64", 51, "front end, 64 frames (1 s): phrasing, bar-level rhythm"),
    LayerInfo("temporal.k32", 51, "front end, 32 frames (0.5 s): beats and onsets"),
    LayerInfo("midend.1", 64, "mid end conv 1 over all front-end maps: combined timbre+rhythm"),
    LayerInfo("midend.2", 64, "mid end conv 2 (residual): longer-range texture"),
    LayerInfo("midend.3", 64, "mid end conv 3 (residual): the most abstract frame features"),
    LayerInfo("backend.penultimate", 200, "back end dense layer, track-level summary"),
    LayerInfo("output", 50, "tag logits; channel = a tag index or name"),
)

VGG_LAYERS = (
    LayerInfo("conv1", 128, "3×3 conv 1: local spectral edges and onsets"),
    LayerInfo("conv2", 128, "3×3 conv 2 (after pooling): short timbral patterns"),
    LayerInfo("conv3", 128, "3×3 conv 3: mid-range texture"),
    LayerInfo("conv4", 128, "3×3 conv 4: larger spectro-temporal shapes"),
    LayerInfo("conv5", 128, "3×3 conv 5: the most abstract maps before the classifier"),
    LayerInfo("output", 50, "tag logits; channel = a tag index or name"),
)


CNN_LAYERS = (
    LayerInfo("conv1", 32, "3×3 conv 1 (from-scratch model): local edges and onsets"),
    LayerInfo("conv2", 64, "3×3 conv 2: short timbral patterns"),
    LayerInfo("conv3", 96, "3×3 conv 3: texture"),
    LayerInfo("conv4", 128, "3×3 conv 4: the most abstract maps"),
    LayerInfo("output", 8, "genre logits; channel = a genre index or name"),
)


def layer_catalogue(architecture: str, *, n_tags: int = 50) -> tuple[LayerInfo, ...]:
    """The layers of ``architecture`` ('musicnn', 'vgg' or 'cnn')."""
    layers = {"musicnn": MUSICNN_LAYERS, "vgg": VGG_LAYERS, "cnn": CNN_LAYERS}[architecture]
    return tuple(
        LayerInfo(layer.layer_id, n_tags, layer.description) if layer.layer_id == "output" else layer
        for layer in layers
    )
