"""What the user chose for the next dream, as the window's dream panel (and the settings)
hold it, and the one rule that turns it into a :class:`DreamRequest`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from deeptrance_gui.core.dream.settings import DreamSettings, Objective
from deeptrance_gui.core.dream.takes import DreamRequest

#: The judge choice meaning "both models of the other dataset".
PANEL = "panel"
#: No judge, no away tag.
NONE = "—"

#: The choices of the Mode menu: (key, label, the engine's mode it dreams in).
MODE_CHOICES = (
    ("genre", "Genre dream", "mask"),
    ("band", "Band (a sampled band plays along)", "band"),
    ("cover", "Cover (the song, played by another band)", "cover"),
    ("intensify", "Intensify (classic DeepDream)", "mask"),
    ("waveform", "Waveform (experimental)", "waveform"),
)


#: The controls each Mode menu choice reads (the panel enables exactly these).
_CONTROLS = {
    "genre": ("toward", "away", "strength"),
    "band": ("toward", "band_level"),
    "cover": ("toward", "band_level"),
    "intensify": ("layer", "channel", "strength"),
    "waveform": ("toward", "away"),
}


def enabled_controls(choice: str) -> tuple[str, ...]:
    """The dream panel's controls that ``choice`` reads (``toward``, ``away``, ``layer``,
    ``channel``, ``strength``, ``band_level``); the others are greyed out."""
    return _CONTROLS.get(choice, _CONTROLS["genre"])


def level_control(choice: str) -> tuple[str, float, float] | None:
    """What the panel's level control edits for ``choice``: the field of :class:`DreamChoices`
    and its range in dB (the band under the track, or a cover's band over it); None: none."""
    from deeptrance_gui.core.dream.settings import MAX_BAND_LEVEL_DB, MAX_COVER_LEVEL_DB, MIN_BAND_LEVEL_DB

    if choice == "band":
        return "band_level_db", MIN_BAND_LEVEL_DB, MAX_BAND_LEVEL_DB
    if choice == "cover":
        return "cover_amount_db", MIN_BAND_LEVEL_DB, MAX_COVER_LEVEL_DB
    return None


def engine_mode(choice: str) -> str:
    """The engine's mode (:mod:`deeptrance_gui.core.dream.modes`) a Mode menu choice dreams in."""
    return next((mode for key, _, mode in MODE_CHOICES if key == choice), "mask")


@dataclass
class DreamChoices:
    """What the dream panel shows and the settings remember."""

    mode: str = "genre"
    dreamer: str = "msd-musicnn"
    judge: str = PANEL  # the judge panel of the other dataset; or one model name; or "—"
    toward: str = "electronic"
    away: str = ""
    layer: str = "midend.2"
    channel: int = -1
    iterations: int = 20
    strength_db: float = 6.0
    seed: int = 0
    band_level_db: float = -6.0
    cover_amount_db: float = 6.0  # the cover's band over the original (its drums out above 0; measured: README)
    soundfont: str = ""  # "" = the shipped GM subset

    def request(
        self,
        *,
        region: tuple[float, float] | None,
        start_s: float | None,
        judge_panel: Callable[[str], tuple[str, ...]],
    ) -> DreamRequest:
        """The dream these choices describe; ``judge_panel(dreamer)`` names the panel."""
        if self.mode == "intensify":
            objective = Objective(
                kind="intensify", toward=None, layer=self.layer, channel=None if self.channel < 0 else self.channel
            )
        else:
            objective = Objective(kind="genre", toward=self.toward or None, away=self.away or None)
        settings = DreamSettings(
            mode=engine_mode(self.mode),
            iterations=self.iterations,
            strength_db=self.strength_db,
            learning_rate=0.05 if self.mode == "waveform" else 0.1,
            band_level_db=self.cover_amount_db if self.mode == "cover" else self.band_level_db,
            soundfont=self.soundfont or None,
        )
        if self.judge == PANEL:
            judges = judge_panel(self.dreamer)
        elif self.judge in ("", NONE):
            judges = ()
        else:
            judges = (self.judge,)
        return DreamRequest(
            dreamers=(self.dreamer,), judges=judges, objective=objective, settings=settings,
            region=region, start_s=start_s, seed=self.seed,
        )  # fmt: skip
