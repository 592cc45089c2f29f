"""The cover dream (core/band/cover.py): the transcribed melody and bassline played by the
style's band, the original's drums out when the band is in front, deterministic per seed, and
its exports (stems, MIDI, sidecar) carrying the melody and the bass."""

from __future__ import annotations

import collections
from pathlib import Path

import mido
import numpy as np
import pytest

from deeptrance_gui.core.analysis import analyse
from deeptrance_gui.core.analysis.transcribe import TranscribedNote, transcribe
from deeptrance_gui.core.audio.clip import AudioClip
from deeptrance_gui.core.band.cover import (
    HPSS_KERNEL,
    cover_arrangement,
    median_along,
    parse_cover_amount,
    without_drums,
)
from deeptrance_gui.core.dream.export import export_take, plan_export
from deeptrance_gui.core.dream.settings import DreamSettings, Objective
from deeptrance_gui.core.dream.takes import DreamRequest, read_sidecar, sidecar_path
from deeptrance_gui.core.errors import DreamError
from deeptrance_gui.core.modes import dream_request
from tests.core.test_transcribe import song
from tests.tiny_model import tiny_model

TINY = {"tiny-a": tiny_model("tiny-a", seed=1), "tiny-b": tiny_model("tiny-b", seed=2)}


@pytest.fixture(scope="module")
def generated() -> tuple[AudioClip, object, object]:
    clip, _ = song(4, bars=6)
    analysis = analyse(clip)
    return clip, analysis, transcribe(clip.samples, sample_rate_hz=clip.sample_rate_hz, beat_times_s=analysis.beat_times_s)


def cover(clip: AudioClip, *, level_db: float = 12.0, seed: int = 0, toward: str = "rock", iterations: int = 2) -> object:
    request = DreamRequest(
        dreamers=("tiny-a",), judges=("tiny-b",), objective=Objective(kind="genre", toward=toward),
        settings=DreamSettings(mode="cover", iterations=iterations, band_level_db=level_db), seed=seed,
    )  # fmt: skip
    # Only the last step is kept, as the CLI does: holding every window's steps is the caller's memory.
    (final,) = collections.deque(dream_request(clip, request, load_model=TINY.__getitem__, live=False), maxlen=1)
    return request, final


def test_the_lead_plays_the_melody_and_the_bass_the_bassline(generated: tuple) -> None:
    clip, analysis, transcription = generated
    arrangement = cover_arrangement(analysis, transcription, style="metal", duration_s=clip.duration_s)
    parts = {p.role: p for p in arrangement.parts}
    assert tuple(parts) == ("drums", "bass", "harmony", "lead")
    as_played, octave_up = parts["lead"].variants
    assert (as_played.name, octave_up.name) == ("melody-as-played", "melody-octave-up")
    tune = transcription.phrased  # the melody as the original phrases it
    assert [n.key for n in as_played.notes] == [n.key for n in tune]
    assert [round(n.start_s, 6) for n in as_played.notes] == [round(n.start_s, 6) for n in tune]
    assert [n.key - 12 for n in octave_up.notes] == [n.key for n in tune]
    # Each note stops where the line moved on (a short gap, not the grid's 10 %).
    assert all(0.9 * n.duration_s <= p.duration_s < n.duration_s for p, n in zip(as_played.notes, tune, strict=True))
    bassline = parts["bass"].variants[0]
    assert bassline.name == "bassline" and len(bassline.notes) == len(transcription.bass)
    assert all(28 <= n.key <= 51 and (n.key - t.key) % 12 == 0 for n, t in zip(bassline.notes, transcription.bass, strict=True))
    # The style's own figures play the bassline's notes (and their fifths and octaves).
    figured = {n.key % 12 for v in parts["bass"].variants[1:] for n in v.notes}
    allowed = {(t.key + i) % 12 for t in transcription.bass for i in (0, 7)}
    assert figured and figured <= allowed


