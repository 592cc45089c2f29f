"""Can a tag be confirmed at all? How often the judges rank a tag in their top
``CONFIRM_TOP_K`` on *real* recordings, whatever they are.

A judge confirms a dream only when the target ends in its top ``CONFIRM_TOP_K``
(``core/dream/verdict.py``). If no real recording — not even one its makers call that style —
gets a tag there, no dream can be expected to: the tag is out of the judges' reach, and a target
on it measures the judges, not the dream. This tool judges every file (an excerpt, as
``deeptrance evaluate`` judges its cases) and prints, per tag and judge, how many files have the
tag in the top K, its best rank (and where) and its median rank::

    .venv/bin/python tools/tag_ceiling.py music/*.ogg --tag dance --tag techno --start-s 30 --duration-s 20

Where this was used (README, "The cover dream"): 70 real recordings and modules (Hedgewars,
X-Moto, Lincity-NG, Pingus, TecnoballZ, many of them techno or electronic) — "dance" was in
neither MTT judge's top 5 on any of them.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from deeptrance_gui.core.audio import load_audio
from deeptrance_gui.core.audio.clip import AudioClip
from deeptrance_gui.core.dream.verdict import CONFIRM_TOP_K
from deeptrance_gui.core.errors import DeepTranceError
from deeptrance_gui.core.model.predictions import Predictions

JUDGES = ("mtt-musicnn", "mtt-vgg")


@dataclass(frozen=True)
class TagReach:
    """One judge's ranks of one tag over a set of recordings."""

    tag: str
    judge: str
    files: int
    in_top_k: int
    best_rank: int | None
    best_file: str
    median_rank: float | None


def tag_reach(
    heard: Mapping[str, Mapping[str, Predictions]], tags: Sequence[str], *, top_k: int = CONFIRM_TOP_K
) -> list[TagReach]:
    """Per tag and judge, how many recordings rank the tag in the top ``top_k``.

    Parameters
    ----------
    heard
        file name → judge name → the judge's track-level predictions of that file.
    tags
        Tags to count (case-insensitive); a judge without the tag is left out.
    top_k
        The rank a confirmation needs (default: the verdict rule's).

    Returns
    -------
    list of TagReach
        One per (tag, judge), in the order of ``tags`` and of first appearance of the judges.
    """
    judges = list(dict.fromkeys(judge for by_judge in heard.values() for judge in by_judge))
    rows = []
    for tag in tags:
        for judge in judges:
            ranks = {
                file: rank
                for file, by_judge in heard.items()
                if judge in by_judge and (rank := by_judge[judge].rank(tag)) is not None
            }
            if not ranks:
                continue
            best_file = min(ranks, key=lambda f: ranks[f])
            rows.append(
                TagReach(
                    tag=tag,
                    judge=judge,
                    files=len(ranks),
                    in_top_k=sum(rank <= top_k for rank in ranks.values()),
                    best_rank=ranks[best_file],
                    best_file=best_file,
                    median_rank=statistics.median(ranks.values()),
                )
            )
    return rows


def _excerpt(clip: AudioClip, *, start_s: float, duration_s: float | None) -> AudioClip:
    rate = clip.sample_rate_hz
    start = min(int(start_s * rate), max(clip.samples.shape[1] - rate, 0))  # a short file: its end
    stop = None if duration_s is None else start + int(duration_s * rate)
    return AudioClip(clip.samples[:, start:stop], rate)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("files", nargs="+", type=Path)
    parser.add_argument("--tag", action="append", required=True, help="a tag to count (repeat)")
    parser.add_argument("--judge", action="append", help=f"a judge (repeat; default {', '.join(JUDGES)})")
    parser.add_argument("--start-s", type=float, default=0.0, help="judge from this time (default 0)")
    parser.add_argument("--duration-s", type=float, help="judge this long (default: to the end, ≤ 10 min)")
    parser.add_argument("--json", action="store_true", help="print every file's ranks as a JSON line")
    args = parser.parse_args(argv)

    from deeptrance_gui.core.model.loading import load_model
    from deeptrance_gui.core.model.predict import predict

    models = {name: load_model(name) for name in args.judge or JUDGES}
    heard: dict[str, dict[str, Predictions]] = {}
    for path in args.files:
        try:
            clip = load_audio(path, max_duration_s=args.start_s + args.duration_s if args.duration_s else None)
        except DeepTranceError as err:
            print(f"skipped: {err}", file=sys.stderr)
            continue
        clip = _excerpt(clip, start_s=args.start_s, duration_s=args.duration_s)
        heard[path.name] = {name: predict(clip, model).track() for name, model in models.items()}
        if args.json:
            ranks = {name: {tag: p.rank(tag) for tag in args.tag} for name, p in heard[path.name].items()}
            top = {name: [label for label, _ in p.top(CONFIRM_TOP_K)] for name, p in heard[path.name].items()}
            print(json.dumps({"file": path.name, "ranks": ranks, "top": top}), flush=True)

    print(f"| tag | judge | in the top {CONFIRM_TOP_K} | best rank | median rank |")
    print("|---|---|---|---|---|")
    for row in tag_reach(heard, args.tag):
        print(
            f"| {row.tag} | {row.judge} | {row.in_top_k}/{row.files} | "
            f"#{row.best_rank} ({row.best_file}) | {row.median_rank:g} |"
        )
    return 0 if heard else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except DeepTranceError as err:  # a missing model or unreadable file: say which, no traceback
        print(f"error: {err}", file=sys.stderr)
        sys.exit(1)
