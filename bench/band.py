"""Band and cover dreams on 30 s of 44.1 kHz stereo, 20 iterations: analysis, transcription,
SoundFont rendering and optimisation together, as ratios to a genre (mask) dream of the same
region in the same run; and a whole 3-minute cover from the CLI against a 3-minute genre dream
from the CLI.

Targets: the band dream ≤ 15 s on this 2-core machine; the first band audible ≤ 3 s after
Dream; a 30-s cover ≤ 20 s; a 3-minute cover ≤ 90 s from the CLI. The clip is the demo (real
drums, bass, chords) looped.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from _common import report

from deeptrance_gui.core import paths
from deeptrance_gui.core.analysis import analyse
from deeptrance_gui.core.audio import AudioClip, load_audio, save_audio
from deeptrance_gui.core.band.arrange import arrange
from deeptrance_gui.core.band.render import load_soundfont, render_variant
from deeptrance_gui.core.dream.settings import DreamSettings, Objective
from deeptrance_gui.core.model.loading import load_model
from deeptrance_gui.core.modes import dream


def cli_seconds(clip: AudioClip, mode: str, folder: Path) -> float:
    """Wall seconds of ``deeptrance dream`` on ``clip`` (written to ``folder``) in ``mode``."""
    source = folder / f"in-{mode}.wav"
    save_audio(clip, source, subtype="PCM_16", overwrite=True)
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "deeptrance_gui.cli", "dream", str(source), "-o", str(folder / f"out-{mode}.wav"),
         "--mode", mode, "--toward", "rock", "--quiet", "--force"],
        check=True, capture_output=True,
    )  # fmt: skip
    return time.perf_counter() - started


def run(clip: AudioClip, settings: DreamSettings, models: list, judges: list) -> tuple[float, float]:
    """(wall seconds to the final step, seconds to the first step with audio)."""
    started = time.perf_counter()
    first = float("nan")
    for step in dream(clip, models, judges=judges, objective=Objective(toward="rock"), settings=settings, seed=0):
        if step.audio is not None and first != first:
            first = time.perf_counter() - started
    return time.perf_counter() - started, first


def main() -> None:
    torch.set_num_threads(2)
    demo = load_audio(paths.demo_clip_path())
    clip = AudioClip(np.tile(demo.samples, (1, 2))[:, : 30 * 44_100], 44_100)
    dreamer = load_model("msd-musicnn")
    judges = [load_model("mtt-musicnn"), load_model("mtt-vgg")]
    run(clip, DreamSettings(iterations=1), [dreamer], [])  # warm-up (first-use imports)
    genre_s, _ = run(clip, DreamSettings(iterations=20), [dreamer], judges)
    band_s, first_s = run(clip, DreamSettings(mode="band", iterations=20), [dreamer], judges)
    cover_s, first_cover_s = run(clip, DreamSettings(mode="cover", iterations=20, band_level_db=6.0), [dreamer], judges)
    started = time.perf_counter()
    analysis = analyse(clip)
    analysis_s = time.perf_counter() - started
    arrangement = arrange(analysis, style="rock", duration_s=clip.duration_s)
    font = load_soundfont()
    started = time.perf_counter()
    for part in arrangement.parts:
        for variant in part.variants:
            render_variant(variant, font, duration_s=clip.duration_s, sample_rate_hz=clip.sample_rate_hz)
    render_s = time.perf_counter() - started
    print("30 s of 44.1 kHz stereo (demo looped), msd-musicnn dreaming, judges mtt-musicnn + mtt-vgg, 2 threads")
    report("genre dream, 20 iterations (baseline)", genre_s, genre_s)
    report("band dream, 20 iterations", band_s, genre_s, target_s=15.0)
    report("  of which: analysis (tempo, beats, chords)", analysis_s, genre_s)
    report("  of which: SoundFont rendering, all variants", render_s, genre_s)
    report("first band audible after Dream", first_s, genre_s, target_s=3.0)
    report("cover dream, 20 iterations (transcription, drums out, band in front)", cover_s, genre_s, target_s=20.0)
    report("first cover audible after Dream", first_cover_s, genre_s)
    long = AudioClip(np.tile(demo.samples, (1, 8))[:, : 180 * 44_100], 44_100)
    with tempfile.TemporaryDirectory() as folder:
        genre_cli_s = cli_seconds(long, "mask", Path(folder))
        cover_cli_s = cli_seconds(long, "cover", Path(folder))
    print("3 minutes of 44.1 kHz stereo (demo looped), deeptrance dream, 20 iterations, default judges")
    report("genre dream from the CLI (baseline)", genre_cli_s, genre_cli_s)
    report("cover dream from the CLI, in windows", cover_cli_s, genre_cli_s, target_s=90.0)


if __name__ == "__main__":
    main()
