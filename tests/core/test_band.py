"""The band dream: arrangements, SoundFont rendering, the dream itself (tiny models), its level
rule, exports (stems, MIDI re-read), and its refusals."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import mido
import numpy as np
import pytest

from deeptrance_gui.core.analysis import analyse
from deeptrance_gui.core.band.arrange import STYLES, arrange, part_roles
from deeptrance_gui.core.band.render import load_soundfont, render_variant
from deeptrance_gui.core.band.take import ORIGINAL, band_mix, export_midi, export_stems, midi_bytes
from deeptrance_gui.core.dream.export import stem_paths
from deeptrance_gui.core.dream.settings import DreamSettings, Objective
from deeptrance_gui.core.dsp.loudness import integrated_loudness_lufs, true_peak_dbtp
from deeptrance_gui.core.errors import AnalysisError, DreamError, SoundFontError
from deeptrance_gui.core.modes import dream
from tests.core.test_analysis import click_track
from tests.tiny_model import tiny_model

BAND = DreamSettings(mode="band", iterations=3, render_interval_s=0.0)


@pytest.fixture(scope="module")
def clip_and_analysis() -> tuple:
    clip, _ = click_track(120, duration_s=8.0)
    return clip, analyse(clip)


@pytest.fixture(scope="module")
def models() -> tuple:
    return tiny_model("tiny-a", seed=1), tiny_model("tiny-b", seed=2)


@pytest.mark.parametrize("style", sorted(STYLES))
def test_every_style_has_drums_bass_harmony_with_variants_on_the_beat(style: str, clip_and_analysis: tuple) -> None:
    clip, analysis = clip_and_analysis
    arrangement = arrange(analysis, style=style, duration_s=clip.duration_s)
    roles = [p.role for p in arrangement.parts]
    assert roles[:3] == ["drums", "bass", "harmony"]
    assert tuple(roles) == part_roles(style)  # what a take's stems are called, known before the dream
    assert all(len(p.variants) >= 1 for p in arrangement.parts) and len(arrangement.parts[0].variants) >= 2
    for part in arrangement.parts:
        for variant in part.variants:
            assert variant.notes, (style, part.role, variant.name)
            assert all(0 <= n.start_s < clip.duration_s and 0 <= n.key <= 127 and 1 <= n.velocity <= 127 for n in variant.notes)
    # Drums sit on the 16th-note grid of the tracked beats.
    beats = analysis.beat_times_s
    period = float(np.median(np.diff(beats)))
    grid = (beats[:, None] + np.arange(4)[None, :] * period / 4).ravel()
    hits = [n.start_s for n in arrangement.parts[0].variants[0].notes if n.start_s >= beats[0]]
    assert max(np.min(np.abs(grid - h)) for h in hits) < 0.01
    bass_roots = {n.key % 12 for n in arrangement.parts[1].variants[0].notes}
    assert bass_roots & {0, 9, 5, 7}  # the progression's roots C, A, F, G


def test_half_and_double_time(clip_and_analysis: tuple) -> None:
    slow, _ = click_track(55, duration_s=12.0)
    fast, _ = click_track(190, duration_s=8.0)
    a_slow = arrange(analyse(slow), style="rock", duration_s=12.0)
    a_fast = arrange(analyse(fast), style="rock", duration_s=8.0)
    bar_slow = np.diff(a_slow.bar_starts_s).mean()
    bar_fast = np.diff(a_fast.bar_starts_s).mean()
    assert bar_slow == pytest.approx(2 * 60 / 55, rel=0.05)  # double time: a 16-step bar spans 2 beats
    assert bar_fast == pytest.approx(8 * 60 / 190, rel=0.05)  # half time: 8 beats


def test_metal_plays_power_chords_lower_than_rock(clip_and_analysis: tuple) -> None:
    """Metal's guitars sit a fourth under rock's (B1…A#2 roots): measured, the judges hear the
    lower register as metal and E2 power chords as rock."""
    clip, analysis = clip_and_analysis
    roots = {}
    for style in ("rock", "metal"):
        harmony = arrange(analysis, style=style, duration_s=clip.duration_s).parts[2].variants[0]
        roots[style] = min(note.key for note in harmony.notes)
    assert 35 <= roots["metal"] <= 46
    assert roots["rock"] - roots["metal"] == 5


def test_rendering_is_deterministic_and_sounds(clip_and_analysis: tuple) -> None:
    _clip, analysis = clip_and_analysis
    variant = arrange(analysis, style="rock", duration_s=4.0).parts[2].variants[0]
    font = load_soundfont()
    drums = arrange(analysis, style="rock", duration_s=4.0).parts[0].variants[0]
    a = render_variant(variant, font, duration_s=4.0, sample_rate_hz=22_050)
    render_variant(drums, font, duration_s=4.0, sample_rate_hz=22_050)  # the synthesiser is reused in between
    b = render_variant(variant, font, duration_s=4.0, sample_rate_hz=22_050)
    assert a.shape == (2, 88_200) and np.array_equal(a, b)
    from deeptrance_gui.core.band import render

    render._synths.clear()  # a fresh synthesiser (another process) renders the same samples
    assert np.array_equal(render_variant(variant, font, duration_s=4.0, sample_rate_hz=22_050), a)
    assert float(np.sqrt(np.mean(a**2))) > 1e-3


def test_every_instrument_the_styles_play_is_in_the_shipped_soundfont_and_sounds(clip_and_analysis: tuple) -> None:
    """The shipped subset is cut from the instrument table; a style naming a program outside it
    (or a preset the subset lost) would render silence."""
    from deeptrance_gui.core.band.instruments import soundfont_presets

    _clip, analysis = clip_and_analysis
    shipped = set(soundfont_presets())
    font = load_soundfont()
    played: set[tuple[int, int]] = set()
    for style in STYLES:
        for part in arrange(analysis, style=style, duration_s=2.0).parts:
            played |= {(v.bank, v.program) for v in part.variants}
    assert played == shipped  # and nothing the styles do not play: each preset costs 0.1–8 MB of a 50 MB file
    for bank, program in sorted(played):
        variant = next(
            v
            for style in STYLES
            for part in arrange(analysis, style=style, duration_s=2.0).parts
            for v in part.variants
            if (v.bank, v.program) == (bank, program)
        )
        audio = render_variant(variant, font, duration_s=2.0, sample_rate_hz=22_050)
        assert float(np.sqrt(np.mean(audio**2))) > 1e-3, (bank, program)


def test_bad_soundfonts_are_typed_errors(tmp_path: Path) -> None:
    with pytest.raises(SoundFontError, match="not found"):
        load_soundfont(tmp_path / "missing.sf2")
    (tmp_path / "text.sf2").write_text("hello")
    with pytest.raises(SoundFontError, match="not a SoundFont"):
        load_soundfont(tmp_path / "text.sf2")
    good = load_soundfont().data
    (tmp_path / "cut.sf2").write_bytes(good[:5000])
    with pytest.raises(SoundFontError):
        load_soundfont(tmp_path / "cut.sf2")
    with pytest.raises(SoundFontError, match="not a file"):
        load_soundfont(tmp_path)
    assert load_soundfont().sha256  # the default stays usable


def band_steps(clip, models, **kwargs):
    dreamer, judge = models
    settings = kwargs.pop("settings", BAND)
    return list(dream(clip, [dreamer], judges=[judge], objective=Objective(toward="rock"), settings=settings, seed=4, **kwargs))


def test_band_dream_contract_level_and_determinism(clip_and_analysis: tuple, models: tuple) -> None:
    clip, _ = clip_and_analysis
    steps = band_steps(clip, models)
    final = steps[-1]
    assert [s.iteration for s in steps] == [1, 2, 3] and final.final and steps[0].audio is not None
    take = final.band
    assert take is not None and take.stems is not None and take.part_names[:3] == ("drums", "bass", "harmony")
    assert take.levels_db.shape == (len(take.part_names), len(take.arrangement.bar_starts_s))
    assert np.all(np.abs(take.levels_db) <= BAND.band_part_range_db + 1e-6)
    # The band sits at the user's level relative to the track, whatever the dream did.
    band_lufs = integrated_loudness_lufs(np.sum(take.stems, axis=0), sample_rate_hz=clip.sample_rate_hz)
    track_lufs = integrated_loudness_lufs(clip.samples, sample_rate_hz=clip.sample_rate_hz)
    assert band_lufs is not None and track_lufs is not None
    assert band_lufs - track_lufs == pytest.approx(BAND.band_level_db, abs=0.5)
    # Output safety: loudness-matched, under the true-peak ceiling; the original is not EQ'd.
    assert final.audio is not None
    out_lufs = integrated_loudness_lufs(final.audio, sample_rate_hz=clip.sample_rate_hz)
    assert out_lufs is not None and abs(out_lufs - track_lufs) <= 0.5
    assert true_peak_dbtp(final.audio, sample_rate_hz=clip.sample_rate_hz) <= -1.0 + 1e-3
    again = band_steps(clip, models)[-1]
    assert np.array_equal(again.audio, final.audio)  # same seed, same band


def test_turning_the_track_down_does_not_turn_the_band_up(clip_and_analysis: tuple, models: tuple) -> None:
    """The band's level is relative to the track as it is in the mix, after its ±3 dB EQ: measured
    against the un-EQ'd track, the dream cut the track and so raised the band by up to 2.3 dB."""
    clip, _ = clip_and_analysis
    settings = dataclasses.replace(BAND, iterations=8, learning_rate=0.5, band_original_eq_db=3.0)
    take = band_steps(clip, models, settings=settings)[-1].band
    assert take is not None and take.stems is not None and take.original is not None
    rate = clip.sample_rate_hz
    band = integrated_loudness_lufs(np.sum(take.stems, axis=0), sample_rate_hz=rate)
    track_in_mix = integrated_loudness_lufs(take.original, sample_rate_hz=rate)
    track = integrated_loudness_lufs(clip.samples, sample_rate_hz=rate)
    assert band is not None and track_in_mix is not None and track is not None
    assert abs(track_in_mix - track) > 0.2  # the dream did EQ the track
    assert band - track_in_mix == pytest.approx(settings.band_level_db, abs=0.05)


def test_band_level_setting_moves_the_band(clip_and_analysis: tuple, models: tuple) -> None:
    clip, _ = clip_and_analysis
    quiet = band_steps(clip, models, settings=dataclasses.replace(BAND, band_level_db=-12.0))[-1].band
    loud = band_steps(clip, models, settings=dataclasses.replace(BAND, band_level_db=-3.0))[-1].band
    assert quiet is not None and loud is not None and quiet.stems is not None and loud.stems is not None
    rate = clip.sample_rate_hz
    track = integrated_loudness_lufs(clip.samples, sample_rate_hz=rate)
    for take, level in ((quiet, -12.0), (loud, -3.0)):
        band = integrated_loudness_lufs(np.sum(take.stems, axis=0), sample_rate_hz=rate)
        assert band is not None and track is not None and band - track == pytest.approx(level, abs=0.5)


def test_mute_solo_mix_needs_no_new_dream(clip_and_analysis: tuple, models: tuple) -> None:
    clip, _ = clip_and_analysis
    take = band_steps(clip, models)[-1].band
    rate = clip.sample_rate_hz
    only_original = band_mix(take, sample_rate_hz=rate, soloed={ORIGINAL})
    assert np.corrcoef(only_original.ravel(), clip.samples.ravel())[0, 1] > 0.99
    no_drums = band_mix(take, sample_rate_hz=rate, muted={"drums"})
    everything = band_mix(take, sample_rate_hz=rate)
    assert not np.allclose(no_drums, everything)
    assert true_peak_dbtp(no_drums, sample_rate_hz=rate) <= -1.0 + 1e-3


def test_stems_and_midi_export_reread(tmp_path: Path, clip_and_analysis: tuple, models: tuple) -> None:
    clip, _ = clip_and_analysis
    take = band_steps(clip, models)[-1].band
    dest = tmp_path / "song.wav"
    written = export_stems(take, dest, sample_rate_hz=clip.sample_rate_hz)
    assert set(written) == set(stem_paths(dest, take.part_names).values())
    assert {p.name for p in written} >= {"song.drums.wav", "song.bass.wav", "song.harmony.wav", "song.original.wav"}
    midi = export_midi(take, tmp_path / "song.mid")
    song = mido.MidiFile(midi)
    assert song.type == 1 and len(song.tracks) == 1 + len(take.part_names)
    for track, variant in zip(song.tracks[1:], take.chosen_variants(), strict=True):
        ons = [m for m in track if m.type == "note_on" and m.velocity > 0]
        assert [m.note for m in ons] == [n.key for n in variant.notes]
        programs = [m.program for m in track if m.type == "program_change"]
        assert programs == ([] if variant.is_drums else [variant.program])
        assert all(m.channel == (9 if variant.is_drums else m.channel) for m in ons)
    tempo = next(m.tempo for m in song.tracks[0] if m.type == "set_tempo")
    assert mido.tempo2bpm(tempo) == pytest.approx(take.arrangement.tempo_bpm, rel=1e-3)
    assert midi_bytes(take) == midi.read_bytes()
    with pytest.raises(Exception, match="already exists"):
        export_midi(take, midi)


def test_a_take_exports_as_one_set_checked_before_anything_is_written(
    tmp_path: Path, clip_and_analysis: tuple, models: tuple, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Mix, stems, MIDI file and sidecar (last) are one set: a stem that already exists, or a disk
    with room for only part of the set, refuses it before the mix is written."""
    import json
    import shutil

    from deeptrance_gui.core.dream.export import export_take, plan_export
    from deeptrance_gui.core.dream.takes import DreamRequest
    from deeptrance_gui.core.errors import AudioWriteError

    clip, _ = clip_and_analysis
    final = band_steps(clip, models)[-1]
    assert final.band is not None
    request = DreamRequest(dreamers=("tiny",), judges=("tiny-judge",), objective=Objective(toward="rock"), settings=BAND, seed=4)
    plan = plan_export(tmp_path / "take.flac", part_names=final.band.part_names, stems=True, midi=True)
    source = tmp_path / "source.wav"

    (tmp_path / "take.bass.flac").write_bytes(b"someone else's")
    with pytest.raises(AudioWriteError, match=r"take\.bass\.flac: already exists"):
        export_take(clip, request, final, plan, source=source)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["take.bass.flac"]
    (tmp_path / "take.bass.flac").unlink()

    # Room for the mix and a stem or two, not for the set: nothing is written.
    usage = shutil.disk_usage(tmp_path)
    monkeypatch.setattr(shutil, "disk_usage", lambda _p: usage._replace(free=3 * clip.frames * clip.channels * 3))
    with pytest.raises(AudioWriteError, match=r"these 8 files need about .* MB free; .*nothing was written"):
        export_take(clip, request, final, plan, source=source)
    assert list(tmp_path.iterdir()) == []
    monkeypatch.undo()

    written = export_take(clip, request, final, plan, source=source)
    assert written == plan.paths and written[-1] == tmp_path / "take.flac.json"
    assert [p.name for p in written[1:-2]] == [f"take.{n}.flac" for n in (*final.band.part_names, ORIGINAL)]
    assert json.loads(written[-1].read_text())["band"]["style"] == "rock"
    with pytest.raises(AudioWriteError, match="stems and MIDI files come from a band take"):
        export_take(clip, request, dataclasses.replace(final, band=None), plan, source=source, overwrite=True)


def test_band_refusals(models: tuple) -> None:
    from deeptrance_gui.core.audio import AudioClip

    dreamer, _judge = models
    rate = 22_050
    t = np.arange(rate * 6) / rate
    drone = AudioClip((0.3 * np.sin(2 * np.pi * 110 * t)).astype(np.float32)[None, :], rate)
    with pytest.raises(AnalysisError, match="no steady beat"):
        dream(drone, [dreamer], objective=Objective(toward="rock"), settings=BAND)
    clip, _ = click_track(120, duration_s=4.0)
    with pytest.raises(DreamError, match="no style"):
        dream(clip, [dreamer], objective=Objective(toward="tag0"), settings=BAND)
    with pytest.raises(DreamError, match="needs a style"):
        dream(clip, [dreamer], objective=Objective(kind="intensify", toward=None, layer="x"), settings=BAND)
    with pytest.raises(DreamError, match="band level"):
        dream(clip, [dreamer], objective=Objective(toward="rock"), settings=dataclasses.replace(BAND, band_level_db=3.0))
    with pytest.raises(DreamError, match="cannot judge its own dream"):
        dream(clip, [dreamer], judges=[dreamer], objective=Objective(toward="rock"), settings=BAND)
    with pytest.raises(SoundFontError):
        dream(clip, [dreamer], objective=Objective(toward="rock"), settings=dataclasses.replace(BAND, soundfont="/nope.sf2"))
    long = AudioClip(np.tile(clip.samples, (1, 12)), clip.sample_rate_hz)  # 48 s
    # Longer than 45 s is no refusal any more: the band dreams it in windows (test_cover.py).
    assert dream(long, [dreamer], objective=Objective(toward="rock"), settings=BAND) is not None
    assert dream(long, [dreamer], objective=Objective(toward="rock"), settings=BAND, region=(0.0, 20.0)) is not None


def test_shipped_soundfont_is_checked_against_its_checksum(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from deeptrance_gui.core.band import render

    copy = tmp_path / render.DEFAULT_SOUNDFONT
    data = bytearray(render.default_soundfont_path().read_bytes())
    data[-100] ^= 0xFF  # one flipped byte in the last sample header: still loads, wrong sum
    copy.write_bytes(bytes(data))
    (tmp_path / "SHA256SUMS").write_text(render.default_soundfont_path().with_name("SHA256SUMS").read_text())
    monkeypatch.setattr(render, "default_soundfont_path", lambda: copy)
    with pytest.raises(SoundFontError, match="damaged"):
        render.load_soundfont()


def test_analysis_is_cached_by_content(clip_and_analysis: tuple) -> None:
    from deeptrance_gui.core.audio import AudioClip

    clip, analysis = clip_and_analysis
    again = analyse(AudioClip(clip.samples.copy(), clip.sample_rate_hz))
    assert again is analysis
    with pytest.raises(AnalysisError):
        analyse(AudioClip(np.zeros((1, 44_100), np.float32), 44_100))
    with pytest.raises(AnalysisError):  # the cached refusal is raised again, as a fresh error
        analyse(AudioClip(np.zeros((1, 44_100), np.float32), 44_100))


def test_eq_on_the_original_is_bounded_and_can_be_off(clip_and_analysis: tuple, models: tuple) -> None:
    clip, _ = clip_and_analysis
    settings = dataclasses.replace(BAND, band_original_eq_db=3.0, iterations=4)
    take = band_steps(clip, models, settings=settings)[-1].band
    assert take is not None and take.original is not None
    assert not np.array_equal(take.original, clip.samples)
    # A ±3 dB EQ: the processed original stays within 3 dB of the original's spectrum, and
    # the region's borders are untouched (the EQ fades to 0 dB there).
    from deeptrance_gui.core.dsp.stft import stft

    before = np.abs(stft(clip.samples[:1], n_fft=2048, hop=512))[0]
    after = np.abs(stft(take.original[:1], n_fft=2048, hop=512))[0]
    loud = before > before.max() * 1e-2
    ratio_db = 20 * np.log10(after[loud] / before[loud])
    assert np.percentile(np.abs(ratio_db), 99) <= 3.2
    np.testing.assert_allclose(take.original[:, :200], clip.samples[:, :200], atol=1e-4)
    untouched = band_steps(clip, models, settings=dataclasses.replace(BAND, band_original_eq_db=0.0))[-1].band
    assert untouched is not None and np.array_equal(untouched.original, clip.samples)  # off: the track as it is
    with pytest.raises(DreamError, match="EQ on the original"):
        dream(clip, [models[0]], objective=Objective(toward="rock"), settings=dataclasses.replace(BAND, band_original_eq_db=9.0))


def test_keep_whats_done_ends_a_band_dream_with_a_final_step(clip_and_analysis: tuple, models: tuple) -> None:
    import threading

    clip, _ = clip_and_analysis
    finish = threading.Event()
    steps = []
    for step in dream(clip, [models[0]], objective=Objective(toward="rock"), settings=dataclasses.replace(BAND, iterations=10), finish=finish):
        steps.append(step)
        finish.set()
    assert len(steps) == 2 and steps[-1].final and steps[-1].iteration == 2
    assert steps[-1].band is not None and steps[-1].audio is not None


def test_band_session_mute_solo_rules(clip_and_analysis: tuple, models: tuple) -> None:
    from deeptrance_gui.core.session import MuteSolo

    clip, _ = clip_and_analysis
    take = band_steps(clip, models)[-1].band
    session = MuteSolo()
    changes = []
    session.observe(lambda: changes.append(session.heard()))
    session.set_take(take)
    assert session.everything_heard and session.names[-1] == ORIGINAL
    session.set_muted("drums", True)
    assert "drums" not in session.heard() and not session.everything_heard
    session.set_soloed("bass", True)
    assert session.heard() == ("bass",)  # solo wins over mute
    session.set_soloed("bass", False)
    session.set_muted("drums", False)
    assert session.everything_heard and len(changes) == 5
    with pytest.raises(KeyError, match="no part 'cowbell'"):
        session.set_muted("cowbell", True)
    session.set_take(None)
    assert session.names == () and not session.muted


def test_the_last_iterations_hear_the_winning_variants(clip_and_analysis: tuple, models: tuple) -> None:
    """The soft choice is still a blend at the end of the annealing; the last quarter hears the
    hard winners (what is rendered) while the gradient still reaches the choice."""
    import torch

    from deeptrance_gui.core.band.dream import BandPlayAlong
    from deeptrance_gui.core.dream.engine import models_view
    from deeptrance_gui.core.dream.parameterisation import DreamRegion

    clip, analysis = clip_and_analysis
    region = DreamRegion(clip, 0, clip.samples.shape[1], models_view(clip.samples, clip.sample_rate_hz))
    arrangement = arrange(analysis, style="rock", duration_s=clip.duration_s)
    band = BandPlayAlong(region, BAND, analysis, arrangement, load_soundfont(), models[0].frontend)
    window = band.windows[0]

    def heard(logit: float, progress: float) -> torch.Tensor:
        with torch.no_grad():
            band.shape.choice.zero_()
            band.shape.choice[:, 0] = logit  # variant 0 wins, by a little or by a lot
        return band.heard(window, progress)

    assert torch.allclose(heard(0.3, 0.9), heard(8.0, 0.9))  # the hard winners, however sure
    assert not torch.allclose(heard(0.3, 0.1), heard(8.0, 0.1))  # earlier: the soft blend
    band.shape.choice.grad = None
    heard(0.3, 0.9).sum().backward()
    assert band.shape.choice.grad is not None and float(band.shape.choice.grad.abs().sum()) > 0
