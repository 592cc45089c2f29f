"""The dream engine: a plain generator of immutable :class:`DreamStep` s.

Algorithm (mask mode; defaults and measurements in ``reference/dream-findings.md``)
-----------------------------------------------------------------------------------
* The model hears the region as 16 kHz mono; its power spectrogram is computed once. A gain
  mask θ (bands × 80 ms steps, ``strength_db · tanh θ``) is interpolated onto that grid, the
  masked power is renormalised to the original total (the model cannot win by loudness), rolled
  by a random number of frames (rolled back by autograd), cut into 187-frame patches and fed to
  every dreaming model. Adam ascends the objective; the gradient is normalised by its mean
  absolute value. Patches above the objective ceiling stop pushing (no overcooking).
* Backward runs in chunks of ``chunk_patches`` patches through a detached copy of the masked
  power, whose gradient is then pushed through the mask once: peak memory is that of one chunk.
* Long regions are dreamed in windows of ``window_patches`` patches (≈30 s), starting at the
  playhead and moving outward, so the first changed audio is where the listener is. The mask is
  one continuous θ over the region, so windows meet without seams.
* Rendering applies the same mask to the source's own STFT (every channel, original phase, own
  rate), holds/caps the top band above 8 kHz (see :mod:`mask`), tapers to 0 dB at the region
  borders, matches loudness to the original (BS.1770) and limits true peak to −1 dBTP.
  Rendering is throttled (``render_interval_s``) and always happens at a window's last
  iteration; optimisation never depends on it, so a seed gives the same result at any speed.
* The judges (models that are never dreamers) hear each rendered span and the final region.
* ``finish`` ends the dream early and keeps what is done ("keep what's done").
"""

from __future__ import annotations

import functools
import itertools
import math
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import torch

from deeptrance_gui.core.audio.clip import AudioClip, FloatArray
from deeptrance_gui.core.audio.load import resample
from deeptrance_gui.core.dream import mask as mask_grid
from deeptrance_gui.core.dream.settings import (
    MIN_DREAM_DURATION_S,
    DreamSettings,
    Objective,
)
from deeptrance_gui.core.dream.steps import DreamStep
from deeptrance_gui.core.dream.steps import readonly as _readonly
from deeptrance_gui.core.dsp.limiter import match_and_limit, true_peak_limit
from deeptrance_gui.core.dsp.loudness import integrated_loudness_lufs
from deeptrance_gui.core.dsp.stft import (
    DISPLAY_HOP,
    DISPLAY_N_FFT,
    DisplaySpectrogram,
    bin_frequencies_hz,
    display_from_stft,
    display_spectrogram,
    istft,
    stft,
)
from deeptrance_gui.core.errors import DreamError, UnknownTagError
from deeptrance_gui.core.model.frontend import HOP, N_FFT, PATCH_FRAMES, SAMPLE_RATE_HZ
from deeptrance_gui.core.model.genres import genre_tags
from deeptrance_gui.core.model.loading import LoadedModel
from deeptrance_gui.core.model.predict import predict, predict_waveform
from deeptrance_gui.core.model.predictions import Predictions

SPAN_CROSSFADE_S = 0.02
REGION_CROSSFADE_S = 0.05
CANCEL_POLL_S = 0.5


@dataclass(frozen=True)
class _Window:
    index: int
    start16: int  # region-relative sample index at 16 kHz
    end16: int
    start_src: int  # region-relative frame index at the source rate
    end_src: int


