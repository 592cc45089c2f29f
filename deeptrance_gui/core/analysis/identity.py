"""Is a cover still the same song? Two measures, both on chroma (pitch-class energy).

* :func:`cover_similarity`: key-invariant chroma similarity, as cover-song identification
  measures it: the two sequences are compared block by block (0.5-s averages, so a groove
  played differently does not count against the notes) with the second rotated by each of the
  12 transpositions, and the best is kept (a cover may change key; Ellis & Poliner 2007 keep
  the best of the 12 rotations as well). A dream keeps the track's timeline, so no alignment
  search is needed. :func:`identify` ranks a set of originals by it: the cover should be
  nearest to its own.

  The rotation used to be the one that best matches the two *global* pitch-class profiles
  (Serrà et al. 2008's "optimal transposition index", one guess instead of 12 comparisons).
  A cover's band can tip that guess: a metal cover of Hedgewars "Golf" scored 0.94 in its own
  key but 0.58 under the guessed rotation (a major sixth away: the two keys share most pitch
  classes) and was counted as another song. Every candidate, its own original and the others
  alike, now gets its best rotation.
* :func:`melody_presence`: the correlation of the *melody's* chroma (the pitch class of the
  line heard in front in the melody's range) in the cover and in the original at the
  transcribed melody's notes: whether the tune is still the line that is heard where it was.
  (The chroma of the whole mix at those notes, measured first, mostly measures the harmony:
  it fell as the band's chords replaced the original's even where the lead played every note.)
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from deeptrance_gui.core.analysis.chroma import chroma
from deeptrance_gui.core.analysis.transcribe import TranscribedNote, melody_line
from deeptrance_gui.core.audio.clip import FloatArray

BLOCK_S = 0.5

Float64 = npt.NDArray[np.float64]


def fingerprint(samples: FloatArray, sample_rate_hz: int) -> Float64:
    """Chroma averaged in :data:`BLOCK_S` blocks, each column scaled to unit length, (12, blocks):
    what :func:`fingerprint_similarity` compares (small: keep it instead of the audio)."""
    frames, hop_s = chroma(samples, sample_rate_hz=sample_rate_hz)
    per_block = max(1, round(BLOCK_S / hop_s))
    n = frames.shape[1] // per_block
    if n == 0:
        blocks = frames.mean(axis=1, keepdims=True)
    else:
        blocks = frames[:, : n * per_block].reshape(12, n, per_block).mean(axis=2)
    norms = np.linalg.norm(blocks, axis=0, keepdims=True)
    scaled: Float64 = blocks / np.maximum(norms, 1e-12)
    return scaled


def fingerprint_similarity(a: Float64, b: Float64) -> float:
    """Key-invariant similarity of two :func:`fingerprint` s (see the module docstring): the
    mean blockwise cosine under the best of the 12 transpositions."""
    n = min(a.shape[1], b.shape[1])
    a, b = a[:, :n], b[:, :n]
    return max(float(np.sum(a * np.roll(b, k, axis=0))) for k in range(12)) / float(max(n, 1))


def cover_similarity(a: FloatArray, b: FloatArray, *, sample_rate_hz: int) -> float:
    """Key-invariant chroma similarity of ``a`` and ``b`` (channels, frames), 0–1 (1: the same
    notes in the same places, in any key)."""
    return fingerprint_similarity(fingerprint(a, sample_rate_hz), fingerprint(b, sample_rate_hz))


def identify(
    cover: FloatArray, originals: Sequence[tuple[FloatArray, int]], *, sample_rate_hz: int
) -> list[float]:
    """:func:`cover_similarity` of ``cover`` to each of ``originals`` ((samples, rate) each); the
    cover is identified when the largest is its own original's."""
    blocks = fingerprint(cover, sample_rate_hz)
    return [fingerprint_similarity(blocks, fingerprint(o, rate)) for o, rate in originals]


def melody_chroma(samples: FloatArray, *, sample_rate_hz: int) -> tuple[Float64, float]:
    """The chroma of the line heard in front in the melody's range: per frame, the pitch class
    of :func:`~deeptrance_gui.core.analysis.transcribe.melody_line`, one-hot, zero where none
    sounds; shape (12, frames), and the seconds between frames."""
    keys, hop_s = melody_line(samples, sample_rate_hz=sample_rate_hz)
    voiced = ~np.isnan(keys)
    classes = np.round(np.where(voiced, keys, 0.0)).astype(np.int64) % 12
    out = np.zeros((12, keys.size))
    out[classes[voiced], np.flatnonzero(voiced)] = 1.0
    return out, hop_s


def melody_presence(
    cover: FloatArray, original: FloatArray, melody: Sequence[TranscribedNote], *, sample_rate_hz: int
) -> float:
    """Pearson correlation of the melody's chroma (:func:`melody_chroma`) in ``cover`` and in
    ``original`` over the spans of the ``melody`` notes (12 values per note, concatenated): 1
    when the line in front of the cover plays the original's pitch classes where the original's
    melody plays (in any octave), near 0 when another line stands out; nan without notes."""
    if not melody:
        return float("nan")
    ca, hop_s = melody_chroma(cover, sample_rate_hz=sample_rate_hz)
    cb, _ = melody_chroma(original, sample_rate_hz=sample_rate_hz)
    n = min(ca.shape[1], cb.shape[1])
    columns_a, columns_b = [], []
    for note in melody:
        a = min(n - 1, int(note.start_s / hop_s))
        b = max(a + 1, min(n, int((note.start_s + note.duration_s) / hop_s)))
        columns_a.append(ca[:, a:b].mean(axis=1))
        columns_b.append(cb[:, a:b].mean(axis=1))
    x, y = np.concatenate(columns_a), np.concatenate(columns_b)
    if np.std(x) < 1e-12 or np.std(y) < 1e-12:
        return float("nan")
    return float(np.corrcoef(x, y)[0, 1])
