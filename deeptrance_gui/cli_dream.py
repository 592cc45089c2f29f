"""dream, evaluate and self-test subcommands."""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from deeptrance_gui.cli_common import audio_files
from deeptrance_gui.core.dream.settings import MODE_DESCRIPTIONS
from deeptrance_gui.core.errors import DeepTranceError, DreamError

DREAM_EPILOG = "\n\n".join(MODE_DESCRIPTIONS.values())


def _parse_intensify(value: str | None) -> tuple[str | None, int | str | None]:
    if not value:
        return None, None
    layer, _, channel = value.partition(":")
    if not channel:
        return layer, None
    return layer, int(channel) if channel.isdigit() else channel


def _request_from_args(args: argparse.Namespace) -> Any:
    from deeptrance_gui.core.dream.settings import DreamSettings, Objective
    from deeptrance_gui.core.dream.takes import DreamRequest
    from deeptrance_gui.core.model.registry import get_spec

    dreamers = tuple(args.model or ["msd-musicnn"])
    judges: tuple[str, ...] = tuple(args.judge or get_spec(dreamers[0]).judge_panel_default)
    if "none" in judges:
        judges = ()
    layer, channel = _parse_intensify(args.intensify)
    if layer:
        objective = Objective(kind="intensify", toward=None, layer=layer, channel=channel)
    else:
        objective = Objective(kind="genre", toward=args.toward, away=args.away)
        if not args.toward and not args.away:
            objective = Objective(kind="genre", toward="electronic")
    level = getattr(args, "band_level_db_value", None)
    if level is None and args.mode == "cover":
        level = _cover_amounts(args)[0]
    if level is None:
        level = float(str(args.band_level_db).split(",")[0])
    settings = DreamSettings(
        mode=args.mode,
        iterations=args.iterations,
        strength_db=args.strength_db,
        band_level_db=level,
        band_original_eq_db=args.band_original_eq_db,
        soundfont=str(Path(args.soundfont).resolve()) if args.soundfont else None,
    )
    region = None
    if args.start is not None or args.end is not None:
        region = (args.start or 0.0, args.end if args.end is not None else 1e9)
    return DreamRequest(
        dreamers=dreamers,
        judges=judges,
        objective=objective,
        settings=settings,
        region=region,
        start_s=args.start,
        seed=args.seed,
    )


def _cover_amounts(args: argparse.Namespace) -> list[float]:
    """The cover amounts of ``--cover-amount`` (comma-separated for a curve; default: cover)."""
    from deeptrance_gui.core.band.cover import parse_cover_amount

    return [parse_cover_amount(v) for v in str(args.cover_amount or "cover").split(",")]


def run_request(clip: Any, request: Any, *, progress: bool = True) -> Any:
    """Run a :class:`DreamRequest` to its final step, with a progress bar on stderr."""
    from tqdm import tqdm

    from deeptrance_gui.core.dream.cost import progress_line
    from deeptrance_gui.core.model.loading import load_model
    from deeptrance_gui.core.modes import dream_request

    # Nobody listens to a headless dream: each window is rendered once (same result, less work).
    steps = dream_request(clip, request, load_model=load_model, live=False)
    final, first_elapsed_s = None, None
    # The window's progress line, not tqdm's own rate and ETA: those count the set-up (models,
    # analysis, the first window) as an iteration and promised 45 minutes for an 80-s cover.
    bar_format = "{bar:24}| {desc} · {elapsed} so far"
    with tqdm(total=None, disable=not progress, file=sys.stderr, leave=False, bar_format=bar_format) as bar:
        for step in steps:
            if step.iteration == 1:
                first_elapsed_s = step.elapsed_s
            bar.total = step.total_iterations
            bar.set_description_str(progress_line(step, first_elapsed_s=first_elapsed_s), refresh=False)
            bar.update(1)
            if step.final:  # update() draws at most every 0.1 s: the last line would be skipped
                bar.refresh()
            final = step
    if final is None or not final.final:
        raise DreamError("the dream stopped before it finished")
    return final


