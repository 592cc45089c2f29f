"""The dream engine: one loop, a plain generator of immutable :class:`DreamStep` s, for every
mode. What a mode changes is its :class:`~.parameterisation.Parameterisation`: how parameters
become what the models hear and how they sound (:mod:`.gain_mask`, :mod:`.waveform`,
:mod:`deeptrance_gui.core.band.dream`).

Algorithm (defaults and measurements in ``reference/dream-findings.md``)
-------------------------------------------------------------------------
* The models hear the region as 16 kHz mono. Each iteration the parameterisation gives the
  power spectrogram they hear; it is rolled by a random number of frames (rolled back by
  autograd), cut into 187-frame patches and fed to every dreaming model. Adam ascends the
  objective; the gradient is normalised by its mean absolute value. Patches above the
  objective ceiling stop pushing (no overcooking).
* Backward runs in chunks of ``chunk_patches`` patches through a detached copy of the heard
  power, whose gradient is then pushed through the parameterisation once: peak memory is that
  of one chunk.
* Long regions are dreamed in windows of ``window_patches`` patches (≈30 s), starting at the
  playhead and moving outward, so the first changed audio is where the listener is.
* Rendering (the parameterisation's, at the source rate, loudness-matched, ≤ −1 dBTP) happens
  at the first iteration, at each window's last, and in between at most every
  ``render_interval_s`` and 4× its own cost, when someone listens (``live``); optimisation
  never depends on it, so a seed gives the same result at any speed, live or headless.
* The judges (models that are never dreamers) hear rendered audio — from the second render on,
  so the first change is heard sooner; then at a window's end and at most every
  ``judge_interval_s`` and 4× their cost — and the final region.
* ``finish`` ends the dream early and keeps what is done ("keep what's done").
"""

from __future__ import annotations

import functools
import math
import threading
import time
from collections.abc import Callable, Iterator, Sequence

import numpy as np
import numpy.typing as npt
import torch

from deeptrance_gui.core.audio.clip import AudioClip, FloatArray
from deeptrance_gui.core.audio.load import resample
from deeptrance_gui.core.dream.gain_mask import GainMask
from deeptrance_gui.core.dream.parameterisation import DreamRegion, Parameterisation
from deeptrance_gui.core.dream.settings import (
    MIN_DREAM_DURATION_S,
    DreamSettings,
    Objective,
)
from deeptrance_gui.core.dream.steps import DreamStep
from deeptrance_gui.core.dream.steps import readonly as _readonly
from deeptrance_gui.core.dream.waveform import AddedWaveform
from deeptrance_gui.core.errors import DreamError, UnknownTagError
from deeptrance_gui.core.model.frontend import HOP, PATCH_FRAMES, SAMPLE_RATE_HZ
from deeptrance_gui.core.model.genres import genre_tags
from deeptrance_gui.core.model.loading import LoadedModel
from deeptrance_gui.core.model.predict import predict, predict_waveform
from deeptrance_gui.core.model.predictions import Predictions

CANCEL_POLL_S = 0.5


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


def _before(models: Sequence[LoadedModel], wave16: torch.Tensor) -> tuple[Predictions, ...]:
    """What ``models`` hear in the original region (its 16 kHz mono view)."""
    return tuple(_predictions(m, predict_waveform(wave16, m).track_probs) for m in models)


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
    kind = GainMask if settings.mode == "mask" else AddedWaveform

    def parameterisation(region: DreamRegion) -> Parameterisation:
        return kind(region, settings, start_s=start_s, frontend=models[0].frontend)

    return run(
        parameterisation, models, judges, objectives, settings,
        clip=clip, r0=r0, r1=r1, seed=seed, cancel=cancel, finish=finish, live=live,
    )  # fmt: skip


def models_view(samples: FloatArray, rate_hz: int) -> torch.Tensor:
    """What the models hear of ``samples`` (channels, frames): mono, 16 kHz, shape (n,)."""
    mono = samples.mean(axis=0, keepdims=True, dtype=np.float32)
    return torch.from_numpy(np.ascontiguousarray(resample(mono, rate_hz, SAMPLE_RATE_HZ)[0]))


