"""Rendering parts with real sampled instruments: a General MIDI SoundFont through
tinysoundfont.

Why tinysoundfont: a self-contained C synthesiser (TinySoundFont, MIT) in a 0.4 MB manylinux
wheel that reads sf2/sf3 from a path or bytes and renders into a buffer, with no system
library — so the PyInstaller bundle needs nothing beyond the wheel. pyfluidsynth would need
Debian's libfluidsynth (and its glib/pulse/jack dependencies) on every machine and in the
bundle. The wheel declares ``pyaudio`` for its live-playback helper, which we never call and
which has no Linux wheel, so the Makefile installs tinysoundfont with ``--no-deps`` (README).
"""

from __future__ import annotations

import functools
import hashlib
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from deeptrance_gui.core import paths
from deeptrance_gui.core.audio.clip import FloatArray
from deeptrance_gui.core.band.arrange import PartVariant
from deeptrance_gui.core.errors import SoundFontError

DEFAULT_SOUNDFONT = "deeptrance-gm.sf2"
DRUM_CHANNEL = 9
MELODIC_CHANNEL = 0
RENDER_BLOCK = 64  # frames between events are rendered in one call; events land on the exact frame


def default_soundfont_path() -> Path:
    """The shipped GM subset (``resources/soundfonts``)."""
    return paths.resources_dir() / "soundfonts" / DEFAULT_SOUNDFONT


@dataclass(frozen=True)
class SoundFont:
    """A loaded, checked SoundFont: its bytes (parsed anew by each synth) and identity."""

    path: Path
    data: bytes
    sha256: str


def _import_tinysoundfont() -> Any:
    try:
        import tinysoundfont
    except ImportError:
        raise SoundFontError(
            "the band dream needs tinysoundfont; install it with "
            "'pip install --no-deps tinysoundfont==0.3.7' (make run/make test do this)"
        ) from None
    return tinysoundfont


@functools.lru_cache(maxsize=4)
def _load_cached(path: str, mtime_ns: int, size: int) -> SoundFont:
    tsf = _import_tinysoundfont()
    try:
        data = Path(path).read_bytes()
    except OSError as err:
        raise SoundFontError(f"{path}: cannot read the SoundFont ({err.strerror}); choose another file") from None
    if data[:4] != b"RIFF" or data[8:12] != b"sfbk":
        raise SoundFontError(f"{path}: not a SoundFont (.sf2/.sf3); choose another file")
    try:
        synth = tsf.Synth(samplerate=44_100)
        sfid = synth.sfload(data)
    except Exception as err:
        raise SoundFontError(f"{path}: the SoundFont is corrupt or unsupported ({err}); choose another file") from None
    if not any(synth.sfpreset_name(sfid, bank, p) for bank in (0, 128) for p in range(128)):
        raise SoundFontError(f"{path}: the SoundFont has no General MIDI presets; choose another file")
    return SoundFont(Path(path), data, hashlib.sha256(data).hexdigest())


def load_soundfont(path: str | os.PathLike[str] | None = None) -> SoundFont:
    """Read and check a SoundFont (None: the shipped GM subset, also checked against its
    SHA256SUMS entry).

    Raises
    ------
    SoundFontError
        Missing, unreadable, not a SoundFont, corrupt, no presets, or (the shipped one) a
        checksum mismatch.
    """
    chosen = Path(path) if path else default_soundfont_path()
    try:
        stat = chosen.stat()
    except OSError:
        hint = "reinstall Deep Trance" if not path else "choose another file, or the default"
        raise SoundFontError(f"{chosen}: SoundFont not found; {hint}") from None
    if not chosen.is_file():
        raise SoundFontError(f"{chosen}: is not a file; choose a .sf2 or .sf3 SoundFont")
    font = _load_cached(str(chosen), stat.st_mtime_ns, stat.st_size)
    if not path:
        sums = chosen.with_name("SHA256SUMS")
        expected = next(
            (line.split()[0] for line in sums.read_text().splitlines() if line.endswith(chosen.name)),
            None,
        ) if sums.is_file() else None  # fmt: skip
        if expected != font.sha256:
            raise SoundFontError(f"{chosen}: the shipped SoundFont is damaged (checksum mismatch); reinstall Deep Trance")
    return font


