"""Keeping the tune in front (core/band/tune_front.py): the soft share of the original's melody
frames where the mix's line plays the tune follows what the melody tracker hears in the mixed
audio, and its gradient makes room for the tune."""

from __future__ import annotations

import numpy as np
import torch

from deeptrance_gui.core.analysis.chroma import to_analysis_rate
from deeptrance_gui.core.analysis.transcribe import TranscribedNote, melody_line
from deeptrance_gui.core.band.tune_front import TuneFront
from tests.core.test_keep_song import BANDS, band_weights
from tests.core.test_transcribe import RATE, song


def tunes() -> tuple[np.ndarray, np.ndarray, tuple[TranscribedNote, ...]]:
    """The song's tune alone (what the band plays over), another tune (off the grid), the song's
    melody notes."""
    own, notes = song(3, bars=4, drums=False, bass=False)
    other, _ = song(11, bars=4, drums=False, bass=False)
    melody = tuple(TranscribedNote(a, b - a, key, 1.0) for a, b, key in notes["melody"])
    return own.samples, np.roll(other.samples, RATE // 3, axis=1), melody


def hard_share(mix: np.ndarray, reference: np.ndarray, melody: tuple[TranscribedNote, ...]) -> float:
    """What the term stands for, on audio: the share of the melody's frames where the tracker
    hears the reference's pitch class in the mix."""
    heard, hop_s = melody_line(mix, sample_rate_hz=RATE)
    wanted, _ = melody_line(reference, sample_rate_hz=RATE)
    same = []
    for note in melody:
        for f in range(int(note.start_s / hop_s), min(heard.size, int((note.start_s + note.duration_s) / hop_s))):
            if not np.isnan(wanted[f]):
                same.append(not np.isnan(heard[f]) and round(heard[f]) % 12 == round(wanted[f]) % 12)
    return float(np.mean(same))


def front(
    under: np.ndarray, reference: np.ndarray, melody: tuple[TranscribedNote, ...], variants: list[np.ndarray]
) -> TuneFront:
    term = TuneFront(reference, under, melody, [len(variants)], sample_rate_hz=RATE, band_weights=band_weights)
    for v, audio in enumerate(variants):
        term.add_variant(0, v, to_analysis_rate(audio, sample_rate_hz=RATE))
    return term


def test_the_soft_share_follows_the_tracker() -> None:
    """The song's tune under another tune at rising levels: the soft share falls as the tracker's
    share does, and stays within 0.15 of it while both tunes are voiced (far under a louder
    line, the tracker calls the quiet tune's frames unvoiced where the term still hears it)."""
    own, other, melody = tunes()
    term = front(own, own, melody, [other])
    built, measured = [], []
    for level_db in (-12.0, -3.0, 0.0, 3.0, 12.0):
        gain = torch.full((1, BANDS, term.times_s.size), level_db)
        built.append(float(term.in_front(torch.ones(1, 1), gain, None, torch.tensor(1.0))))
        measured.append(hard_share(own + 10 ** (level_db / 20) * other, own, melody))
    assert np.all(np.diff(built) < 0) and built[0] > 0.9 and built[-1] < 0.5, built
    assert measured[0] > 0.9 > 0.5 > measured[2], measured  # the mixes differ: a test that could fail
    assert np.max(np.abs(np.subtract(built, measured))[:4]) <= 0.15, (built, measured)


def test_its_gradient_makes_room_for_the_tune() -> None:
    own, other, melody = tunes()
    # Another tune level with the song's: the band is turned down where it covers the tune.
    term = front(own, own, melody, [other])
    level = torch.zeros(1, BANDS, 1, requires_grad=True)
    term.in_front(torch.ones(1, 1), level.expand(1, BANDS, term.times_s.size), None, torch.tensor(1.0)).backward()
    assert level.grad is not None and float(level.grad.sum()) < 0
    # Offered the other tune or the song's own, the dream is pushed toward the song's.
    term = front(own, own, melody, [other, own])
    logits = torch.zeros(1, 2, requires_grad=True)
    gain = torch.zeros(1, BANDS, term.times_s.size)
    term.in_front(torch.softmax(logits, dim=1), gain, None, torch.tensor(1.0)).backward()
    assert logits.grad is not None and logits.grad[0, 1] > 0 > logits.grad[0, 0]


def test_a_region_without_the_melody_reads_nothing() -> None:
    """A window where no melody note plays (a bridge of a long track) has no frame to read; the
    band dream then leaves the term out (``BandPlayAlong``)."""
    own, other, melody = tunes()
    late = tuple(TranscribedNote(n.start_s + 60.0, n.duration_s, n.key, n.salience) for n in melody)
    term = front(own, own, late, [other])
    assert term.frames.size == 0 and term.times_s.size == 0
    assert float(term.in_front(torch.ones(1, 1), torch.zeros(1, BANDS, 0), None, torch.tensor(1.0))) == 0.0
    assert front(own, own, melody, [other]).frames.size > 100
