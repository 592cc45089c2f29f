"""Musical analysis of a track: tempo, beats, bars (downbeats) and a chord per beat.

``analyse(clip)`` is what the band dream and the window's beat grid read. It is pure numpy
(see :mod:`.chroma` for why not librosa), runs on a worker thread, and its immutable result is
cached by the audio's content (a re-dream of the same track or region does not analyse again).
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from deeptrance_gui.core.analysis.chords import Chord, chords_per_beat, harmonic_change
from deeptrance_gui.core.analysis.chroma import chroma, to_analysis_rate
from deeptrance_gui.core.analysis.rhythm import downbeat_phase, estimate_tempo, onset_envelope, track_beats
from deeptrance_gui.core.audio.clip import AudioClip
from deeptrance_gui.core.errors import AnalysisError

#: Pulse clarity (autocorrelation at the beat lag) under which there is no steady beat.
MIN_PULSE_CLARITY = 0.08
METER = 4
CACHE_ENTRIES = 8
_cache: OrderedDict[str, MusicalAnalysis | AnalysisError] = OrderedDict()
_cache_lock = threading.Lock()

__all__ = ["Chord", "MusicalAnalysis", "analyse"]


@dataclass(frozen=True)
class MusicalAnalysis:
    """Rhythm and harmony of a clip (times in seconds from the clip's start).

    Attributes
    ----------
    tempo_bpm
        Beats per minute.
    pulse_clarity
        0–1: how steady the pulse is (autocorrelation at the beat period).
    beat_times_s
        float64, shape (n_beats,).
    downbeat_index
        Index of the first beat that starts a bar (4/4 assumed).
    chords
        One per beat (``Chord.root`` None = no chord).
    """

    tempo_bpm: float
    pulse_clarity: float
    beat_times_s: npt.NDArray[np.float64]
    downbeat_index: int
    chords: tuple[Chord, ...]
    meter: int = METER

    @property
    def beat_period_s(self) -> float:
        """Seconds per beat."""
        return 60.0 / self.tempo_bpm

    def is_downbeat(self, beat: int) -> bool:
        """Whether beat ``beat`` starts a bar."""
        return (beat - self.downbeat_index) % self.meter == 0

    def bar_starts_s(self) -> npt.NDArray[np.float64]:
        """Times of the downbeats."""
        return self.beat_times_s[self.downbeat_index :: self.meter]

    def window(self, start_s: float, end_s: float) -> MusicalAnalysis:
        """The beats and chords in [``start_s``, ``end_s``), times from ``start_s`` (a stretch of
        a long track dreamed on its own keeps the whole track's beat grid and bars)."""
        index = np.flatnonzero((self.beat_times_s >= start_s) & (self.beat_times_s < end_s))
        first = int(index[0]) if index.size else 0
        return MusicalAnalysis(
            tempo_bpm=self.tempo_bpm,
            pulse_clarity=self.pulse_clarity,
            beat_times_s=self.beat_times_s[index] - start_s,
            downbeat_index=(self.downbeat_index - first) % self.meter,
            chords=tuple(self.chords[i] for i in index),
            meter=self.meter,
        )

    def chord_names(self) -> list[str]:
        """Chord name per beat ('N' for no chord)."""
        return [c.name for c in self.chords]


def analyse(clip: AudioClip) -> MusicalAnalysis:
    """Tempo, beats, downbeats and chords of ``clip`` (cached by content).

    Raises
    ------
    AnalysisError
        Silence, fewer than two beats, or no steady pulse; the message says what to try.
    """
    digest = hashlib.blake2b(np.ascontiguousarray(clip.samples).data, digest_size=16)
    digest.update(str((clip.sample_rate_hz, clip.samples.shape)).encode())
    key = digest.hexdigest()
    with _cache_lock:
        cached = _cache.get(key)
        if cached is not None:
            _cache.move_to_end(key)
    if cached is None:
        try:
            cached = _analyse(clip)
        except AnalysisError as err:
            cached = err
        with _cache_lock:
            _cache[key] = cached
            while len(_cache) > CACHE_ENTRIES:
                _cache.popitem(last=False)
    if isinstance(cached, AnalysisError):
        raise AnalysisError(str(cached))
    return cached


def _analyse(clip: AudioClip) -> MusicalAnalysis:
    mono = to_analysis_rate(clip.samples, sample_rate_hz=clip.sample_rate_hz)
    if float(np.max(np.abs(mono), initial=0.0)) < 1e-4:
        raise AnalysisError("the audio is silent: there is no beat or harmony to play along with")
    envelope, low = onset_envelope(mono)
    tempo, clarity = estimate_tempo(envelope)
    if tempo <= 0 or clarity < MIN_PULSE_CLARITY:
        raise AnalysisError(
            "no steady beat found: a band or cover dream needs a pulse; try the genre dream, or a region with a clear beat"
        )
    beats = track_beats(envelope, tempo)
    if beats.size < 2:
        raise AnalysisError(
            f"the region holds fewer than two beats at {tempo:.0f} BPM; select a longer region (a few bars)"
        )
    chroma_frames, hop_s = chroma(clip.samples, sample_rate_hz=clip.sample_rate_hz)
    chords = chords_per_beat(chroma_frames, hop_s, beats, end_s=clip.duration_s)
    phase = downbeat_phase(beats, low, harmonic_change(chords), meter=METER)
    return MusicalAnalysis(
        tempo_bpm=float(tempo),
        pulse_clarity=clarity,
        beat_times_s=beats,
        downbeat_index=phase,
        chords=tuple(chords),
    )
