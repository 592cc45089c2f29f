"""Peak memory while dreaming a whole 10-minute 44.1 kHz stereo track (2 iterations per window).

Target: ≤ 2 GB RSS. Baseline: RSS with the track and models loaded, before dreaming.
"""

from __future__ import annotations

import resource

from _common import synth_music

from deeptrance_gui.core.audio import AudioClip
from deeptrance_gui.core.dream.settings import DreamSettings, Objective
from deeptrance_gui.core.model.loading import load_model
from deeptrance_gui.core.modes import dream


def rss_gb() -> float:
    """Peak resident set size so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2


def main() -> None:
    clip = AudioClip(synth_music(600.0), 44_100)
    dreamer, judge = load_model("msd-musicnn"), load_model("mtt-musicnn")
    baseline = rss_gb()
    steps = 0
    for step in dream(
        clip,
        [dreamer],
        judges=[judge],
        objective=Objective(toward="rock"),
        settings=DreamSettings(iterations=2),
        seed=0,
    ):
        steps += 1
        final = step
    peak = rss_gb()
    print(f"10-min stereo track, {final.n_windows} windows, {steps} iterations")
    print(f"peak RSS before dreaming (baseline) {baseline:5.2f} GB")
    print(
        f"peak RSS while dreaming             {peak:5.2f} GB   target ≤ 2 GB: {'OK' if peak <= 2 else 'MISSED'}"
        f"   (ratio {peak / baseline:.2f})"
    )


if __name__ == "__main__":
    main()