class _Objectives:
    """The objective, resolved against each dreaming model's labels and layers."""

    def __init__(self, objective: Objective, models: Sequence[LoadedModel], ceiling: float) -> None:
        objective.validate()
        self.objective = objective
        self.ceiling = ceiling
        self.targets: list[tuple[int | None, int | None, list[int]]] = []
        self.channels: list[int | None] = []
        for model in models:
            if objective.kind == "genre":
                toward = model.tag_index(objective.toward) if objective.toward else None
                away = model.tag_index(objective.away) if objective.away else None
                genres = genre_tags(model.spec.dataset, model.labels)
                others = [
                    model.labels.index(t)
                    for t in genres
                    if t in model.labels and model.labels.index(t) not in (toward, away)
                ]
                self.targets.append((toward, away, others))
            else:
                layer = objective.layer or ""
                if layer not in model.network.FEATURES:
                    raise UnknownTagError(
                        f"model '{model.name}' has no layer '{layer}'; its layers: "
                        f"{', '.join(model.network.FEATURES)}"
                    )
                self.channels.append(self._channel(model, layer, objective.channel))

    @staticmethod
    def _channel(model: LoadedModel, layer: str, channel: int | str | None) -> int | None:
        if channel is None:
            if layer == "output":
                raise DreamError("intensifying 'output' needs a channel: a tag name or index")
            return None
        if isinstance(channel, str) and not channel.isdigit():
            if layer != "output":
                raise DreamError(f"channel of layer '{layer}' must be a number, got '{channel}'")
            return model.tag_index(channel)
        index = int(channel)
        with torch.no_grad():
            probe = model.network.features(torch.zeros(1, PATCH_FRAMES, 96), wanted=(layer,))[layer]
        if not 0 <= index < probe.shape[1]:
            raise DreamError(f"layer '{layer}' has channels 0–{probe.shape[1] - 1}, not {index}")
        return index

    def value(
        self, model_index: int, model: LoadedModel, patches: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """(objective summed over patches, logits (n, tags)) for one model."""
        if self.objective.kind == "genre":
            logits = model.network(patches)
            toward, away, others = self.targets[model_index]
            per_patch = torch.zeros(patches.shape[0])
            if others:
                per_patch = per_patch - logits[:, others].mean(dim=1)
            if toward is not None:
                per_patch = per_patch + logits[:, toward]
            if away is not None:
                per_patch = per_patch - logits[:, away]
            # Don't overcook: patches past the ceiling stop pushing.
            return torch.clamp(per_patch, max=self.ceiling).sum(), logits
        layer = self.objective.layer or ""
        features = model.network.features(patches, wanted=(layer, "output"))
        activation = features[layer]
        channel = self.channels[model_index]
        if channel is not None:
            activation = activation[:, channel]
        energy = activation if layer == "output" else activation.square().flatten(1).mean(dim=1)
        return energy.sum(), features["output"]


def _check_models(models: Sequence[LoadedModel], judges: Sequence[LoadedModel]) -> None:
    if not models:
        raise DreamError("choose at least one dreaming model")
    names = [m.name for m in models]
    if len(set(names)) != len(names):
        raise DreamError("a model is listed twice among the dreamers")
    judge_names = [j.name for j in judges]
    if len(set(judge_names)) != len(judge_names):
        raise DreamError("a model is listed twice among the judges")
    for judge in judges:
        if judge.name in names:
            raise DreamError(
                f"'{judge.name}' cannot judge its own dream; choose a judge that is not dreaming "
                "(default: the models of the other dataset, MTT for MSD dreamers and vice versa)"
            )


def _predictions(model: LoadedModel, probs: npt.NDArray[np.float32]) -> Predictions:
    return Predictions(model.name, model.spec.dataset, model.labels, _readonly(probs))


def _predict_audio(model: LoadedModel, samples: FloatArray, rate_hz: int) -> Predictions:
    prediction = predict(AudioClip(samples, rate_hz), model)
    return _predictions(model, prediction.track_probs)


def _before(
    models: Sequence[LoadedModel], judges: Sequence[LoadedModel], wave16: torch.Tensor
) -> tuple[tuple[Predictions, ...], tuple[Predictions, ...]]:
    """What dreamers and judges hear in the original region (its 16 kHz mono view)."""
    dreamers = tuple(_predictions(m, predict_waveform(wave16, m).track_probs) for m in models)
    return dreamers, tuple(_predictions(j, predict_waveform(wave16, j).track_probs) for j in judges)


def _listen(
    judges: Sequence[LoadedModel], dreamer: LoadedModel, audio: FloatArray, rate_hz: int
) -> tuple[tuple[Predictions, ...], FloatArray]:
    """What the judges hear in rendered audio, and the first dreamer's per-patch view of it
    (the window's live genre-over-time strip)."""
    heard = tuple(_predict_audio(j, audio, rate_hz) for j in judges)
    return heard, _readonly(predict(AudioClip(audio, rate_hz), dreamer).patch_probs)


def _ascend(params: Sequence[torch.Tensor]) -> None:
    """Adam minimises: hand it the negated gradient, normalised by its mean |g| (per tensor)."""
    for param in params:
        if param.grad is not None:
            param.grad = -param.grad / param.grad.abs().mean().clamp_min(1e-12)


def resolve_region(clip: AudioClip, region: tuple[float, float] | None) -> tuple[int, int]:
    """Region in source frames, validated (at least 1 s, inside the clip)."""
    if region is None:
        start_s, end_s = 0.0, clip.duration_s
    else:
        start_s, end_s = sorted(region)
    start_s = max(0.0, start_s)
    end_s = min(clip.duration_s, end_s)
    if end_s - start_s < MIN_DREAM_DURATION_S:
        what = "the track" if region is None else "the selected region"
        raise DreamError(
            f"{what} is {max(0.0, end_s - start_s):.2f} s long; dreaming needs at least {MIN_DREAM_DURATION_S:g} s"
        )
    rate = clip.sample_rate_hz
    return round(start_s * rate), round(end_s * rate)


def dream(
    clip: AudioClip,
    models: Sequence[LoadedModel],
    *,
    objective: Objective,
    settings: DreamSettings | None = None,
    judges: Sequence[LoadedModel] = (),
    region: tuple[float, float] | None = None,
    start_s: float | None = None,
    seed: int | None = None,
    cancel: threading.Event | None = None,
    finish: threading.Event | None = None,
    live: bool = True,
) -> Iterator[DreamStep]:
    """Dream ``clip`` with ``models``, yielding one immutable step per iteration.

    Parameters
    ----------
    clip
        The track, any rate and channel count (kept in the output).
    models
        Dreaming models (several = ensemble: their objectives are summed).
    objective
        What to push toward (genre) or intensify (layer/channel).
    settings
        How; defaults from the measured findings.
    judges
        Independent models (the judge panel) that hear every render; none may be a dreamer.
        Empty: no judge.
    region
        (start_s, end_s) to dream; None = the whole clip.
    start_s
        Playhead: dreaming starts in the window holding it and moves outward.
    seed
        Same seed, same output (None = 0).
    cancel
        Set it to stop; the generator returns within 0.5 s without a final step.
    finish
        Set it to stop early and keep what is done: the window being dreamed is rendered as it
        stands, windows not reached stay original, and a final step follows.
    live
        Render and judge while dreaming (at most every ``settings.render_interval_s`` and
        ``judge_interval_s``) for someone listening. False (headless runs, the CLI): each
        window is rendered once, when its iterations are done; the result is the same.

    Yields
    ------
    DreamStep
        One per iteration; the last has ``final=True`` and the whole region's audio.

    Raises
    ------
    DreamError
        Bad settings, too short or silent audio, judge among the dreamers.
    """
    settings = settings or DreamSettings()
    settings.validate()
    if settings.mode == "band":
        from deeptrance_gui.core.band.dream import band_dream  # the band's own parameterisation

        return band_dream(
            clip, models, objective=objective, settings=settings, judges=judges, region=region,
            start_s=start_s, seed=seed, cancel=cancel, finish=finish, live=live,
        )  # fmt: skip
    _check_models(models, judges)
    objectives = _Objectives(objective, models, settings.objective_ceiling)
    r0, r1 = resolve_region(clip, region)
    original_region = clip.samples[:, r0:r1]
    if float(np.max(np.abs(original_region))) < 1e-5:
        raise DreamError("the region is silent; there is nothing for the network to hear")
    cancel = cancel or threading.Event()
    generator = torch.Generator().manual_seed(0 if seed is None else int(seed))
    return _run(
        clip,
        models,
        tuple(judges),
        objectives,
        settings,
        r0,
        r1,
        start_s,
        generator,
        cancel,
        finish or threading.Event(),
        live,
    )


def _run(
    clip: AudioClip,
    models: Sequence[LoadedModel],
    judges: tuple[LoadedModel, ...],
    objectives: _Objectives,
    settings: DreamSettings,
    r0: int,
    r1: int,
    start_s: float | None,
    generator: torch.Generator,
    cancel: threading.Event,
    finish: threading.Event,
    live: bool,
) -> Iterator[DreamStep]:
    started = time.monotonic()
    rate = clip.sample_rate_hz
    region_start_s, region_end_s = r0 / rate, r1 / rate
    duration_s = (r1 - r0) / rate
    original_region = np.ascontiguousarray(clip.samples[:, r0:r1])
    mono = original_region.mean(axis=0, keepdims=True, dtype=np.float32)
    wave16 = torch.from_numpy(np.ascontiguousarray(resample(mono, rate, SAMPLE_RATE_HZ)[0]))
    del mono  # 10 minutes of stereo: every full-length copy counts
    frontend = models[0].frontend

    # The models' view of the region is already at hand: no second downmix and resample.
    dreamers_before, judges_before = _before(models, judges, wave16)

    windows = _plan_windows(wave16.shape[0], r1 - r0, rate, settings, start_s, region_start_s)
    total = len(windows) * settings.iterations
    n_steps = math.ceil(duration_s / settings.mask_step_s) + 2
    theta = torch.zeros(settings.n_bands, n_steps)
    delta16 = torch.zeros(wave16.shape[0])  # waveform mode
    buffer = original_region.copy()
    freq16 = mask_grid.frequency_weights(
        bin_frequencies_hz(n_fft=N_FFT, sample_rate_hz=SAMPLE_RATE_HZ),
        n_bands=settings.n_bands,
        low_hz=settings.band_low_hz,
        high_hz=settings.band_high_hz,
    )
    renderer = _Renderer(clip, r0, r1, settings)
    judges_now: tuple[Predictions, ...] = ()
    last_judge = -math.inf
    iteration = 0
    for window in windows:
        if cancel.is_set():
            return
        frames_w = 1 + (window.end16 - window.start16) // HOP
        times16 = (window.start16 + np.arange(frames_w) * HOP) / SAMPLE_RATE_HZ
        s0 = max(0, int(times16[0] // settings.mask_step_s))
        s1 = min(n_steps, math.ceil(times16[-1] / settings.mask_step_s) + 2)
        lower, upper, frac = (
            torch.from_numpy(a) for a in mask_grid.linear_indices(times16 / settings.mask_step_s - s0, s1 - s0)
        )
        taper16 = torch.from_numpy(mask_grid.edge_taper(times16, duration_s=duration_s))
        with torch.no_grad():
            power = frontend.power(wave16[window.start16 : window.end16])
        total_power = power.sum()
        if settings.mode == "mask":
            param = theta[:, s0:s1].clone().requires_grad_(True)
        else:
            param = delta16[window.start16 : window.end16].clone().requires_grad_(True)
        optimizer = torch.optim.Adam([param], lr=settings.learning_rate)
        epsilon = float(wave16[window.start16 : window.end16].square().mean().sqrt()) * 10 ** (-20 / 20)
        last_render = -math.inf
        for local in range(settings.iterations):
            if cancel.is_set():
                return
            iteration += 1
            optimizer.zero_grad(set_to_none=True)
            if settings.mode == "mask":
                gain_db = settings.strength_db * torch.tanh(param)
                bands_db = torch.from_numpy(freq16) @ gain_db  # (257, steps)
                # Linear interpolation in time: two columns per frame, no dense matrix.
                # index_select (backward: index_add_, deterministic), not [:, idx] (index_put_ accumulate).
                grid_db = (
                    bands_db.index_select(1, lower) * (1 - frac) + bands_db.index_select(1, upper) * frac
                ) * taper16
                masked = power * torch.pow(10.0, grid_db.T / 10.0)
                masked = masked * (total_power / masked.sum().clamp_min(1e-20))
            else:
                wave = wave16[window.start16 : window.end16] + epsilon * torch.tanh(param)
                masked = frontend.power(wave)
            shift = (
                int(torch.randint(0, masked.shape[0], (1,), generator=generator)) if settings.random_roll else 0
            )
            value, logits = _accumulate(masked, shift, models, objectives, settings, cancel)
            if value is None:
                return
            _ascend([param])
            optimizer.step()
            dreamers_now = tuple(
                _predictions(m, m.probabilities(lg).mean(dim=0).numpy())
                for m, lg in zip(models, logits, strict=True)
            )
            stopping = finish.is_set()  # "keep what's done": this window ends here, then the dream
            last_of_window = local == settings.iterations - 1 or stopping
            audio = spectrogram = span_view = None
            first_column = 0
            span_start = region_start_s
            now = time.monotonic()
            if last_of_window or (live and now - last_render >= settings.render_interval_s):
                last_render = now
                with torch.no_grad():
                    if settings.mode == "mask":
                        gains = (settings.strength_db * torch.tanh(param)).numpy()
                        span, spectrogram, first_column = renderer.mask_span(window, gains, s0, buffer)
                    else:
                        span, spectrogram, first_column = renderer.added_span(
                            window, (epsilon * torch.tanh(param)).numpy(), buffer
                        )
                audio = _readonly(span)
                span_start = (r0 + window.start_src) / clip.sample_rate_hz
                if live and (last_of_window or now - last_judge >= settings.judge_interval_s):
                    last_judge = now
                    judges_now, span_view = _listen(judges, models[0], audio, rate)
            if last_of_window:
                with torch.no_grad():
                    if settings.mode == "mask":
                        theta[:, s0:s1] = param.detach()
                    else:
                        delta16[window.start16 : window.end16] = param.detach()
            step = functools.partial(
                DreamStep,
                iteration=iteration,
                total_iterations=total,
                window_index=window.index,
                n_windows=len(windows),
                objective=value,
                sample_rate_hz=rate,
                region_start_s=region_start_s,
                region_end_s=region_end_s,
                dreamers_before=dreamers_before,
                judges_before=judges_before,
            )
            if iteration < total and not stopping:
                yield step(
                    elapsed_s=time.monotonic() - started,
                    span_start_s=span_start,
                    audio=audio,
                    spectrogram=spectrogram,
                    spectrogram_first_column=first_column,
                    dreamers=dreamers_now,
                    judges=judges_now,
                    final=False,
                    span_patch_probs=span_view,
                )
            else:
                if cancel.is_set():
                    return
                final_audio = renderer.finish(buffer)
                final_audio.flags.writeable = False  # a fresh array nobody else holds: no copy
                yield step(
                    span_start_s=region_start_s,
                    audio=final_audio,
                    spectrogram=renderer.final_spectrogram(final_audio),
                    spectrogram_first_column=renderer.first_column(0),
                    dreamers=tuple(_predict_audio(m, final_audio, rate) for m in models),
                    judges=tuple(_predict_audio(j, final_audio, rate) for j in judges),
                    elapsed_s=time.monotonic() - started,
                    final=True,
                )
                return


def warm_up(model: LoadedModel) -> None:
    """Run a tiny dream once so first-use imports (torch._dynamo via the first Adam step,
    sympy, pyloudnorm, scipy.signal) happen now, on the caller's worker thread, and not while
    audio plays: an import holds the GIL for up to ~100 ms, which would starve the audio
    callback."""
    t = np.arange(2 * 16_000, dtype=np.float32) / 16_000
    clip = AudioClip(np.stack([np.sin(2 * np.pi * 220 * t) * 0.3]).astype(np.float32), 16_000)
    for _ in dream(
        clip,
        [model],
        objective=Objective(kind="intensify", toward=None, layer=model.network.FEATURES[0]),
        settings=DreamSettings(iterations=1, render_interval_s=0.0),
    ):
        pass


def calibrate(model: LoadedModel) -> float:
    """Seconds per patch-iteration of a mask dream on this machine, measured on 10 patches of
    noise (3 iterations; the second is timed). Worker thread; ≈ 0.5–1 s."""
    rng = np.random.default_rng(0)
    frames = PATCH_FRAMES * HOP * 10
    clip = AudioClip((rng.standard_normal((1, frames)) * 0.1).astype(np.float32), SAMPLE_RATE_HZ)
    stamps = [
        time.perf_counter()
        for _ in dream(
            clip,
            [model],
            objective=Objective(kind="intensify", toward=None, layer=model.network.FEATURES[0]),
            settings=DreamSettings(iterations=3, render_interval_s=1e9, judge_interval_s=1e9),
        )
    ]
    return max(1e-3, (stamps[1] - stamps[0]) / 10)


def _plan_windows(
    n16: int, n_src: int, rate: int, settings: DreamSettings, start_s: float | None, region_start_s: float
) -> list[_Window]:
    """Windows of ``window_patches`` patches, ordered from the playhead outward."""
    window16 = settings.window_patches * PATCH_FRAMES * HOP
    bounds = [*list(range(0, n16, window16)), n16]
    # A tail shorter than 1 s joins the window before it.
    if len(bounds) > 2 and bounds[-1] - bounds[-2] < SAMPLE_RATE_HZ:
        bounds.pop(-2)
    windows = [
        _Window(
            index=i,
            start16=a,
            end16=b,
            start_src=round(a * rate / SAMPLE_RATE_HZ),
            end_src=min(n_src, round(b * rate / SAMPLE_RATE_HZ)),
        )
        for i, (a, b) in enumerate(itertools.pairwise(bounds))
    ]
    playhead16 = 0 if start_s is None else int((start_s - region_start_s) * SAMPLE_RATE_HZ)
    first = next((w.index for w in windows if w.start16 <= playhead16 < w.end16), 0)
    # Outward from the playhead: its window, then the next after it, then the one before, …
    return sorted(windows, key=lambda w: (abs(w.index - first), w.index < first))


def _accumulate(
    masked: torch.Tensor,
    shift: int,
    models: Sequence[LoadedModel],
    objectives: _Objectives,
    settings: DreamSettings,
    cancel: threading.Event,
) -> tuple[float | None, list[torch.Tensor]]:
    """Chunked forward/backward of all patches; gradients land in the mask parameters."""
    leaf = masked.detach().requires_grad_(True)
    frontend = models[0].frontend
    rolled = torch.roll(leaf, shifts=shift, dims=0) if shift else leaf
    frames = rolled.shape[0]
    if frames < PATCH_FRAMES:
        rolled = rolled.repeat(math.ceil(PATCH_FRAMES / frames), 1)[:PATCH_FRAMES]
    n_patches = max(1, rolled.shape[0] // PATCH_FRAMES)
    patches_power = rolled[: n_patches * PATCH_FRAMES].reshape(n_patches, PATCH_FRAMES, -1)
    total = 0.0
    logits_all: list[list[torch.Tensor]] = [[] for _ in models]
    for start in range(0, n_patches, settings.chunk_patches):
        if cancel.is_set():
            return None, []
        chunk = frontend.log_mel(patches_power[start : start + settings.chunk_patches])
        value = torch.zeros(())
        for index, model in enumerate(models):
            model_value, logits = objectives.value(index, model, chunk)
            value = value + model_value
            logits_all[index].append(logits.detach())
        (value / n_patches).backward(  # type: ignore[no-untyped-call]
            retain_graph=start + settings.chunk_patches < n_patches
        )
        total += float(value.detach()) / n_patches
    assert leaf.grad is not None
    masked.backward(leaf.grad)  # type: ignore[no-untyped-call]
    return total, [torch.cat(parts) for parts in logits_all]


class _Renderer:
    """Applies the mask (or the added signal) to the source at its own rate and channels."""

    def __init__(self, clip: AudioClip, r0: int, r1: int, settings: DreamSettings) -> None:
        self.clip = clip
        self.r0, self.r1 = r0, r1
        self.rate = clip.sample_rate_hz
        self.settings = settings
        self.region_duration_s = (r1 - r0) / self.rate
        freqs = bin_frequencies_hz(n_fft=DISPLAY_N_FFT, sample_rate_hz=self.rate)
        self.freq_full = mask_grid.frequency_weights(
            freqs, n_bands=settings.n_bands, low_hz=settings.band_low_hz, high_hz=settings.band_high_hz
        )
        self.high_scale, self.high_cap = mask_grid.high_band_policy(freqs)
        self._cache: dict[int, tuple[int, int, npt.NDArray[np.complex64], float | None]] = {}
        self.reference_lufs = integrated_loudness_lufs(clip.samples[:, r0:r1], sample_rate_hz=self.rate)

    def first_column(self, region_relative_frame: int) -> int:
        """Display column (track grid) of the STFT frame that starts at this region frame."""
        return (self.r0 + region_relative_frame) // DISPLAY_HOP

    def _analysis(self, window: _Window) -> tuple[int, int, npt.NDArray[np.complex64], float | None]:
        if window.index not in self._cache:
            self._cache.clear()  # one window at a time: memory stays bounded
            a = self.r0 + window.start_src
            b = self.r0 + window.end_src
            start = max(0, (a - DISPLAY_N_FFT) // DISPLAY_HOP * DISPLAY_HOP)
            end = min(self.clip.frames, b + DISPLAY_N_FFT)
            spec = stft(self.clip.samples[:, start:end], n_fft=DISPLAY_N_FFT, hop=DISPLAY_HOP)
            lufs = integrated_loudness_lufs(self.clip.samples[:, a:b], sample_rate_hz=self.rate)
            self._cache[window.index] = (start, end, spec, lufs)
        return self._cache[window.index]

    def mask_span(
        self, window: _Window, gains_db: npt.NDArray[np.float32], first_step: int, buffer: FloatArray
    ) -> tuple[FloatArray, DisplaySpectrogram, int]:
        start, end, spec, lufs = self._analysis(window)
        n_frames = spec.shape[-1]
        times = (start + np.arange(n_frames) * DISPLAY_HOP - self.r0) / self.rate
        lower, upper, frac = mask_grid.linear_indices(
            times / self.settings.mask_step_s - first_step, gains_db.shape[1]
        )
        # Both maps are linear: interpolate the few bands in time first, then one matmul to
        # (bins, frames); the other order gathered two (bins, frames) arrays per render.
        gains = gains_db.astype(np.float32, copy=False)
        per_frame = gains[:, lower] * (1 - frac) + gains[:, upper] * frac  # (bands, frames)
        grid = self.freq_full @ per_frame  # (bins, frames), float32
        np.clip(grid, -self.high_cap[:, None], self.high_cap[:, None], out=grid)
        grid *= self.high_scale[:, None]
        grid *= (mask_grid.edge_taper(times, duration_s=self.region_duration_s) * (np.log(10.0) / 20.0)).astype(
            np.float32
        )[None, :]
        masked = spec * np.exp(grid, out=grid)[None]
        audio = istft(masked, frames=end - start, n_fft=DISPLAY_N_FFT, hop=DISPLAY_HOP)
        a = self.r0 + window.start_src - start
        span = audio[:, a : a + window.end_src - window.start_src]
        gain_db = self._level(span, lufs)
        span = span * np.float32(10 ** (gain_db / 20))
        span = self._splice(span, window, buffer)
        display = display_from_stft(masked, sample_rate_hz=self.rate, gain_db=gain_db)
        return span, *_crop_columns(display, start, self.r0 + window.start_src, self.r0 + window.end_src)

    def added_span(
        self, window: _Window, added16: npt.NDArray[np.float32], buffer: FloatArray
    ) -> tuple[FloatArray, DisplaySpectrogram, int]:
        n = window.end_src - window.start_src
        added = resample(added16[None, :].astype(np.float32), SAMPLE_RATE_HZ, self.rate)[0, :n]
        a = self.r0 + window.start_src
        span = self._splice(self.clip.samples[:, a : a + n] + added[None, :n], window, buffer)
        return span, *self._display_on_grid(span, a)

    def _level(self, span: FloatArray, reference_lufs: float | None) -> float:
        if reference_lufs is None:
            return 0.0
        current = integrated_loudness_lufs(span, sample_rate_hz=self.rate)
        return 0.0 if current is None else reference_lufs - current

    def _splice(self, span: FloatArray, window: _Window, buffer: FloatArray) -> FloatArray:
        """Crossfade the span's inner edges from and into the original, write it into the
        buffer, return it. The original, not what the buffer holds: that may be an earlier
        render of this window, and how many renders a window gets depends on the clock, so
        the result would too (a sidecar could not reproduce it)."""
        span = np.array(span, dtype=np.float32)
        n = min(span.shape[1] // 4, int(SPAN_CROSSFADE_S * self.rate))
        a, b = window.start_src, window.end_src
        if n > 0:
            ramp = np.linspace(0.0, 1.0, n, dtype=np.float32)
            original = self.clip.samples[:, self.r0 : self.r1]
            if a > 0:
                span[:, :n] = original[:, a : a + n] * (1 - ramp) + span[:, :n] * ramp
            if b < buffer.shape[1]:
                span[:, -n:] = span[:, -n:] * (1 - ramp) + original[:, b - n : b] * ramp
        # Intermediate spans are heard while dreaming: keep them under the ceiling too, with
        # the fast preview limiter (the final render runs the exact, oversampled one).
        span = true_peak_limit(
            span, sample_rate_hz=self.rate, ceiling_dbtp=self.settings.ceiling_dbtp, oversample=False
        )
        buffer[:, a:b] = span
        return span

    def finish(self, buffer: FloatArray) -> FloatArray:
        """Whole region: loudness matched to the original, −1 dBTP, crossfaded into untouched
        audio at the region borders."""
        out = match_and_limit(  # the buffer is not needed afterwards: work in it
            buffer,
            in_place=True,
            reference_lufs=self.reference_lufs,
            sample_rate_hz=self.rate,
            ceiling_dbtp=self.settings.ceiling_dbtp,
        )
        original = self.clip.samples[:, self.r0 : self.r1]
        n = min(out.shape[1] // 4, int(REGION_CROSSFADE_S * self.rate))
        ramp = np.linspace(0.0, 1.0, n, dtype=np.float32)
        if self.r0 > 0 and n:
            out[:, :n] = original[:, :n] * (1 - ramp) + out[:, :n] * ramp
        if self.r1 < self.clip.frames and n:
            out[:, -n:] = out[:, -n:] * (1 - ramp) + original[:, -n:] * ramp
        return out

    def final_spectrogram(self, final: FloatArray) -> DisplaySpectrogram:
        """Display columns of the final region, on the track's column grid."""
        return self._display_on_grid(final, self.r0)[0]

    def _display_on_grid(self, audio: FloatArray, start_frame: int) -> tuple[DisplaySpectrogram, int]:
        """Display spectrogram of ``audio`` (starting at track frame ``start_frame``), analysed
        from the preceding column boundary so its columns line up with the track's; returns it
        and the index of its first column."""
        start = start_frame // DISPLAY_HOP * DISPLAY_HOP
        lead = self.clip.samples[:, start:start_frame].mean(axis=0, dtype=np.float32)
        mono = np.concatenate([lead, audio.mean(axis=0, dtype=np.float32)])[None, :]
        return display_spectrogram(mono, sample_rate_hz=self.rate), start // DISPLAY_HOP


def _crop_columns(
    display: DisplaySpectrogram, analysis_start: int, a: int, b: int
) -> tuple[DisplaySpectrogram, int]:
    """Keep the columns centred in track frames [a, b); return them and the first's index."""
    first = -(-a // DISPLAY_HOP)
    last = -(-b // DISPLAY_HOP)
    offset = analysis_start // DISPLAY_HOP
    cropped = display.db[:, first - offset : last - offset]
    return DisplaySpectrogram(np.ascontiguousarray(cropped), display.frequencies_hz, display.hop_s), first
