"""The dream engine: one loop, a plain generator of immutable :class:`DreamStep` s, for every
mode. What a mode changes is its :class:`~.parameterisation.Parameterisation`: how parameters
become what the models hear and how they sound (:mod:`.gain_mask`, :mod:`.waveform`,
and the modes outside ``core.dream`` such as the band), registered in :mod:`.modes`;
the engine imports none of them.

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
from typing import Any

import numpy as np
import numpy.typing as npt
import torch

from deeptrance_gui.core.audio.clip import AudioClip, FloatArray
from deeptrance_gui.core.audio.load import resample
from deeptrance_gui.core.dream.modes import DreamCall, get_mode
from deeptrance_gui.core.dream.parameterisation import DreamRegion, Parameterisation, Rendered, Window
from deeptrance_gui.core.dream.settings import (
    MIN_DREAM_DURATION_S,
    DreamSettings,
    Objective,
)
from deeptrance_gui.core.dream.steps import DreamStep
from deeptrance_gui.core.dream.steps import readonly as _readonly
from deeptrance_gui.core.errors import DreamError, UnknownTagError
from deeptrance_gui.core.model.frontend import PATCH_FRAMES, SAMPLE_RATE_HZ
from deeptrance_gui.core.model.genres import genre_tags
from deeptrance_gui.core.model.loading import LoadedModel
from deeptrance_gui.core.model.predict import predict, predict_waveform
from deeptrance_gui.core.model.predictions import Predictions

CANCEL_POLL_S = 0.5


class Objectives:
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


def check_models(models: Sequence[LoadedModel], judges: Sequence[LoadedModel]) -> None:
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
    """Dream ``clip`` with ``models`` in the mode ``settings.mode`` names (:mod:`.modes`),
    yielding one immutable step per iteration.

    Parameters
    ----------
    clip
        The track, any rate and channel count (kept in the output).
    models
        Dreaming models (several = ensemble: their objectives are summed).
    objective, settings
        What to push toward (genre) or intensify (layer/channel), and how (defaults from the
        measured findings).
    judges
        Independent models (the judge panel) that hear every render; none may be a dreamer.
    region, start_s
        (start_s, end_s) to dream, None = the whole clip; the playhead: dreaming starts in the
        window holding it and moves outward.
    seed
        Same seed, same output (None = 0).
    cancel, finish
        Set ``cancel`` to stop within 0.5 s without a final step; ``finish`` to stop early and
        keep what is done (windows not reached stay original; a final step follows).
    live
        Render and judge while dreaming for someone listening; False (headless): each window is
        rendered once, when its iterations are done. The result is the same.

    Yields
    ------
    DreamStep
        One per iteration; the last has ``final=True`` and the whole region's audio.

    Raises
    ------
    DreamError
        Bad settings, an unknown mode, too short or silent audio, a judge among the dreamers
        (and whatever the mode refuses), before the first step.
    """
    call = DreamCall(clip, models, objective, settings or DreamSettings(), judges, region, start_s, seed, cancel, finish, live)
    return start(call)


def start(call: DreamCall) -> Iterator[DreamStep]:
    """:func:`dream` for a :class:`~.modes.DreamCall`: its settings checked, its mode started."""
    call.settings.validate()
    return get_mode(call.settings.mode).start(call)


def prepare(
    call: DreamCall, *, silent: str = "the region is silent; there is nothing for the network to hear"
) -> tuple[Objectives, int, int]:
    """The checks every mode makes before its first step: the models, the objective against
    them, the region (in source frames ``r0``, ``r1``) and that it is not silent.

    Raises
    ------
    DreamError, UnknownTagError
        What is wrong, and what to do.
    """
    check_models(call.models, call.judges)
    objectives = Objectives(call.objective, call.models, call.settings.objective_ceiling)
    r0, r1 = resolve_region(call.clip, call.region)
    if float(np.max(np.abs(call.clip.samples[:, r0:r1]))) < 1e-5:
        raise DreamError(silent)
    return objectives, r0, r1


def models_view(samples: FloatArray, rate_hz: int) -> torch.Tensor:
    """What the models hear of ``samples`` (channels, frames): mono, 16 kHz, shape (n,)."""
    mono = samples.mean(axis=0, keepdims=True, dtype=np.float32)
    return torch.from_numpy(np.ascontiguousarray(resample(mono, rate_hz, SAMPLE_RATE_HZ)[0]))


def run(
    make: Callable[[DreamRegion], Parameterisation], call: DreamCall, objectives: Objectives, *, r0: int, r1: int
) -> Iterator[DreamStep]:
    """The one dream loop, for every parameterisation; the caller has checked ``call``
    (:func:`prepare`: ``objectives`` and the region ``r0``–``r1`` in source frames).

    ``make(region)`` builds the parameterisation from the region (with its 16 kHz mono view,
    computed here once); it runs inside the generator (on the worker), like everything heavy.
    """
    yield from _Loop(make, call, objectives, r0=r0, r1=r1).steps()


class _Loop:
    """One dream's loop and its state (see :func:`run` and the module docstring)."""

    def __init__(
        self, make: Callable[[DreamRegion], Parameterisation], call: DreamCall, objectives: Objectives, *, r0: int, r1: int
    ) -> None:
        self.cancel = call.cancel or threading.Event()
        self.finish = call.finish or threading.Event()
        self.generator = torch.Generator().manual_seed(0 if call.seed is None else int(call.seed))
        self.started = time.monotonic()
        clip, models, judges, settings = call.clip, call.models, call.judges, call.settings
        self.models, self.judges, self.objectives, self.settings, self.live = models, judges, objectives, settings, call.live
        self.rate = rate = clip.sample_rate_hz
        self.region_start_s = r0 / rate
        self.wave16 = models_view(clip.samples[:, r0:r1], rate)
        self.parameterisation = make(DreamRegion(clip, r0, r1, self.wave16))
        self.windows = self.parameterisation.windows
        self.total = len(self.windows) * settings.iterations
        # The judges hear the original when they first listen, not before the first audio goes
        # out (≈ 0.13 s a judge on 30 s): until then steps carry no judges' "before".
        self.judges_before: tuple[Predictions, ...] = ()
        self.judges_now: tuple[Predictions, ...] = ()
        self.step = functools.partial(
            DreamStep,
            total_iterations=self.total,
            n_windows=len(self.windows),
            sample_rate_hz=rate,
            region_start_s=self.region_start_s,
            region_end_s=r1 / rate,
            # The models' view of the region is already at hand: no second downmix and resample.
            dreamers_before=_before(models, self.wave16),
            judge_names=tuple(j.name for j in judges),
        )
        self.last_judge = -math.inf
        self.render_cost = self.judge_cost = 0.0
        self.heard_yet = False
        self.judged = 0
        self.iteration = 0
        # The first window is heard at once; later ones at the render pace, counted from the
        # last render of the window before (one iteration in, a window has hardly changed:
        # rendering it at once cost a 3-minute live dream ≈ 2 s of 47).
        self.last_render = -math.inf

    def steps(self) -> Iterator[DreamStep]:
        for window in self.windows:
            if self.cancel.is_set():
                return
            params = self.parameterisation.begin(window)
            optimizer = torch.optim.Adam(params, lr=self.settings.learning_rate)
            for local in range(self.settings.iterations):
                if self.cancel.is_set():
                    return
                step = self._iterate(window, local, params, optimizer)
                if step is None:
                    return
                yield step
                if step.final:
                    return

    def _iterate(
        self, window: Window, local: int, params: list[torch.Tensor], optimizer: torch.optim.Optimizer
    ) -> DreamStep | None:
        """One iteration of ``window``; None when cancelled."""
        self.iteration += 1
        optimizer.zero_grad(set_to_none=True)
        power = self.parameterisation.heard(window, (self.iteration - 1) / max(1, self.total - 1))
        roll = self.settings.random_roll
        shift = int(torch.randint(0, power.shape[0], (1,), generator=self.generator)) if roll else 0
        value, logits = _accumulate(power, shift, self.models, self.objectives, self.settings, self.cancel)
        if value is None:
            return None
        _ascend(params)
        optimizer.step()
        stopping = self.finish.is_set()  # "keep what's done": this window ends here, then the dream
        last_of_window = local == self.settings.iterations - 1 or stopping
        final = last_of_window and (stopping or self.iteration == self.total)
        rendered, span_view = self._render_and_judge(window, last_of_window=last_of_window, final=final)
        if last_of_window:
            self.parameterisation.end(window)
        if final:
            return None if self.cancel.is_set() else self._final_step(window, value)
        return self._step(
            window,
            value,
            rendered,
            elapsed_s=time.monotonic() - self.started,
            dreamers=tuple(
                _predictions(m, m.probabilities(lg).mean(dim=0).numpy())
                for m, lg in zip(self.models, logits, strict=True)
            ),
            judges=self.judges_now,
            judges_before=self.judges_before,
            final=False,
            span_patch_probs=span_view,
        )

    def _step(self, window: Window, value: float, rendered: Rendered | None, **rest: Any) -> DreamStep:
        """A step of ``window`` at this iteration, with the audio ``rendered`` (None: none)."""
        return self.step(
            iteration=self.iteration,
            window_index=window.index,
            objective=value,
            span_start_s=self.region_start_s if rendered is None else rendered.span_start_s,
            audio=None if rendered is None else rendered.audio,
            spectrogram=None if rendered is None else rendered.spectrogram,
            spectrogram_first_column=0 if rendered is None else rendered.first_column,
            band=None if rendered is None else rendered.band,
            **rest,
        )

    def _render_and_judge(
        self, window: Window, *, last_of_window: bool, final: bool
    ) -> tuple[Rendered | None, FloatArray | None]:
        """Render when due (paced by the settings and by its own cost: a band render is the
        whole region), and let the judges listen when due; (None, None) when not rendering."""
        now = time.monotonic()
        due_render = now - self.last_render >= _pace(self.settings.render_interval_s, self.render_cost)
        if not (last_of_window or (self.live and due_render)):
            return None, None
        with torch.no_grad():
            rendered = self.parameterisation.render(window)
        self.last_render = time.monotonic()
        self.render_cost = self.last_render - now
        span_view = None
        # The first audio goes out at once; the judges listen to the next render, then at
        # their own pace.
        due = self.last_render - self.last_judge >= _pace(self.settings.judge_interval_s, self.judge_cost)
        if self.live and not final and self.heard_yet and (last_of_window or due or self.judged == 0):
            self.judges_before = self.judges_before or _before(self.judges, self.wave16)
            self.judges_now, span_view = _listen(self.judges, self.models[0], rendered.audio, self.rate)
            self.judge_cost = time.monotonic() - self.last_render
            self.last_judge = time.monotonic()
            self.judged += 1
        self.heard_yet = True
        return rendered, span_view

    def _final_step(self, window: Window, value: float) -> DreamStep:
        """The whole region, heard by every dreamer and judge."""
        result = self.parameterisation.finish()
        rate, models = self.rate, self.models
        first = predict(AudioClip(result.audio, rate), models[0])  # its per-patch view feeds the strip
        return self._step(
            window,
            value,
            result,
            dreamers=(
                _predictions(models[0], first.track_probs),
                *(_predict_audio(m, result.audio, rate) for m in models[1:]),
            ),
            judges=tuple(_predict_audio(j, result.audio, rate) for j in self.judges),
            judges_before=self.judges_before or _before(self.judges, self.wave16),
            elapsed_s=time.monotonic() - self.started,
            final=True,
            span_patch_probs=_readonly(first.patch_probs),
        )


def _pace(interval_s: float, cost_s: float) -> float:
    """Seconds between renders (or judgements): the setting, and at least 4× their own cost so
    they take at most ≈ 1/5 of the time; an interval of 0 means every iteration."""
    return max(interval_s, 4 * cost_s) if interval_s > 0 else 0.0


def _accumulate(
    masked: torch.Tensor,
    shift: int,
    models: Sequence[LoadedModel],
    objectives: Objectives,
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