def test_the_median_along_one_axis_is_the_two_dimensional_filter_with_a_line_footprint() -> None:
    from scipy.ndimage import median_filter

    magnitude = np.abs(np.random.default_rng(3).standard_normal((40, 90))).astype(np.float32)
    for axis, size in ((1, (1, HPSS_KERNEL)), (0, (HPSS_KERNEL, 1))):
        expected = median_filter(magnitude, size=size, mode="nearest")
        assert np.array_equal(median_along(magnitude, axis=axis), expected)


def test_drums_come_out_and_the_harmony_stays() -> None:
    clip, _ = song(5, bars=4)
    harmonic = without_drums(clip.samples, sample_rate_hz=clip.sample_rate_hz)
    assert harmonic.shape == clip.samples.shape and np.all(np.isfinite(harmonic))
    melodic, _ = song(5, bars=4, drums=False)  # the same song without its drums
    drums = clip.samples - melodic.samples
    left = float(np.sum(harmonic * drums) / np.sum(drums**2))
    kept = float(np.sum(harmonic * melodic.samples) / np.sum(melodic.samples**2))
    assert kept > 0.7 and left < 0.35  # most of the tonal part stays, most of the drums go


def test_the_originals_tune_can_be_kept_in_front_of_its_accompaniment() -> None:
    """Under a cover the original's transcribed tune is spared the cover amount: its partials
    are raised, its accompaniment (a bass on other pitches) is not."""
    both, notes = song(5, bars=4, drums=False)
    tune, _ = song(5, bars=4, drums=False, bass=False)
    bass = both.samples - tune.samples
    melody = tuple(TranscribedNote(a, b - a, key, 1.0) for a, b, key in notes["melody"])
    rate = both.sample_rate_hz

    def share(out: np.ndarray, part: np.ndarray) -> float:
        return float(np.sum(out * part) / np.sum(part**2))

    plain = without_drums(both.samples, sample_rate_hz=rate)
    kept = without_drums(both.samples, sample_rate_hz=rate, melody=melody, melody_gain_db=6.0)
    assert share(kept, tune.samples) / share(plain, tune.samples) > 1.7  # ≈ 2 (6 dB)
    assert share(kept, bass) / share(plain, bass) < 1.3  # only where its partials meet the tune's
    assert np.array_equal(without_drums(both.samples, sample_rate_hz=rate, melody=melody), plain)


def test_a_cover_is_deterministic_and_its_exports_carry_the_melody(generated: tuple, tmp_path: Path) -> None:
    clip = generated[0]
    request, final = cover(clip, seed=3)
    _, again = cover(clip, seed=3)
    np.testing.assert_array_equal(final.audio, again.audio)
    band = final.band
    assert band is not None and band.part_names == ("drums", "bass", "harmony", "lead")
    assert band.chosen_variants()[3].name.startswith("melody") and band.chosen_variants()[1].name.startswith("bassline")
    plan = plan_export(tmp_path / "cover.wav", part_names=band.part_names, stems=True, midi=True)
    export_take(clip, request, final, plan, source=tmp_path / "song.wav", subtype="FLOAT")
    song_file = mido.MidiFile(str(plan.midi))
    lead_track = next(t for t in song_file.tracks if any(m.type == "track_name" and m.name.startswith("lead") for m in t))
    keys = [m.note for m in lead_track if m.type == "note_on" and m.velocity > 0]
    assert keys == [n.key for n in band.chosen_variants()[3].notes]
    # The sidecar reproduces the cover bit for bit.
    record = read_sidecar(sidecar_path(plan.audio))
    assert record["request"]["settings"]["mode"] == "cover" and record["band"]["parts"][3]["variant"].startswith("melody")
    _, replayed = cover(clip, seed=DreamRequest.from_dict(record["request"]).seed)
    np.testing.assert_array_equal(replayed.audio, final.audio)


