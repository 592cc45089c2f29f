"""Whole tracks for the band and the cover: the region dreamed in bar-aligned windows.

A band dream holds every variant's spectra of its region in memory (≈ 0.66 GB + 26 MB per
second of audio, ``settings.MAX_BAND_REGION_S``), so a region longer than that is dreamed as the
genre dream is: in windows of whole bars (≈ :data:`BAND_WINDOW_S`), from the playhead outward,
one window's band alive at a time (its parameters, spectra and graph freed when it ends). Each
window is a :class:`~deeptrance_gui.core.band.dream.BandPlayAlong` of its own over the track's
beat grid (sliced, so bars and chords stay the whole track's). A window's band plays its own
bars and rings on :data:`~deeptrance_gui.core.band.dream.EDGE_FADE_S` past its last bar line,
fading out there while the next window's band plays that bar line at full level: a crossfade at
the bar line that keeps the downbeat's attack (a fade-in there softened every window's first
kick) and leaves no hole in the band. The final take joins the windows' stems and originals, each window at the
track's loudness over it (so windows never reached by a dream stopped early keep their level),
matches the whole region's loudness and limits it, and joins their parts into one arrangement (each
part's notes as dreamed, window after window), so stems, MIDI and lanes cover the whole track.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import replace

import numpy as np
import torch

from deeptrance_gui.core.analysis import MusicalAnalysis
from deeptrance_gui.core.audio.clip import FloatArray
from deeptrance_gui.core.band.arrange import Arrangement, Note, PartVariant
from deeptrance_gui.core.band.dream import EDGE_FADE_S, BandPlan, BandPlayAlong, region_display
from deeptrance_gui.core.band.take import BandTake
from deeptrance_gui.core.dream.modes import DreamCall
from deeptrance_gui.core.dream.parameterisation import DreamRegion, Parameterisation, Rendered, Window, outward
from deeptrance_gui.core.dream.settings import BAND_WINDOW_S, MAX_BAND_REGION_S, DreamSettings
from deeptrance_gui.core.dsp.limiter import match_and_limit
from deeptrance_gui.core.dsp.loudness import gain_to_level_db, integrated_loudness_lufs
from deeptrance_gui.core.dsp.stft import DISPLAY_HOP, DisplaySpectrogram
from deeptrance_gui.core.model.geometry import SAMPLE_RATE_HZ

#: (the window's sub-region, its start and end in seconds from the region start) → its band. The
#: sub-region may run a crossfade past ``end`` (the band's notes stop at ``end``, their release
#: and the original go on).
MakeBand = Callable[[DreamRegion, float, float], BandPlayAlong]


def bar_windows(analysis: MusicalAnalysis, *, n_frames: int, rate_hz: int) -> list[tuple[int, int]]:
    """(start, end) source frames of windows of whole bars, ≈ :data:`BAND_WINDOW_S` each, over a
    region of ``n_frames`` (the first starts at 0, the last ends at ``n_frames``)."""
    bars = analysis.bar_starts_s()
    bar_s = 60.0 / analysis.tempo_bpm * analysis.meter
    per_window = max(1, round(BAND_WINDOW_S / bar_s))
    cuts = [round(float(t) * rate_hz) for t in bars[per_window::per_window]]
    bounds = [0, *(c for c in cuts if 0 < c < n_frames), n_frames]
    if len(bounds) > 2 and bounds[-1] - bounds[-2] < bar_s * rate_hz:  # a tail under a bar joins the last
        bounds.pop(-2)
    return list(itertools.pairwise(bounds))


class BandWindows:
    """The band (or cover) parameterisation over a long region (see the module docstring)."""

    def __init__(
        self,
        region: DreamRegion,
        settings: DreamSettings,
        analysis: MusicalAnalysis,
        make: MakeBand,
        *,
        start_s: float | None,
        reference_lufs: float | None,
    ) -> None:
        rate = region.rate_hz
        spans = bar_windows(analysis, n_frames=region.r1 - region.r0, rate_hz=rate)
        in_time = [
            Window(i, round(a * SAMPLE_RATE_HZ / rate), min(region.wave16.shape[0], round(b * SAMPLE_RATE_HZ / rate)), a, b)
            for i, (a, b) in enumerate(spans)
        ]
        self.windows = outward(in_time, start_s=start_s, region_start_s=region.r0 / rate)
        self.region, self.settings, self.analysis, self.make = region, settings, analysis, make
        self.reference_lufs = reference_lufs
        self._live: tuple[int, BandPlayAlong] | None = None
        self._tail_src = round(EDGE_FADE_S * rate)  # how far a window's band rings past its end
        self._takes: dict[int, BandTake] = {}  # the windows ended so far, without their audio
        self._joined: tuple[FloatArray, tuple[FloatArray, ...]] | None = None  # (original, stems)

    def _band(self, window: Window) -> BandPlayAlong:
        if self._live is None or self._live[0] != window.index:
            region, rate = self.region, self.region.rate_hz
            end_src = min(region.r1 - region.r0, window.end_src + self._tail_src)
            end16 = min(region.wave16.shape[0], round(end_src * SAMPLE_RATE_HZ / rate))
            sub = DreamRegion(
                region.clip, region.r0 + window.start_src, region.r0 + end_src, region.wave16[window.start16 : end16]
            )
            self._live = (window.index, self.make(sub, window.start_src / rate, window.end_src / rate))
        return self._live[1]

    def begin(self, window: Window) -> list[torch.Tensor]:
        band = self._band(window)
        return band.begin(band.windows[0])

    def heard(self, window: Window, progress: float) -> torch.Tensor:
        # Each window anneals its variant choice over its own iterations, not the whole dream's.
        iterations, position = self.settings.iterations, self.windows.index(window)
        done = progress * (len(self.windows) * iterations - 1) - position * iterations
        band = self._band(window)
        return band.heard(band.windows[0], float(np.clip(done / max(1, iterations - 1), 0.0, 1.0)))

    def render(self, window: Window) -> Rendered:
        """The window as it sounds now, without the crossfade past its end: that stretch is
        the next window's until the take is joined."""
        band = self._band(window)
        rendered = band.render(band.windows[0])
        frames = window.end_src - window.start_src
        if rendered.audio.shape[1] == frames:
            return rendered
        start = self.region.r0 + window.start_src
        columns = -(-(start + frames) // DISPLAY_HOP) - rendered.first_column
        display = rendered.spectrogram
        cropped = DisplaySpectrogram(display.db[:, :columns], display.frequencies_hz, display.hop_s)
        return replace(rendered, audio=rendered.audio[:, :frames], spectrogram=cropped)

    def end(self, window: Window) -> None:
        """Add the window's band, as it was last rendered, into the whole region's stems (its
        crossfade past the end onto the next window's start) and copy its original; keep its
        notes and levels; free everything else of it."""
        band = self._band(window)
        rendered = band.finish()
        take = rendered.band
        assert isinstance(take, BandTake) and take.stems is not None and take.original is not None
        if self._joined is None:
            region = self.region
            shape = (region.samples.shape[0], region.r1 - region.r0)
            self._joined = np.empty(shape, np.float32), tuple(np.zeros(shape, np.float32) for _ in take.stems)
        original, stems = self._joined
        start, frames = window.start_src, window.end_src - window.start_src
        # At the original's loudness window by window, as its live render was: matched only as a
        # whole, the band's +6…+18 dB turned every window down with it, and a dream stopped
        # early ("keep what's done") left the windows never reached ≈ 5 dB under the track.
        gain = np.float32(self._window_gain(take, start, frames))
        original[:, start : start + frames] = take.original[:, :frames] * gain
        for joined, stem in zip(stems, take.stems, strict=True):
            joined[:, start : start + stem.shape[1]] += stem * gain
        self._takes[window.index] = replace(take, stems=None, original=None)
        self._live = None

    def _window_gain(self, take: BandTake, start: int, frames: int) -> float:
        """Linear gain that brings the window's mix (original and band, before limiting) to the
        loudness of the track over the window; 1 where either is too quiet to measure."""
        assert take.stems is not None and take.original is not None
        rate = self.region.rate_hz
        mix = take.original[:, :frames].copy()
        for stem in take.stems:
            mix += stem[:, :frames]
        own = self.region.samples[:, start : start + frames]
        return float(10 ** (gain_to_level_db(mix, own, level_db=0.0, sample_rate_hz=rate) / 20))

    def finish(self) -> Rendered:
        """The windows joined (those never reached stay original), matched and limited.

        Each window's audio was copied into the whole region's arrays when it ended and let go
        (its take keeps its notes and levels); the mix is limited and the arrays frozen where
        they lie, so the track's stems are held once (a 4-minute cover: ≈ 1.8 GiB peak RSS)."""
        region, rate = self.region, self.region.rate_hz
        spans = sorted(self.windows, key=lambda w: w.index)
        assert self._joined is not None, "finish() after at least one window ended"
        original, stems = self._joined
        for w in spans:
            if w.index not in self._takes:
                original[:, w.start_src : w.end_src] = region.samples[:, w.start_src : w.end_src]
        mix = stems[0].copy()  # summed in np.sum's order: the same samples as before the join was lean
        for stem in stems[1:]:
            mix += stem
        np.add(original, mix, out=mix)
        audio = match_and_limit(
            mix,
            reference_lufs=self.reference_lufs,
            sample_rate_hz=rate,
            ceiling_dbtp=self.settings.ceiling_dbtp,
            in_place=True,
        )
        for array in (audio, original, *stems):  # private to this join: frozen, not copied
            array.flags.writeable = False
        dreamed = [self._takes.get(w.index) for w in spans]
        first = next(t for t in dreamed if t is not None)
        take = _joined(spans, dreamed, first, stems, original, self.analysis, rate)
        spectrogram = region_display(region.clip, region.r0, audio)
        return Rendered(audio, region.r0 / rate, spectrogram, region.r0 // DISPLAY_HOP, band=take)


def _joined(
    spans: list[Window],
    dreamed: list[BandTake | None],
    first: BandTake,
    stems: tuple[FloatArray, ...],
    original: FloatArray,
    analysis: MusicalAnalysis,
    rate: int,
) -> BandTake:
    """One take of the whole region: each part's chosen notes and levels, window after window."""
    parts, bars, levels = [], [], []
    for p, part in enumerate(first.arrangement.parts):
        notes: list[Note] = []
        names: list[str] = []
        for w, t in zip(spans, dreamed, strict=True):
            if t is None:
                continue
            variant = t.chosen_variants()[p]
            offset = w.start_src / rate
            notes += [Note(n.start_s + offset, n.duration_s, n.key, n.velocity) for n in variant.notes]
            names += [] if variant.name in names else [variant.name]
        chosen = first.chosen_variants()[p]
        parts.append(replace(part, variants=(PartVariant("+".join(names), chosen.bank, chosen.program, tuple(notes)),)))
    for w, t in zip(spans, dreamed, strict=True):
        if t is not None:
            bars += [b + w.start_src / rate for b in t.arrangement.bar_starts_s]
            levels.append(t.levels_db)
    arrangement = Arrangement(first.arrangement.style, first.arrangement.tempo_bpm, tuple(parts), tuple(bars))
    taken = [t for t in dreamed if t is not None]
    return BandTake(
        arrangement=arrangement,
        chosen=(0,) * len(parts),
        variant_weights=np.ones((len(parts), 1), np.float32),
        levels_db=np.concatenate(levels, axis=1).astype(np.float32),
        band_scale_db=float(np.mean([t.band_scale_db for t in taken])),
        band_level_db=first.band_level_db,
        stems=stems,
        original=original,
        analysis=analysis,
        soundfont_sha256=first.soundfont_sha256,
    )


def band_parameterisation(
    call: DreamCall, plan: BandPlan, make: MakeBand
) -> Callable[[DreamRegion], Parameterisation]:
    """The band of ``plan`` over the call's region: one :class:`BandPlayAlong` when the region
    fits in memory at once (``MAX_BAND_REGION_S``), bar-aligned :class:`BandWindows` otherwise."""
    if plan.duration_s <= MAX_BAND_REGION_S:
        return lambda region: make(region, 0.0, plan.duration_s)
    reference = integrated_loudness_lufs(plan.original, sample_rate_hz=call.clip.sample_rate_hz)

    def windows(region: DreamRegion) -> Parameterisation:
        return BandWindows(region, call.settings, plan.analysis, make, start_s=call.start_s, reference_lufs=reference)

    return windows
