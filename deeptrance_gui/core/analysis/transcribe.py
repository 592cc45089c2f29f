"""The track's main melody and its bassline as notes on the analysed beats (the cover dream's
first step: another band plays *these* notes).

Method: a DSP pitch tracker, not a network. Per STFT frame, a harmonic-sum salience (Salamon &
Gómez 2012, simplified: 8 harmonics weighted 0.8^(h−1), on a third-of-a-semitone grid) is read
in two ranges: the bass (E1–E3, whitened magnitude from a long window for low-note resolution,
voiced only where it sounds partials a line above it would not explain) and the melody (G3–C6,
plain magnitude so the loudest line wins, with the bass's harmonics removed so the bass is not
heard as a tune). Notes are then laid on the beat grid: a slot (eighths, triplets or
sixteenths, whichever fits the tune; a beat for the bass) is a note when most of its frames
are voiced, its pitch the median of those frames; equal pitches in a row become one note unless
the pitch's energy starts again. Beside the grid, the melody as played (:func:`_phrased`): the
line cut where it changes semitone, off the grid where it is. Why not a network: no
maintained melody-transcription model ships weights in a package we can install (basic-pitch's
wheel is TensorFlow/ONNX/CoreML only and polyphonic; CREPE and SPICE are monophonic and would
need the melody separated first); a salience tracker on the project's own STFT is small,
deterministic and measured in ``tests/core/test_transcribe.py`` (mir_eval, generated notes).
numpy only (see :mod:`.chroma` for why not librosa).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from deeptrance_gui.core.analysis.chroma import ANALYSIS_RATE_HZ, to_analysis_rate
from deeptrance_gui.core.audio.clip import FloatArray
from deeptrance_gui.core.dsp.stft import stft

MELODY_KEYS = (55, 84)  # G3–C6: a voice or a lead line
BASS_KEYS = (28, 52)  # E1–E3
STEPS_PER_SEMITONE = 3
HARMONICS = 8  # the melody's harmonic sum
BASS_HARMONICS = 4  # the bass's (its whitened spectrum is read up to E3's fourth)
HARMONIC_WEIGHT = 0.8
MELODY_N_FFT, BASS_N_FFT = 2048, 8192
HOP = 256  # 11.6 ms at 22.05 kHz
#: A frame is voiced when its best salience is at least this share of the track's loud frames'.
VOICED_SHARE = 0.35
#: Slots per beat the melody's notes may sit on (eighths, triplet eighths, sixteenths), first
#: the default: :func:`_subdivision` picks one per clip.
MELODY_SUBDIVISIONS = (2, 3, 4)
GRID_TOLERANCE_S = 0.035
#: The bass is voiced only where it sounds partials of its own, each test at least this share
#: of the partials a line above it would explain: :func:`_own_partials`.
BASS_OWN_PARTIALS_SHARE = 0.1
#: The bass harmonics notched out of the melody's spectrum (:func:`_bass_notch`).
BASS_NOTCH_HARMONICS = 4
#: A slot is a note when at least this share of its frames is voiced.
SLOT_VOICED = 0.5
#: The same pitch in the next slot is a new note when its energy rises by this factor.
REATTACK_RATIO = 1.6
#: The melody as played (:func:`_phrased`): the line's semitones median-smoothed over this many
#: frames (58 ms: a frame's flicker is no note), and notes shorter than this dropped.
PHRASED_SMOOTH_FRAMES = 5
PHRASED_MIN_S = 0.05

Float64 = npt.NDArray[np.float64]


@dataclass(frozen=True)
class TranscribedNote:
    """One note: onset and length in seconds from the clip's start, MIDI key, and salience
    (0–1: how clearly it stands out)."""

    start_s: float
    duration_s: float
    key: int
    salience: float


@dataclass(frozen=True)
class Transcription:
    """The melody and the bassline of a clip.

    Attributes
    ----------
    melody, bass
        Notes in time order (no overlaps within a line), on the beat grid.
    voiced_share
        Share of the melody's slots that hold a note: low for a drum solo or noise.
    phrased
        The melody as played: where the line changes semitone, not on the grid
        (:func:`_phrased`), in time order, no overlaps.
    """

    melody: tuple[TranscribedNote, ...]
    bass: tuple[TranscribedNote, ...]
    voiced_share: float
    phrased: tuple[TranscribedNote, ...]

    def window(self, start_s: float, end_s: float) -> Transcription:
        """The notes that start in [``start_s``, ``end_s``), times from ``start_s``, cut at its end."""

        def cut(notes: tuple[TranscribedNote, ...]) -> tuple[TranscribedNote, ...]:
            return tuple(
                TranscribedNote(n.start_s - start_s, min(n.duration_s, end_s - n.start_s), n.key, n.salience)
                for n in notes
                if start_s <= n.start_s < end_s
            )

        return Transcription(cut(self.melody), cut(self.bass), self.voiced_share, cut(self.phrased))


def key_to_hz(keys: Float64) -> Float64:
    """MIDI keys (fractional), any shape, in Hz (A4 = key 69 = 440 Hz)."""
    hz: Float64 = 440.0 * 2.0 ** ((keys - 69.0) / 12.0)
    return hz


def _at_harmonic(magnitude: Float64, pitch: Float64, harmonic: int, *, n_fft: int, spread: int = 0) -> Float64:
    """Per frame, ``magnitude`` (bins, frames) at the ``harmonic`` of the tracked ``pitch``
    (MIDI, one per frame): the nearest bin, or the peak within ±``spread`` bins of it."""
    centre = np.round(harmonic * key_to_hz(pitch) / (ANALYSIS_RATE_HZ / n_fft)).astype(np.int64)
    frames = np.arange(pitch.size)
    top = magnitude.shape[0] - 1
    around: Float64 = np.max(
        [magnitude[np.clip(centre + d, 0, top), frames] for d in range(-spread, spread + 1)], axis=0
    )
    return around


def _whitened(magnitude: Float64, n_fft: int, *, top_hz: float) -> Float64:
    """``magnitude`` (bins, frames), an |STFT| of ``n_fft`` points, divided by its smoothed
    spectral envelope (so timbre weighs less than pitch), up to the first bin at or above
    ``top_hz``: shape (bins up to there, frames).

    Only those bins are whitened (the envelope there is the same as over the whole spectrum:
    the rows the smoothing reaches are kept): the bass reads four harmonics of E3 out of 4097
    bins, and whitening all of them was most of a transcription's time."""
    from scipy.ndimage import uniform_filter1d

    size = max(3, n_fft // 256)
    rows = min(magnitude.shape[0], int(np.ceil(top_hz / (ANALYSIS_RATE_HZ / n_fft))) + 2)
    reach = magnitude[: min(magnitude.shape[0], rows + size)]
    envelope = uniform_filter1d(reach, size=size, axis=0, mode="constant")[:rows]
    whitened: Float64 = magnitude[:rows] / (envelope + 1e-3 * float(magnitude.max(initial=1e-12)) + 1e-12)
    return whitened


def harmonic_sum(
    *, n_fft: int, keys: tuple[int, int], harmonics: int, n_bins: int | None = None
) -> tuple[Float64, Float64]:
    """The harmonic sum as a matrix: salience = matrix @ magnitude spectrum.

    Returns
    -------
    matrix, grid
        Shape (pitches, ``n_bins``, by default n_fft // 2 + 1; partials above the last bin
        read the last bin): each pitch's first ``harmonics`` partials (weights
        :data:`HARMONIC_WEIGHT` ** (h − 1), linearly interpolated between bins, at the
        analysis rate); and the pitch grid in MIDI keys, :data:`STEPS_PER_SEMITONE` per
        semitone over ``keys``.
    """
    grid = np.arange(keys[0] - 0.5, keys[1] + 0.5, 1.0 / STEPS_PER_SEMITONE)
    f0 = key_to_hz(grid)
    bin_hz = ANALYSIS_RATE_HZ / n_fft
    top = (n_fft // 2 + 1 if n_bins is None else n_bins) - 1
    matrix = np.zeros((grid.size, top + 1))
    rows = np.arange(grid.size)
    for h in range(1, harmonics + 1):
        position = np.minimum(h * f0 / bin_hz, top)
        low = np.floor(position).astype(np.int64)
        frac = position - low
        high = np.minimum(low + 1, top)
        weight = HARMONIC_WEIGHT ** (h - 1)
        np.add.at(matrix, (rows, low), weight * (1 - frac))
        np.add.at(matrix, (rows, high), weight * frac)
    return matrix, grid


def _salience(spectrum: Float64, *, n_fft: int, keys: tuple[int, int], harmonics: int) -> tuple[Float64, Float64]:
    """Harmonic-sum salience, shape (pitches, frames), and the pitch grid in MIDI keys."""
    matrix, grid = harmonic_sum(n_fft=n_fft, keys=keys, harmonics=harmonics, n_bins=spectrum.shape[0])
    return matrix @ spectrum, grid


def _bass_notch(pitch: Float64, voiced: Float64, *, n_bins: int) -> Float64:
    """(bins, frames) gains that remove the voiced bass's first :data:`BASS_NOTCH_HARMONICS`
    harmonics (±1.5 bins).

    Only the first four: a melody on the bass's pitch class (the root over the root, common)
    has every partial on one of the bass's harmonics, and notching eight took the tune with
    them. On Pingus' modules (``tools/module_melody.py``, melody F of the full mix, notes known)
    notching 8 / 6 / 5 / 4 / 3 / 2 harmonics gave 0.47 / 0.44 / 0.47 / 0.59 / 0.52 / 0.30
    (pingus-1), 0.70 / 0.70 / 0.87 / 0.87 / 0.73 / 0.45 (pingus-4) and 0.09–0.12 (pingus-5)."""
    bin_hz = ANALYSIS_RATE_HZ / MELODY_N_FFT
    gains = np.ones((n_bins, pitch.size))
    f0 = key_to_hz(pitch)
    bins = np.arange(n_bins)[:, None]
    for h in range(1, BASS_NOTCH_HARMONICS + 1):
        near = (np.abs(bins - h * f0[None, :] / bin_hz) <= 1.5) & (voiced[None, :] > 0)
        gains[near] = 0.0
    return gains


def _own_partials(magnitude: Float64, pitch: Float64, *, n_fft: int) -> Float64:
    """Per frame (1.0 or 0.0), whether the tracked bass ``pitch`` (MIDI) sounds partials of its
    own, not only those of a line above it. With h1…h4 its first four harmonics (plain
    ``magnitude``, the peak within ±2 bins), both of: max(h1, h3) ≥ :data:`BASS_OWN_PARTIALS_SHARE` ·
    max(h2, h4) (not only an octave's partials) and max(h1, h2, h4) ≥ that share · h3 (not only a
    twelfth's).

    A harmonic-sum tracker finds a "bass" in any harmonic sound: a lead with no bass under it
    sums best an octave (or a twelfth) below, where the lead's partials are that pitch's even
    (or third) harmonics. Heard as the bass, the lead's own partials were notched out of the
    melody's spectrum and the melody tracker took what was left, or nothing. A lead alone playing
    the transcribed notes of the 14 evaluation excerpts scored a median melody presence of
    0.21 / 0.35 / 0.36 (square, overdriven guitar, fiddle) before this check and 0.77 / 0.73 /
    0.74 with it (both with the eight-harmonic notch of the time), where the originals' own
    notes reached 0.81. Requiring the fundamental instead lost pingus-4's real bass, whose
    fundamental is weak: its full-mix melody F fell from 0.70 to 0.18 (with this check it stays
    0.70)."""
    h1, h2, h3, h4 = (_at_harmonic(magnitude, pitch, h, n_fft=n_fft, spread=2) for h in (1, 2, 3, 4))
    not_all_even = np.maximum(h1, h3) >= BASS_OWN_PARTIALS_SHARE * np.maximum(h2, h4)
    not_all_thirds = np.maximum(np.maximum(h1, h2), h4) >= BASS_OWN_PARTIALS_SHARE * h3
    own: Float64 = (not_all_even & not_all_thirds).astype(np.float64)
    return own


def _pitch_energy(raw: Float64, pitch: Float64) -> Float64:
    """Per frame, the magnitude at the tracked pitch's first three harmonics (re-attacks)."""
    energy: Float64 = sum((_at_harmonic(raw, pitch, h, n_fft=MELODY_N_FFT) for h in (1, 2, 3)), np.zeros(pitch.size))
    return energy


def _track(salience: Float64, grid: Float64, loudness: Float64) -> tuple[Float64, Float64, Float64]:
    """Per frame: the best pitch (MIDI, fractional), its salience, and whether it is voiced."""
    best = np.argmax(salience, axis=0)
    peak = salience[best, np.arange(salience.shape[1])]
    loud = loudness > np.percentile(loudness, 50) * 0.1
    reference = float(np.percentile(peak[loud], 90)) if np.any(loud) else 1.0
    voiced = (peak >= VOICED_SHARE * reference) & loud
    return grid[best], peak / max(reference, 1e-12), voiced.astype(np.float64)


def _slots(beat_times_s: Float64, *, per_beat: int, end_s: float) -> Float64:
    """Slot boundaries: each beat divided into ``per_beat``, extended by the beat period to the
    clip's start and end."""
    if beat_times_s.size < 2:
        return np.array([0.0, end_s])
    period = float(np.median(np.diff(beat_times_s)))
    before = np.arange(beat_times_s[0] - period, -period, -period)[::-1]
    after = np.arange(beat_times_s[-1] + period, end_s + period, period)
    beats = np.concatenate([before, beat_times_s, after])
    fine = [a + (b - a) * k / per_beat for a, b in itertools.pairwise(beats) for k in range(per_beat)]
    bounds: Float64 = np.clip(np.append(fine, beats[-1]), 0.0, end_s)
    return bounds


def _changes_s(pitch: Float64, voiced: Float64) -> Float64:
    """Times where the melody starts or moves to another semitone (frame-wise, seconds)."""
    key = np.where(voiced > 0, np.round(pitch), -1.0)
    moved = np.flatnonzero((np.diff(key) != 0) & (key[1:] >= 0)) + 1
    changes: Float64 = (moved * (HOP / ANALYSIS_RATE_HZ)).astype(np.float64)
    return changes


def _subdivision(pitch: Float64, voiced: Float64, beat_times_s: Float64, *, end_s: float) -> int:
    """Slots per beat for the melody, of :data:`MELODY_SUBDIVISIONS`: the grid whose slot
    boundaries best match where the tracked pitch changes (F-measure within
    :data:`GRID_TOLERANCE_S`). A fixed eighth-note grid cannot hold a tune in triplets: on a
    real tracker module in triplet eighths it found 0.26 F (mir_eval, note onsets and pitch)."""
    changes = _changes_s(pitch, voiced)
    if changes.size == 0 or beat_times_s.size < 2:
        return MELODY_SUBDIVISIONS[0]

    def f_measure(per_beat: int) -> float:
        bounds = _slots(beat_times_s, per_beat=per_beat, end_s=end_s)
        near = np.abs(changes[:, None] - bounds[None, :]) <= GRID_TOLERANCE_S
        recall = float(np.mean(near.any(axis=1)))
        precision = float(np.mean(near.any(axis=0)))
        return 2 * precision * recall / max(precision + recall, 1e-12)

    scores = [f_measure(k) for k in MELODY_SUBDIVISIONS]
    return MELODY_SUBDIVISIONS[int(np.argmax(scores))]


def _notes(
    pitch: Float64, strength: Float64, voiced: Float64, energy: Float64, slots: Float64
) -> tuple[list[TranscribedNote], float]:
    """Notes on ``slots`` from frame-wise pitch; and the share of slots that hold one."""
    hop_s = HOP / ANALYSIS_RATE_HZ
    notes: list[TranscribedNote] = []
    filled = total = 0
    ending = 0.0  # the energy at the end of the slot before
    for a, b in itertools.pairwise(slots):
        frames = np.arange(int(np.ceil(a / hop_s)), min(pitch.size, int(np.ceil(b / hop_s))))
        if b - a < 1e-3 or frames.size == 0:
            continue
        total += 1
        on = frames[voiced[frames] > 0]
        starting, last = float(np.mean(energy[frames[:4]])), ending
        ending = float(np.mean(energy[frames[-3:]]))
        if on.size < SLOT_VOICED * frames.size:
            continue
        filled += 1
        key = int(np.round(np.median(pitch[on])))
        salience = float(np.clip(np.mean(strength[on]), 0.0, 1.0))
        previous = notes[-1] if notes else None
        held = (
            previous is not None
            and abs(previous.start_s + previous.duration_s - a) < 1e-6
            and previous.key == key
            and starting < REATTACK_RATIO * last
        )
        if held and previous is not None:
            notes[-1] = TranscribedNote(previous.start_s, b - previous.start_s, key, max(previous.salience, salience))
        else:
            notes.append(TranscribedNote(float(a), float(b - a), key, salience))
    return notes, filled / max(1, total)


def _phrased(pitch: Float64, strength: Float64, voiced: Float64, on_grid: list[TranscribedNote]) -> list[TranscribedNote]:
    """The melody as played: the frame-wise line cut where it moves to another semitone
    (median-smoothed over :data:`PHRASED_SMOOTH_FRAMES`), notes under :data:`PHRASED_MIN_S`
    dropped, and a held pitch cut again where the grid transcription ``on_grid`` heard a
    re-attack of the same key.

    The grid keeps one pitch per slot, so bends, grace notes and notes off the grid are lost.
    On the 14 real evaluation excerpts (README) a square lead playing the grid notes alone
    scored a melody presence of 0.60–0.98 (8 of 14 at 0.8 or more), playing these 0.81–0.99
    (14 of 14; with 40 / 60 / 90 ms as the shortest note 14 / 13 / 9 of 14; with no smoothing,
    11 at 60 ms). On music written on the grid it finds fewer of the written notes than the grid
    does (Pingus modules, full mix, F 0.40 and 0.82 against 0.59 and 0.87: where the lead is
    weak the line flickers to another voice, which the grid's median hides); in a cover of real
    music it is the tune that is heard (README), so the cover's lead plays it, and the grid stays
    for what needs a note per slot (whether there is a tune at all, re-attacks). The line changes pitch a little late (the note before rings on in the
    93-ms window: 33 ms in the median on "pingus-1"); moving each start back to where its pitch's
    energy rises found more written notes there (0.49) but lowered the lone leads' presence
    (median 0.89, 12 of 14), measured on the same late line, and was not kept."""
    from scipy.ndimage import median_filter

    hop_s = HOP / ANALYSIS_RATE_HZ
    keys = median_filter(np.where(voiced > 0, np.round(pitch), -1.0), size=PHRASED_SMOOTH_FRAMES, mode="nearest")
    edges = [0, *(np.flatnonzero(np.diff(keys) != 0) + 1).tolist(), int(keys.size)]
    notes: list[TranscribedNote] = []
    for a, b in itertools.pairwise(edges):
        start_s, end_s = a * hop_s, b * hop_s
        if keys[a] < 0 or end_s - start_s < PHRASED_MIN_S:
            continue
        key = int(keys[a])
        cuts = [
            n.start_s for n in on_grid
            if n.key == key and start_s + PHRASED_MIN_S <= n.start_s <= end_s - PHRASED_MIN_S
        ]  # fmt: skip
        salience = float(np.clip(np.mean(strength[a:b]), 0.0, 1.0))
        for s0, s1 in itertools.pairwise([start_s, *cuts, end_s]):
            notes.append(TranscribedNote(float(s0), float(s1 - s0), key, salience))
    return notes


@dataclass(frozen=True)
class _Lines:
    """Frame-wise pitch tracks of the bass and the melody (:data:`HOP` hop at the analysis rate)."""

    bass_pitch: Float64
    bass_strength: Float64
    bass_voiced: Float64
    melody_pitch: Float64
    melody_strength: Float64
    melody_voiced: Float64
    raw: Float64  # |STFT| of the melody's window, (bins, frames): the pitches' energy for re-attacks


def _lines(mono: FloatArray) -> _Lines:
    """The bass and melody tracks of ``mono`` at the analysis rate.

    The bass is read from the whitened spectrum (a quiet bass still has a clear harmonic
    pattern); the melody from the plain magnitude, so it is the loudest harmonic line, the one
    heard in front. Whitened, the melody followed the clearest harmonic pattern whatever its
    level, often an accompanying voice: on real tracker modules with known notes
    (``tools/module_melody.py``, Pingus 1/4/5) the full-mix melody F was 0.43/0.52/0.10
    whitened and 0.47/0.70/0.09 by level, the lead channel alone 0.48/0.22/0.56 against
    0.76/0.80/0.96 (0.92/1.00/0.98 once a ghost bass under a lone lead is no longer notched out
    of it, :func:`_own_partials`; with four bass harmonics notched, :func:`_bass_notch`, the full
    mix 0.59/0.87/0.11 and the lead alone 1.00/1.00/0.99)."""
    low = np.abs(stft(mono, n_fft=BASS_N_FFT, hop=HOP)[0]).astype(np.float64)
    bass_top_hz = BASS_HARMONICS * float(key_to_hz(np.array(BASS_KEYS[1] + 0.5)))
    bass_sal, bass_grid = _salience(
        _whitened(low, BASS_N_FFT, top_hz=bass_top_hz), n_fft=BASS_N_FFT, keys=BASS_KEYS, harmonics=BASS_HARMONICS
    )
    raw = np.abs(stft(mono, n_fft=MELODY_N_FFT, hop=HOP)[0]).astype(np.float64)
    n = min(bass_sal.shape[1], raw.shape[1])
    bass_sal, raw, low = bass_sal[:, :n], raw[:, :n], low[:, :n]
    loudness = np.sqrt(np.mean(raw**2, axis=0))
    bass_pitch, bass_strength, bass_voiced = _track(bass_sal, bass_grid, loudness)
    bass_voiced = bass_voiced * _own_partials(low, bass_pitch, n_fft=BASS_N_FFT)
    # The bass's own harmonics are no melody: notch them out of the melody's spectrum.
    high = raw * _bass_notch(bass_pitch, bass_voiced, n_bins=raw.shape[0])
    melody_sal, melody_grid = _salience(high, n_fft=MELODY_N_FFT, keys=MELODY_KEYS, harmonics=HARMONICS)
    melody_pitch, melody_strength, melody_voiced = _track(melody_sal, melody_grid, loudness)
    return _Lines(bass_pitch, bass_strength, bass_voiced, melody_pitch, melody_strength, melody_voiced, raw)


def melody_line(samples: FloatArray, *, sample_rate_hz: int) -> tuple[Float64, float]:
    """The melody frame by frame, as :func:`transcribe` hears it before laying it on the beats:
    the loudest harmonic line in the melody's range (G3–C6, the bass's harmonics notched out).

    Parameters
    ----------
    samples
        float32, shape (channels, frames), any rate.

    Returns
    -------
    keys, hop_s
        Shape (frames,): the line's pitch as a fractional MIDI key, ``nan`` where none sounds;
        and the seconds between frames.
    """
    lines = _lines(to_analysis_rate(samples, sample_rate_hz=sample_rate_hz))
    keys: Float64 = np.where(lines.melody_voiced > 0, lines.melody_pitch, np.nan)
    return keys, HOP / ANALYSIS_RATE_HZ


def transcribe(samples: FloatArray, *, sample_rate_hz: int, beat_times_s: Float64) -> Transcription:
    """The melody and bassline of ``samples`` as notes on the beat grid.

    Parameters
    ----------
    samples
        float32, shape (channels, frames), any rate.
    beat_times_s
        The analysed beats (``MusicalAnalysis.beat_times_s``), seconds from the clip's start.

    Returns
    -------
    Transcription
        Melody notes on the grid's slots, bass notes on beats, and the melody as played.
    """
    mono = to_analysis_rate(samples, sample_rate_hz=sample_rate_hz)
    end_s = mono.shape[1] / ANALYSIS_RATE_HZ
    lines = _lines(mono)
    per_beat = _subdivision(lines.melody_pitch, lines.melody_voiced, beat_times_s, end_s=end_s)
    melody, share = _notes(
        lines.melody_pitch, lines.melody_strength, lines.melody_voiced, _pitch_energy(lines.raw, lines.melody_pitch),
        _slots(beat_times_s, per_beat=per_beat, end_s=end_s),
    )  # fmt: skip
    bass, _ = _notes(
        lines.bass_pitch, lines.bass_strength, lines.bass_voiced, _pitch_energy(lines.raw, lines.bass_pitch),
        _slots(beat_times_s, per_beat=1, end_s=end_s),
    )  # fmt: skip
    phrased = _phrased(lines.melody_pitch, lines.melody_strength, lines.melody_voiced, melody)
    return Transcription(tuple(melody), tuple(bass), share, tuple(phrased))
