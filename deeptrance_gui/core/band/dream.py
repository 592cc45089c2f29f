"""The band dream: the third parameterisation beside the gain mask and the waveform delta.

What the model hears (16 kHz, complex STFT, so parts and track add with their phases)::

    X = X_original + s · Σ_p  g_p(t) · EQ_p(f, t) · Σ_v softmax(c_p / T)_v · X_{p,v}

* ``X_{p,v}``: variant v of part p (drums, bass, harmony, lead), rendered once from the
  SoundFont on the track's beats and chords.
* ``g_p``: the part's level per bar, ``± band_part_range_db · tanh``; ``EQ_p``: its EQ on
  ``band_eq_bands`` log bands × bars, ``± band_eq_db · tanh``; both interpolated smoothly
  between bar centres. ``c_p``: variant logits; the temperature T anneals 1 → 0.25 so the soft
  choice becomes the hard one that is rendered (the winner is what you hear), and the last
  quarter of the iterations hears the hard choice itself (straight-through), so the levels and
  EQ end up fitted to the winners, not to a blend.
* ``s`` keeps the band's total K-weighted power (loudness without gating, as the render sets it)
  at ``band_level_db`` relative to the track as it is in the mix (after its EQ, so that turning
  the track down cannot turn the band up),
  whatever the dream does: it redistributes the band among parts, bars and bands but can never
  raise it (louder always convinces judges more, so levels must stay fair), nor turn it down
  to win with EQ on the track (``dream-findings.md``: given a ±6 dB EQ on the original and free
  band levels, the dreaming model turned the band down and won with EQ only it hears).
* The original gets at most a ±``band_original_eq_db`` EQ (8 bands × bars, 0 dB at the region's
  borders). Measured on 34 cross-genre cases at −6 dB (README): off, one judge confirmed 11/34
  and both 4/34; ±3 dB, 12/34 and 7/34 — with the band's level held against the EQ'd track, the
  EQ makes room for the band rather than replacing it. So ±3 dB is the default; 0 turns it off.

* A cover adds a term of its own (``keep_song``, :mod:`.keep_song`): the mix's chroma
  similarity to the original, built from the parts' chroma under the same levels, EQ and choice,
  added to the gradients before they are normalised.

The loop (random roll, chunked backward, normalised gradient, objective ceiling, throttled
renders and judges) is the engine's; :class:`BandPlayAlong` is only the parameterisation.
The rendered mix sets the band to ``band_level_db`` below the (EQ'd) track by BS.1770
loudness, then matches the mix to the original's loudness and limits true peak to −1 dBTP.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import torch

from deeptrance_gui.core.analysis import MusicalAnalysis, analyse
from deeptrance_gui.core.analysis.chroma import to_analysis_rate
from deeptrance_gui.core.analysis.transcribe import TranscribedNote
from deeptrance_gui.core.audio.clip import AudioClip, FloatArray
from deeptrance_gui.core.band.arrange import Arrangement, style_for
from deeptrance_gui.core.band.keep_song import SongChroma
from deeptrance_gui.core.band.render import SoundFont, load_soundfont, render_variant
from deeptrance_gui.core.band.take import BandTake
from deeptrance_gui.core.band.tune_front import TuneFront
from deeptrance_gui.core.dream.engine import Objectives, models_view, prepare
from deeptrance_gui.core.dream.modes import DreamCall
from deeptrance_gui.core.dream.parameterisation import DreamRegion, Rendered, Window
from deeptrance_gui.core.dream.settings import DreamSettings
from deeptrance_gui.core.dream.steps import readonly as _readonly
from deeptrance_gui.core.dsp import grid as mask_grid
from deeptrance_gui.core.dsp.limiter import match_and_limit
from deeptrance_gui.core.dsp.loudness import gain_to_level_db, integrated_loudness_lufs, k_weighting_power
from deeptrance_gui.core.dsp.stft import (
    DISPLAY_HOP,
    DISPLAY_N_FFT,
    DisplaySpectrogram,
    bin_frequencies_hz,
    display_spectrogram,
    istft,
    stft,
)
from deeptrance_gui.core.errors import DreamError
from deeptrance_gui.core.model.frontend import HOP, N_FFT, SAMPLE_RATE_HZ, MelFrontend

EQ_LOW_HZ, EQ_HIGH_HZ = 60.0, 7_600.0
#: The band fades out over this at the region's end, where its notes are cut (a window's band
#: rings this far into the next window: ``core/band/windows.py``). No fade in: every note
#: starts from silence in the region, and a fade there softened the first downbeat.
EDGE_FADE_S = 0.05
TEMPERATURE_START, TEMPERATURE_END = 1.0, 0.25
HARD_CHOICE_FROM = 0.75  # the last quarter of the iterations hears the hard choice


def _bar_interpolation(
    times_s: npt.NDArray[np.float64], arrangement: Arrangement, duration_s: float
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(lower, upper, frac) to interpolate per-bar values between bar centres at ``times_s``."""
    starts = np.asarray(arrangement.bar_starts_s)
    ends = np.append(starts[1:], max(duration_s, starts[-1] + 1e-3))
    centres = (starts + ends) / 2
    positions = np.interp(times_s, centres, np.arange(centres.size)) if centres.size > 1 else 0 * times_s
    lower, upper, frac = mask_grid.linear_indices(positions, max(1, centres.size))
    return torch.from_numpy(lower), torch.from_numpy(upper), torch.from_numpy(frac)