def test_the_cover_amount_sets_the_band_over_the_original(generated: tuple) -> None:
    clip = generated[0]
    _, under = cover(clip, level_db=-6.0)
    _, front = cover(clip, level_db=12.0)
    for final in (under, front):
        assert np.max(np.abs(final.audio)) <= 10 ** (-1 / 20) + 1e-3
    ratio = {}
    for name, final in (("under", under), ("front", front)):
        band = np.sum(final.band.stems, axis=0)
        ratio[name] = 10 * np.log10(np.mean(band**2) / np.mean(final.band.original**2))
    assert ratio["front"] > ratio["under"] + 12  # 18 dB apart, measured by K-weighted loudness
    assert parse_cover_amount("cover") == 6.0 and parse_cover_amount("-9") == -9.0
    with pytest.raises(DreamError, match="cover amount 'loud'"):
        parse_cover_amount("loud")


def test_the_tune_is_never_under_the_band(generated: tuple) -> None:
    """The lead is set as loud as the harmony where both play, and the dream never levels it
    under the accompaniment in any bar (metal: a distorted guitar the style puts up front)."""
    from deeptrance_gui.core.band.cover import TUNE_OVER_LU
    from deeptrance_gui.core.dsp.loudness import integrated_loudness_lufs

    clip = generated[0]
    _, final = cover(clip, toward="metal", level_db=6.0)
    band = final.band
    roles = band.part_names
    lead, harmony, bass = roles.index("lead"), roles.index("harmony"), roles.index("bass")
    assert band.arrangement.parts[lead].carries_tune
    assert np.all(band.levels_db[lead] >= np.maximum(band.levels_db[harmony], band.levels_db[bass]) - 1e-4)
    rate = clip.sample_rate_hz
    lead_lufs = integrated_loudness_lufs(band.stems[lead], sample_rate_hz=rate)
    harmony_lufs = integrated_loudness_lufs(band.stems[harmony], sample_rate_hz=rate)
    assert lead_lufs is not None and harmony_lufs is not None
    # EQ (±6 dB per band) may move each a little; the order stays.
    assert lead_lufs > harmony_lufs + TUNE_OVER_LU - 3.0, (lead_lufs, harmony_lufs)


def test_the_cover_keeps_the_song(generated: tuple, monkeypatch: pytest.MonkeyPatch) -> None:
    """With the song's chroma in the objective (``KEEP_SONG``), a cover in front of the track
    (+12 dB) stays nearer to its original than the same dream without it (measured: 0.89 against
    0.69 after eight iterations; 0.77 against 0.73 after two, 0.82 against 0.72 after four)."""
    from deeptrance_gui.core.analysis.identity import cover_similarity
    from deeptrance_gui.core.band import cover as cover_module

    clip, _, _ = generated
    assert cover_module.KEEP_SONG > 0

    def similarity() -> float:
        _, final = cover(clip, level_db=12.0, toward="metal", iterations=8)
        return cover_similarity(final.audio, clip.samples, sample_rate_hz=clip.sample_rate_hz)

    kept = similarity()
    monkeypatch.setattr(cover_module, "KEEP_SONG", 0.0)
    assert kept >= similarity() + 0.1


def test_the_cover_keeps_the_tune_in_front(monkeypatch: pytest.MonkeyPatch) -> None:
    """With the tune's place in front in the objective (``TUNE_FRONT``), the line heard in front
    of a cover plays the original's tune more often than in the same dream without it, and the
    dream holds the lead further over the harmony (a tune in sixteenths under a pop band's
    chords at +6 dB; measured: melody presence 0.98 against 0.92, the lead 4.0 dB over the
    harmony against 0.8)."""
    from deeptrance_gui.core.analysis.identity import melody_presence
    from deeptrance_gui.core.band import cover as cover_module

    clip, _ = song(7, bars=6, per_beat=4)
    analysis = analyse(clip)
    melody = transcribe(clip.samples, sample_rate_hz=clip.sample_rate_hz, beat_times_s=analysis.beat_times_s).melody
    assert cover_module.TUNE_FRONT > 0

    def dreamed() -> tuple[float, float]:
        _, final = cover(clip, level_db=6.0, toward="pop", iterations=8)
        levels_db = final.band.levels_db
        lead_over_harmony_db = float(np.mean(levels_db[3] - levels_db[2]))
        return melody_presence(final.audio, clip.samples, melody, sample_rate_hz=clip.sample_rate_hz), lead_over_harmony_db

    presence, lead_db = dreamed()
    monkeypatch.setattr(cover_module, "TUNE_FRONT", 0.0)
    presence_without, lead_without_db = dreamed()
    assert presence >= presence_without + 0.03 and lead_db >= lead_without_db + 1.0, (
        presence, presence_without, lead_db, lead_without_db
    )  # fmt: skip


