"""What a band dream leaves behind (numpy only, so the window can hold it without torch):
the arrangement, what the dream chose and shaped, the stems, the mix of any parts, and its
exports: one audio file per part plus the original ("stems"), and a Standard MIDI File of the
parts as dreamed, so a musician can re-voice the band in a DAW. Every file is written
atomically (:mod:`deeptrance_gui.core.atomic`).

mido writes and reads the MIDI file: a small, pure-Python, well-kept library whose writer is
tested against many DAWs; hand-packing variable-length quantities and running status is
exactly the kind of code not worth owning.
"""

from __future__ import annotations

import io
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

import numpy as np
import numpy.typing as npt

from deeptrance_gui.core.audio.clip import FloatArray
from deeptrance_gui.core.dream.parts import ORIGINAL, PartLanes

if TYPE_CHECKING:  # analysis and arrangement pull in the decoders: keep them off the start-up path
    from deeptrance_gui.core.analysis import MusicalAnalysis
    from deeptrance_gui.core.band.arrange import Arrangement, PartVariant

__all__ = ["ORIGINAL", "BandTake", "band_mix", "export_midi", "export_stems", "midi_bytes"]


@dataclass(frozen=True)
class BandTake:
    """A band as dreamed.

    Attributes
    ----------
    arrangement
        Parts and their variants (MIDI notes, times from the region's start).
    chosen
        Index of the variant each part plays (the winner of the soft choice).
    variant_weights
        float32, shape (parts, max variants): the dream's final preference (softmax).
    levels_db
        float32, shape (parts, bars): each part's dreamed level per bar, dB relative to the
        arrangement's own balance (before the band-level scale).
    band_scale_db
        The gain that puts the band at ``band_level_db`` relative to the track (BS.1770).
    band_level_db
        The user's band level (the dream may not raise it).
    stems
        Per part, float32, shape (channels, frames) at the source rate: exactly what is in the
        mix (levels, EQ and band scale applied).
    original
        The region's original audio as it goes into the mix (EQ off: unchanged).
    analysis
        Tempo, beats, bars and chords the band follows.
    soundfont_sha256
        Identity of the SoundFont that voiced it.
    """

    arrangement: Arrangement
    chosen: tuple[int, ...]
    variant_weights: npt.NDArray[np.float32]
    levels_db: npt.NDArray[np.float32]
    band_scale_db: float
    band_level_db: float
    stems: tuple[FloatArray, ...] | None
    original: FloatArray | None
    analysis: MusicalAnalysis
    soundfont_sha256: str

    @property
    def part_names(self) -> tuple[str, ...]:
        """Role of each part (drums, bass, harmony, lead)."""
        return tuple(p.role for p in self.arrangement.parts)

    def chosen_variants(self) -> tuple[PartVariant, ...]:
        """The variant each part plays."""
        return tuple(p.variants[i] for p, i in zip(self.arrangement.parts, self.chosen, strict=True))

    # --- what the engine, exports and lanes ask of a played take (modes.PlayedParts) ---

    def record(self) -> dict[str, Any]:
        """The sidecar's ``band`` section: what the band followed and what the dream chose."""
        analysis = self.analysis
        return {
            "style": self.arrangement.style,
            "tempo_bpm": round(analysis.tempo_bpm, 3),
            "beats_s": [round(float(t), 4) for t in analysis.beat_times_s],
            "downbeat_index": analysis.downbeat_index,
            "chords": analysis.chord_names(),
            "parts": [
                {
                    "role": role,
                    "variant": v.name,
                    "program": v.program,
                    "bank": v.bank,
                    "levels_db": [round(float(x), 3) for x in lv],
                }
                for role, v, lv in zip(self.part_names, self.chosen_variants(), self.levels_db, strict=True)
            ],
            "band_level_db": self.band_level_db,
            "band_scale_db": round(self.band_scale_db, 3),
            "soundfont_sha256": self.soundfont_sha256,
        }

    def lanes(self) -> PartLanes:
        """Each part's dreamed level per bar and the variant it plays."""
        return PartLanes(
            names=self.part_names,
            labels=tuple(f"{n}: {v.name}" for n, v in zip(self.part_names, self.chosen_variants(), strict=True)),
            bar_starts_s=tuple(float(t) for t in self.arrangement.bar_starts_s),
            levels_db=self.levels_db,
        )

    def mix(self, *, sample_rate_hz: int, muted: frozenset[str], soloed: frozenset[str]) -> FloatArray:
        """:func:`band_mix` of this take."""
        return band_mix(self, sample_rate_hz=sample_rate_hz, muted=muted, soloed=soloed)

    def write_stems(self, dest: Path, *, sample_rate_hz: int, subtype: str, overwrite: bool) -> list[Path]:
        """:func:`export_stems` of this take."""
        return export_stems(self, dest, sample_rate_hz=sample_rate_hz, subtype=subtype, overwrite=overwrite)

    def write_midi(self, path: Path, *, overwrite: bool) -> Path:
        """:func:`export_midi` of this take."""
        return export_midi(self, path, overwrite=overwrite)


def band_mix(
    take: BandTake,
    *,
    sample_rate_hz: int,
    muted: Collection[str] = (),
    soloed: Collection[str] = (),
    ceiling_dbtp: float = -1.0,
) -> FloatArray:
    """The region with the parts that are heard: every part unless muted, or only the soloed
    ones (``"original"`` names the track itself), loudness-matched to the original and limited
    to ``ceiling_dbtp``. Auditioning mute/solo needs no new dream.

    Returns
    -------
    numpy.ndarray
        float32, shape (channels, frames) of the region.
    """
    from deeptrance_gui.core.dsp.limiter import match_and_limit  # off the window's start-up path
    from deeptrance_gui.core.dsp.loudness import integrated_loudness_lufs

    if take.stems is None or take.original is None:
        raise ValueError("this band step carries no stems (only the final step does)")
    heard = set(soloed) if soloed else {*take.part_names, ORIGINAL} - set(muted)
    mix = np.zeros_like(take.original)
    if ORIGINAL in heard:
        mix += take.original
    for name, stem in zip(take.part_names, take.stems, strict=True):
        if name in heard:
            mix += stem
    reference = integrated_loudness_lufs(take.original, sample_rate_hz=sample_rate_hz)
    return match_and_limit(mix, reference_lufs=reference, sample_rate_hz=sample_rate_hz, ceiling_dbtp=ceiling_dbtp)


TICKS_PER_BEAT = 480


def export_stems(
    take: BandTake, dest: Path, *, sample_rate_hz: int, subtype: str = "PCM_24", overwrite: bool = False
) -> list[Path]:
    """Write every part and the original as ``dest``-named stems; checks all destinations
    before writing any, so a refusal leaves nothing half-exported."""
    from deeptrance_gui.core.atomic import check_writable_all
    from deeptrance_gui.core.audio.clip import AudioClip
    from deeptrance_gui.core.audio.save import save_audio, wav_size_bytes
    from deeptrance_gui.core.dream.export import stem_paths

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

    from deeptrance_gui.core.band.arrange import bar_index
    from deeptrance_gui.core.band.render import DRUM_CHANNEL

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
    from deeptrance_gui.core.atomic import atomic_write

    data = midi_bytes(take)

    def write(fh: BinaryIO) -> None:
        fh.write(data)

    return atomic_write(dest, write, overwrite=overwrite, size_bytes=len(data))
