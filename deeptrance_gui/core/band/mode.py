"""The band dream as a mode: it registers itself with the engine (``--mode band``)."""

from __future__ import annotations

from collections.abc import Iterator

from deeptrance_gui.core.band.arrange import arrange, part_roles
from deeptrance_gui.core.band.dream import BandPlayAlong, plays, prepare_band
from deeptrance_gui.core.band.windows import band_parameterisation
from deeptrance_gui.core.dream.engine import run
from deeptrance_gui.core.dream.modes import DreamCall, DreamMode, register_mode
from deeptrance_gui.core.dream.parameterisation import DreamRegion
from deeptrance_gui.core.dream.steps import DreamStep


def band_dream(call: DreamCall) -> Iterator[DreamStep]:
    """Dream a band toward ``call.objective.toward`` (a style tag; see
    :mod:`deeptrance_gui.core.band.dream`), over a region of any length (long ones in windows).
    The band mode's start (:data:`~deeptrance_gui.core.dream.modes.StartDream`); raises what
    :func:`~deeptrance_gui.core.band.dream.prepare_band` raises, before the first step."""
    plan = prepare_band(call)
    style, settings, frontend = call.objective.toward or "", call.settings, call.models[0].frontend

    def band(region: DreamRegion, start_s: float, end_s: float) -> BandPlayAlong:
        whole = start_s == 0.0 and end_s == plan.duration_s
        analysis = plan.analysis if whole else plan.analysis.window(start_s, end_s)
        arrangement = arrange(analysis, style=style, duration_s=end_s - start_s)
        return BandPlayAlong(region, settings, analysis, arrangement, plan.soundfont, frontend)

    return run(band_parameterisation(call, plan, band), call, plan.objectives, r0=plan.r0, r1=plan.r1)


#: The settings a band reads, beyond the common ones.
BAND_SETTINGS = ("band_level_db", "band_part_range_db", "band_eq_db", "band_eq_bands", "band_original_eq_db", "soundfont")

BAND = register_mode(DreamMode(name="band", reads=BAND_SETTINGS, start=band_dream, part_names=part_roles, plays=plays))
