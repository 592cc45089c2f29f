"""The training loop: a generator of progress records, then a report.

Modes
-----
frozen
    musicnn backbone fixed (weights of ``base_model``): its 200-d penultimate features are
    computed once per patch and a new linear head is trained on them (mixup on features).
partial
    front and mid end fixed; the pooled 1506-d features are computed once and the back end
    (BN, dense 200, BN, head) is trained.
full
    every musicnn weight trains, on log-mel patches with augmentation (gain, small
    time/pitch shifts, mixup). Slow on a CPU.
cnn
    the from-scratch small CNN (the original prototype's kind of model) on log-mel patches
    with the same augmentation.

Class weighting (inverse frequency), AdamW with a cosine schedule, early stopping on clip-level
validation accuracy, seeds. Under ``torchrun`` (WORLD_SIZE > 1) the same loop runs with
DistributedDataParallel (gloo on CPU, nccl on CUDA) and a distributed sampler; rank 0 writes.
"""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import torch
import torch.nn.functional as F
from safetensors.torch import load_file, save_file
from torch import nn

from deeptrance_gui.core import paths
from deeptrance_gui.core.errors import TrainingError
from deeptrance_gui.core.model.networks import Musicnn, SmallCnn
from deeptrance_gui.core.model.registry import write_checksums
from deeptrance_gui.core.train.features import CacheEntry

Mode = Literal["frozen", "partial", "full", "cnn"]


@dataclass(frozen=True)
class TrainConfig:
    """How to train."""

    name: str
    mode: Mode = "frozen"
    base_model: str = "msd-musicnn"
    epochs: int = 40
    batch_size: int = 64
    learning_rate: float | None = None
    weight_decay: float = 1e-4
    patience: int = 8
    mixup_alpha: float = 0.2
    seed: int = 0
    device: str = "cpu"

    def lr(self) -> float:
        """Learning rate: explicit, or a per-mode default."""
        if self.learning_rate is not None:
            return self.learning_rate
        return {"frozen": 3e-3, "partial": 1e-3, "full": 1e-4, "cnn": 1e-3}[self.mode]


@dataclass(frozen=True)
class TrainProgress:
    """One finished epoch (or the feature stage)."""

    stage: str
    epoch: int
    epochs: int
    train_loss: float
    val_accuracy: float
    best_val_accuracy: float
    elapsed_s: float
    eta_s: float


@dataclass(frozen=True)
class ClassMetrics:
    """Precision and recall of one label."""

    label: str
    precision: float
    recall: float
    support: int


@dataclass(frozen=True)
class TrainReport:
    """What training produced."""

    name: str
    labels: tuple[str, ...]
    mode: str
    val_accuracy: float
    test_accuracy: float | None
    val_classes: tuple[ClassMetrics, ...]
    test_classes: tuple[ClassMetrics, ...]
    confusion: list[list[int]]  # test (or validation when there is no test split)
    curves: list[dict[str, float]]
    weights_path: Path | None
    epochs_run: int
    stopped_early: bool
    extra: dict[str, Any] = field(default_factory=dict)


def _dist() -> tuple[int, int]:
    if int(os.environ.get("WORLD_SIZE", "1")) > 1 and torch.distributed.is_available():
        if not torch.distributed.is_initialized():
            backend = "nccl" if torch.cuda.is_available() else "gloo"
            torch.distributed.init_process_group(backend=backend)
        return torch.distributed.get_rank(), torch.distributed.get_world_size()
    return 0, 1


class _Head(nn.Module):
    """The trainable part for frozen/partial modes, on precomputed features."""

    def __init__(self, backbone: Musicnn, mode: Mode, n_labels: int) -> None:
        super().__init__()
        self.mode = mode
        if mode == "partial":
            self.pool_bn = backbone.pool_bn
            self.dense = backbone.dense
            self.dense_bn = backbone.dense_bn
        self.output = nn.Linear(backbone.dense.out_features, n_labels)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        if self.mode == "partial":
            features = self.dense_bn(F.relu(self.dense(self.pool_bn(features))))
        out: torch.Tensor = self.output(features)
        return out


