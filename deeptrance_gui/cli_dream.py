"""dream, evaluate and self-test subcommands."""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

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
    judge = args.judge or get_spec(dreamers[0]).judge_default
    layer, channel = _parse_intensify(args.intensify)
    if layer:
        objective = Objective(kind="intensify", toward=None, layer=layer, channel=channel)
    else:
        objective = Objective(kind="genre", toward=args.toward, away=args.away)
        if not args.toward and not args.away:
            objective = Objective(kind="genre", toward="electronic")
    settings = DreamSettings(mode=args.mode, iterations=args.iterations, strength_db=args.strength_db)
    region = None
    if args.start is not None or args.end is not None:
        region = (args.start or 0.0, args.end if args.end is not None else 1e9)
    return DreamRequest(
        dreamers=dreamers,
        judge=None if judge == "none" else judge,
        objective=objective,
        settings=settings,
        region=region,
        start_s=args.start,
        seed=args.seed,
    )


def run_request(clip: Any, request: Any, *, progress: bool = True) -> Any:
    """Run a :class:`DreamRequest` to its final step, with a progress bar on stderr."""
    from tqdm import tqdm

    from deeptrance_gui.core.dream.takes import dream_request
    from deeptrance_gui.core.model.loading import load_model

    steps = dream_request(clip, request, load_model=load_model)
    final = None
    with tqdm(total=None, unit="it", disable=not progress, file=sys.stderr, leave=False) as bar:
        for step in steps:
            bar.total = step.total_iterations
            bar.set_postfix(objective=f"{step.objective:.3f}")
            bar.update(1)
            final = step
    if final is None or not final.final:
        raise DreamError("the dream stopped before it finished")
    return final


def _cmd_dream(args: argparse.Namespace) -> int:
    from deeptrance_gui.core.audio import load_audio, save_audio
    from deeptrance_gui.core.dream.takes import (
        DreamRequest,
        read_sidecar,
        sidecar_path,
        sidecar_record,
        splice,
        write_json_atomic,
    )

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
    sidecar = sidecar_path(out)
    for path in (out, sidecar):
        if path.exists() and not args.force:
            raise DreamError(f"{path} already exists; choose another name or pass --force")
    if out.suffix.lower() not in (".wav", ".flac"):
        raise DreamError(f"{out}: write .wav or .flac")
    clip = load_audio(source)
    final = run_request(clip, request, progress=not args.quiet)
    save_audio(splice(clip, final), out, subtype=args.subtype or "PCM_24", overwrite=args.force)
    record = sidecar_record(request, final, input_path=source, output_path=out)
    record["output_subtype"] = args.subtype or "PCM_24"
    write_json_atomic(record, sidecar, overwrite=args.force)
    _print_summary(request, final)
    print(f"wrote {out} and {sidecar}")
    return 0


def _print_summary(request: Any, final: Any) -> None:
    tag = request.objective.toward or request.objective.away
    if tag is None:
        print(f"{request.objective.describe()}: {final.iteration} iterations in {final.elapsed_s:.1f} s")
        return
    for before, after in zip(final.dreamers_before, final.dreamers, strict=True):
        print(
            f"dreamer {after.model_name}: {tag} {before.probability(tag):.3f} (#{before.rank(tag)}) → "
            f"{after.probability(tag):.3f} (#{after.rank(tag)})"
        )
    if final.judge is not None and final.judge_before is not None and final.judge.rank(tag) is not None:
        b, a = final.judge_before, final.judge
        verdict = _verdict(b.probability(tag), a.probability(tag), a.rank(tag))
        print(
            f"judge   {a.model_name}: {tag} {b.probability(tag):.3f} (#{b.rank(tag)}) → "
            f"{a.probability(tag):.3f} (#{a.rank(tag)})  {verdict}"
        )


def _verdict(before: float, after: float, rank_after: int | None) -> str:
    """'confirmed' = the judge's probability at least doubled and the tag is in its top 5."""
    if rank_after is None:
        return "judge lacks tag"
    if after >= 2 * before and rank_after <= 5:
        return "confirmed"
    if after > before:
        return "judge up"
    return "judge does not follow"


