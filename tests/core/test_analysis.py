"""Musical analysis on generated material with known answers (click tracks and chord
progressions at 60–200 BPM), and its refusals."""

from __future__ import annotations

import numpy as np
import pytest

from deeptrance_gui.core.analysis import analyse
from deeptrance_gui.core.analysis.chroma import chroma_similarity
from deeptrance_gui.core.audio import AudioClip
from deeptrance_gui.core.errors import AnalysisError

RATE = 44_100
PROGRESSION = ((60, 64, 67), (57, 60, 64), (65, 69, 72), (67, 71, 74))  # C Am F G
NAMES = ("C", "Am", "F", "G")


def click_track(bpm: float, *, duration_s: float = 16.0, chords: bool = True, start_s: float = 0.37) -> tuple[AudioClip, np.ndarray]:
    """A metronome (accent on beat 1) with a piano-like chord per bar; returns it and the beats."""
    n = int(duration_s * RATE)
    x = np.zeros(n, np.float32)
    t_click = np.arange(int(0.03 * RATE)) / RATE
    click = (np.sin(2 * np.pi * 1000 * t_click) * np.exp(-t_click * 150)).astype(np.float32)
    period = 60.0 / bpm
    beats = np.arange(start_s, duration_s - 0.1, period)
    t = np.arange(n) / RATE
    for i, b in enumerate(beats):
        a = int(b * RATE)
        x[a : a + click.size] += click * (1.0 if i % 4 == 0 else 0.6)
        if chords:
            z = min(n, int((b + period) * RATE))
            for midi in PROGRESSION[(i // 4) % 4]:
                f = 440 * 2 ** ((midi - 69) / 12)
                for k, amp in enumerate((0.08, 0.04, 0.02), 1):
                    x[a:z] += amp * np.sin(2 * np.pi * k * f * t[a:z]).astype(np.float32)
    return AudioClip(np.stack([x, x * 0.9]), RATE), beats


def f_measure(estimated: np.ndarray, reference: np.ndarray, tolerance_s: float = 0.07) -> float:
    hits = sum(np.min(np.abs(estimated - r)) <= tolerance_s for r in reference)
    precise = sum(np.min(np.abs(reference - e)) <= tolerance_s for e in estimated)
    return float((hits + precise) / (reference.size + estimated.size))


@pytest.mark.parametrize("bpm", [60, 75, 90, 110, 128, 145, 170, 200])
def test_tempo_beats_downbeats_and_chords(bpm: float) -> None:
    clip, beats = click_track(bpm)
    analysis = analyse(clip)
    assert abs(analysis.tempo_bpm - bpm) / bpm <= 0.02
    assert f_measure(analysis.beat_times_s, beats) >= 0.9
    # Chords: the beat nearest each true beat gets the bar's chord.
    right = total = 0
    for i, b in enumerate(beats):
        k = int(np.argmin(np.abs(analysis.beat_times_s - b)))
        if abs(analysis.beat_times_s[k] - b) <= 0.07:
            total += 1
            right += analysis.chords[k].name == NAMES[(i // 4) % 4]
    assert total and right / total >= 0.8
    first = int(np.argmin(np.abs(analysis.beat_times_s - beats[0])))
    assert analysis.is_downbeat(first)  # the accented beat starts the bar


def test_silence_no_pulse_and_too_short_are_refused_with_advice() -> None:
    with pytest.raises(AnalysisError, match="silent"):
        analyse(AudioClip(np.zeros((2, RATE * 5), np.float32), RATE))
    t = np.arange(RATE * 10) / RATE
    drone = (0.3 * np.sin(2 * np.pi * 110 * t) * (1 + 0.05 * np.sin(2 * np.pi * 0.13 * t))).astype(np.float32)
    with pytest.raises(AnalysisError, match=r"no steady beat.*genre dream"):
        analyse(AudioClip(drone[None, :], RATE))
    clip, _ = click_track(60, duration_s=1.2, chords=False, start_s=0.1)
    with pytest.raises(AnalysisError):
        analyse(clip)


@pytest.mark.parametrize("duration_s", [0.05, 0.3, 0.5, 1.0, 2.5])
def test_very_short_audio_is_an_analysis_error_never_a_crash(duration_s: float) -> None:
    clip, _ = click_track(120, duration_s=duration_s, start_s=0.01)
    try:
        analysis = analyse(clip)
    except AnalysisError:
        return
    assert analysis.beat_times_s.size >= 2


def test_chroma_similarity_is_one_for_the_same_audio_and_lower_for_other_harmony() -> None:
    clip, _ = click_track(100)
    assert chroma_similarity(clip.samples, clip.samples, sample_rate_hz=RATE) == pytest.approx(1.0)
    t = np.arange(clip.frames) / RATE
    other = (0.2 * np.sin(2 * np.pi * 370 * t)).astype(np.float32)  # F#: not in the progression
    assert chroma_similarity(clip.samples, np.stack([other, other]), sample_rate_hz=RATE) < 0.7


def test_the_demo_clip_has_its_known_tempo_and_chords(demo_path) -> None:
    """The demo (tools/make_demo_clip.py): a synth-pop loop at 112 BPM, Am F C G one bar each."""
    from deeptrance_gui.core.audio import load_audio

    analysis = analyse(load_audio(demo_path))
    assert abs(analysis.tempo_bpm - 112) <= 112 * 0.02
    bars = [analysis.chords[i].name for i in range(analysis.downbeat_index, len(analysis.chords) - 3, 4)]
    expected = ["Am", "F", "C", "G"] * 3
    offset = expected.index(bars[0])
    right = sum(b == expected[(k + offset) % 4] for k, b in enumerate(bars))
    assert right / len(bars) >= 0.8
