"""``deeptrance train``: build the feature cache, train, write the model and its report."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from deeptrance_gui.core.errors import TrainingError


def run_training(
    data: Path,
    *,
    layout: str,
    config: Any,
    cache_root: Path | None = None,
    workers: int | None = None,
    resume: bool = False,
    progress: Any = None,
    cancel: Any = None,
) -> Any:
    """Dataset → cache → trainer. ``progress(kind, value)`` gets cache and epoch updates.

    Returns the :class:`TrainReport` (None when cancelled) and the skipped files.
    """
    import torch

    from deeptrance_gui.core import paths
    from deeptrance_gui.core.atomic import folder_problem
    from deeptrance_gui.core.errors import TrainingError
    from deeptrance_gui.core.train.datasets import fma_dataset, folder_dataset
    from deeptrance_gui.core.train.features import FeatureCache
    from deeptrance_gui.core.train.trainer import TrainReport, train

    dataset = fma_dataset(data) if layout == "fma" else folder_dataset(data)
    cache = FeatureCache.for_dataset(dataset, cache_root or paths.cache_dir() / "features")
    distributed = int(os.environ.get("WORLD_SIZE", "1")) > 1
    rank = int(os.environ.get("RANK", "0"))
    if distributed:
        backend = "nccl" if config.device.startswith("cuda") else "gloo"
        torch.distributed.init_process_group(backend=backend)
    work_dir = paths.user_data_dir() / "training" / config.name
    if rank == 0:
        # Before hours of decoding, not after: every folder the run fills must take files.
        for folder, what in (
            (cache.folder, "feature cache (--cache-dir)"),
            (work_dir, "checkpoints"),
            (paths.user_models_dir(), "trained model"),
        ):
            problem = folder_problem(folder)
            if problem:
                raise TrainingError(
                    f"cannot write the {what}: {problem} (DEEPTRANCE_HOME moves all of the app's files)"
                )
        # One process decodes; the others wait and read the finished cache.
        entries, skipped = cache.build(
            dataset,
            workers=workers,
            progress=(lambda d, t: progress("cache", (d, t))) if progress else None,
            cancel=cancel,
        )
    if distributed:
        torch.distributed.barrier()
    if rank != 0:
        entries, skipped = cache.load(dataset)  # read only: rank 0 wrote it
    if cancel is not None and cancel():
        return None, skipped
    report = None
    for item in train(
        entries, cache.patches(), dataset.labels, config, work_dir=work_dir, resume=resume, cancel=cancel
    ):
        if isinstance(item, TrainReport):
            report = item
        elif progress:
            progress("epoch", item)
    if report is not None and rank == 0:
        write_report_files(report, skipped)
    if distributed:
        torch.distributed.destroy_process_group()
    return report, skipped


def write_report_files(report: Any, skipped: dict[str, str]) -> Path:
    """confusion.png, curves.png, report.json and MODEL_CARD.md next to the model."""
    from deeptrance_gui.core import paths
    from deeptrance_gui.reports import confusion_png, curves_png

    folder = paths.user_models_dir() / f"{report.name}.report"
    folder.mkdir(parents=True, exist_ok=True)
    confusion_png(
        report.labels,
        report.confusion,
        folder / "confusion.png",
        title=f"{report.name}: confusion ({'test' if report.test_accuracy is not None else 'validation'})",
    )
    curves_png(report.curves, folder / "curves.png", title=f"{report.name}: training curves")
    record = {
        "name": report.name,
        "mode": report.mode,
        "labels": list(report.labels),
        "val_accuracy": report.val_accuracy,
        "test_accuracy": report.test_accuracy,
        "val_classes": [c.__dict__ for c in report.val_classes],
        "test_classes": [c.__dict__ for c in report.test_classes],
        "confusion": report.confusion,
        "curves": report.curves,
        "epochs_run": report.epochs_run,
        "stopped_early": report.stopped_early,
        "skipped_files": skipped,
    }
    (folder / "report.json").write_text(json.dumps(record, indent=2) + "\n")
    rows = "\n".join(
        f"| {c.label} | {c.precision:.3f} | {c.recall:.3f} | {c.support} |"
        for c in (report.test_classes or report.val_classes)
    )
    test = "n/a (no test split)" if report.test_accuracy is None else f"{report.test_accuracy:.3f}"
    (folder / "MODEL_CARD.md").write_text(
        f"# {report.name}\n\nTrained by Deep Trance ({report.mode}). Labels: {', '.join(report.labels)}.\n\n"
        f"Validation accuracy {report.val_accuracy:.3f}; test accuracy {test} (clip level, mean of ≈3 s patches).\n\n"
        f"| label | precision | recall | clips |\n|---|---|---|---|\n{rows}\n\n"
        f"Skipped files: {len(skipped)} (see report.json).\n"
    )
    return folder


def _cmd_train(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from deeptrance_gui.core.train.trainer import TrainConfig

    check_name(args.out)
    mode = (
        "cnn" if args.model == "cnn" else {"frozen": "frozen", "partial": "partial", "none": "full"}[args.freeze]
    )
    config = TrainConfig(
        name=args.out,
        mode=mode,  # type: ignore[arg-type]
        base_model=args.base,
        epochs=args.epochs,
        seed=args.seed,
        device=args.device,
        batch_size=args.batch_size,
    )
    rank = int(os.environ.get("RANK", "0"))
    bar: dict[str, Any] = {}

    def progress(kind: str, value: Any) -> None:
        if rank != 0 or args.json:
            return
        if kind == "cache":
            done, total = value
            if "cache" not in bar:
                bar["cache"] = tqdm(total=total, unit="clip", desc="features", file=sys.stderr)
            bar["cache"].n = done
            bar["cache"].refresh()
        elif value.stage == "features":
            print(f"backbone features ready ({value.elapsed_s:.1f} s)", file=sys.stderr)
        else:
            print(
                f"epoch {value.epoch}/{value.epochs}  loss {value.train_loss:.4f}  val acc {value.val_accuracy:.3f}"
                f"  best {value.best_val_accuracy:.3f}  ETA {value.eta_s:.0f} s",
                file=sys.stderr,
            )

    try:
        report, skipped = run_training(
            args.data,
            layout=args.layout,
            config=config,
            cache_root=args.cache_dir,
            workers=args.workers,
            resume=args.resume,
            progress=progress,
        )
    except KeyboardInterrupt:
        print(
            f"interrupted: checkpoint saved; continue with 'deeptrance train ... --out {args.out} --resume'",
            file=sys.stderr,
        )
        return 130
    finally:
        for b in bar.values():
            b.close()
    if rank != 0 or report is None:
        return 0
    for path, reason in skipped.items():
        print(f"skipped: {path}: {reason}", file=sys.stderr)
    summary = {
        "model": report.name,
        "mode": report.mode,
        "val_accuracy": report.val_accuracy,
        "test_accuracy": report.test_accuracy,
        "epochs": report.epochs_run,
        "skipped": len(skipped),
        "weights": str(report.weights_path),
    }
    if args.json:
        print(json.dumps(summary))
    else:
        test = "n/a" if report.test_accuracy is None else f"{report.test_accuracy:.3f}"
        print(
            f"{report.name}: validation accuracy {report.val_accuracy:.3f}, test accuracy {test} "
            f"({report.epochs_run} epochs); saved {report.weights_path}"
        )
        for c in report.test_classes or report.val_classes:
            print(f"  {c.label:16s} precision {c.precision:.2f}  recall {c.recall:.2f}  ({c.support} clips)")
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``train``."""
    train = sub.add_parser(
        "train",
        help="train a genre model on FMA or a folder per genre",
        epilog="Runs under torchrun for DistributedDataParallel, e.g. "
        "'torchrun --nproc_per_node 2 -m deeptrance_gui.cli train DATA ...'.",
    )
    train.add_argument(
        "data", type=Path, metavar="DATA", help="FMA root (with fma_metadata/) or a folder of genre folders"
    )
    train.add_argument("--layout", choices=["fma", "folders"], required=True)
    train.add_argument("--out", required=True, metavar="NAME", help="model name (appears in the app and --model)")
    train.add_argument(
        "--model",
        choices=["musicnn", "cnn"],
        default="musicnn",
        help="fine-tune musicnn (default) or train the small CNN from scratch",
    )
    train.add_argument(
        "--freeze",
        choices=["frozen", "partial", "none"],
        default="frozen",
        help="musicnn: train only a new head (frozen), the back end (partial) or everything (none)",
    )
    train.add_argument("--base", default="msd-musicnn", help="musicnn model to start from")
    train.add_argument("--epochs", type=int, default=40)
    train.add_argument("--batch-size", type=int, default=64)
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    train.add_argument("--workers", type=int, default=None, help="decoding processes (default: all cores)")
    train.add_argument("--cache-dir", type=Path, default=None, help="feature cache folder")
    train.add_argument("--resume", action="store_true", help="continue an interrupted run of --out NAME")
    train.add_argument("--json", action="store_true")
    train.set_defaults(handler=_cmd_train)


def check_name(name: str) -> None:
    """Model names become file names."""
    if not name or any(c in name for c in "/\\:") or name.startswith("."):
        raise TrainingError(f"'{name}' is not a usable model name; use letters, digits, '-' and '_'")