def _cmd_dream(args: argparse.Namespace) -> int:
    from deeptrance_gui.core.audio import load_audio
    from deeptrance_gui.core.dream.export import check_export, export_take, plan_export
    from deeptrance_gui.core.dream.takes import DreamRequest, read_sidecar

    if args.from_sidecar:
        record = read_sidecar(args.from_sidecar)
        request = DreamRequest.from_dict(record["request"])
        if args.subtype is None:
            args.subtype = record.get("output_subtype", "PCM_24")
        source = Path(args.input) if args.input else Path(record["input"]["path"])
    else:
        if not args.input:
            raise DreamError("give an input file (or --from-sidecar TAKE.json)")
        request = _request_from_args(args)
        source = Path(args.input)
    if args.output is None:
        raise DreamError("give an output file with -o OUT.wav or OUT.flac")
    out = Path(args.output)
    if out.suffix.lower() not in (".wav", ".flac"):
        raise DreamError(f"{out}: write .wav or .flac")
    from deeptrance_gui.core.modes import get_mode

    part_names = get_mode(request.settings.mode).part_names
    if (args.stems or args.midi) and part_names is None:
        raise DreamError("--stems and --midi are for the band and cover dreams (--mode band or cover)")
    parts: tuple[str, ...] = ()
    if part_names is not None and args.stems:
        parts = part_names(request.objective.toward or "")
    plan = plan_export(out, part_names=parts, stems=args.stems, midi=args.midi)
    for path in plan.paths:
        if path.exists() and not args.force:
            raise DreamError(f"{path} already exists; choose another name or pass --force")
    clip = load_audio(source)
    # Refuse an unwritable destination, or a set of files the disk cannot hold, before the
    # dream, not after it: the work is not lost.
    subtype = args.subtype or "PCM_24"
    start_s, end_s = request.region or (0.0, clip.duration_s)
    stem_frames = round((min(end_s, clip.duration_s) - max(0.0, start_s)) * clip.sample_rate_hz)
    check_export(
        plan, frames=clip.frames, channels=clip.channels, stem_frames=stem_frames, subtype=subtype, overwrite=args.force
    )
    final = run_request(clip, request, progress=not args.quiet)
    written = export_take(clip, request, final, plan, source=source, subtype=subtype, overwrite=args.force)
    _print_summary(request, final)
    *files, sidecar = written
    print(f"wrote {', '.join(str(p) for p in files)} and {sidecar}")
    return 0


def _print_summary(request: Any, final: Any) -> None:
    from deeptrance_gui.core.dream.verdict import judge_verdict, next_try, panel_verdict

    tag = request.objective.toward or request.objective.away
    if tag is None:
        print(f"{request.objective.describe()}: {final.iteration} iterations in {final.elapsed_s:.1f} s")
        return
    for before, after in zip(final.dreamers_before, final.dreamers, strict=True):
        print(
            f"dreamer {after.model_name}: {tag} {before.probability(tag):.3f} (#{before.rank(tag)}) → "
            f"{after.probability(tag):.3f} (#{after.rank(tag)})"
        )
    if final.judged:
        panel = panel_verdict(tag, final.judges_before, final.judges, toward=request.objective.toward is not None)
        for verdict in panel.verdicts:
            print(f"judge   {verdict.describe()}")
        print(f"verdict: {panel.summary()}")
        dreamer = judge_verdict(tag, final.dreamers_before[0], final.dreamers[0])
        advice = next_try(panel, settings=request.settings, dreamer_moved=dreamer.moved)
        if advice:
            print(f"try:    {advice}")


