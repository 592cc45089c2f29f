"""A finished dream as a take: the spliced track, its parameters, and its JSON sidecar.

The sidecar records everything needed to reproduce the take bit for bit: input file and its
SHA-256, model names and weight checksums, objective, settings, region, seed, and the
before/after scores of dreamers and judge (so nobody has to trust the dreamer's own score).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from deeptrance_gui._version import __version__
from deeptrance_gui.core.atomic import atomic_write
from deeptrance_gui.core.audio.clip import AudioClip
from deeptrance_gui.core.dream.settings import DreamSettings, Objective
from deeptrance_gui.core.dream.steps import DreamStep
from deeptrance_gui.core.dream.verdict import panel_verdict
from deeptrance_gui.core.errors import DreamError
from deeptrance_gui.core.model.predictions import Predictions
from deeptrance_gui.core.model.registry import get_spec, sha256_file

SIDECAR_FORMAT = "deeptrance-take/1"


@dataclass(frozen=True)
class DreamRequest:
    """Everything that determines a dream's output."""

    dreamers: tuple[str, ...]
    judges: tuple[str, ...]
    objective: Objective
    settings: DreamSettings = field(default_factory=DreamSettings)
    region: tuple[float, float] | None = None
    start_s: float | None = None
    seed: int = 0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready request."""
        return {
            "dreamers": list(self.dreamers),
            "judges": list(self.judges),
            "objective": {
                "kind": self.objective.kind,
                "toward": self.objective.toward,
                "away": self.objective.away,
                "layer": self.objective.layer,
                "channel": self.objective.channel,
            },
            "settings": self.settings.to_dict(),
            "region": None if self.region is None else list(self.region),
            "start_s": self.start_s,
            "seed": self.seed,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DreamRequest:
        """Inverse of :meth:`to_dict`; :class:`DreamError` on a malformed record."""
        try:
            settings = dict(data["settings"])
            settings.pop("extra", None)
            region = data.get("region")
            judges = data.get("judges")
            if judges is None:  # sidecars written before the judge panel name one judge
                judges = [data["judge"]] if data.get("judge") else []
            return cls(
                dreamers=tuple(data["dreamers"]),
                judges=tuple(str(j) for j in judges),
                objective=Objective(**data["objective"]),
                settings=DreamSettings(**settings),
                region=None if region is None else (float(region[0]), float(region[1])),
                start_s=data.get("start_s"),
                seed=int(data["seed"]),
            )
        except (KeyError, TypeError, ValueError) as err:
            raise DreamError(f"the sidecar's dream parameters are incomplete or invalid ({err})") from None


def splice(clip: AudioClip, step: DreamStep) -> AudioClip:
    """The whole track with the dreamed audio of ``step`` in place (channels, frames)."""
    if step.audio is None:
        raise ValueError("this step has no audio")
    out = np.array(clip.samples, dtype=np.float32)
    start = round(step.span_start_s * clip.sample_rate_hz)
    n = min(step.audio.shape[1], out.shape[1] - start)
    out[:, start : start + n] = step.audio[:, :n]
    return clip.with_samples(out)


def _scores(preds: Predictions | None, tags: list[str]) -> dict[str, Any] | None:
    if preds is None:
        return None
    return {
        "model": preds.model_name,
        "top": [[t, round(p, 6)] for t, p in preds.top(5)],
        "targets": {
            t: {"probability": round(preds.probability(t), 6), "rank": preds.rank(t)}
            for t in tags
            if preds.rank(t) is not None
        },
    }


def sidecar_record(
    request: DreamRequest, final: DreamStep, *, input_path: Path | None, output_path: Path | None
) -> dict[str, Any]:
    """The JSON record of a finished take."""
    tags = [t for t in (request.objective.toward, request.objective.away) if t]
    models = {}
    for name in (*request.dreamers, *request.judges):
        try:
            spec = get_spec(name)
            models[name] = {
                "sha256": sha256_file(spec.weights_path) if spec.weights_path.is_file() else None,
                "architecture": spec.architecture,
                "dataset": spec.dataset,
            }
        except Exception:  # a test model or one removed since: record the name only
            models[name] = {"sha256": None}
    return {
        "format": SIDECAR_FORMAT,
        "deeptrance_version": __version__,
        "input": None
        if input_path is None
        else {
            "path": str(input_path),
            "sha256": sha256_file(input_path) if input_path.is_file() else None,
        },
        "output": None if output_path is None else str(output_path),
        "request": request.to_dict(),
        "models": models,
        "region_s": [final.region_start_s, final.region_end_s],
        "iterations_run": final.iteration,
        "elapsed_s": round(final.elapsed_s, 3),
        "seconds_per_iteration": round(final.elapsed_s / max(1, final.iteration), 4),
        "before": {
            "dreamers": [_scores(p, tags) for p in final.dreamers_before],
            "judges": [_scores(p, tags) for p in final.judges_before],
        },
        "after": {
            "dreamers": [_scores(p, tags) for p in final.dreamers],
            "judges": [_scores(p, tags) for p in final.judges],
        },
        "band": None if final.band is None else final.band.record(),
        "verdict": None
        if not tags or not final.judged
        else panel_verdict(
            tags[0], final.judges_before, final.judges, toward=request.objective.toward is not None
        ).summary(),
    }


def write_json_atomic(record: dict[str, Any], path: Path, *, overwrite: bool = False) -> Path:
    """Write ``record`` as JSON atomically (:func:`~deeptrance_gui.core.atomic.atomic_write`)."""
    text = (json.dumps(record, indent=2) + "\n").encode()

    def write(fh: BinaryIO) -> None:
        fh.write(text)

    return atomic_write(path, write, overwrite=overwrite, size_bytes=len(text))


def read_sidecar(path: Path) -> dict[str, Any]:
    """Load a sidecar; :class:`DreamError` if it is not one."""
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as err:
        raise DreamError(f"{path}: not a readable take sidecar ({err})") from None
    if not isinstance(data, dict) or data.get("format") != SIDECAR_FORMAT:
        raise DreamError(f"{path}: not a Deep Trance take sidecar (format {SIDECAR_FORMAT})")
    return data


def sidecar_path(audio_path: Path) -> Path:
    """Where the sidecar of an exported take goes: ``take.wav`` → ``take.wav.json``."""
    return audio_path.with_name(audio_path.name + ".json")
