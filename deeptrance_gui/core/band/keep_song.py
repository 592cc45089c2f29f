"""Keeping the song: how near a band-over-track mix stays to the original's chroma, differentiable
in the band dream's parameters, so that a cover can be asked to stay the same song while it is
pushed toward a style.

The measure is the one the cover is judged by (:func:`~deeptrance_gui.core.analysis.identity.fingerprint`:
chroma 55 Hz–2 kHz, each frame scaled to its loudest pitch class, 0.5-s block averages scaled
to unit length; the cover keeps the key, so no transposition), with the mix's chroma built from
its parts' chroma: every part variant and the original are folded once, per EQ band of the band
dream, into pitch-class power per frame, and the mix's chroma per frame is their sum under the
dream's levels, EQ, variant weights and band scale (powers add: parts that do not share a
partial, which within a 23-ms frame and a 5-Hz bin is close enough for 0.5-s blocks).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt
import torch

from deeptrance_gui.core.analysis.chroma import (
    ANALYSIS_RATE_HZ,
    CHROMA_HOP,
    CHROMA_N_FFT,
    fold_matrix,
    to_analysis_rate,
)
from deeptrance_gui.core.analysis.identity import BLOCK_S, fingerprint
from deeptrance_gui.core.audio.clip import FloatArray
from deeptrance_gui.core.dsp.stft import bin_frequencies_hz, stft

#: Loudest pitch class of a frame, relative to the loudest frame, below which the frame is left
#: out (as :func:`~deeptrance_gui.core.analysis.chroma.chroma` leaves out silent frames).
_QUIET = 1e-3


def mixed(
    parts: torch.Tensor,
    under: torch.Tensor,
    variant_weights: torch.Tensor,
    part_gain_db: torch.Tensor,
    under_gain_db: torch.Tensor | None,
    band_scale: torch.Tensor,
    *,
    db: float,
) -> torch.Tensor:
    """A per-band feature of the mix (chroma power, harmonic sums) from its parts' and what
    they play over, under the band dream's parameters.

    Parameters
    ----------
    parts
        (parts, variants, bands, frames, features): each part variant's feature per EQ band.
    under
        (bands, frames, features): the same of what the band plays over.
    variant_weights
        (parts, variants), the dream's (soft) choice.
    part_gain_db
        (parts, bands, frames) each part's level and EQ at the features' frames.
    under_gain_db
        (bands, frames) the EQ on what the band plays over, or None.
    band_scale
        Scalar: the band's scale against the track, in the feature's unit.
    db
        dB per decade of the feature: 10 for a power, 20 for an amplitude.

    Returns
    -------
    torch.Tensor
        (frames, features).
    """
    gains = torch.pow(10.0, part_gain_db / db)  # (P, B, T)
    band = torch.einsum("pv,pbt,pvbtk->tk", variant_weights, gains, parts)
    heard = under if under_gain_db is None else under * torch.pow(10.0, under_gain_db / db)[..., None]
    return heard.sum(dim=0) + band_scale * band


class SongChroma:
    """The mix's :func:`~deeptrance_gui.core.analysis.identity.fingerprint` similarity to the
    original, as a function of the band dream's parameters (see the module docstring)."""

    def __init__(
        self,
        reference: FloatArray,
        under: FloatArray,
        n_variants: list[int],
        *,
        sample_rate_hz: int,
        band_weights: Callable[[npt.NDArray[np.float64]], npt.NDArray[np.float32]],
    ) -> None:
        """``reference``: the original region (channels, frames), what the cover is compared
        with; ``under``: what the band plays over; ``n_variants``: each part's number of
        variants (each added with :meth:`add_variant`); ``band_weights(frequencies_hz)``:
        (bins, bands) of the dream's EQ bands."""
        target = fingerprint(reference, sample_rate_hz)  # (12, blocks)
        fold = fold_matrix(CHROMA_N_FFT, ANALYSIS_RATE_HZ)  # (12, bins)
        weights = band_weights(bin_frequencies_hz(n_fft=CHROMA_N_FFT, sample_rate_hz=ANALYSIS_RATE_HZ))  # (bins, B)
        self.folds = torch.from_numpy(np.einsum("kf,fb->bkf", fold, weights)).to(torch.float32)  # (B, 12, bins)
        self.under = self._per_band(to_analysis_rate(under, sample_rate_hz=sample_rate_hz))
        frames = self.under.shape[1]
        self.parts = torch.zeros((len(n_variants), max(n_variants), *self.under.shape))
        hop_s = CHROMA_HOP / ANALYSIS_RATE_HZ
        self.times_s: npt.NDArray[np.float64] = np.arange(frames, dtype=np.float64) * hop_s
        self.per_block = max(1, round(BLOCK_S / hop_s))
        self.n_blocks = min(target.shape[1], frames // self.per_block)
        self.target = torch.from_numpy(target[:, : self.n_blocks]).to(torch.float32)

    def _per_band(self, mono: FloatArray) -> torch.Tensor:
        """Pitch-class power of ``mono`` (analysis rate, (1, frames)) per EQ band and frame,
        (bands, frames, 12)."""
        power = torch.from_numpy(np.abs(stft(mono, n_fft=CHROMA_N_FFT, hop=CHROMA_HOP)[0]) ** 2).to(torch.float32)
        return torch.einsum("bkf,ft->btk", self.folds, power)

    def add_variant(self, part: int, variant: int, mono: FloatArray) -> None:
        """Part ``part``'s variant ``variant`` as rendered at the style's balance, in mono at the
        analysis rate (:func:`~deeptrance_gui.core.analysis.chroma.to_analysis_rate`, shared
        with :class:`~deeptrance_gui.core.band.tune_front.TuneFront`), (1, frames)."""
        chroma = self._per_band(mono)
        frames = min(self.parts.shape[3], chroma.shape[1])
        self.parts[part, variant, :, :frames] = chroma[:, :frames]

    def similarity(
        self,
        variant_weights: torch.Tensor,
        part_gain_db: torch.Tensor,
        under_gain_db: torch.Tensor | None,
        band_power_scale: torch.Tensor,
    ) -> torch.Tensor:
        """Mean block similarity (0–1) of the mix to the original.

        Parameters
        ----------
        variant_weights
            (parts, variants), the dream's (soft) choice.
        part_gain_db
            (parts, bands, frames) each part's level and EQ at :attr:`times_s`.
        under_gain_db
            (bands, frames) the EQ on what the band plays over, or None.
        band_power_scale
            Scalar: the power the band is scaled by against the track.
        """
        if self.n_blocks == 0:
            return torch.zeros(())
        mix = mixed(self.parts, self.under, variant_weights, part_gain_db, under_gain_db, band_power_scale, db=10.0)
        peak = mix.amax(dim=1, keepdim=True)
        loud = (peak > _QUIET * peak.max()).to(mix.dtype)
        scaled = mix / peak.clamp_min(1e-20) * loud
        used = self.n_blocks * self.per_block
        blocks = scaled[:used].reshape(self.n_blocks, self.per_block, 12).mean(dim=1).T  # (12, blocks)
        unit = blocks / blocks.norm(dim=0, keepdim=True).clamp_min(1e-12)
        similarity: torch.Tensor = (unit * self.target).sum(dim=0).mean()
        return similarity