def _cmd_evaluate(args: argparse.Namespace) -> int:
    from deeptrance_gui.core.audio import load_audio, save_audio
    from deeptrance_gui.core.dream.evaluation import evaluate_take
    from deeptrance_gui.core.dream.takes import splice

    files = [f for target in args.targets for f in audio_files(target)]
    if not files:
        raise DreamError("no audio files to evaluate")
    out_dir = Path(args.out_dir) if args.out_dir else Path(tempfile.mkdtemp(prefix="deeptrance-eval-"))
    out_dir.mkdir(parents=True, exist_ok=True)
    rows: list[dict[str, Any]] = []
    tags = [t.strip() for t in args.toward.split(",")]
    levels: list[float | None] = [None]
    if args.mode == "band" and args.band_level_db:
        levels = [float(v) for v in args.band_level_db.split(",")]
    elif args.mode == "cover":
        levels = list(_cover_amounts(args))
    originals: dict[str, Any] = {}  # file → its fingerprint (cover identification)
    fingerprints: list[tuple[dict[str, Any], Any]] = []  # (row, the cover's fingerprint)
    for path in files:
        try:
            clip = load_audio(path, max_duration_s=args.max_duration)
        except DeepTranceError as err:
            print(f"skipped: {err}", file=sys.stderr)
            continue
        before: dict[str, Any] = {}  # each model hears the original once, whatever the targets
        identity = _IdentityCheck(clip) if args.mode == "cover" else None
        if identity is not None:
            originals[path.name] = identity.original
        for tag in tags:
            for level in levels:
                args.toward, args.away, args.intensify = tag, None, None
                if level is not None:
                    args.band_level_db_value = level
                request = _request_from_args(args)
                started = time.monotonic()
                try:
                    final = run_request(clip, request, progress=False)
                except DreamError as err:
                    print(f"skipped {path.name} → {tag}: {err}", file=sys.stderr)
                    continue
                seconds = time.monotonic() - started
                suffix = "" if level is None else f".band{level:+g}dB"
                out = out_dir / f"{path.stem}.to-{tag.replace(' ', '_')}{suffix}.wav"
                save_audio(splice(clip, final), out, subtype="FLOAT", overwrite=True)
                written = load_audio(out)  # judge what was written, re-decoded
                row = evaluate_take(
                    clip,
                    written,
                    tag=tag,
                    dreamers=request.dreamers,
                    judges=request.judges,
                    load_model=_load,
                    before=before,
                )
                if identity is not None:
                    row["melody_presence"] = identity.melody_presence(written)
                    fingerprints.append((row, identity.fingerprint(written)))
                row.update(
                    file=path.name,
                    mode=request.settings.mode,
                    band_level_db=level,
                    band_original_eq_db=args.band_original_eq_db,
                    seconds=seconds,
                    seconds_per_iteration=seconds / final.iteration,
                )
                if final.band is not None:  # what each part played ("lead: melody-as-played")
                    row["parts"] = list(final.band.lanes().labels)
                rows.append(row)
                if not (args.json and identity is not None):  # a cover's JSON row waits for its identity
                    print(json.dumps(row) if args.json else _format_row(row), flush=True)
    if originals:
        _identify(fingerprints, originals)
        if args.json:
            for row in rows:
                print(json.dumps(row), flush=True)
    if not args.json:
        for line in _totals(rows):
            print(line)
    return 0 if rows else 1


class _IdentityCheck:
    """Is a cover of ``clip`` still the same song (core/analysis/identity.py)?"""

    def __init__(self, clip: Any) -> None:
        from deeptrance_gui.core.analysis import analyse
        from deeptrance_gui.core.analysis.identity import fingerprint
        from deeptrance_gui.core.analysis.transcribe import transcribe
        from deeptrance_gui.core.errors import AnalysisError

        self.clip = clip
        self.original = fingerprint(clip.samples, clip.sample_rate_hz)
        try:
            beats = analyse(clip).beat_times_s
            self.melody = transcribe(clip.samples, sample_rate_hz=clip.sample_rate_hz, beat_times_s=beats).melody
        except AnalysisError:
            self.melody = ()

    def fingerprint(self, written: Any) -> Any:
        from deeptrance_gui.core.analysis.identity import fingerprint

        return fingerprint(written.samples, written.sample_rate_hz)

    def melody_presence(self, written: Any) -> float:
        from deeptrance_gui.core.analysis.identity import melody_presence

        rate = self.clip.sample_rate_hz
        return melody_presence(written.samples, self.clip.samples, self.melody, sample_rate_hz=rate)


def _identify(fingerprints: list[tuple[dict[str, Any], Any]], originals: dict[str, Any]) -> None:
    """Each cover's key-invariant similarity to every original of the set: identified when its
    own original is the nearest."""
    from deeptrance_gui.core.analysis.identity import fingerprint_similarity

    for row, fp in fingerprints:
        similarity = {name: fingerprint_similarity(fp, other) for name, other in originals.items()}
        own = similarity[row["file"]]
        nearest_other = max((v for k, v in similarity.items() if k != row["file"]), default=float("-inf"))
        row.update(cover_similarity=own, identity_margin=own - nearest_other, identified=own > nearest_other)


def _load(name: str) -> Any:
    from deeptrance_gui.core.model.loading import load_model

    return load_model(name)


