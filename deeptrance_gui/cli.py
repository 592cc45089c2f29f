"""The ``deeptrance`` command: the same engine as the window, headless.

argparse with subcommands: no extra dependency, and ``--help`` for every command. Heavy imports
(torch) happen inside the commands that need them, so ``deeptrance info`` stays fast.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from deeptrance_gui import __version__
from deeptrance_gui.core.errors import DeepTranceError

Handler = Callable[[argparse.Namespace], int]


def _cmd_info(args: argparse.Namespace) -> int:
    from deeptrance_gui.core.audio import load_audio
    from deeptrance_gui.core.dsp.loudness import levels

    status = 0
    for path in args.files:
        try:
            clip = load_audio(path)
        except DeepTranceError as err:
            print(f"error: {err}", file=sys.stderr)
            status = 1
            continue
        report = levels(clip.samples, sample_rate_hz=clip.sample_rate_hz)
        source = clip.source
        assert source is not None
        info = {
            "file": str(path),
            "format": source.container,
            "codec": source.codec,
            "sample_rate_hz": source.sample_rate_hz,
            "channels": source.channels,
            "duration_s": round(source.duration_s, 3),
            "peak_dbfs": round(report.peak_dbfs, 2),
            "rms_dbfs": round(report.rms_dbfs, 2),
            "true_peak_dbtp": round(report.true_peak_dbtp, 2),
            "loudness_lufs": None if report.loudness_lufs is None else round(report.loudness_lufs, 2),
            "warnings": list(clip.warnings),
        }
        if args.json:
            print(json.dumps(info))
            continue
        lufs = "n/a (too short or silent)" if info["loudness_lufs"] is None else f"{info['loudness_lufs']} LUFS"
        print(f"{path}")
        print(f"  format      {info['format']} / {info['codec']}")
        print(f"  rate        {info['sample_rate_hz']} Hz, {info['channels']} ch, {info['duration_s']} s")
        print(f"  peak        {info['peak_dbfs']} dBFS (true peak {info['true_peak_dbtp']} dBTP)")
        print(f"  rms         {info['rms_dbfs']} dBFS")
        print(f"  loudness    {lufs}")
        for warning in clip.warnings:
            print(f"  warning     {warning}")
    return status


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    parser = argparse.ArgumentParser(
        prog="deeptrance",
        description="Deep Trance: DeepDream for music, headless. See 'deeptrance COMMAND --help'.",
    )
    parser.add_argument("--version", action="version", version=f"deeptrance {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    info = sub.add_parser("info", help="format, rate, channels, duration and levels of audio files")
    info.add_argument("files", nargs="+", type=Path, metavar="FILE")
    info.add_argument("--json", action="store_true", help="one JSON object per line")
    info.set_defaults(handler=_cmd_info)

    from deeptrance_gui import cli_commands, cli_dream, cli_train

    cli_commands.register(sub)
    cli_dream.register(sub)
    cli_train.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``deeptrance`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Handler | None = getattr(args, "handler", None)
    if handler is None:
        parser.print_help(sys.stderr)
        return 2
    try:
        return handler(args)
    except DeepTranceError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
