"""musicnn and vgg taggers (Pons & Serra, 2019) ported to PyTorch.

Input: log-mel patches (batch, 187, 96) as made by :mod:`deeptrance_gui.core.model.frontend`.
Output: 50 tag logits. Every layer order, padding and the BatchNorm epsilon (1e-3, TF's) match
the original TensorFlow graph; the equivalence test compares against outputs of that graph.

Each network can also return named intermediate activations (``features``) for dreaming:
the ids are stable and listed in :mod:`deeptrance_gui.core.model.layers`.
"""

from __future__ import annotations

from collections.abc import Collection

import torch
import torch.nn.functional as F
from torch import nn

from deeptrance_gui.core.model.frontend import N_MELS, PATCH_FRAMES
from deeptrance_gui.core.model.sparse_pool import conv_relu_bn_max

BN_EPS = 1e-3  # tf.layers.batch_normalization default; many running variances are ≈1e-36


def _bn2d(channels: int) -> nn.BatchNorm2d:
    return nn.BatchNorm2d(channels, eps=BN_EPS)


def _bn1d(channels: int) -> nn.BatchNorm1d:
    return nn.BatchNorm1d(channels, eps=BN_EPS)


class _ConvBlock2d(nn.Module):
    """conv → ReLU → BN (BN after ReLU, as in the original) → max over all mel positions."""

    def __init__(self, out_channels: int, kernel: tuple[int, int], pad_time: tuple[int, int]):
        super().__init__()
        self.pad_time = pad_time
        self.conv = nn.Conv2d(1, out_channels, kernel)
        self.bn = _bn2d(out_channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # x: (B, 1, T, F) → (B, C, T)
        x = F.pad(x, (0, 0, self.pad_time[0], self.pad_time[1]))
        if not self.training and not self.conv.weight.requires_grad:
            # Inference and dreaming (frozen weights): fused max/min pooling and, when the
            # input needs a gradient, the sparse backward. Same values as the plain path.
            return conv_relu_bn_max(x, self.conv, self.bn)
        out: torch.Tensor = self.bn(F.relu(self.conv(x))).amax(dim=3)
        return out


class _MidConv(nn.Module):
    def __init__(self, in_channels: int, out_channels: int):
        super().__init__()
        self.conv = nn.Conv1d(in_channels, out_channels, 7, padding=3)
        self.bn = _bn1d(out_channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.bn(F.relu(self.conv(x)))
        return out


class Musicnn(nn.Module):
    """musicnn: musically motivated front end, dense-residual mid end, pooled back end."""

    architecture = "musicnn"
    FEATURES = (
        "timbral.k38",
        "timbral.k67",
        "temporal.k128",
        "temporal.k64",
        "temporal.k32",
        "midend.1",
        "midend.2",
        "midend.3",
        "backend.penultimate",
        "output",
    )

    def __init__(self, n_tags: int = 50, *, midend_filters: int = 64, backend_units: int = 200):
        super().__init__()
        self.n_tags = n_tags
        self.input_bn = _bn2d(1)
        timbral = int(1.6 * 128)
        temporal = int(1.6 * 32)
        self.timbral_k38 = _ConvBlock2d(timbral, (7, int(0.4 * N_MELS)), (3, 3))
        self.timbral_k67 = _ConvBlock2d(timbral, (7, int(0.7 * N_MELS)), (3, 3))
        # TF 'same' with an even kernel pads (k-1)//2 before and k//2 after.
        self.temporal_k128 = _ConvBlock2d(temporal, (128, 1), (63, 64))
        self.temporal_k64 = _ConvBlock2d(temporal, (64, 1), (31, 32))
        self.temporal_k32 = _ConvBlock2d(temporal, (32, 1), (15, 16))
        front = 2 * timbral + 3 * temporal
        self.mid1 = _MidConv(front, midend_filters)
        self.mid2 = _MidConv(midend_filters, midend_filters)
        self.mid3 = _MidConv(midend_filters, midend_filters)
        pooled = 2 * (front + 3 * midend_filters)
        self.pool_bn = _bn1d(pooled)
        self.dense = nn.Linear(pooled, backend_units)
        self.dense_bn = _bn1d(backend_units)
        self.output = nn.Linear(backend_units, n_tags)

    def features(self, patches: torch.Tensor, wanted: Collection[str] = ("output",)) -> dict[str, torch.Tensor]:
        """Named activations for ``patches`` (B, T, 96); computes only as far as needed.

        Front-end and mid-end activations are (B, C, T); ``backend.penultimate`` (B, 200);
        ``output`` the tag logits (B, n_tags).
        """
        out: dict[str, torch.Tensor] = {}
        x = self.input_bn(patches.unsqueeze(1))
        front = [
            self.timbral_k38(x),
            self.timbral_k67(x),
            self.temporal_k128(x),
            self.temporal_k64(x),
            self.temporal_k32(x),
        ]
        for name, value in zip(self.FEATURES[:5], front, strict=True):
            out[name] = value
        if not set(wanted) - set(out):
            return out
        f = torch.cat(front, dim=1)
        c1 = self.mid1(f)
        c2 = self.mid2(c1) + c1
        c3 = self.mid3(c2) + c2
        out["midend.1"], out["midend.2"], out["midend.3"] = c1, c2, c3
        if not set(wanted) - set(out):
            return out
        dense = torch.cat([f, c1, c2, c3], dim=1)  # (B, 753, T)
        # TF stacks [max, mean] per feature and flattens row-major: interleaved, not concatenated.
        pooled = torch.stack([dense.amax(dim=2), dense.mean(dim=2)], dim=-1).flatten(1)
        penultimate = self.dense_bn(F.relu(self.dense(self.pool_bn(pooled))))
        out["backend.penultimate"] = penultimate
        out["output"] = self.output(penultimate)
        return out

    def forward(self, patches: torch.Tensor) -> torch.Tensor:
        """Log-mel patches (B, T, 96) → tag logits (B, n_tags)."""
        return self.features(patches, ("output",))["output"]


class Vgg(nn.Module):
    """musicnn's vgg baseline: five 3×3 conv blocks; needs exactly 187-frame patches."""

    architecture = "vgg"
    FEATURES = ("conv1", "conv2", "conv3", "conv4", "conv5", "output")
    _POOLS = ((4, 1, 2, 2), (2, 2, 2, 2), (2, 2, 2, 2), (2, 2, 2, 2), (4, 4, 4, 4))

    def __init__(self, n_tags: int = 50, *, filters: int = 128):
        super().__init__()
        self.n_tags = n_tags
        self.input_bn = _bn2d(1)
        self.convs = nn.ModuleList([nn.Conv2d(1 if i == 0 else filters, filters, 3, padding=1) for i in range(5)])
        self.bns = nn.ModuleList([_bn2d(filters) for _ in range(5)])
        self.output = nn.Linear(2 * 1 * filters, n_tags)

    def features(self, patches: torch.Tensor, wanted: Collection[str] = ("output",)) -> dict[str, torch.Tensor]:
        """Named activations: ``convN`` (B, C, T', F') after BN (before pooling), ``output``."""
        if patches.shape[1] != PATCH_FRAMES:
            raise ValueError(f"vgg needs {PATCH_FRAMES}-frame patches, got {patches.shape[1]}")
        out: dict[str, torch.Tensor] = {}
        x = self.input_bn(patches.unsqueeze(1))
        for i, (conv, bn, pool) in enumerate(zip(self.convs, self.bns, self._POOLS, strict=True)):
            x = bn(F.relu(conv(x)))
            out[f"conv{i + 1}"] = x
            if not set(wanted) - set(out):
                return out
            x = F.max_pool2d(x, kernel_size=pool[:2], stride=pool[2:])
        # TF flattens NHWC (time, mel, channel).
        out["output"] = self.output(x.permute(0, 2, 3, 1).flatten(1))
        return out

    def forward(self, patches: torch.Tensor) -> torch.Tensor:
        """Log-mel patches (B, 187, 96) → tag logits (B, n_tags)."""
        return self.features(patches, ("output",))["output"]


class SmallCnn(nn.Module):
    """From-scratch baseline like the original Deep Trance prototype's spectrogram CNN:
    four 3×3 conv blocks (32–128 channels) with pooling, global mean+max pool, linear."""

    architecture = "cnn"
    FEATURES = ("conv1", "conv2", "conv3", "conv4", "output")

    def __init__(self, n_tags: int = 8) -> None:
        super().__init__()
        self.n_tags = n_tags
        self.input_bn = _bn2d(1)
        widths = (32, 64, 96, 128)
        self.convs = nn.ModuleList(
            [nn.Conv2d(1 if i == 0 else widths[i - 1], w, 3, padding=1) for i, w in enumerate(widths)]
        )
        self.bns = nn.ModuleList([_bn2d(w) for w in widths])
        self.dropout = nn.Dropout(0.3)
        self.output = nn.Linear(2 * widths[-1], n_tags)

    def features(self, patches: torch.Tensor, wanted: Collection[str] = ("output",)) -> dict[str, torch.Tensor]:
        """Named activations ``convN`` (B, C, T', F') and ``output`` (B, n_tags)."""
        out: dict[str, torch.Tensor] = {}
        x = self.input_bn(patches.unsqueeze(1))
        for i, (conv, bn) in enumerate(zip(self.convs, self.bns, strict=True)):
            x = bn(F.relu(conv(x)))
            out[f"conv{i + 1}"] = x
            if not set(wanted) - set(out):
                return out
            x = F.max_pool2d(x, 2)
        pooled = torch.cat([x.mean(dim=(2, 3)), x.amax(dim=(2, 3))], dim=1)
        out["output"] = self.output(self.dropout(pooled))
        return out

    def forward(self, patches: torch.Tensor) -> torch.Tensor:
        """Log-mel patches (B, T, 96) → logits (B, n_tags)."""
        return self.features(patches, ("output",))["output"]


Tagger = Musicnn | Vgg | SmallCnn


def build_network(architecture: str, *, n_tags: int = 50) -> Tagger:
    """A fresh network of ``architecture`` ('musicnn', 'vgg' or 'cnn')."""
    if architecture == "musicnn":
        return Musicnn(n_tags)
    if architecture == "vgg":
        return Vgg(n_tags)
    if architecture == "cnn":
        return SmallCnn(n_tags)
    raise ValueError(f"unknown architecture {architecture!r}")