def _format_row(row: dict[str, Any]) -> str:
    judges = "  ".join(
        f"{j['model']} {j['before']:.3f}#{j['rank_before']}→{j['after']:.3f}#{j['rank_after']}"
        for j in row["judges"]
        if j["rank_after"] is not None
    )
    dreamer = row["dreamer"]
    delta = "n/a" if row["delta_lu"] is None else f"{row['delta_lu']:+.2f}"
    level = "" if row.get("band_level_db") is None else f" band {row['band_level_db']:+g} dB"
    melody = "" if row.get("melody_presence") is None else f"  melody {row['melody_presence']:.2f}"
    return (
        f"{row['file'][:26]:26s} →{row['target']:10s}{level} dreamer {dreamer['before']:.3f}#{dreamer['rank_before']}"
        f"→{dreamer['after']:.3f}#{dreamer['rank_after']}  {judges}  {row['verdict']:17s} "
        f"SNR {row['snr_db']:5.1f}  chroma {row['chroma_similarity']:.3f}  ΔLU {delta}  "
        f"TP {row['true_peak_dbtp']:+.2f}{melody}  {row['seconds']:.1f} s"
    )


def _totals(rows: list[dict[str, Any]]) -> list[str]:
    """Summary lines; per band level when several were asked for."""
    lines = []
    for level in sorted({r.get("band_level_db") for r in rows}, key=lambda v: -1e9 if v is None else v):
        group = [r for r in rows if r.get("band_level_db") == level]
        n = len(group)
        one = sum(r["confirmed_by_one"] for r in group)
        both = sum(r["confirmed_by_all"] for r in group)
        top3 = sum((r["dreamer"]["rank_after"] or 99) <= 3 for r in group)
        chroma = sum(r["chroma_similarity"] >= 0.9 for r in group)
        tp_ok = sum(r["true_peak_dbtp"] <= -1.0 + 1e-3 for r in group)
        lu_ok = sum(r["delta_lu"] is not None and abs(r["delta_lu"]) <= 0.5 for r in group)
        cross = [r for r in group if not r["already_heard"]]
        cross_one = sum(r["confirmed_by_one"] for r in cross)
        cross_both = sum(r["confirmed_by_all"] for r in cross)
        head = "" if level is None else f"band level {level:+g} dB: "
        lines.append(
            f"{head}confirmed by one judge {one}/{n}, by all {both}/{n}; dreamer top 3 {top3}/{n}; "
            f"chroma ≥ 0.9 {chroma}/{n}; true peak ≤ −1 dBTP {tp_ok}/{n}; |ΔLU| ≤ 0.5 {lu_ok}/{n}"
        )
        if any("identified" in r for r in group):
            found = sum(bool(r.get("identified")) for r in group)
            melody = [r["melody_presence"] for r in group if r.get("melody_presence") == r.get("melody_presence")]
            lines.append(
                f"  same song: nearest to its own original {found}/{n}; melody chroma ≥ 0.8 "
                f"{sum(m >= 0.8 for m in melody)}/{len(melody)} (median {statistics.median(melody) if melody else float('nan'):.2f})"
            )
        lines.append(
            f"  cross-genre (no judge had the target in its top 3 before): confirmed by one "
            f"{cross_one}/{len(cross)}, by all {cross_both}/{len(cross)}"
        )
        by_target: dict[str, list[int]] = {}
        for r in group:
            by_target.setdefault(r["target"], []).append(int(r["confirmed_by_one"]))
        lines.append(
            "  by target (confirmed by one): "
            + ", ".join(f"{t} {sum(v)}/{len(v)}" for t, v in sorted(by_target.items()))
        )
    return lines


def _cmd_self_test(args: argparse.Namespace) -> int:
    from deeptrance_gui.self_test import run_self_test

    ok, summary = run_self_test()
    print(summary, file=sys.stdout if ok else sys.stderr)
    return 0 if ok else 1


