"""What a band dream leaves behind (numpy only, so the window can hold it without torch):
the arrangement, what the dream chose and shaped, the stems, and the mix of any parts."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from deeptrance_gui.core.audio.clip import FloatArray

if TYPE_CHECKING:  # analysis and arrangement pull in the decoders: keep them off the start-up path
    from deeptrance_gui.core.analysis import MusicalAnalysis
    from deeptrance_gui.core.band.arrange import Arrangement, PartVariant

ORIGINAL = "original"


@dataclass(frozen=True)
class BandTake:
    """A band as dreamed.

    Attributes
    ----------
    arrangement
        Parts and their variants (MIDI notes, times from the region's start).
    chosen
        Index of the variant each part plays (the winner of the soft choice).
    variant_weights
        float32, shape (parts, max variants): the dream's final preference (softmax).
    levels_db
        float32, shape (parts, bars): each part's dreamed level per bar, dB relative to the
        arrangement's own balance (before the band-level scale).
    band_scale_db
        The gain that puts the band at ``band_level_db`` relative to the track (BS.1770).
    band_level_db
        The user's band level (the dream may not raise it).
    stems
        Per part, float32, shape (channels, frames) at the source rate: exactly what is in the
        mix (levels, EQ and band scale applied).
    original
        The region's original audio as it goes into the mix (EQ off: unchanged).
    analysis
        Tempo, beats, bars and chords the band follows.
    soundfont_sha256
        Identity of the SoundFont that voiced it.
    """

    arrangement: Arrangement
    chosen: tuple[int, ...]
    variant_weights: npt.NDArray[np.float32]
    levels_db: npt.NDArray[np.float32]
    band_scale_db: float
    band_level_db: float
    stems: tuple[FloatArray, ...] | None
    original: FloatArray | None
    analysis: MusicalAnalysis
    soundfont_sha256: str

    @property
    def part_names(self) -> tuple[str, ...]:
        """Role of each part (drums, bass, harmony, lead)."""
        return tuple(p.role for p in self.arrangement.parts)

    def chosen_variants(self) -> tuple[PartVariant, ...]:
        """The variant each part plays."""
        return tuple(p.variants[i] for p, i in zip(self.arrangement.parts, self.chosen, strict=True))


def band_mix(
    take: BandTake,
    *,
    sample_rate_hz: int,
    muted: Collection[str] = (),
    soloed: Collection[str] = (),
    ceiling_dbtp: float = -1.0,
) -> FloatArray:
    """The region with the parts that are heard: every part unless muted, or only the soloed
    ones (``"original"`` names the track itself), loudness-matched to the original and limited
    to ``ceiling_dbtp``. Auditioning mute/solo needs no new dream.

    Returns
    -------
    numpy.ndarray
        float32, shape (channels, frames) of the region.
    """
    from deeptrance_gui.core.dsp.limiter import match_and_limit  # off the window's start-up path
    from deeptrance_gui.core.dsp.loudness import integrated_loudness_lufs

    if take.stems is None or take.original is None:
        raise ValueError("this band step carries no stems (only the final step does)")
    heard = set(soloed) if soloed else {*take.part_names, ORIGINAL} - set(muted)
    mix = np.zeros_like(take.original)
    if ORIGINAL in heard:
        mix += take.original
    for name, stem in zip(take.part_names, take.stems, strict=True):
        if name in heard:
            mix += stem
    reference = integrated_loudness_lufs(take.original, sample_rate_hz=sample_rate_hz)
    return match_and_limit(mix, reference_lufs=reference, sample_rate_hz=sample_rate_hz, ceiling_dbtp=ceiling_dbtp)