def _cmd_evaluate(args: argparse.Namespace) -> int:
    import numpy as np

    from deeptrance_gui.cli_commands import _audio_files
    from deeptrance_gui.core.audio import load_audio, save_audio
    from deeptrance_gui.core.dream.takes import splice
    from deeptrance_gui.core.dsp.loudness import integrated_loudness_lufs, true_peak_dbtp
    from deeptrance_gui.core.model.loading import load_model
    from deeptrance_gui.core.model.predict import predict

    files = [f for target in args.targets for f in _audio_files(target)]
    if not files:
        raise DreamError("no audio files to evaluate")
    out_dir = Path(args.out_dir) if args.out_dir else Path(tempfile.mkdtemp(prefix="deeptrance-eval-"))
    out_dir.mkdir(parents=True, exist_ok=True)
    rows: list[dict[str, Any]] = []
    tags = [t.strip() for t in args.toward.split(",")]
    for path in files:
        try:
            clip = load_audio(path, max_duration_s=args.max_duration)
        except DeepTranceError as err:
            print(f"skipped: {err}", file=sys.stderr)
            continue
        for tag in tags:
            args.toward, args.away, args.intensify = tag, None, None
            request = _request_from_args(args)
            started = time.monotonic()
            final = run_request(clip, request, progress=False)
            seconds = time.monotonic() - started
            out = out_dir / f"{path.stem}.to-{tag.replace(' ', '_')}.wav"
            save_audio(splice(clip, final), out, subtype="FLOAT", overwrite=True)
            written = load_audio(out)  # judge what was written, re-decoded
            dreamer = load_model(request.dreamers[0])
            judge = load_model(request.judge) if request.judge else None
            before_d, after_d = predict(clip, dreamer), predict(written, dreamer)
            row: dict[str, Any] = {
                "file": path.name,
                "target": tag,
                "dreamer_before": before_d.probability(tag),
                "dreamer_rank_before": before_d.rank(tag),
                "dreamer_after": after_d.probability(tag),
                "dreamer_rank_after": after_d.rank(tag),
            }
            if judge is not None and tag in judge.labels:
                before_j, after_j = predict(clip, judge), predict(written, judge)
                row.update(
                    judge_before=before_j.probability(tag),
                    judge_rank_before=before_j.rank(tag),
                    judge_after=after_j.probability(tag),
                    judge_rank_after=after_j.rank(tag),
                    verdict=_verdict(before_j.probability(tag), after_j.probability(tag), after_j.rank(tag)),
                )
            else:
                row.update(verdict="judge lacks tag")
            diff = written.samples - clip.samples
            snr = 10 * np.log10(float(np.sum(clip.samples**2)) / max(float(np.sum(diff**2)), 1e-20))
            lufs_a = integrated_loudness_lufs(clip.samples, sample_rate_hz=clip.sample_rate_hz)
            lufs_b = integrated_loudness_lufs(written.samples, sample_rate_hz=clip.sample_rate_hz)
            row.update(
                snr_db=snr,
                delta_lu=None if lufs_a is None or lufs_b is None else lufs_b - lufs_a,
                true_peak_dbtp=true_peak_dbtp(written.samples, sample_rate_hz=clip.sample_rate_hz),
                seconds_per_iteration=seconds / final.iteration,
            )
            rows.append(row)
            if args.json:
                print(json.dumps(row))
            else:
                _print_row(row)
    if not args.json:
        _print_totals(rows)
    return 0 if rows else 1


def _print_row(row: dict[str, Any]) -> None:
    judge = (
        f"judge {row['judge_before']:.3f}#{row['judge_rank_before']}→{row['judge_after']:.3f}#{row['judge_rank_after']}"
        if "judge_before" in row
        else "judge —"
    )
    delta = "n/a" if row["delta_lu"] is None else f"{row['delta_lu']:+.2f}"
    print(
        f"{row['file'][:28]:28s} →{row['target']:11s} dreamer {row['dreamer_before']:.3f}#{row['dreamer_rank_before']}"
        f"→{row['dreamer_after']:.3f}#{row['dreamer_rank_after']}  {judge}  {row['verdict']:21s} "
        f"SNR {row['snr_db']:5.1f} dB  ΔLU {delta}  TP {row['true_peak_dbtp']:+.2f}  "
        f"{row['seconds_per_iteration']:.2f} s/it"
    )


def _print_totals(rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    n = len(rows)
    top3 = sum(r["dreamer_rank_after"] <= 3 for r in rows)
    judged = [r for r in rows if "judge_before" in r]
    up = sum(r["judge_after"] > r["judge_before"] for r in judged)
    confirmed = sum(r["verdict"] == "confirmed" for r in rows)
    tp_ok = sum(r["true_peak_dbtp"] <= -1.0 + 1e-3 for r in rows)
    lu_ok = sum(r["delta_lu"] is not None and abs(r["delta_lu"]) <= 0.5 for r in rows)
    print(
        f"dreamer target in top 3: {top3}/{n}; judge probability up: {up}/{len(judged)}; "
        f"confirmed: {confirmed}/{n}; true peak ≤ −1 dBTP: {tp_ok}/{n}; |ΔLU| ≤ 0.5: {lu_ok}/{n}"
    )


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
        metavar="M",
        help="independent judge (default: MTT model for MSD dreamers and vice versa; 'none')",
    )
    parser.add_argument(
        "--mode",
        choices=["mask", "waveform"],
        default="mask",
        help="mask (default) or waveform (experimental: an adversarial example)",
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
    dream.add_argument("--quiet", action="store_true", help="no progress bar")
    _add_dream_options(dream)
    dream.set_defaults(handler=_cmd_dream)

    evaluate = sub.add_parser(
        "evaluate",
        help="dream clips, re-decode them, and report what dreamer and judge hear",
        epilog="verdict 'confirmed' = the judge's probability at least doubled and the target "
        "is in the judge's top 5",
    )
    evaluate.add_argument("targets", nargs="+", type=Path, metavar="DIR_OR_FILE")
    evaluate.add_argument("--toward", required=True, help="target tag (comma-separated for several)")
    evaluate.add_argument("--out-dir", help="where the dreamed files go (default: a temp folder)")
    evaluate.add_argument("--max-duration", type=float, default=None, help="use only the first N s")
    evaluate.add_argument("--json", action="store_true")
    _add_dream_options(evaluate)
    evaluate.set_defaults(handler=_cmd_evaluate, start=None, end=None, away=None, intensify=None)

    from deeptrance_gui import cli_train

    cli_train.register(sub)

    self_test = sub.add_parser("self-test", help="headless check: demo clip, predict, dream, write, decode")
    self_test.set_defaults(handler=_cmd_self_test)
