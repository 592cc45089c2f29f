"""Seconds per dream iteration over 30 s of 44.1 kHz stereo, as a ratio to the forward pass.

Both are measured in this run (machines here are noisy). Targets: ≤ 0.25 s per iteration
(optimisation), ≤ 0.4 s with live rendering.
Also prints what each part of an iteration costs (optimisation, render, judge), and a
whole-track dream of a 3-minute track with the defaults (wall time, real-time factor, peak
memory, measured in a fresh process so earlier work does not count; ``--quick`` skips it).
"""

from __future__ import annotations

import multiprocessing
import resource
import sys
import time

import numpy as np
import torch
from _common import report, timed

from deeptrance_gui.core import paths
from deeptrance_gui.core.audio import AudioClip, load_audio
from deeptrance_gui.core.dream.settings import DreamSettings, Objective
from deeptrance_gui.core.model.loading import load_model
from deeptrance_gui.core.model.predict import model_waveform, waveform_patches
from deeptrance_gui.core.modes import dream


def main() -> None:
    torch.set_num_threads(2)
    # The demo clip (real arrangement: drums, bass, pads, arpeggio), looped to 30 s.
    demo = load_audio(paths.demo_clip_path())
    clip = AudioClip(np.tile(demo.samples, (1, 2))[:, : 30 * 44_100], 44_100)
    dreamer, judge = load_model("msd-musicnn"), load_model("mtt-musicnn")
    wave = torch.from_numpy(model_waveform(clip))

    def forward() -> None:
        with torch.inference_mode():
            patches, _ = waveform_patches(dreamer, wave)
            dreamer.network(patches)

    forward()
    forward_s = timed(forward, repeat=5)

    def run(settings: DreamSettings, with_judge: bool = True) -> tuple[float, float, float]:
        """(s per non-final iteration, s for the final step, s to the first audible step)."""
        started = time.perf_counter()
        steps = dream(
            clip,
            [dreamer],
            judges=[judge] if with_judge else [],
            objective=Objective(toward="rock"),
            settings=settings,
            seed=0,
        )
        first_audio = None
        times = []
        last = time.perf_counter()
        for step in steps:
            now = time.perf_counter()
            times.append(now - last)
            last = now
            if first_audio is None and step.audio is not None:
                first_audio = now - started
        # times[0] includes the 'before' predictions of dreamer and judge.
        return sum(times[1:-1]) / len(times[1:-1]), times[-1], first_audio or float("nan")

    iterations = 10
    optimise_only, _, _ = run(DreamSettings(iterations=iterations, render_interval_s=1e9), with_judge=False)
    default, final_s, first_s = run(DreamSettings(iterations=iterations))
    every, _, _ = run(DreamSettings(iterations=iterations, render_interval_s=0.0, judge_interval_s=0.0))
    print(
        f"30 s of 44.1 kHz stereo (demo clip looped), msd-musicnn dreaming, mtt-musicnn judging, "
        f"{torch.get_num_threads()} threads"
    )
    report("forward pass, one pass of 10 (baseline)", forward_s, forward_s)
    report("iteration, optimisation only", optimise_only, forward_s, target_s=0.25)
    report("iteration, default (render ≤ every 1 s)", default, forward_s, target_s=0.4)
    report("iteration, render + judge every iteration", every, forward_s)
    report("final step (render, loudness, limiter, judge)", final_s, forward_s)
    report("first audible change after Dream", first_s, forward_s, target_s=2.0)


WHOLE_TRACK_S = 180.0


def _whole_track(queue: multiprocessing.Queue, live: bool) -> None:  # type: ignore[type-arg]
    """In a fresh process: dream 3 minutes with the defaults; report wall time and peak RSS.
    ``live``: rendered and judged while dreaming, as in the window; else once per window, as
    ``deeptrance dream`` runs."""
    torch.set_num_threads(2)
    demo = load_audio(paths.demo_clip_path())
    reps = int(np.ceil(WHOLE_TRACK_S * 44_100 / demo.frames))
    clip = AudioClip(np.ascontiguousarray(np.tile(demo.samples, (1, reps))[:, : int(WHOLE_TRACK_S * 44_100)]), 44_100)
    dreamer, judge = load_model("msd-musicnn"), load_model("mtt-musicnn")
    started = time.perf_counter()
    steps = dream(clip, [dreamer], judges=[judge], objective=Objective(toward="electronic"), seed=0, live=live)
    final = list(steps)[-1]
    wall = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    queue.put((wall, peak_mb, final.n_windows, final.iteration))


def whole_track(forward_s: float) -> None:
    for live, how in ((False, "as the CLI runs it"), (True, "as the window runs it, rendering live")):
        context = multiprocessing.get_context("spawn")
        queue: multiprocessing.Queue = context.Queue()  # type: ignore[type-arg]
        process = context.Process(target=_whole_track, args=(queue, live))
        process.start()
        wall, peak_mb, windows, iterations = queue.get()
        process.join()
        print(
            f"whole-track dream, {WHOLE_TRACK_S / 60:.0f}-minute track (demo looped), defaults, {how}: {windows} "
            f"windows × {iterations // windows} iterations, real-time factor {wall / WHOLE_TRACK_S:.2f}, "
            f"peak memory {peak_mb:.0f} MB (target ≤ 1500 MB: {'OK' if peak_mb <= 1500 else 'MISSED'})"
        )
        report(f"whole-track dream, 3 minutes, {'live' if live else 'CLI'}", wall, forward_s, target_s=45.0)


if __name__ == "__main__":
    main()
    if "--quick" not in sys.argv:
        torch.set_num_threads(2)
        dreamer = load_model("msd-musicnn")
        wave = torch.rand(30 * 16_000)
        with torch.inference_mode():
            patches, _ = waveform_patches(dreamer, wave)
            start = time.perf_counter()
            dreamer.network(patches)
            forward_s = time.perf_counter() - start
        whole_track(forward_s)
