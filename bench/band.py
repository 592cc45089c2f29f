"""Band dream on 30 s of 44.1 kHz stereo, 20 iterations: analysis, SoundFont rendering and
optimisation together, as a ratio to a genre (mask) dream of the same region in the same run.

Targets: the band dream ≤ 15 s on this 2-core machine; the first band audible ≤ 3 s after
Dream. The clip is the demo (real drums, bass, chords) looped to 30 s.
"""

from __future__ import annotations

import time

import numpy as np
import torch
from _common import report

from deeptrance_gui.core import paths
from deeptrance_gui.core.analysis import analyse
from deeptrance_gui.core.audio import AudioClip, load_audio
from deeptrance_gui.core.band.arrange import arrange
from deeptrance_gui.core.band.render import load_soundfont, render_variant
from deeptrance_gui.core.dream.settings import DreamSettings, Objective
from deeptrance_gui.core.model.loading import load_model
from deeptrance_gui.core.modes import dream


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


if __name__ == "__main__":
    main()
