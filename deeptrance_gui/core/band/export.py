"""Band exports: one audio file per part plus the original ("stems"), and a Standard MIDI File
of the parts as dreamed, so a musician can re-voice the band in a DAW. Every file is written
atomically (:mod:`deeptrance_gui.core.atomic`).

mido writes and reads the MIDI file: a small, pure-Python, well-kept library whose writer is
tested against many DAWs; hand-packing variable-length quantities and running status is
exactly the kind of code not worth owning.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path
from typing import BinaryIO

import numpy as np

from deeptrance_gui.core.atomic import atomic_write, check_writable_all
from deeptrance_gui.core.audio.clip import AudioClip
from deeptrance_gui.core.audio.save import save_audio, wav_size_bytes
from deeptrance_gui.core.band.arrange import bar_index
from deeptrance_gui.core.band.render import DRUM_CHANNEL
from deeptrance_gui.core.band.take import ORIGINAL, BandTake

TICKS_PER_BEAT = 480


def stem_paths(dest: Path, part_names: Sequence[str]) -> dict[str, Path]:
    """``song.wav`` → ``song.drums.wav``, …, ``song.original.wav`` (same folder and format)."""
    return {name: dest.with_name(f"{dest.stem}.{name}{dest.suffix}") for name in (*part_names, ORIGINAL)}


def midi_path(dest: Path) -> Path:
    """``song.wav`` → ``song.mid``."""
    return dest.with_suffix(".mid")


def export_stems(
    take: BandTake, dest: Path, *, sample_rate_hz: int, subtype: str = "PCM_24", overwrite: bool = False
) -> list[Path]:
    """Write every part and the original as ``dest``-named stems; checks all destinations
    before writing any, so a refusal leaves nothing half-exported."""
    assert take.stems is not None and take.original is not None
    paths = stem_paths(dest, take.part_names)
    audio = {**dict(zip(take.part_names, take.stems, strict=True)), ORIGINAL: take.original}
    check_writable_all(
        [(path, wav_size_bytes(audio[name].shape[1], audio[name].shape[0], subtype)) for name, path in paths.items()],
        overwrite=overwrite,
    )
    return [
        save_audio(AudioClip(np.asarray(audio[name], np.float32), sample_rate_hz), path, subtype=subtype, overwrite=overwrite)
        for name, path in paths.items()
    ]


def midi_bytes(take: BandTake) -> bytes:
    """The dreamed band as a type-1 Standard MIDI File: a tempo track, then one track per part
    (GM program; drums on channel 10) with velocities scaled by the dreamed level of each bar."""
    import mido

    tempo_bpm = take.arrangement.tempo_bpm
    seconds_per_tick = 60.0 / tempo_bpm / TICKS_PER_BEAT
    song = mido.MidiFile(type=1, ticks_per_beat=TICKS_PER_BEAT)
    meta = mido.MidiTrack()
    meta.append(mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(tempo_bpm), time=0))
    meta.append(mido.MetaMessage("time_signature", numerator=4, denominator=4, time=0))
    song.tracks.append(meta)
    melodic_channels = iter(c for c in range(16) if c != DRUM_CHANNEL)
    for p, variant in enumerate(take.chosen_variants()):
        track = mido.MidiTrack()
        channel = DRUM_CHANNEL if variant.is_drums else next(melodic_channels)
        track.append(mido.MetaMessage("track_name", name=f"{take.part_names[p]} ({variant.name})", time=0))
        if not variant.is_drums:
            track.append(mido.Message("program_change", channel=channel, program=variant.program, time=0))
        starts = np.array([n.start_s for n in variant.notes], dtype=np.float64)
        bars = bar_index(starts, take.arrangement.bar_starts_s) if starts.size else np.zeros(0, np.int64)
        events: list[tuple[int, int, int, int]] = []  # (tick, off-before-on, key, velocity)
        for note, bar in zip(variant.notes, bars, strict=True):
            level_db = take.arrangement.parts[p].gain_db + float(take.levels_db[p, min(int(bar), take.levels_db.shape[1] - 1)])
            velocity = int(np.clip(round(note.velocity * 10 ** (level_db / 20)), 1, 127))
            on = round(note.start_s / seconds_per_tick)
            off = max(on + 1, round((note.start_s + note.duration_s) / seconds_per_tick))
            events += [(on, 1, note.key, velocity), (off, 0, note.key, 0)]
        now = 0
        for tick, kind, key, velocity in sorted(events):
            kind_name = "note_on" if kind else "note_off"
            track.append(mido.Message(kind_name, channel=channel, note=key, velocity=velocity, time=tick - now))
            now = tick
        song.tracks.append(track)
    buffer = io.BytesIO()
    song.save(file=buffer)
    return buffer.getvalue()


def export_midi(take: BandTake, dest: Path, *, overwrite: bool = False) -> Path:
    """Write :func:`midi_bytes` atomically to ``dest``."""
    data = midi_bytes(take)

    def write(fh: BinaryIO) -> None:
        fh.write(data)

    return atomic_write(dest, write, overwrite=overwrite, size_bytes=len(data))