def _add_dream_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--model",
        action="append",
        metavar="M",
        help="dreaming model (repeat for an ensemble); default msd-musicnn",
    )
    parser.add_argument(
        "--judge",
        action="append",
        metavar="M",
        help="independent judge (repeat for a panel; default: both models of the other dataset, "
        "MTT for MSD dreamers and vice versa; 'none' for no judge)",
    )
    parser.add_argument(
        "--mode",
        choices=["mask", "band", "cover", "waveform"],
        default="mask",
        help="mask (default: the genre EQ dream), band (a sampled band plays along; --toward a style), "
        "cover (the track's melody and bassline played by the style's band) "
        "or waveform (experimental: an adversarial example)",
    )
    parser.add_argument(
        "--cover-amount",
        metavar="AMOUNT",
        help="cover mode: the band's level over the original, dB (-18…18) or cover (+6, the default), level (0), "
        "band-under (-6); above 0 the original's drums are taken out (evaluate: comma-separated for a curve)",
    )
    parser.add_argument(
        "--band-original-eq-db",
        type=float,
        default=3.0,
        metavar="DB",
        help="band mode: the dream may EQ the original by up to ±DB to make room for the band (default 3; 0 = off; "
        "see the README for the measurement)",
    )
    parser.add_argument(
        "--soundfont",
        metavar="SF2",
        help="band mode: a General MIDI .sf2/.sf3 SoundFont (default: the shipped FluidR3 GM subset)",
    )
    parser.add_argument("--iterations", type=int, default=20)
    parser.add_argument("--strength-db", type=float, default=6.0, help="mask bound, 3–12 dB")
    parser.add_argument("--seed", type=int, default=0)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the dream subcommands to ``sub``."""
    dream = sub.add_parser(
        "dream",
        help="dream a file toward a tag or intensify a layer",
        epilog=DREAM_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    dream.add_argument("input", nargs="?", metavar="IN")
    dream.add_argument("-o", "--output", metavar="OUT", help="OUT.wav or OUT.flac (+ OUT.wav.json sidecar)")
    dream.add_argument("--toward", metavar="TAG", help="push toward this tag (default electronic)")
    dream.add_argument("--away", metavar="TAG", help="push away from this tag")
    dream.add_argument("--intensify", metavar="LAYER[:CHANNEL]", help="classic DeepDream on a layer")
    dream.add_argument("--start", type=float, metavar="S", help="region start (s); also the playhead")
    dream.add_argument("--end", type=float, metavar="S", help="region end (s)")
    dream.add_argument(
        "--subtype",
        default=None,
        choices=["PCM_16", "PCM_24", "FLOAT"],
        help="sample format (default PCM_24, or the sidecar's with --from-sidecar)",
    )
    dream.add_argument(
        "--from-sidecar", type=Path, metavar="TAKE.json", help="reproduce a take bit for bit from its sidecar"
    )
    dream.add_argument("--force", action="store_true", help="overwrite OUT and its sidecar")
    dream.add_argument(
        "--band-level-db",
        type=float,
        default=-6.0,
        help="band mode: band loudness relative to the track, -18…0 dB",
    )
    dream.add_argument(
        "--stems", action="store_true", help="band mode: also write OUT.<part>.wav per part + original"
    )
    dream.add_argument("--midi", action="store_true", help="band mode: also write OUT.mid (the parts as dreamed)")
    dream.add_argument("--quiet", action="store_true", help="no progress bar")
    _add_dream_options(dream)
    dream.set_defaults(handler=_cmd_dream)

    evaluate = sub.add_parser(
        "evaluate",
        help="dream clips, re-decode them, and report what dreamer and judge hear",
        epilog="verdict: a judge 'confirms' when its probability for the target at least doubles and the "
        "target is in its top 5 (deeptrance_gui/core/dream/verdict.py); the panel reports "
        "'confirmed by both', 'confirmed by one', 'partly heard' or 'not heard'",
    )
    evaluate.add_argument("targets", nargs="+", type=Path, metavar="DIR_OR_FILE")
    evaluate.add_argument("--toward", required=True, help="target tag (comma-separated for several)")
    evaluate.add_argument("--out-dir", help="where the dreamed files go (default: a temp folder)")
    evaluate.add_argument("--max-duration", type=float, default=None, help="use only the first N s")
    evaluate.add_argument("--json", action="store_true")
    evaluate.add_argument(
        "--band-level-db",
        default="-6",
        help="band mode: band level(s) in dB relative to the track, comma-separated for a curve (-12,-9,-6,-3)",
    )
    _add_dream_options(evaluate)
    evaluate.set_defaults(handler=_cmd_evaluate, start=None, end=None, away=None, intensify=None)

    self_test = sub.add_parser("self-test", help="headless check: demo clip, predict, dream, write, decode")
    self_test.set_defaults(handler=_cmd_self_test)
