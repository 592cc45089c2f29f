"""Keeping the song (core/band/keep_song.py): the cover's chroma similarity to its original, built
from its parts' chroma, agrees with the measure a cover is judged by, and its gradient turns the
dream toward the part that plays the song."""

from __future__ import annotations

import numpy as np
import torch

from deeptrance_gui.core.analysis.chroma import to_analysis_rate
from deeptrance_gui.core.analysis.identity import cover_similarity
from deeptrance_gui.core.band.keep_song import SongChroma
from deeptrance_gui.core.dsp import grid as mask_grid
from tests.core.test_transcribe import RATE, song

BANDS = 8


def band_weights(hz: np.ndarray) -> np.ndarray:
    return mask_grid.frequency_weights(hz, n_bands=BANDS, low_hz=60.0, high_hz=7_600.0)


def parts() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The song (with drums), the song without them (what the band plays over), another tune."""
    own, _ = song(3, bars=4)
    bare, _ = song(3, bars=4, drums=False)
    other, _ = song(11, bars=4, drums=False)
    return own.samples, bare.samples, np.roll(other.samples, RATE // 3, axis=1)  # off the grid too


def keeper(reference: np.ndarray, under: np.ndarray, variants: list[np.ndarray]) -> SongChroma:
    kept = SongChroma(reference, under, [len(variants)], sample_rate_hz=RATE, band_weights=band_weights)
    for v, audio in enumerate(variants):
        kept.add_variant(0, v, to_analysis_rate(audio, sample_rate_hz=RATE))
    return kept


def test_the_mix_similarity_is_the_measured_one() -> None:
    """Mixes of the song and another tune at several balances: the similarity built from the
    parts' chroma is within 0.03 of the identity measure on the mixed audio."""
    own, bare, other = parts()
    kept = keeper(own, 0.5 * bare, [other, bare])
    frames = kept.times_s.size
    built, measured = [], []
    for level_db in (-12.0, 0.0, 12.0):
        for variant in (0, 1):
            weights = torch.tensor([[1.0 - variant, float(variant)]])
            gain = torch.full((1, BANDS, frames), level_db)
            built.append(float(kept.similarity(weights, gain, None, torch.tensor(1.0))))
            mix = 0.5 * bare + 10 ** (level_db / 20) * (bare if variant else other)
            measured.append(cover_similarity(mix, own, sample_rate_hz=RATE))
    assert np.max(np.abs(np.subtract(built, measured))) <= 0.03, (built, measured)
    # The other tune louder, the song fainter: in both measures alike.
    assert built[0] > built[2] > built[4] and measured[0] > measured[2] > measured[4]
    assert min(measured) < 0.8 < max(measured)  # the mixes differ: a test that could fail


def test_its_gradient_prefers_the_part_that_plays_the_song() -> None:
    own, bare, other = parts()
    kept = keeper(own, 0.5 * bare, [other, bare])
    logits = torch.zeros(1, 2, requires_grad=True)
    level = torch.zeros(1, BANDS, 1, requires_grad=True)
    similarity = kept.similarity(
        torch.softmax(logits, dim=1), level.expand(1, BANDS, kept.times_s.size) + 6.0, None, torch.tensor(1.0)
    )
    similarity.backward()
    assert logits.grad is not None and logits.grad[0, 1] > 0 > logits.grad[0, 0]
    # With only the other tune on offer, the band is turned down to let the song through.
    only_other = keeper(own, 0.5 * bare, [other])
    level = torch.zeros(1, BANDS, 1, requires_grad=True)
    only_other.similarity(
        torch.ones(1, 1), level.expand(1, BANDS, only_other.times_s.size) + 6.0, None, torch.tensor(1.0)
    ).backward()
    assert level.grad is not None and float(level.grad.sum()) < 0
