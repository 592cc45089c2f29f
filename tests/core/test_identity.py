"""Is a cover the same song (core/analysis/identity.py): key-invariant chroma similarity finds a
transposed, re-voiced version of a song among others, and the melody's chroma follows the tune."""

from __future__ import annotations

import numpy as np

from deeptrance_gui.core.analysis import analyse
from deeptrance_gui.core.analysis.identity import (
    cover_similarity,
    fingerprint_similarity,
    identify,
    melody_presence,
)
from deeptrance_gui.core.analysis.transcribe import transcribe
from deeptrance_gui.core.audio.clip import AudioClip
from tests.core.test_transcribe import RATE, _tone, song


def revoiced(notes: dict[str, list[tuple[float, float, int]]], *, shift: int, length: int) -> AudioClip:
    """The same notes, transposed by ``shift`` semitones, played by other timbres (no drums)."""
    mix = np.zeros(length, np.float32)
    for line, harmonics, level in (("melody", 3, 0.3), ("bass", 2, 0.3)):
        for onset, offset, key in notes[line]:
            tone = _tone(key + shift, offset - onset, harmonics=harmonics, decay=0.5)
            a = int(onset * RATE)
            mix[a : a + tone.size] += level * tone[: length - a]
    return AudioClip(np.stack([mix, mix]), RATE)


def test_a_transposed_cover_is_nearest_to_its_own_song() -> None:
    originals = [song(seed, bars=6) for seed in (10, 11, 12, 13)]
    for index, (clip, notes) in enumerate(originals):
        cover = revoiced(notes, shift=3, length=clip.frames)
        similarities = identify(cover.samples, [(c.samples, c.sample_rate_hz) for c, _ in originals], sample_rate_hz=RATE)
        assert int(np.argmax(similarities)) == index, similarities
    clip, notes = originals[0]
    same = cover_similarity(clip.samples, revoiced(notes, shift=3, length=clip.frames).samples, sample_rate_hz=RATE)
    other = cover_similarity(clip.samples, originals[1][0].samples, sample_rate_hz=RATE)
    assert same > other + 0.1


def test_the_melody_is_heard_where_it_was() -> None:
    clip, notes = song(14, bars=6)
    melody = transcribe(clip.samples, sample_rate_hz=RATE, beat_times_s=analyse(clip).beat_times_s).melody
    kept = melody_presence(revoiced(notes, shift=0, length=clip.frames).samples, clip.samples, melody, sample_rate_hz=RATE)
    lost = melody_presence(song(15, bars=6)[0].samples, clip.samples, melody, sample_rate_hz=RATE)
    assert kept >= 0.8 > lost
    assert np.isnan(melody_presence(clip.samples, clip.samples, (), sample_rate_hz=RATE))


def _line(notes: list[tuple[float, float, int]], *, length: int, level: float) -> np.ndarray:
    mix = np.zeros(length, np.float32)
    for onset, offset, key in notes:
        tone = _tone(key, offset - onset, harmonics=3, decay=0.5)
        a = int(onset * RATE)
        mix[a : a + tone.size] += level * tone[: length - a]
    return mix


def test_the_melody_counts_only_when_it_is_the_line_in_front() -> None:
    """The tune played in front of another song's band (the original 8 dB under it) is heard; the
    original under another tune played in front of it (12 dB) is not, though every note of the
    tune is still in the mix."""
    clip, notes = song(14, bars=6)
    other, other_notes = song(15, bars=6)
    melody = transcribe(clip.samples, sample_rate_hz=RATE, beat_times_s=analyse(clip).beat_times_s).melody
    covered = _line(notes["melody"], length=clip.frames, level=0.3) + 0.5 * other.samples[0] + 0.4 * clip.samples[0]
    buried = _line(other_notes["melody"], length=clip.frames, level=0.3) + 0.25 * clip.samples[0]
    heard = melody_presence(np.stack([covered, covered]), clip.samples, melody, sample_rate_hz=RATE)
    lost = melody_presence(np.stack([buried, buried]), clip.samples, melody, sample_rate_hz=RATE)
    assert heard >= 0.8 > 0.5 > lost, (heard, lost)


def _chords(seed: int, *, blocks: int = 40) -> np.ndarray:
    """A fingerprint (12, blocks): three notes of C major per block, unit columns."""
    rng = np.random.default_rng(seed)
    blocks_ = np.full((12, blocks), 0.05)
    for t in range(blocks):
        blocks_[rng.choice([0, 2, 4, 5, 7, 9, 11], 3, replace=False), t] += 1.0
    return blocks_ / np.linalg.norm(blocks_, axis=0)


def test_a_band_that_tips_the_key_profile_does_not_hide_the_song() -> None:
    """Every block of the song, with a drone off its scale (C# and G#) added to each: the global
    profiles now match best a minor sixth away, and the song compared under that guessed
    rotation (0.46) scored below unrelated songs (0.45–0.48). The best of the 12 rotations
    still finds it (0.79): a metal cover of a real excerpt was lost this way (README)."""
    song_, others = _chords(1), [_chords(seed) for seed in (2, 3, 4)]
    drone = np.zeros(12)
    drone[[1, 8]] = 1.0 / np.sqrt(2.0)
    cover = song_ + 0.8 * drone[:, None]
    cover /= np.linalg.norm(cover, axis=0)
    own = fingerprint_similarity(song_, cover)
    assert own > 0.75 and own > max(fingerprint_similarity(o, cover) for o in others) + 0.2
    assert fingerprint_similarity(song_, np.roll(song_, 5, axis=0)) > 0.999  # in another key: the same song