_synths: dict[tuple[str, int], tuple[Any, int]] = {}
_synth_lock = threading.Lock()


def _synth(soundfont: SoundFont, sample_rate_hz: int) -> tuple[Any, int]:
    """One synthesiser per (SoundFont, rate), reused: parsing a 45 MB SoundFont for every
    variant cost more than rendering it. Call with ``_synth_lock`` held."""
    key = (soundfont.sha256, sample_rate_hz)
    if key not in _synths:
        if len(_synths) >= 4:
            _synths.clear()
        tsf = _import_tinysoundfont()
        synth = tsf.Synth(samplerate=sample_rate_hz)
        _synths[key] = (synth, synth.sfload(soundfont.data))
    return _synths[key]


def render_variant(
    variant: PartVariant, soundfont: SoundFont, *, duration_s: float, sample_rate_hz: int
) -> FloatArray:
    """Render one part variant.

    Returns
    -------
    numpy.ndarray
        float32, shape (2, round(duration_s · sample_rate_hz)): stereo, as the SoundFont voices it.
        The same variant always renders the same samples (the synthesiser is silenced and its
        channel reset before each render).
    """
    with _synth_lock:
        synth, sfid = _synth(soundfont, sample_rate_hz)
        _silence(synth, sample_rate_hz)  # no voice of an earlier render rings on
        return _render(variant, synth, sfid, duration_s=duration_s, sample_rate_hz=sample_rate_hz)


def _silence(synth: Any, sample_rate_hz: int) -> None:
    """Stop every voice and let the quick release run out, so the next render starts from the
    same silent state as a fresh synthesiser."""
    synth.sounds_off()
    scratch = np.zeros((sample_rate_hz // 20, 2), np.float32)
    view = memoryview(scratch.data).cast("B")
    for _ in range(40):  # ≤ 2 s
        synth.generate_simple(scratch.shape[0], buffer=view)
        if not np.any(scratch):
            return


def _render(variant: PartVariant, synth: Any, sfid: int, *, duration_s: float, sample_rate_hz: int) -> FloatArray:
    channel = DRUM_CHANNEL if variant.is_drums else MELODIC_CHANNEL
    bank, program = variant.bank, variant.program
    if not synth.sfpreset_name(sfid, bank, program):  # a user SoundFont without this preset
        program = next((p for p in range(128) if synth.sfpreset_name(sfid, bank, p)), -1)
        if program < 0:
            bank, program = 0, next((p for p in range(128) if synth.sfpreset_name(sfid, 0, p)), 0)
    synth.program_select(channel, sfid, bank, program, is_drums=variant.is_drums)
    frames = round(duration_s * sample_rate_hz)
    events: list[tuple[int, int, int, int]] = []  # (frame, order: offs before ons, key, velocity)
    for note in variant.notes:
        on = round(note.start_s * sample_rate_hz)
        off = round((note.start_s + note.duration_s) * sample_rate_hz)
        events.append((on, 1, note.key, note.velocity))
        events.append((max(off, on + 1), 0, note.key, 0))
    events.sort()
    out = np.zeros((frames, 2), np.float32)
    view = memoryview(out.data).cast("B")
    position = 0
    for frame, kind, key, velocity in events:
        frame = min(frame, frames)
        if frame > position:
            synth.generate_simple(frame - position, buffer=view[position * 8 : frame * 8])
            position = frame
        if frame >= frames:
            break
        if kind:
            synth.noteon(channel, key, velocity)
        else:
            synth.noteoff(channel, key)
    if position < frames:
        synth.generate_simple(frames - position, buffer=view[position * 8 : frames * 8])
    return np.ascontiguousarray(out.T)