def _eq_weights(settings: DreamSettings, *, n_fft: int, sample_rate_hz: int) -> torch.Tensor:
    """(bins, band_eq_bands) weights of the parts' EQ bands on an STFT grid (the models' or the
    render's)."""
    return torch.from_numpy(
        mask_grid.frequency_weights(
            bin_frequencies_hz(n_fft=n_fft, sample_rate_hz=sample_rate_hz),
            n_bands=settings.band_eq_bands,
            low_hz=EQ_LOW_HZ,
            high_hz=EQ_HIGH_HZ,
        )
    )


class _BandShape:
    """The dream's parameters and how they become per-part gains on any STFT grid."""

    def __init__(self, arrangement: Arrangement, settings: DreamSettings) -> None:
        self.n_parts = len(arrangement.parts)
        self.n_bars = max(1, len(arrangement.bar_starts_s))
        self.max_variants = max(len(p.variants) for p in arrangement.parts)
        self.settings = settings
        self.level = torch.zeros(self.n_parts, self.n_bars, requires_grad=True)
        self.eq = torch.zeros(self.n_parts, settings.band_eq_bands, self.n_bars, requires_grad=True)
        self.choice = torch.zeros(self.n_parts, self.max_variants, requires_grad=True)
        # EQ on the original, ± band_original_eq_db (3 dB by default; see the module docstring).
        self.original_eq = torch.zeros(settings.band_eq_bands, self.n_bars, requires_grad=True)
        self.valid = torch.zeros(self.n_parts, self.max_variants, dtype=torch.bool)
        for p, part in enumerate(arrangement.parts):
            self.valid[p, : len(part.variants)] = True
        self.tune = next((p for p, part in enumerate(arrangement.parts) if part.carries_tune), None)
        self.accompaniment = [
            p for p, part in enumerate(arrangement.parts) if not part.carries_tune and not part.variants[0].is_drums
        ]

    def parameters(self) -> list[torch.Tensor]:
        extra = [self.original_eq] if self.settings.band_original_eq_db > 0 else []
        return [self.level, self.eq, self.choice, *extra]

    def original_gain(
        self,
        freq_weights: torch.Tensor,
        bars: tuple[torch.Tensor, torch.Tensor, torch.Tensor],
        taper: torch.Tensor,
    ) -> torch.Tensor | None:
        """Linear EQ gain on the original, (frames, bins), tapered to 0 dB at the region's
        borders; None when the EQ on the original is off."""
        if self.settings.band_original_eq_db <= 0:
            return None
        lower, upper, frac = bars
        eq_db = freq_weights @ (self.settings.band_original_eq_db * torch.tanh(self.original_eq))  # (bins, bars)
        frames_db = eq_db.index_select(1, lower) * (1 - frac) + eq_db.index_select(1, upper) * frac
        return torch.pow(10.0, (frames_db * taper).T / 20.0)

    def weights(self, temperature: float) -> torch.Tensor:
        """(parts, variants) soft choice; impossible variants weigh 0."""
        logits = self.choice.masked_fill(~self.valid, -1e9) / temperature
        return torch.softmax(logits, dim=1)

    def levels_db(self) -> torch.Tensor:
        """(parts, bars) dB around the style's balance; a part that carries the tune is never
        set under the loudest pitched part of its bar (it may rise above it)."""
        levels = self.settings.band_part_range_db * torch.tanh(self.level)
        if self.tune is None or not self.accompaniment:
            return levels
        floor = levels[self.accompaniment].amax(dim=0)
        return torch.stack([torch.maximum(row, floor) if p == self.tune else row for p, row in enumerate(levels)])

    def band_db(self, bars: tuple[torch.Tensor, torch.Tensor, torch.Tensor]) -> torch.Tensor:
        """(parts, EQ bands, frames): each part's level plus its EQ, per band, at the frames of
        ``bars`` (what :class:`~deeptrance_gui.core.band.keep_song.SongChroma` weighs)."""
        lower, upper, frac = bars
        per_band = self.settings.band_eq_db * torch.tanh(self.eq) + self.levels_db()[:, None, :]  # (P, B, bars)
        return per_band.index_select(2, lower) * (1 - frac) + per_band.index_select(2, upper) * frac

    def original_band_db(self, bars: tuple[torch.Tensor, torch.Tensor, torch.Tensor]) -> torch.Tensor | None:
        """(EQ bands, frames): the EQ on the original at the frames of ``bars``; None when off."""
        if self.settings.band_original_eq_db <= 0:
            return None
        lower, upper, frac = bars
        eq_db = self.settings.band_original_eq_db * torch.tanh(self.original_eq)  # (B, bars)
        return eq_db.index_select(1, lower) * (1 - frac) + eq_db.index_select(1, upper) * frac

    def gains(
        self,
        freq_weights: torch.Tensor,
        bars: tuple[torch.Tensor, torch.Tensor, torch.Tensor],
        *,
        part: int | None = None,
    ) -> torch.Tensor:
        """Linear gain per part, (parts, frames, bins): level per bar × EQ bands × bars (one
        part's, (1, frames, bins), when ``part`` is given: full-rate grids are large)."""
        lower, upper, frac = bars
        chosen = slice(None) if part is None else slice(part, part + 1)
        eq_db = self.settings.band_eq_db * torch.tanh(self.eq[chosen])  # (P, B, bars)
        per_bin = torch.einsum("fb,pbn->pnf", freq_weights, eq_db)  # (P, bars, bins)
        total_db = per_bin + self.levels_db()[chosen, :, None]
        frames_db = (
            total_db.index_select(1, lower) * (1 - frac)[None, :, None]
            + total_db.index_select(1, upper) * frac[None, :, None]
        )
        return torch.pow(10.0, frames_db / 20.0)


