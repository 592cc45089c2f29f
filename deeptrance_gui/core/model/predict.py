"""Tag predictions: per ≈3 s patch and for the whole track.

Short tracks (< 3 s) are repeat-padded to one patch, as musicnn's training did
(``pad_short: repeat-pad``); the prediction says so (``padded``). A trailing partial patch is
dropped, as musicnn does, unless it is the only audio there is.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import torch

from deeptrance_gui.core.audio.clip import AudioClip, FloatArray
from deeptrance_gui.core.audio.load import resample
from deeptrance_gui.core.model.frontend import (
    PATCH_S,
    PATCH_SAMPLES,
    SAMPLE_RATE_HZ,
    repeat_pad,
    to_patches,
)
from deeptrance_gui.core.model.genres import fma_view, genre_tags
from deeptrance_gui.core.model.loading import LoadedModel
from deeptrance_gui.core.model.predictions import Predictions

#: A trailing partial patch shorter than this gets no column of its own (too little to hear).
MIN_TAIL_S = 0.5


@dataclass(frozen=True)
class TagPrediction:
    """What one model hears in a clip.

    Attributes
    ----------
    patch_probs
        float32, shape (n_patches, n_tags): sigmoid probabilities per ≈3 s patch.
    patch_starts_s
        Start of each patch in the clip, shape (n_patches,).
    padded
        True when the clip was shorter than one patch and was repeat-padded.
    tail_probs
        float32, shape (n_tags,): the trailing partial patch (≥ ``MIN_TAIL_S``), repeat-padded
        to a whole patch as musicnn does for short clips; None if there is none. It is shown on
        the genre-over-time strip but, as in musicnn, not averaged into the track's scores.
    duration_s
        Length of the audio predicted.
    """

    model_name: str
    dataset: str
    labels: tuple[str, ...]
    patch_probs: npt.NDArray[np.float32]
    patch_starts_s: npt.NDArray[np.float64]
    padded: bool
    tail_probs: npt.NDArray[np.float32] | None = None
    duration_s: float = 0.0

    @property
    def track_probs(self) -> npt.NDArray[np.float32]:
        """Track-level probabilities: mean over patches (musicnn's aggregation), shape (n_tags,)."""
        return np.asarray(self.patch_probs.mean(axis=0), dtype=np.float32)

    def track(self) -> Predictions:
        """Track-level view (the same type a dream step carries)."""
        return Predictions(self.model_name, self.dataset, self.labels, self.track_probs)

    def top(self, k: int = 10) -> list[tuple[str, float]]:
        """The ``k`` most probable tags of the track, best first."""
        return self.track().top(k)

    def probability(self, tag: str) -> float:
        """Track probability of ``tag`` (case-insensitive; NaN if the model lacks it)."""
        return self.track().probability(tag)

    def rank(self, tag: str) -> int | None:
        """1-based rank of ``tag`` among all tags of the track (None if the model lacks it)."""
        return self.track().rank(tag)

    def genres(self) -> dict[str, float]:
        """Track probabilities of the model's genre tags."""
        probs = self.track_probs
        tags = genre_tags(self.dataset, self.labels)
        return {t: float(probs[self.labels.index(t)]) for t in tags if t in self.labels}

    def timeline(self) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float64]]:
        """Columns for a genre-over-time view: probabilities (n_columns, n_tags) and the column
        edges in seconds (n_columns + 1,), ending at the end of the audio (the tail included)."""
        if self.padded:  # one repeat-padded patch stands for the whole short clip
            return self.patch_probs, np.array([0.0, self.duration_s])
        edges = np.append(self.patch_starts_s, self.patch_starts_s[-1] + PATCH_S)
        if self.tail_probs is None:  # a tail under MIN_TAIL_S (or not asked for) joins the last column
            edges[-1] = max(edges[-1], self.duration_s)
            return self.patch_probs, edges
        return np.vstack([self.patch_probs, self.tail_probs[None, :]]), np.append(edges, self.duration_s)

    def fma(self) -> dict[str, float | None]:
        """FMA-8 genre view (None = this model has no signal for that genre)."""
        return fma_view(self.dataset, self.labels, [float(p) for p in self.track_probs])


