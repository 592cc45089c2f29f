"""A chord per beat: chroma averaged over each beat, matched to major/minor triad templates,
smoothed by Viterbi decoding (changing chord costs a little), "no chord" where nothing fits."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from deeptrance_gui.core.analysis.chroma import PITCH_CLASSES

Float64 = npt.NDArray[np.float64]

#: Correlation with the best template under which a beat has no chord.
MIN_CHORD_FIT = 0.45
#: Log-score cost of changing chord from one beat to the next (keeps chords from flickering).
CHANGE_COST = 0.08


@dataclass(frozen=True)
class Chord:
    """Root pitch class (0 = C … 11 = B; None = no chord) and quality."""

    root: int | None
    minor: bool = False

    @property
    def name(self) -> str:
        """'C', 'Am', 'N' (no chord)."""
        if self.root is None:
            return "N"
        return PITCH_CLASSES[self.root] + ("m" if self.minor else "")

    @property
    def pitch_classes(self) -> tuple[int, ...]:
        """Root, third, fifth (empty for no chord)."""
        if self.root is None:
            return ()
        return (self.root, (self.root + (3 if self.minor else 4)) % 12, (self.root + 7) % 12)


def _templates() -> tuple[Float64, list[Chord]]:
    chords = [Chord(root, minor) for minor in (False, True) for root in range(12)]
    matrix = np.zeros((len(chords), 12))
    for i, chord in enumerate(chords):
        for weight, pc in zip((1.0, 0.8, 0.9), chord.pitch_classes, strict=True):
            matrix[i, pc] = weight
    matrix -= matrix.mean(axis=1, keepdims=True)  # correlation, not cosine: flat chroma fits nothing
    return matrix / np.linalg.norm(matrix, axis=1, keepdims=True), chords


def chords_per_beat(chroma: Float64, hop_s: float, beat_times_s: Float64, *, end_s: float) -> list[Chord]:
    """One chord per beat (the span from the beat to the next; the last to ``end_s``).

    Parameters
    ----------
    chroma
        shape (12, n_frames), frame k centred at k · hop_s.
    """
    templates, chords = _templates()
    edges = np.append(beat_times_s, max(end_s, beat_times_s[-1] + 1e-3))
    n_frames = chroma.shape[1]
    fits = np.zeros((beat_times_s.size, len(chords)))
    for b in range(beat_times_s.size):
        a = int(np.clip(np.floor(edges[b] / hop_s), 0, n_frames - 1))
        z = int(np.clip(np.ceil(edges[b + 1] / hop_s), a + 1, n_frames))
        vector = chroma[:, a:z].mean(axis=1)
        vector = vector - vector.mean()
        norm = float(np.linalg.norm(vector))
        fits[b] = templates @ vector / norm if norm > 1e-9 else 0.0
    path = _viterbi(fits)
    return [chords[k] if fits[b, k] >= MIN_CHORD_FIT else Chord(None) for b, k in enumerate(path)]


def _viterbi(fits: Float64) -> list[int]:
    n, k = fits.shape
    score = fits[0].copy()
    back = np.zeros((n, k), dtype=np.int64)
    for t in range(1, n):
        stay = score
        best_other = int(np.argmax(score))
        move = score[best_other] - CHANGE_COST
        choose_move = move > stay
        back[t] = np.where(choose_move, best_other, np.arange(k))
        score = np.where(choose_move, move, stay) + fits[t]
    path = [int(np.argmax(score))]
    for t in range(n - 1, 0, -1):
        path.append(int(back[t, path[-1]]))
    return path[::-1]


def harmonic_change(chords: list[Chord]) -> Float64:
    """1 at beats where the chord differs from the previous beat's, else 0; shape (n_beats,)."""
    change = np.zeros(len(chords))
    for i in range(1, len(chords)):
        change[i] = float(chords[i] != chords[i - 1] and chords[i].root is not None)
    return change