def test_band_level_above_zero_is_for_covers() -> None:
    with pytest.raises(DreamError, match="cover dream"):
        DreamSettings(mode="band", band_level_db=6.0).validate()
    DreamSettings(mode="cover", band_level_db=18.0).validate()
    with pytest.raises(DreamError, match="-18…18"):
        DreamSettings(mode="cover", band_level_db=24.0).validate()


def test_no_melody_no_cover() -> None:
    rate = 22_050
    rng = np.random.default_rng(0)
    beats = np.zeros(rate * 8, np.float32)
    for onset in np.arange(0.3, 7.8, 0.5):
        a = int(onset * rate)
        k = np.arange(int(0.1 * rate)) / rate
        beats[a : a + k.size] += (np.sin(2 * np.pi * (50 + 100 * np.exp(-k * 30)) * k) * np.exp(-k * 25)).astype(np.float32)
        beats[a : a + k.size] += 0.2 * (rng.standard_normal(k.size) * np.exp(-k * 80)).astype(np.float32)
    with pytest.raises(DreamError, match="no melody found to cover"):
        cover(AudioClip(np.stack([beats, beats]), rate))


@pytest.mark.slow
def test_a_whole_track_is_covered_in_windows(tmp_path: Path) -> None:
    """Longer than a band region (45 s): bar-aligned windows, one band alive at a time; the take
    covers the whole track, its MIDI holds every window's melody, loudness and peak as always."""
    from deeptrance_gui.core.band.take import midi_bytes
    from deeptrance_gui.core.dsp.loudness import integrated_loudness_lufs

    clip, _ = song(6, bars=30)  # 73 s at 100 BPM
    _, final = cover(clip, level_db=6.0)
    assert final.n_windows == 3 and final.total_iterations == 6 and final.final
    band = final.band
    assert band.stems[0].shape == clip.samples.shape and band.original.shape == clip.samples.shape
    lead = band.chosen_variants()[3]
    assert lead.name.startswith("melody") and max(n.start_s for n in lead.notes) > 50.0  # the last window plays too
    assert len(band.arrangement.bar_starts_s) == band.levels_db.shape[1] >= 28
    assert abs(integrated_loudness_lufs(final.audio, sample_rate_hz=clip.sample_rate_hz)
               - integrated_loudness_lufs(clip.samples, sample_rate_hz=clip.sample_rate_hz)) <= 0.5  # fmt: skip
    assert np.max(np.abs(final.audio)) <= 10 ** (-1 / 20) + 1e-3
    song_file = mido.MidiFile(file=__import__("io").BytesIO(midi_bytes(band)))
    assert song_file.length > 60.0
    # Windows are crossfaded at their bar lines: the band never drops out there more than it does
    # at an ordinary bar line (a fade out and a fade in at each join left a 100-ms hole: the
    # quietest 5 ms held 1-2 % of the band's level, against ≥ 7 % at every other bar line).
    from deeptrance_gui.core.band.windows import bar_windows

    rate, analysis = clip.sample_rate_hz, analyse(clip)
    played = np.sum(band.stems, axis=0).mean(axis=0)

    def dip(at: int) -> float:
        """The quietest 5 ms within 25 ms of ``at``, against the median 25 ms around it."""
        rms = [float(np.sqrt(np.mean(played[t : t + rate // 200] ** 2))) for t in range(at - rate // 40, at + rate // 40, rate // 200)]
        around = [float(np.sqrt(np.mean(played[t : t + rate // 40] ** 2))) for t in range(at - rate, at + rate, rate // 40)]
        return min(rms) / float(np.median(around))

    joins = [a for a, _ in bar_windows(analysis, n_frames=clip.samples.shape[1], rate_hz=rate)[1:]]
    assert len(joins) == 2
    bars = [round(b * rate) for b in analysis.bar_starts_s()[2:-2] if all(abs(b * rate - j) > rate for j in joins)]
    ordinary = float(np.percentile([dip(b) for b in bars], 10))
    assert all(dip(j) >= ordinary for j in joins), ([dip(j) for j in joins], ordinary)


@pytest.mark.slow
def test_a_long_cover_stays_within_its_memory(tmp_path: Path) -> None:
    """A 4-minute stereo 44.1 kHz cover in windows, in a process of its own: peak RSS under
    2 GB (1.74 GiB measured; the join that kept every window's stems until the end and then
    copied the joined ones peaked at 2.09 GiB here)."""
    import subprocess
    import sys

    code = (
        "import resource, numpy as np, soxr\n"
        "from deeptrance_gui.core.audio.clip import AudioClip\n"
        "from tests.core.test_cover import cover\n"
        "from tests.core.test_transcribe import song\n"
        "mono, _ = song(7, bars=100)\n"  # 4 minutes at 100 BPM
        "wide = soxr.resample(mono.samples[0], mono.sample_rate_hz, 44100).astype(np.float32)\n"
        "clip = AudioClip(np.stack([wide, 0.9 * wide]), 44100)\n"
        "del mono, wide\n"
        "request, final = cover(clip, level_db=12.0)\n"
        "print(final.n_windows, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=Path(__file__).parents[2])
    windows, peak_kb = (int(v) for v in out.stdout.split())
    assert windows >= 9 and peak_kb * 1024 < 2.0e9, f"{peak_kb / 2**20:.2f} GiB"


@pytest.mark.slow
def test_keep_whats_done_ends_a_windowed_cover_with_the_rest_as_it_was() -> None:
    """Stopped after its first window, a whole-track cover still ends in one final take of the
    whole track: the windows dreamed so far (the engine finishes the one it has begun) carry the
    band, the window never reached is the original at its own loudness (matched only as a whole,
    the band in front turned it ≈ 5 dB down), and the whole stays ≤ −1 dBTP."""
    import threading

    from deeptrance_gui.core.band.windows import bar_windows
    from deeptrance_gui.core.dsp.loudness import integrated_loudness_lufs
    from deeptrance_gui.core.modes import dream

    clip, _ = song(6, bars=30)  # 73 s: three windows
    rate = clip.sample_rate_hz
    finish = threading.Event()
    steps = []
    settings = DreamSettings(mode="cover", iterations=2, band_level_db=6.0)
    for step in dream(clip, [TINY["tiny-a"]], objective=Objective(kind="genre", toward="rock"), settings=settings,
                      judges=[TINY["tiny-b"]], finish=finish, live=False):  # fmt: skip
        steps.append((step.window_index, step.final))
        if step.iteration >= 2:  # the first window's iterations are done: keep what's done
            finish.set()
    final = step
    assert steps[-1] == (1, True) and final.n_windows == 3 and final.audio.shape == clip.samples.shape
    assert np.isfinite(final.audio).all() and np.max(np.abs(final.audio)) <= 10 ** (-1 / 20) + 1e-3
    spans = bar_windows(analyse(clip), n_frames=clip.samples.shape[1], rate_hz=rate)
    untouched = slice(spans[1][1] + round(0.06 * rate), None)  # past the second window's crossfade
    band = final.band
    assert np.sum(np.abs(band.stems[0][:, spans[0][0] : spans[0][1]])) > 0  # the drums play where dreamed
    assert all(not np.any(stem[:, untouched]) for stem in band.stems)
    np.testing.assert_array_equal(band.original[:, untouched], clip.samples[:, untouched])

    def lufs(samples: np.ndarray) -> float:
        return integrated_loudness_lufs(np.ascontiguousarray(samples), sample_rate_hz=rate)

    assert abs(lufs(final.audio[:, untouched]) - lufs(clip.samples[:, untouched])) <= 1.0
    assert lufs(final.audio[:, : spans[1][1]]) - lufs(clip.samples[:, : spans[1][1]]) >= -1.0  # the covered part too