def _backbone(base_model: str) -> Musicnn:
    from deeptrance_gui.core.model.loading import load_network_from_file
    from deeptrance_gui.core.model.registry import get_spec

    spec = get_spec(base_model)
    if spec.architecture != "musicnn":
        raise TrainingError(f"fine-tuning needs a musicnn base model, '{base_model}' is {spec.architecture}")
    network = load_network_from_file(spec)
    assert isinstance(network, Musicnn)
    return network


@torch.no_grad()
def _precompute(
    backbone: Musicnn, patches: npt.NDArray[np.float32], mode: Mode, device: torch.device, batch: int = 64
) -> torch.Tensor:
    """Penultimate (frozen) or pooled (partial) features of every patch."""
    backbone.eval().to(device)
    out = []
    for start in range(0, patches.shape[0], batch):
        x = torch.from_numpy(np.ascontiguousarray(patches[start : start + batch])).to(device)
        if mode == "frozen":
            out.append(backbone.features(x, ("backend.penultimate",))["backend.penultimate"])
        else:
            acts = backbone.features(x, ("midend.3",))
            front = torch.cat([acts[k] for k in Musicnn.FEATURES[:5]], dim=1)
            dense = torch.cat([front, acts["midend.1"], acts["midend.2"], acts["midend.3"]], dim=1)
            out.append(torch.stack([dense.amax(dim=2), dense.mean(dim=2)], dim=-1).flatten(1))
    return torch.cat(out) if out else torch.zeros(0)


