"""What a *genuine* recording of a style gets from the judges when it is mixed under a track at a
band level: the yardstick for the band dream's targets.

Each excerpt gets each source (a real recording the judges hear as its style) set ``level`` LU
relative to it by the band dream's own rule (:func:`gain_to_level_db`), loudness-matched back to
the excerpt and limited to −1 dBTP as a dream is, then judged by :func:`evaluate_take`, the
function behind ``deeptrance evaluate``. Cases a judge already ranks in its top 3 (not cross-genre)
and a source under itself are left out, as in the band dream's table. With ``--compare``, the
band dream's verdicts on the same cases (``deeptrance evaluate --mode band --json`` lines) are
counted beside them::

    .venv/bin/python tools/band_ceiling.py excerpts/*.wav --source metal=metal.wav \\
        --source rock=rock.wav --band-level-db -6,-3,0 --compare band.jsonl

With ``--as-cover`` the recordings are mixed as the cover dream mixes its band (above 0 dB the
excerpt's drums are taken out and the level is relative to what is left); ``--compare`` then
takes ``deeptrance evaluate --mode cover --json`` lines::

    .venv/bin/python tools/band_ceiling.py excerpts/*.wav --source metal=metal.wav \
        --band-level-db -6,0,6,12,18 --as-cover --compare cover.jsonl

The sources are not in the excerpt's key or tempo (a real band would be): a clash the judges may
hold against them, which the band dream, playing the track's own beats and chords, does not pay.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from deeptrance_gui.core.audio import load_audio
from deeptrance_gui.core.audio.clip import AudioClip
from deeptrance_gui.core.band.cover import without_drums
from deeptrance_gui.core.dream.evaluation import evaluate_take
from deeptrance_gui.core.dsp.limiter import match_and_limit
from deeptrance_gui.core.dsp.loudness import gain_to_level_db, integrated_loudness_lufs
from deeptrance_gui.core.errors import DeepTranceError
from deeptrance_gui.core.model.loading import load_model

DREAMERS = ("msd-musicnn",)
JUDGES = ("mtt-musicnn", "mtt-vgg")


def mix_under(track: AudioClip, source: AudioClip, *, level_db: float, as_cover: bool = False) -> AudioClip:
    """``source`` (looped or cut to the track's length, at the track's rate and channels) mixed
    ``level_db`` LU relative to ``track``, matched to the track's loudness, ≤ −1 dBTP. With
    ``as_cover``, mixed as the cover dream mixes its band: above 0 dB over the track without its
    drums (:func:`without_drums`), the level relative to what is left."""
    rate, (channels, frames) = track.sample_rate_hz, track.samples.shape
    under = without_drums(track.samples, sample_rate_hz=rate) if as_cover and level_db > 0 else track.samples
    if source.sample_rate_hz != rate:
        raise ValueError(f"source at {source.sample_rate_hz} Hz, track at {rate} Hz")
    other = np.tile(source.samples, (1, -(-frames // source.samples.shape[1])))[:, :frames]
    if other.shape[0] != channels:
        other = np.repeat(other.mean(axis=0, keepdims=True), channels, axis=0)
    gain_db = gain_to_level_db(other, under, level_db=level_db, sample_rate_hz=rate)
    mix = under + other * np.float32(10 ** (gain_db / 20))
    reference = integrated_loudness_lufs(track.samples, sample_rate_hz=rate)
    return AudioClip(match_and_limit(mix, reference_lufs=reference, sample_rate_hz=rate), rate)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("excerpts", nargs="+", type=Path)
    parser.add_argument(
        "--source",
        action="append",
        required=True,
        metavar="STYLE=FILE",
        help="a recording the judges hear as STYLE (repeat; the first that is not the excerpt is used)",
    )
    parser.add_argument("--band-level-db", default="-6", help="comma-separated levels (default -6)")
    parser.add_argument(
        "--compare", type=Path, help="'deeptrance evaluate --mode band --json' lines to count beside"
    )
    parser.add_argument("--json", action="store_true", help="print every case as a JSON line")
    parser.add_argument(
        "--as-cover", action="store_true", help="mix as the cover dream does: above 0 dB without the excerpt's drums"
    )
    args = parser.parse_args(argv)

    sources: dict[str, list[Path]] = defaultdict(list)
    for item in args.source:
        style, _, file = item.partition("=")
        if not file:
            parser.error(f"--source takes STYLE=FILE, got {item!r}")
        sources[style.strip()].append(Path(file))
    levels = [float(v) for v in args.band_level_db.split(",")]
    models: dict[str, Any] = {}

    def load(name: str) -> Any:
        if name not in models:
            models[name] = load_model(name)
        return models[name]

    dreamed: dict[tuple[str, str, float], dict[str, Any]] = {}
    if args.compare:
        for line in args.compare.read_text().splitlines():
            if line.startswith("{"):
                row = json.loads(line)
                dreamed[(row["file"], row["target"], row["band_level_db"])] = row

    decoded: dict[tuple[Path, int], AudioClip] = {}
    counts: dict[tuple[float, str], list[int]] = defaultdict(lambda: [0, 0, 0, 0, 0, 0])
    for path in args.excerpts:
        track = load_audio(path)
        before: dict[str, Any] = {}
        for style, files in sources.items():
            file = next((f for f in files if f.resolve() != path.resolve()), None)
            if file is None:
                continue
            key = (file, track.sample_rate_hz)
            if key not in decoded:  # each source once per rate, not once per excerpt
                decoded[key] = load_audio(file, target_sample_rate_hz=track.sample_rate_hz)
            source = decoded[key]
            for level in levels:
                row = evaluate_take(
                    track,
                    mix_under(track, source, level_db=level, as_cover=args.as_cover),
                    tag=style,
                    dreamers=DREAMERS,
                    judges=JUDGES,
                    load_model=load,
                    before=before,
                )
                row.update(file=path.name, source=file.name, band_level_db=level)
                if args.json:
                    print(json.dumps(row), flush=True)
                if row["already_heard"]:
                    continue
                count = counts[(level, style)]
                count[:3] = [count[0] + 1, count[1] + row["confirmed_by_one"], count[2] + row["confirmed_by_all"]]
                band = dreamed.get((path.name, style, level))
                if band is not None:
                    count[3:] = [
                        count[3] + 1,
                        count[4] + band["confirmed_by_one"],
                        count[5] + band["confirmed_by_all"],
                    ]

    print("| level | style | genuine recording: one judge | both | band dream, same cases: one judge | both |")
    print("|---|---|---|---|---|---|")
    for level in levels:
        rows = [(style, counts[(level, style)]) for style in sources if (level, style) in counts]
        total = [sum(c[i] for _, c in rows) for i in range(6)]
        for style, c in [*rows, ("all", total)]:
            band = f"{c[4]}/{c[3]} | {c[5]}/{c[3]}" if c[3] else "– | –"
            print(f"| {level:g} dB | {style} | {c[1]}/{c[0]} | {c[2]}/{c[0]} | {band} |")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except DeepTranceError as err:  # a missing or unreadable file: say which, no traceback
        print(f"error: {err}", file=sys.stderr)
        sys.exit(1)