@dataclass(frozen=True)
class BandPlan:
    """What every band-like mode has checked and read before its first step."""

    objectives: Objectives
    r0: int
    r1: int
    original: FloatArray  # the region, (channels, frames)
    duration_s: float
    analysis: MusicalAnalysis
    soundfont: SoundFont


def prepare_band(call: DreamCall, *, what: str = "band dream") -> BandPlan:
    """The checks of a band-like dream (a style to play toward, not silent, not too long, a
    pulse) and what it reads: the region's beats and chords and the SoundFont.

    Raises
    ------
    DreamError, AnalysisError, SoundFontError
        Before the first step: no target style, silence, no steady beat, shorter than a bar,
        an unusable SoundFont, a judge among the dreamers.
    """
    objective, settings, clip = call.objective, call.settings, call.clip
    settings.validate()
    if objective.kind != "genre" or not objective.toward:
        raise DreamError(f"the {what} needs a style to play toward: --toward rock (or metal, jazz, …)")
    if objective.away:
        raise DreamError(f"the {what} adds a band; 'away from' a tag is for the genre dream")
    style_for(objective.toward)  # a style the band can play, before anything else is checked
    objectives, r0, r1 = prepare(call, silent="the region is silent; there is nothing for a band to play along with")
    rate = clip.sample_rate_hz
    original = np.ascontiguousarray(clip.samples[:, r0:r1])
    duration_s = (r1 - r0) / rate
    analysis = analyse(AudioClip(original, rate))
    return BandPlan(objectives, r0, r1, original, duration_s, analysis, load_soundfont(settings.soundfont))


