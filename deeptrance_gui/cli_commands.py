"""Subcommands that need the model: predict, layers, models (dream/evaluate/self-test in
their own modules). torch is imported only when one of these runs."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from deeptrance_gui.cli_common import audio_files
from deeptrance_gui.core.errors import DeepTranceError


def _cmd_predict(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from deeptrance_gui.core.audio import AudioClip, load_audio
    from deeptrance_gui.core.model.loading import load_model
    from deeptrance_gui.core.model.predict import predict

    model = load_model(args.model)
    files = audio_files(args.target)
    if not files:
        print(f"error: no audio files in {args.target}", file=sys.stderr)
        return 1
    failed: list[tuple[Path, str]] = []

    def decode(path: Path) -> tuple[Path, object]:
        try:
            return path, load_audio(path)
        except DeepTranceError as err:
            return path, err

    # Decoding runs on worker threads (libsndfile/soxr release the GIL) while torch predicts.
    with ThreadPoolExecutor(max_workers=2) as pool:
        results: Iterator[tuple[Path, object]] = pool.map(decode, files)
        progress = tqdm(
            results, total=len(files), unit="file", disable=len(files) < 2 or args.json, file=sys.stderr
        )
        for path, loaded in progress:
            if isinstance(loaded, DeepTranceError):
                failed.append((path, str(loaded)))
                continue
            assert isinstance(loaded, AudioClip)
            prediction = predict(loaded, model)
            _print_prediction(path, prediction, args)
    for _path, reason in failed:
        print(f"skipped: {reason}", file=sys.stderr)
    return 1 if failed and len(failed) == len(files) else 0


def _print_prediction(path: Path, prediction: object, args: argparse.Namespace) -> None:
    from deeptrance_gui.core.model.predict import TagPrediction

    assert isinstance(prediction, TagPrediction)
    top = prediction.top(args.top)
    if args.json:
        record: dict[str, object] = {
            "file": str(path),
            "model": prediction.model_name,
            "padded": prediction.padded,
            "top": [{"tag": t, "probability": round(p, 5)} for t, p in top],
            "fma": {g: None if v is None else round(v, 5) for g, v in prediction.fma().items()},
        }
        if args.over_time:
            record["over_time"] = [
                {
                    "start_s": round(float(s), 3),
                    "top": [prediction.labels[i] for i in row.argsort()[::-1][: args.top]],
                }
                for s, row in zip(prediction.patch_starts_s, prediction.patch_probs, strict=True)
            ]
        print(json.dumps(record))
        return
    note = " (shorter than 3 s: repeat-padded)" if prediction.padded else ""
    print(f"{path}  [{prediction.model_name}]{note}")
    for tag, prob in top:
        print(f"  {prob:6.3f}  {'█' * round(prob * 30):30s}  {tag}")
    fma = ", ".join(f"{g} {'no signal' if v is None else f'{v:.2f}'}" for g, v in prediction.fma().items())
    print(f"  FMA-8: {fma}")
    if args.over_time:
        for start, row in zip(prediction.patch_starts_s, prediction.patch_probs, strict=True):
            tags = ", ".join(prediction.labels[i] for i in row.argsort()[::-1][:3])
            print(f"  {start:7.2f} s  {tags}")


def _cmd_layers(args: argparse.Namespace) -> int:
    from deeptrance_gui.core.model.layers import layer_catalogue
    from deeptrance_gui.core.model.registry import get_spec

    spec = get_spec(args.model)
    print(f"{spec.name} ({spec.architecture}, trained on {spec.dataset})")
    for layer in layer_catalogue(spec.architecture, n_tags=len(spec.labels)):
        print(f"  {layer.layer_id:22s} {layer.channels:4d} ch  {layer.description}")
    return 0


def _cmd_models(args: argparse.Namespace) -> int:
    from deeptrance_gui.core.model.registry import scan_models

    found, problems = scan_models()
    for spec in found.values():
        origin = "user" if spec.user_trained else "shipped"
        print(f"{spec.name:16s} {spec.architecture:8s} {spec.dataset:5s} {origin:8s} {spec.description}")
    for problem in problems:
        print(f"warning: {problem}", file=sys.stderr)
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the model-based subcommands to ``sub``."""
    from deeptrance_gui.core.model.registry import DEFAULT_MODEL

    predict = sub.add_parser("predict", help="what a tagging model hears in files or a folder")
    predict.add_argument("target", type=Path, metavar="FILE_OR_DIR")
    predict.add_argument("--model", default=DEFAULT_MODEL, help="model name (see 'deeptrance models')")
    predict.add_argument("--top", type=int, default=10, help="how many tags to show")
    predict.add_argument("--json", action="store_true", help="one JSON object per file")
    predict.add_argument("--over-time", action="store_true", help="top tags per ≈3 s patch")
    predict.set_defaults(handler=_cmd_predict)

    layers = sub.add_parser("layers", help="the layers a model can dream on")
    layers.add_argument("--model", default=DEFAULT_MODEL)
    layers.set_defaults(handler=_cmd_layers)

    models = sub.add_parser("models", help="list shipped and user-trained models")
    models.set_defaults(handler=_cmd_models)