def _augment(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Random gain (±6 dB in power, through the log), time roll, ±1 mel-band shift."""
    gain = (10 ** ((torch.rand(x.shape[0], 1, 1, generator=generator) - 0.5) * 1.2)).to(x.device)
    mel = (torch.pow(10.0, x) - 1.0) / 10000.0
    x = torch.log10(1.0 + 10000.0 * mel * gain)
    shift_t = int(torch.randint(0, x.shape[1], (1,), generator=generator))
    shift_f = int(torch.randint(-1, 2, (1,), generator=generator))
    return torch.roll(x, shifts=(shift_t, shift_f), dims=(1, 2))


def _class_metrics(
    labels: tuple[str, ...], truth: npt.NDArray[np.int64], guess: npt.NDArray[np.int64]
) -> tuple[tuple[ClassMetrics, ...], list[list[int]]]:
    n = len(labels)
    confusion = np.zeros((n, n), dtype=int)
    for t, g in zip(truth, guess, strict=True):
        confusion[t, g] += 1
    metrics = []
    for k, label in enumerate(labels):
        tp = confusion[k, k]
        precision = tp / confusion[:, k].sum() if confusion[:, k].sum() else 0.0
        recall = tp / confusion[k].sum() if confusion[k].sum() else 0.0
        metrics.append(ClassMetrics(label, float(precision), float(recall), int(confusion[k].sum())))
    return tuple(metrics), confusion.tolist()


def train(
    entries: list[CacheEntry],
    patches: npt.NDArray[np.float32],
    labels: tuple[str, ...],
    config: TrainConfig,
    *,
    work_dir: Path,
    resume: bool = False,
    cancel: Callable[[], bool] | None = None,
) -> Iterator[TrainProgress | TrainReport]:
    """Train on cached patches; yields progress per epoch and finally a :class:`TrainReport`.

    Parameters
    ----------
    entries
        Clips with their patch ranges in ``patches`` and their split.
    patches
        float32, shape (n_patches, 187, 96) (memory-mapped).
    labels
        Label names; an entry's label must be one of them.
    work_dir
        Checkpoints go here (``checkpoint.safetensors`` + ``checkpoint.json``).
    resume
        Continue from the checkpoint in ``work_dir``.
    cancel
        Returns True to stop: the checkpoint is saved, no model is written.
    """
    if config.device.startswith("cuda") and not torch.cuda.is_available():
        raise TrainingError("--device cuda asked for, but torch sees no CUDA GPU (this build is CPU-only?)")
    rank, world = _dist()
    device = torch.device(
        config.device
        if not config.device.startswith("cuda") or world == 1
        else f"cuda:{rank % max(1, torch.cuda.device_count())}"
    )
    torch.manual_seed(config.seed + rank)
    generator = torch.Generator().manual_seed(config.seed + rank)
    started = time.monotonic()
    label_index = {label: k for k, label in enumerate(labels)}
    split_entries = {s: [e for e in entries if e.split == s] for s in ("training", "validation", "test")}
    if not split_entries["training"] or not split_entries["validation"]:
        raise TrainingError("need clips in both the training and the validation split")

    def patch_rows(split: str) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int64]]:
        rows, ys, clips = [], [], []
        for clip_id, entry in enumerate(split_entries[split]):
            for r in range(entry.first, entry.first + entry.count):
                rows.append(r)
                ys.append(label_index[entry.label])
                clips.append(clip_id)
        return np.array(rows, dtype=np.int64), np.array(ys, dtype=np.int64), np.array(clips, dtype=np.int64)

    train_rows, train_y, _ = patch_rows("training")
    counts = np.bincount(train_y, minlength=len(labels)).astype(np.float64)
    class_weight = torch.tensor(counts.sum() / np.maximum(counts, 1) / len(labels), dtype=torch.float32)

    precomputed: dict[str, torch.Tensor] = {}
    backbone: Musicnn | None = None
    if config.mode in ("frozen", "partial"):
        backbone = _backbone(config.base_model)
        model: nn.Module = _Head(backbone, config.mode, len(labels))
        needed = sorted(
            {r for s in split_entries for e in split_entries[s] for r in range(e.first, e.first + e.count)}
        )
        feats = _precompute(backbone, patches[needed] if needed else patches[:0], config.mode, device)
        lookup = {r: k for k, r in enumerate(needed)}
        for split in split_entries:
            rows, _, _ = patch_rows(split)
            precomputed[split] = feats[[lookup[r] for r in rows]] if len(rows) else feats[:0]
        yield TrainProgress("features", 0, config.epochs, 0.0, 0.0, 0.0, time.monotonic() - started, 0.0)
    elif config.mode == "full":
        backbone = _backbone(config.base_model)
        backbone.output = nn.Linear(backbone.dense.out_features, len(labels))
        for p in backbone.parameters():
            p.requires_grad_(True)
        model = backbone
    else:
        model = SmallCnn(len(labels))
    model.to(device)
    class_weight = class_weight.to(device)
    trainable = list(model.parameters())
    for p in trainable:
        p.requires_grad_(True)
    ddp_model: nn.Module = model
    if world > 1:
        ddp_model = nn.parallel.DistributedDataParallel(model)
    optimizer = torch.optim.AdamW(trainable, lr=config.lr(), weight_decay=config.weight_decay)
    steps_per_epoch = max(1, math.ceil(len(train_rows) / world / config.batch_size))

    work_dir.mkdir(parents=True, exist_ok=True)
    checkpoint = work_dir / "checkpoint.safetensors"
    state_file = work_dir / "checkpoint.json"
    start_epoch, best_val, best_state, curves, waited = 0, -1.0, None, [], 0
    if resume:
        if not checkpoint.is_file() or not state_file.is_file():
            raise TrainingError(f"no checkpoint in {work_dir} to resume from")
        model.load_state_dict(load_file(str(checkpoint)))
        saved = json.loads(state_file.read_text())
        start_epoch, best_val, curves, waited = saved["epoch"], saved["best_val"], saved["curves"], saved["waited"]
        if (work_dir / "best.safetensors").is_file():
            best_state = load_file(str(work_dir / "best.safetensors"))

    total_steps = config.epochs * steps_per_epoch
    offset = start_epoch * steps_per_epoch  # a resumed run continues the cosine schedule

    def cosine(step: int) -> float:
        return 0.5 * (1.0 + math.cos(math.pi * min(1.0, (step + offset) / max(1, total_steps))))

    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, cosine)

    def inputs(split: str, rows: npt.NDArray[np.int64], positions: npt.NDArray[np.int64]) -> torch.Tensor:
        if precomputed:
            return precomputed[split][positions]
        order = np.argsort(rows)
        batch = torch.from_numpy(np.ascontiguousarray(patches[rows[order]]))[np.argsort(order)]
        return batch.to(device)

    def evaluate(split: str) -> tuple[float, npt.NDArray[np.int64], npt.NDArray[np.int64]]:
        rows, ys, clips = patch_rows(split)
        if len(rows) == 0:
            return float("nan"), np.zeros(0, np.int64), np.zeros(0, np.int64)
        model.eval()
        logits = []
        with torch.no_grad():
            for start in range(0, len(rows), 128):
                pos = np.arange(start, min(start + 128, len(rows)))
                logits.append(model(inputs(split, rows[pos], pos)))
        all_logits = torch.cat(logits).cpu().numpy()
        n_clips = clips.max() + 1
        clip_logits = np.zeros((n_clips, len(labels)))
        np.add.at(clip_logits, clips, all_logits)
        truth = np.zeros(n_clips, np.int64)
        truth[clips] = ys
        guess = clip_logits.argmax(axis=1)
        return float((guess == truth).mean()), truth, guess

    def save_checkpoint(epoch: int) -> None:
        if rank != 0:
            return
        save_file({k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}, str(checkpoint))
        if best_state is not None:
            save_file(best_state, str(work_dir / "best.safetensors"))
        state_file.write_text(
            json.dumps(
                {
                    "epoch": epoch,
                    "best_val": best_val,
                    "curves": curves,
                    "waited": waited,
                    "config": asdict(config),
                }
            )
        )

    stopped_early = False
    epochs_started = time.monotonic()
    epoch = start_epoch
    try:
        for epoch in range(start_epoch, config.epochs):
            model.train()
            if backbone is not None and config.mode in ("frozen", "partial"):
                backbone.eval()
            order = torch.randperm(len(train_rows), generator=torch.Generator().manual_seed(config.seed + epoch))
            order = order[rank::world]  # distributed sampler: each rank its own shard
            losses = []
            for start in range(0, steps_per_epoch * config.batch_size, config.batch_size):
                pos = order[start : start + config.batch_size].numpy()
                if len(pos) == 0:
                    break
                x = inputs("training", train_rows[pos], pos)
                y = F.one_hot(torch.from_numpy(train_y[pos]), len(labels)).float().to(device)
                if not precomputed:
                    x = _augment(x, generator)
                if config.mixup_alpha > 0:
                    lam = float(
                        np.random.default_rng(config.seed + epoch * 7919 + start).beta(
                            config.mixup_alpha, config.mixup_alpha
                        )
                    )
                    perm = torch.randperm(x.shape[0], generator=generator).to(device)
                    x = lam * x + (1 - lam) * x[perm]
                    y = lam * y + (1 - lam) * y[perm]
                logits = ddp_model(x)
                loss = -(y * F.log_softmax(logits, dim=1) * class_weight).sum(dim=1).mean()
                optimizer.zero_grad()
                loss.backward()  # type: ignore[no-untyped-call]
                optimizer.step()
                scheduler.step()
                losses.append(float(loss.detach()))
            val_accuracy, _, _ = evaluate("validation")
            curves.append(
                {
                    "epoch": epoch + 1,
                    "train_loss": float(np.mean(losses)) if losses else 0.0,
                    "val_accuracy": val_accuracy,
                }
            )
            if val_accuracy > best_val:
                best_val, waited = val_accuracy, 0
                best_state = {k: v.detach().cpu().clone().contiguous() for k, v in model.state_dict().items()}
            else:
                waited += 1
            elapsed = time.monotonic() - started
            per_epoch = (time.monotonic() - epochs_started) / (epoch + 1 - start_epoch)
            yield TrainProgress(
                "train",
                epoch + 1,
                config.epochs,
                curves[-1]["train_loss"],
                val_accuracy,
                best_val,
                elapsed,
                per_epoch * (config.epochs - epoch - 1),
            )
            save_checkpoint(epoch + 1)
            if cancel is not None and cancel():
                return
            if waited >= config.patience:
                stopped_early = True
                break
    except (KeyboardInterrupt, GeneratorExit):
        save_checkpoint(epoch)
        raise

    if best_state is not None:
        model.load_state_dict(best_state)
    model.cpu()
    if backbone is not None:
        backbone.cpu()
    device = torch.device("cpu")
    precomputed = {k: v.cpu() for k, v in precomputed.items()}
    val_accuracy, vt, vg = evaluate("validation")
    test_accuracy, tt, tg = evaluate("test")
    val_classes, val_confusion = _class_metrics(labels, vt, vg)
    test_classes, test_confusion = _class_metrics(labels, tt, tg)
    weights = None
    if rank == 0:
        weights = _save_model(model, backbone, config, labels, val_accuracy, test_accuracy)
    if world > 1:
        torch.distributed.barrier()
    yield TrainReport(
        name=config.name,
        labels=labels,
        mode=config.mode,
        val_accuracy=val_accuracy,
        test_accuracy=None if math.isnan(test_accuracy) else test_accuracy,
        val_classes=val_classes,
        test_classes=test_classes,
        confusion=test_confusion if len(tt) else val_confusion,
        curves=curves,
        weights_path=weights,
        epochs_run=len(curves),
        stopped_early=stopped_early,
        extra={"rank": rank, "world": world},
    )


def _save_model(
    model: nn.Module,
    backbone: Musicnn | None,
    config: TrainConfig,
    labels: tuple[str, ...],
    val_accuracy: float,
    test_accuracy: float,
) -> Path:
    """Write ``<name>.safetensors`` + manifest into the per-user models folder."""
    if isinstance(model, _Head):
        assert backbone is not None
        full = Musicnn(len(labels))
        state = {k: v for k, v in backbone.state_dict().items() if not k.startswith("output.")}
        state.update({f"output.{k}": v for k, v in model.output.state_dict().items()})
        if config.mode == "partial":
            for part in ("pool_bn", "dense", "dense_bn"):
                state.update({f"{part}.{k}": v for k, v in getattr(model, part).state_dict().items()})
        full.load_state_dict(state)
        network: nn.Module = full
        architecture = "musicnn"
    else:
        network = model
        architecture = "cnn" if isinstance(model, SmallCnn) else "musicnn"
    folder = paths.user_models_dir()
    folder.mkdir(parents=True, exist_ok=True)
    weights = folder / f"{config.name}.safetensors"
    metadata = {
        "format": "deeptrance-tagger/1",
        "architecture": architecture,
        "dataset": "user",
        "labels": json.dumps(list(labels)),
        "source": f"trained by Deep Trance ({config.mode})",
    }
    save_file(
        {k: v.detach().contiguous() for k, v in network.state_dict().items()}, str(weights), metadata=metadata
    )
    manifest = {
        "name": config.name,
        "activation": "softmax",
        "architecture": architecture,
        "dataset": "user",
        "labels": list(labels),
        "description": f"user-trained ({config.mode}, base {config.base_model}); val acc {val_accuracy:.3f}"
        + ("" if math.isnan(test_accuracy) else f", test acc {test_accuracy:.3f}"),
        "training": asdict(config),
    }
    (folder / f"{config.name}.json").write_text(json.dumps(manifest, indent=2) + "\n")
    write_checksums(folder)
    return weights