def plays(tag: str) -> bool:
    """Whether the band has a style for ``tag``."""
    try:
        style_for(tag)
    except DreamError:
        return False
    return True


class BandPlayAlong:
    """The band dream's parameterisation (see the module docstring): one window, the region."""

    def __init__(
        self,
        region: DreamRegion,
        settings: DreamSettings,
        analysis: MusicalAnalysis,
        arrangement: Arrangement,
        soundfont: SoundFont,
        frontend: MelFrontend,
        *,
        under: FloatArray | None = None,
        keep_song: float = 0.0,
        tune: Sequence[TranscribedNote] = (),
        tune_front: float = 0.0,
    ) -> None:
        """``under``: what the band plays over, (channels, frames) of the region, when it is not
        the region itself (a cover: the original without its drums); the mix is still matched to
        the original's loudness. ``keep_song``: the weight of the mix's chroma similarity to the
        original in the objective (:mod:`~deeptrance_gui.core.band.keep_song`; 0 = off).
        ``tune_front``: the weight of the share of the ``tune``'s frames where the mix's line
        plays the original's (:mod:`~deeptrance_gui.core.band.tune_front`; 0 = off)."""
        rate, duration_s = region.rate_hz, region.duration_s
        original = np.ascontiguousarray(region.samples if under is None else under)
        wave16 = region.wave16 if under is None else models_view(original, rate)
        self.clip, self.r0, self.rate = region.clip, region.r0, rate
        self.settings, self.analysis, self.soundfont = settings, analysis, soundfont
        self.windows = [
            Window(index=0, start16=0, end16=wave16.shape[0], start_src=0, end_src=region.r1 - region.r0)
        ]

        def stem(part: int, variant: int) -> FloatArray:
            """A part variant at the source rate, at the style's balance. Rendered when needed,
            not kept: rendering is deterministic and cheap, a minute of every variant is not."""
            spec = arrangement.parts[part]
            audio = render_variant(spec.variants[variant], soundfont, duration_s=duration_s, sample_rate_hz=rate)
            return audio * np.float32(10 ** (spec.gain_db / 20))

        def spec16(wave: torch.Tensor) -> torch.Tensor:
            return torch.stft(
                wave, n_fft=N_FFT, hop_length=HOP, window=frontend.window, center=True, pad_mode="constant",
                return_complex=True,
            ).T  # (frames, bins)  # fmt: skip

        self.shape = _BandShape(arrangement, settings)
        self.x_orig = spec16(wave16)
        self.x_parts = torch.zeros(
            (self.shape.n_parts, self.shape.max_variants, *self.x_orig.shape), dtype=torch.complex64
        )

        def eq_bands(frequencies_hz: npt.NDArray[np.float64]) -> npt.NDArray[np.float32]:
            return mask_grid.frequency_weights(
                frequencies_hz, n_bands=settings.band_eq_bands, low_hz=EQ_LOW_HZ, high_hz=EQ_HIGH_HZ
            )

        self.keep_song = keep_song
        self.song: SongChroma | None = None
        if keep_song > 0:
            self.song = SongChroma(
                np.ascontiguousarray(region.samples), original, [len(p.variants) for p in arrangement.parts],
                sample_rate_hz=rate,
                band_weights=eq_bands,
            )  # fmt: skip
            self.song_bars = _bar_interpolation(self.song.times_s, arrangement, duration_s)
        self.tune_front = tune_front
        self.tune: TuneFront | None = None
        if tune_front > 0 and tune:
            term = TuneFront(
                np.ascontiguousarray(region.samples), original, tune, [len(p.variants) for p in arrangement.parts],
                sample_rate_hz=rate,
                band_weights=eq_bands,
            )  # fmt: skip
            if term.frames.size:  # none where no melody note plays in the region (a bridge)
                self.tune = term
                self.tune_bars = _bar_interpolation(term.times_s, arrangement, duration_s)
        for p, part in enumerate(arrangement.parts):
            for v in range(len(part.variants)):
                audio = stem(p, v)
                self.x_parts[p, v] = spec16(models_view(audio, rate))
                if self.song is None and self.tune is None:
                    continue
                mono = to_analysis_rate(audio, sample_rate_hz=rate)  # once for both terms
                if self.song is not None:
                    self.song.add_variant(p, v, mono)
                if self.tune is not None and part.role != "bass":  # notched out by the tracker
                    self.tune.add_variant(p, v, mono)
        # Levels as loudness weighs them (K-weighted power), as the render sets them (by LUFS):
        # with plain power, a bass-heavy band was heard by the dream up to 2.8 dB louder than
        # it is rendered over a bright track, and a bright one quieter.
        self.k_weights16 = torch.from_numpy(
            k_weighting_power(bin_frequencies_hz(n_fft=N_FFT, sample_rate_hz=SAMPLE_RATE_HZ), sample_rate_hz=SAMPLE_RATE_HZ)
        ).to(torch.float32)
        self.level_ratio = 10 ** (settings.band_level_db / 10)
        times16 = np.arange(self.x_orig.shape[0]) * HOP / SAMPLE_RATE_HZ
        self.bars16 = _bar_interpolation(times16, arrangement, duration_s)
        self.taper16 = torch.from_numpy(mask_grid.edge_taper(times16, duration_s=duration_s))
        self.freq16 = _eq_weights(settings, n_fft=N_FFT, sample_rate_hz=SAMPLE_RATE_HZ)
        reference_lufs = integrated_loudness_lufs(np.ascontiguousarray(region.samples), sample_rate_hz=rate)
        self.renderer = _BandRenderer(original, stem, arrangement, settings, rate, duration_s, reference_lufs)
        self._last: Rendered | None = None

    def begin(self, window: Window) -> list[torch.Tensor]:
        return self.shape.parameters()

    def heard(self, window: Window, progress: float) -> torch.Tensor:
        # The soft variant choice anneals toward the hard one that is rendered.
        temperature = TEMPERATURE_START * (TEMPERATURE_END / TEMPERATURE_START) ** progress
        weights = self.shape.weights(temperature)
        if progress >= HARD_CHOICE_FROM:
            # Straight through: hear exactly the winners that will be rendered (a soft blend of
            # 0.3/0.7 is often still there at T = 0.25), learn through the soft choice.
            hard = torch.nn.functional.one_hot(weights.argmax(dim=1), weights.shape[1]).to(weights.dtype)
            weights = hard + weights - weights.detach()
        mixed = torch.einsum("pv,pvtf->ptf", weights.to(torch.complex64), self.x_parts)
        band = (self.shape.gains(self.freq16, self.bars16) * mixed).sum(dim=0)
        band_power = (band.real.square() + band.imag.square()) * self.k_weights16
        original_gain = self.shape.original_gain(self.freq16, self.bars16, self.taper16)
        original = self.x_orig if original_gain is None else self.x_orig * original_gain
        # The band's level is relative to the track *as it is in the mix*: measured against the
        # un-EQ'd track, cutting the track by up to 3 dB raised the band by as much (measured:
        # the band ended at −3.7…−7.5 dB against −6 on 14 dreams).
        original_power = ((original.real.square() + original.imag.square()) * self.k_weights16).sum()
        scale = torch.sqrt(original_power * self.level_ratio / band_power.sum().clamp_min(1e-20))
        if self.song is not None:
            # The cover's own term (the engine ascends the models' objective through the heard
            # power; this one is added to the same gradients, then both are normalised together).
            similarity = self.song.similarity(
                weights, self.shape.band_db(self.song_bars), self.shape.original_band_db(self.song_bars), scale.square()
            )
            (self.keep_song * similarity).backward(retain_graph=True)  # type: ignore[no-untyped-call]
        if self.tune is not None:
            in_front = self.tune.in_front(
                weights, self.shape.band_db(self.tune_bars), self.shape.original_band_db(self.tune_bars), scale
            )
            (self.tune_front * in_front).backward(retain_graph=True)  # type: ignore[no-untyped-call]
        heard = original + scale * band
        return heard.real.square() + heard.imag.square()

    def render(self, window: Window) -> Rendered:
        take = self.renderer.take(self.shape, self.analysis, self.soundfont)
        audio = self.renderer.mix(take)
        audio.flags.writeable = False  # a fresh array nobody else holds: no copy
        spectrogram = self.renderer.display(self.clip, self.r0, audio)
        self._last = Rendered(audio, self.r0 / self.rate, spectrogram, self.r0 // DISPLAY_HOP, band=take)
        return self._last

    def end(self, window: Window) -> None:
        """Nothing to keep: the shape is the band's state."""

    def finish(self) -> Rendered:
        # The engine renders every window at its last iteration: the final band is that render.
        return self._last if self._last is not None else self.render(self.windows[0])


class _BandRenderer:
    """Applies the dreamed shape to the winning variants at the source rate and mixes."""

    def __init__(
        self,
        original: FloatArray,
        stem: Callable[[int, int], FloatArray],
        arrangement: Arrangement,
        settings: DreamSettings,
        rate: int,
        duration_s: float,
        reference_lufs: float | None,
    ) -> None:
        self.original = original
        self.stem = stem
        self.arrangement = arrangement
        self.settings = settings
        self.rate = rate
        self.frames = original.shape[1]
        self.channels = original.shape[0]
        self.reference_lufs = reference_lufs  # the original region's, whatever the band plays over
        self._spectra: dict[tuple[int, int], npt.NDArray[np.complex64]] = {}
        n_frames = 1 + self.frames // DISPLAY_HOP
        times = np.arange(n_frames) * DISPLAY_HOP / rate
        self.bars = _bar_interpolation(times, arrangement, duration_s)
        self.taper = torch.from_numpy(mask_grid.edge_taper(times, duration_s=duration_s))
        self._original_spectrum: npt.NDArray[np.complex64] | None = None
        self.freq = _eq_weights(settings, n_fft=DISPLAY_N_FFT, sample_rate_hz=rate)
        fade = np.clip((self.frames - 1 - np.arange(self.frames)) / (EDGE_FADE_S * rate), 0, 1)
        self.edge = fade.astype(np.float32)[None, :]

    def _spectrum(self, part: int, variant: int) -> npt.NDArray[np.complex64]:
        key = (part, variant)
        if key not in self._spectra:
            # Only the variant each part plays now stays cached: a minute of stereo STFT is
            # ≈ 85 MB, and a part's choice rarely changes after the first iterations.
            for other in [k for k in self._spectra if k[0] == part]:
                del self._spectra[other]
            self._spectra[key] = stft(self.stem(part, variant), n_fft=DISPLAY_N_FFT, hop=DISPLAY_HOP)
        return self._spectra[key]

    def take(self, shape: _BandShape, analysis: MusicalAnalysis, soundfont: SoundFont) -> BandTake:
        with torch.no_grad():
            weights = shape.weights(TEMPERATURE_END).numpy()
            chosen = tuple(
                int(np.argmax(w[: len(p.variants)])) for w, p in zip(weights, self.arrangement.parts, strict=True)
            )
            levels = shape.levels_db().numpy()
        processed = []
        for p, v in enumerate(chosen):
            with torch.no_grad():
                gain = shape.gains(self.freq, self.bars, part=p).numpy()[0]  # (frames, bins)
            spec = self._spectrum(p, v) * gain.T[None, :, :].astype(np.float32)
            stem = istft(spec, frames=self.frames, n_fft=DISPLAY_N_FFT, hop=DISPLAY_HOP)
            if stem.shape[0] != self.channels:
                stem = np.repeat(stem.mean(axis=0, keepdims=True), self.channels, axis=0)
            processed.append(stem * self.edge)
        band = np.sum(processed, axis=0)
        original = self._processed_original(shape)
        # Relative to the track as it is in the mix (after its EQ), like the dream hears it.
        scale_db = gain_to_level_db(band, original, level_db=self.settings.band_level_db, sample_rate_hz=self.rate)
        scale = np.float32(10 ** (scale_db / 20))
        return BandTake(
            arrangement=self.arrangement,
            chosen=chosen,
            variant_weights=weights.astype(np.float32),
            levels_db=levels.astype(np.float32),
            band_scale_db=float(scale_db),
            band_level_db=self.settings.band_level_db,
            stems=tuple(_readonly(s * scale) for s in processed),
            original=_readonly(original),
            analysis=analysis,
            soundfont_sha256=soundfont.sha256,
        )

    def _processed_original(self, shape: _BandShape) -> FloatArray:
        with torch.no_grad():
            gain = shape.original_gain(self.freq, self.bars, self.taper)
        if gain is None:
            return self.original
        if self._original_spectrum is None:
            self._original_spectrum = stft(self.original, n_fft=DISPLAY_N_FFT, hop=DISPLAY_HOP)
        spec = self._original_spectrum * gain.numpy().T[None, :, :].astype(np.float32)
        return istft(spec, frames=self.frames, n_fft=DISPLAY_N_FFT, hop=DISPLAY_HOP)

    def mix(self, take: BandTake) -> FloatArray:
        assert take.stems is not None and take.original is not None
        mix = take.original + np.sum(take.stems, axis=0)
        return match_and_limit(
            mix,
            reference_lufs=self.reference_lufs,
            sample_rate_hz=self.rate,
            ceiling_dbtp=self.settings.ceiling_dbtp,
        )

    def display(self, clip: AudioClip, r0: int, audio: FloatArray) -> DisplaySpectrogram:
        return region_display(clip, r0, audio)


def region_display(clip: AudioClip, r0: int, audio: FloatArray) -> DisplaySpectrogram:
    """The display spectrogram of ``audio`` placed at frame ``r0`` of ``clip``, starting on the
    track's display grid (column ``r0 // DISPLAY_HOP``)."""
    start = r0 // DISPLAY_HOP * DISPLAY_HOP
    lead = clip.samples[:, start:r0].mean(axis=0, dtype=np.float32)
    mono = np.concatenate([lead, audio.mean(axis=0, dtype=np.float32)])[None, :]
    return display_spectrogram(mono, sample_rate_hz=clip.sample_rate_hz)
