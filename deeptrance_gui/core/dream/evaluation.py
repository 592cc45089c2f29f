"""What ``deeptrance evaluate`` measures on a written, re-decoded take: dreamer and judge panel
(before → after, the panel verdict from :mod:`verdict`), SNR, chroma similarity, loudness
change and true peak. One function, so the CLI table and any other report agree."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from deeptrance_gui.core.analysis.chroma import chroma_similarity
from deeptrance_gui.core.audio.clip import AudioClip
from deeptrance_gui.core.dream.verdict import JudgeVerdict, PanelVerdict, judge_verdict
from deeptrance_gui.core.dsp.loudness import integrated_loudness_lufs, true_peak_dbtp
from deeptrance_gui.core.model.predictions import Predictions


def _entry(verdict: JudgeVerdict) -> dict[str, Any]:
    return {
        "model": verdict.model_name,
        "before": verdict.before,
        "rank_before": verdict.rank_before,
        "after": verdict.after,
        "rank_after": verdict.rank_after,
        "grade": verdict.grade.value,
    }


def evaluate_take(
    original: AudioClip,
    dreamed: AudioClip,
    *,
    tag: str,
    dreamers: Sequence[str],
    judges: Sequence[str],
    load_model: Callable[[str], Any],
    before: dict[str, Predictions] | None = None,
) -> dict[str, Any]:
    """Scores of ``dreamed`` against ``original`` (same rate and shape) for target ``tag``.

    ``before`` caches each model's predictions of ``original`` (by model name) across calls on
    the same original: several targets and band levels of one clip predict it once.

    Returns
    -------
    dict
        JSON-ready: ``target``, ``dreamer`` (first dreamer's before/after), ``judges`` (one entry
        per judge), ``verdict`` (panel summary), ``confirmed_by_one``, ``confirmed_by_all``, ``already_heard``
        (a judge ranked the target top 3 before: not a cross-genre case),
        ``snr_db``, ``chroma_similarity``, ``delta_lu``, ``true_peak_dbtp``.
    """
    from deeptrance_gui.core.model.predict import predict

    heard = {} if before is None else before

    def verdict_of(name: str) -> JudgeVerdict:
        model = load_model(name)
        if name not in heard:
            heard[name] = predict(original, model).track()
        return judge_verdict(tag, heard[name], predict(dreamed, model).track())

    dreamer = verdict_of(dreamers[0])
    panel = PanelVerdict(tag, tuple(verdict_of(name) for name in judges))
    rate = original.sample_rate_hz
    diff = dreamed.samples - original.samples
    snr = 10 * np.log10(float(np.sum(original.samples**2)) / max(float(np.sum(diff**2)), 1e-20))
    lufs_a = integrated_loudness_lufs(original.samples, sample_rate_hz=rate)
    lufs_b = integrated_loudness_lufs(dreamed.samples, sample_rate_hz=rate)
    return {
        "target": tag,
        "dreamer": _entry(dreamer),
        "judges": [_entry(v) for v in panel.verdicts],
        "verdict": panel.summary(),
        "confirmed_by_one": panel.confirmed_by_one,
        "confirmed_by_all": panel.confirmed_by_all,
        "already_heard": panel.already_heard,
        "snr_db": snr,
        "chroma_similarity": chroma_similarity(original.samples, dreamed.samples, sample_rate_hz=rate),
        "delta_lu": None if lufs_a is None or lufs_b is None else lufs_b - lufs_a,
        "true_peak_dbtp": true_peak_dbtp(dreamed.samples, sample_rate_hz=rate),
    }