def run(
    make: Callable[[DreamRegion], Parameterisation],
    models: Sequence[LoadedModel],
    judges: Sequence[LoadedModel],
    objectives: _Objectives,
    settings: DreamSettings,
    *,
    clip: AudioClip,
    r0: int,
    r1: int,
    seed: int | None,
    cancel: threading.Event | None,
    finish: threading.Event | None,
    live: bool,
) -> Iterator[DreamStep]:
    """The one dream loop, for every parameterisation; the caller has checked the request.

    ``make(region)`` builds the parameterisation from the region (with its 16 kHz mono view,
    computed here once); it runs inside the generator (on the worker), like everything heavy.
    """
    cancel = cancel or threading.Event()
    finish = finish or threading.Event()
    generator = torch.Generator().manual_seed(0 if seed is None else int(seed))
    started = time.monotonic()
    rate = clip.sample_rate_hz
    region_start_s, region_end_s = r0 / rate, r1 / rate
    wave16 = models_view(clip.samples[:, r0:r1], rate)
    parameterisation = make(DreamRegion(clip, r0, r1, wave16))
    # The models' view of the region is already at hand: no second downmix and resample.
    dreamers_before = _before(models, wave16)
    # The judges hear the original when they first listen, not before the first audio goes
    # out (≈ 0.13 s a judge on 30 s): until then steps carry no judges' "before".
    judges_before: tuple[Predictions, ...] = ()
    judge_names = tuple(j.name for j in judges)
    windows = parameterisation.windows
    total = len(windows) * settings.iterations
    judges_now: tuple[Predictions, ...] = ()
    last_judge = -math.inf
    render_cost = judge_cost = 0.0
    heard_yet = False
    judged = 0
    iteration = 0
    # The first window is heard at once; later ones at the render pace, counted from the last
    # render of the window before (one iteration in, a window has hardly changed: rendering it
    # at once cost a 3-minute live dream ≈ 2 s of 47).
    last_render = -math.inf
    for window in windows:
        if cancel.is_set():
            return
        params = parameterisation.begin(window)
        optimizer = torch.optim.Adam(params, lr=settings.learning_rate)
        for local in range(settings.iterations):
            if cancel.is_set():
                return
            iteration += 1
            optimizer.zero_grad(set_to_none=True)
            power = parameterisation.heard(window, (iteration - 1) / max(1, total - 1))
            shift = int(torch.randint(0, power.shape[0], (1,), generator=generator)) if settings.random_roll else 0
            value, logits = _accumulate(power, shift, models, objectives, settings, cancel)
            if value is None:
                return
            _ascend(params)
            optimizer.step()
            dreamers_now = tuple(
                _predictions(m, m.probabilities(lg).mean(dim=0).numpy()) for m, lg in zip(models, logits, strict=True)
            )
            stopping = finish.is_set()  # "keep what's done": this window ends here, then the dream
            last_of_window = local == settings.iterations - 1 or stopping
            final = last_of_window and (stopping or iteration == total)
            rendered = span_view = None
            now = time.monotonic()
            # Renders and judges are paced by the settings and by their own cost (a band render
            # is the whole region).
            if last_of_window or (live and now - last_render >= _pace(settings.render_interval_s, render_cost)):
                with torch.no_grad():
                    rendered = parameterisation.render(window)
                last_render = time.monotonic()
                render_cost = last_render - now
                # The first audio goes out at once; the judges listen to the next render, then
                # at their own pace.
                due = last_render - last_judge >= _pace(settings.judge_interval_s, judge_cost)
                if live and not final and heard_yet and (last_of_window or due or judged == 0):
                    judges_before = judges_before or _before(judges, wave16)
                    judges_now, span_view = _listen(judges, models[0], rendered.audio, rate)
                    judge_cost = time.monotonic() - last_render
                    last_judge = time.monotonic()
                    judged += 1
                heard_yet = True
            if last_of_window:
                parameterisation.end(window)
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
                judge_names=judge_names,
            )
            if not final:
                yield step(
                    elapsed_s=time.monotonic() - started,
                    span_start_s=region_start_s if rendered is None else rendered.span_start_s,
                    audio=None if rendered is None else rendered.audio,
                    spectrogram=None if rendered is None else rendered.spectrogram,
                    spectrogram_first_column=0 if rendered is None else rendered.first_column,
                    dreamers=dreamers_now,
                    judges=judges_now,
                    judges_before=judges_before,
                    final=False,
                    span_patch_probs=span_view,
                    band=None if rendered is None else rendered.band,
                )
                continue
            if cancel.is_set():
                return
            result = parameterisation.finish()
            first = predict(AudioClip(result.audio, rate), models[0])  # its per-patch view feeds the strip
            yield step(
                span_start_s=result.span_start_s,
                audio=result.audio,
                spectrogram=result.spectrogram,
                spectrogram_first_column=result.first_column,
                dreamers=(
                    _predictions(models[0], first.track_probs),
                    *(_predict_audio(m, result.audio, rate) for m in models[1:]),
                ),
                judges=tuple(_predict_audio(j, result.audio, rate) for j in judges),
                judges_before=judges_before or _before(judges, wave16),
                elapsed_s=time.monotonic() - started,
                final=True,
                band=result.band,
                span_patch_probs=_readonly(first.patch_probs),
            )
            return


def _pace(interval_s: float, cost_s: float) -> float:
    """Seconds between renders (or judgements): the setting, and at least 4× their own cost so
    they take at most ≈ 1/5 of the time; an interval of 0 means every iteration."""
    return max(interval_s, 4 * cost_s) if interval_s > 0 else 0.0


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
