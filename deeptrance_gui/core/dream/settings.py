"""What to dream (objective) and how (settings), validated with messages a user can act on."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from deeptrance_gui.core.errors import DreamError

ObjectiveKind = Literal["genre", "intensify"]

MODE_DESCRIPTIONS: dict[str, str] = {
    "genre": (
        "Genre dream: a smooth, bounded EQ that changes over time (a gain mask on the original "
        "sound, original phase kept) pushes the track toward a tag. It can make the track "
        "brighter, darker, bass-heavier or scooped; it cannot add instruments the track does "
        "not have. An independent judge model shows whether the change is heard beyond the "
        "model that dreamed."
    ),
    "intensify": (
        "Intensify (classic DeepDream): the same gain mask maximises what one layer or channel "
        "of the network responds to, a timbre intensifier. Genre tags barely move."
    ),
    "band": (
        "Band (toward a style): sampled drums, bass, harmony and lead (a General MIDI SoundFont) "
        "play the track's own beats and chords; the dream picks each part's pattern and shapes "
        "its level and EQ bar by bar at a band level you set, which it never raises. Exports the "
        "mix, stems and a MIDI file."
    ),
    "cover": (
        "Cover (toward a style): the track's own melody and bassline, transcribed, played by the "
        "style's band with its harmony and drums. The cover amount sets the band under the track "
        "(−6 dB), level (0) or in front (up to +18 dB, the original's drums taken out). Exports "
        "the mix, stems and MIDI."
    ),
    "waveform": (
        "Waveform (EXPERIMENTAL): adds a small signal through the network's front end. It "
        "fools the dreaming model (an adversarial example) without changing what people or "
        "other models hear. Shipped for study, not as a musical effect."
    ),
}

MIN_STRENGTH_DB, MAX_STRENGTH_DB = 3.0, 12.0
MAX_ITERATIONS = 500
MIN_BAND_LEVEL_DB, MAX_BAND_LEVEL_DB = -18.0, 0.0
#: A cover may put the band in front: up to 18 dB above the original (its drums taken out).
MAX_COVER_LEVEL_DB = 18.0
MAX_BAND_ORIGINAL_EQ_DB = 6.0
#: Longest region a band dream takes at once: its peak memory is ≈ 0.66 GB + 26 MB per second
#: of audio (every variant's spectra at 16 kHz, the chosen ones at full rate, the autograd
#: graph); measured 1.44 GB at 30 s, 1.83 GB at 45 s, 2.23 GB at 60 s. 45 s keeps it under
#: 2 GB; longer music is dreamed region by region.
MAX_BAND_REGION_S = 45.0
#: Longer regions are dreamed in windows of whole bars of about this length (core/band/windows.py).
BAND_WINDOW_S = 24.0
MIN_DREAM_DURATION_S = 1.0


@dataclass(frozen=True)
class Objective:
    """What the dream maximises.

    Attributes
    ----------
    kind
        'genre': ``toward`` logit minus the mean of the model's other genre logits (and minus
        ``away``); 'intensify': mean squared activation of ``layer`` (one ``channel`` or all).
    """

    kind: ObjectiveKind = "genre"
    toward: str | None = "electronic"
    away: str | None = None
    layer: str | None = None
    channel: int | str | None = None

    def describe(self) -> str:
        """One line for logs, take names and sidecars."""
        if self.kind == "intensify":
            channel = "" if self.channel is None else f":{self.channel}"
            return f"intensify {self.layer}{channel}"
        away = f", away from {self.away}" if self.away else ""
        return f"toward {self.toward}{away}"

    def validate(self) -> None:
        """Raise :class:`DreamError` if the objective is incomplete."""
        if self.kind == "genre":
            if not self.toward and not self.away:
                raise DreamError("a genre dream needs a target: --toward TAG and/or --away TAG")
            if self.toward and self.away and self.toward.lower() == self.away.lower():
                raise DreamError(f"cannot push toward and away from '{self.toward}' at once")
        elif self.kind == "intensify":
            if not self.layer:
                raise DreamError("intensify needs a layer (see 'deeptrance layers')")
        else:
            raise DreamError(f"unknown objective kind '{self.kind}'")


@dataclass(frozen=True)
class DreamSettings:
    """How to dream. Defaults are the ones measured in ``reference/dream-findings.md``."""

    mode: str = "mask"  # a registered mode (core.dream.modes)
    iterations: int = 20
    strength_db: float = 6.0
    n_bands: int = 32
    band_low_hz: float = 40.0
    band_high_hz: float = 7_600.0
    mask_step_s: float = 0.08
    learning_rate: float = 0.1
    random_roll: bool = True
    window_patches: int = 10
    chunk_patches: int = 2
    objective_ceiling: float = 8.0
    render_interval_s: float = 1.0
    judge_interval_s: float = 3.0
    ceiling_dbtp: float = -1.0
    band_level_db: float = -6.0
    band_part_range_db: float = 4.0
    band_eq_db: float = 6.0
    band_eq_bands: int = 8
    band_original_eq_db: float = 3.0  # measured: carving ±3 dB of room helps judges hear the band
    soundfont: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def validate(self) -> None:
        """Raise :class:`DreamError` for values out of range."""
        if not 0.0 <= self.band_original_eq_db <= MAX_BAND_ORIGINAL_EQ_DB:
            raise DreamError(
                f"EQ on the original (band mode) must be 0–{MAX_BAND_ORIGINAL_EQ_DB:g} dB, got {self.band_original_eq_db:g}"
            )
        top = MAX_COVER_LEVEL_DB if self.mode == "cover" else MAX_BAND_LEVEL_DB
        if not MIN_BAND_LEVEL_DB <= self.band_level_db <= top:
            hint = "" if self.mode == "cover" else "; to put the band in front, use the cover dream (--mode cover)"
            raise DreamError(
                f"band level must be {MIN_BAND_LEVEL_DB:g}…{top:g} dB relative to the track, "
                f"got {self.band_level_db:g}{hint}"
            )
        if not 1 <= self.iterations <= MAX_ITERATIONS:
            raise DreamError(f"iterations must be 1–{MAX_ITERATIONS}, got {self.iterations}")
        if self.mode == "mask" and not MIN_STRENGTH_DB <= self.strength_db <= MAX_STRENGTH_DB:
            raise DreamError(
                f"strength must be {MIN_STRENGTH_DB:g}–{MAX_STRENGTH_DB:g} dB, got {self.strength_db:g}"
            )
        if not 4 <= self.n_bands <= 128:
            raise DreamError(f"bands must be 4–128, got {self.n_bands}")
        if not 0.02 <= self.mask_step_s <= 2.0:
            raise DreamError(f"mask step must be 0.02–2 s, got {self.mask_step_s:g}")
        if not 1 <= self.window_patches <= 100 or not 1 <= self.chunk_patches <= 100:
            raise DreamError("window and chunk sizes must be 1–100 patches")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready parameters (sidecars)."""
        return asdict(self)
