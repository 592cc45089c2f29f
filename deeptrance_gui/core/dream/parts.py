"""What a mode that plays parts along with the track (the band) leaves in its dream steps,
as the engine, the exports, the sidecar and the window's lanes see it: an interface, so that
nothing in ``core.dream`` knows the band."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from deeptrance_gui.core.audio.clip import FloatArray

#: The track itself among the parts of a played take (its stem and its lane).
ORIGINAL = "original"


class PlayedParts(Protocol):
    """What a mode that plays parts along with the track leaves in its steps (``DreamStep.band``):
    the band dream's take. Numpy only, so the window can hold it without torch."""

    @property
    def part_names(self) -> tuple[str, ...]:
        """Role of each part (drums, bass, harmony, lead)."""
        ...

    @property
    def stems(self) -> tuple[FloatArray, ...] | None:
        """Per part, (channels, frames) at the source rate, exactly as in the mix."""
        ...

    @property
    def original(self) -> FloatArray | None:
        """The region's original as it goes into the mix."""
        ...

    def record(self) -> dict[str, Any]:
        """The sidecar's section for this take (everything that reproduces it)."""
        ...

    def lanes(self) -> PartLanes:
        """What the lanes under the spectrogram draw."""
        ...

    def mix(self, *, sample_rate_hz: int, muted: frozenset[str], soloed: frozenset[str]) -> FloatArray:
        """The region with only the parts heard, loudness-matched and limited."""
        ...

    def write_stems(self, dest: Path, *, sample_rate_hz: int, subtype: str, overwrite: bool) -> list[Path]:
        """Write each part and the original as ``dest``-named stems (:func:`.export.stem_paths`);
        all checked before any is written."""
        ...

    def write_midi(self, path: Path, *, overwrite: bool) -> Path:
        """Write the parts as a Standard MIDI File."""
        ...


@dataclass(frozen=True)
class PartLanes:
    """A played take as lanes: per part its level bar by bar (dB relative to the arrangement's
    own balance) and what it plays; bar starts in seconds from the region start."""

    names: tuple[str, ...]
    labels: tuple[str, ...]  # "drums: rock beat"
    bar_starts_s: tuple[float, ...]
    levels_db: Any  # float32, shape (parts, bars)
