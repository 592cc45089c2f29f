"""What a dream will do and about what it costs, said before Dream is clicked.

The estimate is (patches the models hear) × iterations × (seconds per patch-iteration on this
machine) plus a fixed cost per window (renders, judges) and, for the band, the analysis and
the SoundFont rendering. Seconds per patch-iteration come from a quick calibration when the
models load (:func:`~deeptrance_gui.core.dream.engine.calibrate`) and are then replaced by
what each finished dream measured.
"""

from __future__ import annotations

import math

from deeptrance_gui.core.dream.settings import BAND_WINDOW_S, MAX_BAND_REGION_S, DreamSettings
from deeptrance_gui.core.dream.steps import DreamStep
from deeptrance_gui.core.model.geometry import PATCH_S

#: Rough cost per patch-iteration before anything was measured (2-core laptop, musicnn).
DEFAULT_SECONDS_PER_PATCH_ITERATION = 0.04
SECONDS_PER_WINDOW = 1.5  # final render of a window, judges, limiter
#: Modes that play a band over one region at a time (analysis and SoundFont set-up, one window).
BAND_LIKE_MODES = ("band", "cover")
BAND_SETUP_SECONDS_PER_S = 0.12  # analysis + SoundFont rendering + STFTs, per second of region


def estimate_dream_s(duration_s: float, settings: DreamSettings, *, seconds_per_patch_iteration: float) -> float:
    """Expected wall time of a dream over ``duration_s`` seconds of audio."""
    patches = max(1, math.ceil(duration_s / PATCH_S))
    band = settings.mode in BAND_LIKE_MODES
    if band:
        windows = 1 if duration_s <= MAX_BAND_REGION_S else math.ceil(duration_s / BAND_WINDOW_S)
    else:
        windows = max(1, math.ceil(patches / settings.window_patches))
    optimise = patches * settings.iterations * seconds_per_patch_iteration
    setup = BAND_SETUP_SECONDS_PER_S * duration_s if band else 0.0
    return optimise + windows * SECONDS_PER_WINDOW + setup


def measured_seconds_per_patch_iteration(duration_s: float, iterations: int, elapsed_s: float) -> float:
    """What a finished dream says about this machine (inverse of :func:`estimate_dream_s`, roughly)."""
    patches = max(1, math.ceil(duration_s / PATCH_S))
    return max(1e-3, elapsed_s / (patches * max(1, iterations)))


def remaining_s(step: DreamStep, *, first_elapsed_s: float | None) -> float:
    """Seconds left in a running dream, from its pace since the first step (the first step
    carries the set-up — 'before' predictions, analysis, rendering — which does not repeat, so
    counting it overshoots early estimates)."""
    left = step.total_iterations - step.iteration
    if first_elapsed_s is None or step.iteration <= 1:
        return step.elapsed_s / max(1, step.iteration) * left
    return (step.elapsed_s - first_elapsed_s) / (step.iteration - 1) * left


def progress_line(step: DreamStep, *, first_elapsed_s: float | None) -> str:
    """'iteration 3/20 · objective 1.234 · ETA 12 s': a running dream's progress, as the window
    and the CLI show it (the ETA from :func:`remaining_s`)."""
    eta = remaining_s(step, first_elapsed_s=first_elapsed_s)
    return f"iteration {step.iteration}/{step.total_iterations} · objective {step.objective:.3f} · ETA {eta:.0f} s"


def _clock(seconds: float) -> str:
    minutes, secs = divmod(seconds, 60)
    return f"{int(minutes)}:{secs:04.1f}"


def describe_plan(
    region: tuple[float, float] | None, *, track_duration_s: float, estimate_s: float, band: bool = False
) -> str:
    """'Whole track, 3:16.0, about 95 s on this machine' / 'Region 0:30.0–0:45.0 (15.0 s), about 8 s'."""
    length = track_duration_s if region is None else region[1] - region[0]
    windows = f" in {math.ceil(length / BAND_WINDOW_S)} windows" if band and length > MAX_BAND_REGION_S else ""
    about = f"about {estimate_s:.0f} s on this machine" if estimate_s >= 10 else f"about {estimate_s:.1f} s"
    if region is None:
        return f"Dreams the whole track, {_clock(track_duration_s)}{windows}, {about}. Select a region to dream less."
    start, end = region
    return f"Dreams the region {_clock(start)}–{_clock(end)} ({end - start:.1f} s){windows}, {about}."
