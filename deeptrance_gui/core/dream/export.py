"""A take leaves as one set of files: the audio, for a band take its stems and MIDI file, and
the sidecar last (a sidecar next to the audio says the set is complete and can be reproduced).

The window and the CLI both export through :func:`export_take`. Every file of the set is
checked before any is written — it may not exist (unless replacing is allowed), its folder
must be writable, and the free space must hold the *whole set*: checked file by file, a full
disk let the mix land and then refused its stems, leaving a mix without a sidecar. The CLI
runs :func:`check_export` before the dream too, so a refusal never costs a dream.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from deeptrance_gui.core.atomic import check_writable_all
from deeptrance_gui.core.audio.clip import AudioClip
from deeptrance_gui.core.audio.save import FORMATS, save_audio, wav_size_bytes
from deeptrance_gui.core.dream.parts import ORIGINAL
from deeptrance_gui.core.errors import AudioWriteError

if TYPE_CHECKING:
    from deeptrance_gui.core.dream.steps import DreamStep
    from deeptrance_gui.core.dream.takes import DreamRequest

#: Room kept for a MIDI file or a sidecar (both are a few kB).
SMALL_FILE_BYTES = 256 * 1024


@dataclass(frozen=True)
class ExportPlan:
    """Where each file of a take goes.

    Attributes
    ----------
    audio
        The whole track with the take in place (``.wav`` or ``.flac``).
    sidecar
        ``audio`` + ``.json``: the request and what the dream did.
    stems
        (part name, file) per played part and the original; empty for other takes.
    midi
        The played parts as a Standard MIDI File, or None.
    """

    audio: Path
    sidecar: Path
    stems: tuple[tuple[str, Path], ...] = ()
    midi: Path | None = None

    @property
    def paths(self) -> tuple[Path, ...]:
        """Every file, in the order they are written (the sidecar last)."""
        midi = (self.midi,) if self.midi is not None else ()
        return (self.audio, *(path for _, path in self.stems), *midi, self.sidecar)


def stem_paths(dest: Path, part_names: Sequence[str]) -> dict[str, Path]:
    """``song.wav`` → ``song.drums.wav``, …, ``song.original.wav`` (same folder and format)."""
    return {name: dest.with_name(f"{dest.stem}.{name}{dest.suffix}") for name in (*part_names, ORIGINAL)}


def midi_path(dest: Path) -> Path:
    """``song.wav`` → ``song.mid``."""
    return dest.with_suffix(".mid")


def plan_export(
    dest: str | Path, *, part_names: Sequence[str] = (), stems: bool = False, midi: bool = False
) -> ExportPlan:
    """The files a take exported to ``dest`` becomes.

    Parameters
    ----------
    dest
        The audio file, ``.wav`` or ``.flac``.
    part_names
        The band's parts (``BandTake.part_names``, or ``arrange.part_roles(style)`` before a
        dream); needed for ``stems``.
    stems, midi
        Also write one file per part plus the original, and a MIDI file of the parts.

    Raises
    ------
    AudioWriteError
        ``dest`` is not a ``.wav`` or ``.flac`` file.
    """
    from deeptrance_gui.core.dream.takes import sidecar_path

    audio = Path(dest)
    if audio.suffix.lower() not in FORMATS:
        raise AudioWriteError(f"{audio}: write .wav or .flac")
    return ExportPlan(
        audio=audio,
        sidecar=sidecar_path(audio),
        stems=tuple(stem_paths(audio, part_names).items()) if stems else (),
        midi=midi_path(audio) if midi else None,
    )


def check_export(
    plan: ExportPlan, *, frames: int, channels: int, stem_frames: int, subtype: str, overwrite: bool = False
) -> None:
    """Refuse now (:class:`AudioWriteError`, nothing written) if any file of ``plan`` cannot be
    written: it exists (without ``overwrite``), its folder is missing or unwritable, or the
    folder's filesystem lacks room for the whole set.

    Parameters
    ----------
    frames, channels
        Shape of the track as exported.
    stem_frames
        Length of each stem (the band's region).
    subtype
        ``PCM_16``, ``PCM_24`` or ``FLOAT`` (sizes are WAV sizes, an upper bound for FLAC).
    """
    sizes: list[tuple[Path, int | None]] = [(plan.audio, wav_size_bytes(frames, channels, subtype))]
    sizes += [(path, wav_size_bytes(stem_frames, channels, subtype)) for _, path in plan.stems]
    if plan.midi is not None:
        sizes.append((plan.midi, SMALL_FILE_BYTES))
    sizes.append((plan.sidecar, SMALL_FILE_BYTES))
    check_writable_all(sizes, overwrite=overwrite)


def export_take(
    clip: AudioClip,
    request: DreamRequest,
    final: DreamStep,
    plan: ExportPlan,
    *,
    source: Path,
    subtype: str = "PCM_24",
    overwrite: bool = False,
) -> tuple[Path, ...]:
    """Write the take ``final`` of ``request`` on ``clip`` as ``plan`` says, sidecar last.

    Returns
    -------
    tuple of Path
        The files written, in ``plan.paths`` order.

    Raises
    ------
    AudioWriteError
        Before anything is written when the set does not fit (see :func:`check_export`); a
        failure during the writes leaves each file either whole or untouched.
    """
    from deeptrance_gui.core.dream.takes import sidecar_record, splice, write_json_atomic

    band = final.band
    if (plan.stems or plan.midi is not None) and band is None:
        raise AudioWriteError(f"{plan.audio}: stems and MIDI files come from a band take; this take has no band")
    if plan.stems and band is not None:  # the parts the dream really played
        plan = replace(plan, stems=tuple(stem_paths(plan.audio, band.part_names).items()))
    stem_frames = 0 if band is None or band.original is None else band.original.shape[1]
    check_export(
        plan, frames=clip.frames, channels=clip.channels, stem_frames=stem_frames, subtype=subtype, overwrite=overwrite
    )
    written = [save_audio(splice(clip, final), plan.audio, subtype=subtype, overwrite=overwrite)]
    if plan.stems and band is not None:
        written += band.write_stems(plan.audio, sample_rate_hz=clip.sample_rate_hz, subtype=subtype, overwrite=overwrite)
    if plan.midi is not None and band is not None:
        written.append(band.write_midi(plan.midi, overwrite=overwrite))
    record = sidecar_record(request, final, input_path=source, output_path=plan.audio)
    record["output_subtype"] = subtype
    written.append(write_json_atomic(record, plan.sidecar, overwrite=overwrite))
    return tuple(written)
