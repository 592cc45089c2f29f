"""The immutable audio container every part of Deep Trance passes around."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float32]


@dataclass(frozen=True)
class SourceInfo:
    """What the file on disk was, before any resampling or downmix."""

    path: Path | None
    container: str
    codec: str
    sample_rate_hz: int
    channels: int
    duration_s: float


@dataclass(frozen=True)
class AudioClip:
    """Audio samples with their rate; immutable and safe to share between threads.

    Attributes
    ----------
    samples
        float32, shape (channels, frames), read-only.
    sample_rate_hz
        Rate of ``samples``.
    source
        Where the samples came from, or None for generated audio.
    warnings
        Things the user should know (salvaged data, NaN replaced, silence …).
    """

    samples: FloatArray
    sample_rate_hz: int
    source: SourceInfo | None = None
    warnings: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        if self.samples.ndim != 2:
            raise ValueError(f"samples must be (channels, frames), got shape {self.samples.shape}")
        if self.sample_rate_hz <= 0:
            raise ValueError(f"sample_rate_hz must be positive, got {self.sample_rate_hz}")
        samples = np.ascontiguousarray(self.samples, dtype=np.float32)
        if samples is self.samples and samples.flags.writeable:
            samples = samples.copy()
        samples.flags.writeable = False
        object.__setattr__(self, "samples", samples)

    @property
    def channels(self) -> int:
        """Number of channels."""
        return int(self.samples.shape[0])

    @property
    def frames(self) -> int:
        """Number of sample frames."""
        return int(self.samples.shape[1])

    @property
    def duration_s(self) -> float:
        """Length in seconds."""
        return self.frames / self.sample_rate_hz

    def mono(self) -> FloatArray:
        """Mean of the channels, shape (frames,), read-only."""
        if self.channels == 1:
            first: FloatArray = self.samples[0]
            return first
        return np.asarray(self.samples.mean(axis=0, dtype=np.float32), dtype=np.float32)

    def with_samples(self, samples: FloatArray, *, warnings: tuple[str, ...] = ()) -> AudioClip:
        """A new clip with other samples at the same rate and the same source info."""
        return AudioClip(samples, self.sample_rate_hz, self.source, self.warnings + warnings)