def model_waveform(clip: AudioClip) -> FloatArray:
    """The model's view of ``clip``: mono (mean of channels), 16 kHz soxr HQ, shape (samples,)."""
    mono = clip.samples.mean(axis=0, keepdims=True, dtype=np.float32)
    out: FloatArray = resample(mono, clip.sample_rate_hz, SAMPLE_RATE_HZ)[0]
    return out


def waveform_patches(model: LoadedModel, waveform_16k: torch.Tensor) -> tuple[torch.Tensor, bool]:
    """Log-mel patches (n, 187, 96) of a 16 kHz waveform, repeat-padded when short."""
    padded = waveform_16k.shape[-1] < PATCH_SAMPLES
    log_mel = model.frontend(repeat_pad(waveform_16k))
    return to_patches(log_mel), padded


# Patches per forward pass. Two keep each layer's activations (a timbral conv's output is 9 MB
# per patch) near the cache: on the 2-core machine a 30-s clip's 10 patches take 0.13 s in
# passes of 2 and 0.26 s in one pass of 10 (musicnn; vgg 0.10 s against 0.20 s), with
# outputs equal to float rounding. `bench/predict.py` keeps the one-pass path as its reference.
INFERENCE_BATCH_PATCHES = 2


def predict_patches(
    model: LoadedModel, patches: torch.Tensor, *, batch_size: int = INFERENCE_BATCH_PATCHES
) -> npt.NDArray[np.float32]:
    """Sigmoid probabilities of log-mel patches (n, 187, 96) → (n, n_tags)."""
    outputs = []
    with torch.inference_mode():
        for start in range(0, patches.shape[0], batch_size):
            outputs.append(model.probabilities(model.network(patches[start : start + batch_size])))
    if not outputs:
        return np.zeros((0, len(model.labels)), np.float32)
    return torch.cat(outputs).numpy().astype(np.float32)


def predict(
    clip: AudioClip, model: LoadedModel, *, batch_size: int = INFERENCE_BATCH_PATCHES, tail: bool = False
) -> TagPrediction:
    """Per-patch and track-level tag probabilities of ``clip``.

    Parameters
    ----------
    clip
        Any rate and channel count; the model hears 16 kHz mono.
    model
        A loaded tagger.
    batch_size
        Patches per forward pass.
    tail
        Also predict the trailing partial patch (``tail_probs``, for a genre-over-time view).

    Returns
    -------
    TagPrediction
    """
    if clip.frames == 0:
        raise ValueError("cannot predict tags of an empty clip")
    return predict_waveform(
        torch.from_numpy(np.ascontiguousarray(model_waveform(clip))), model, batch_size=batch_size, tail=tail
    )


def predict_waveform(
    wave: torch.Tensor, model: LoadedModel, *, batch_size: int = INFERENCE_BATCH_PATCHES, tail: bool = False
) -> TagPrediction:
    """:func:`predict` for audio already in the model's view: 16 kHz mono, shape (samples,)."""
    with torch.inference_mode():
        patches, padded = waveform_patches(model, wave)
        tail_probs = None
        leftover = wave[patches.shape[0] * PATCH_SAMPLES :]
        if tail and not padded and leftover.shape[-1] >= MIN_TAIL_S * SAMPLE_RATE_HZ:
            tail_patches, _ = waveform_patches(model, leftover)
            tail_probs = predict_patches(model, tail_patches[:1])[0]
    probs = predict_patches(model, patches, batch_size=batch_size)
    starts = np.arange(probs.shape[0], dtype=np.float64) * PATCH_S
    return TagPrediction(
        model_name=model.name,
        dataset=model.spec.dataset,
        labels=model.labels,
        patch_probs=probs,
        patch_starts_s=starts,
        padded=padded,
        tail_probs=tail_probs,
        duration_s=wave.shape[-1] / SAMPLE_RATE_HZ,
    )
