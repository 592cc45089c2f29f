"""How well the transcriber finds the melody of *real* music whose notes are known: a tracker
module (.it, .xm, .s3m, .mod) holds every note it plays, so its lead channel is a reference a
person can check by hand (which channel is the tune, whether its samples are tuned to the
written notes), and its render is a real, mixed recording of the piece.

Development time only (the app does not use it). Needs libopenmpt (Debian ``libopenmpt0``;
``LIBOPENMPT`` may name the library file). Usage::

    apt-get download pingus-data && dpkg -x pingus-data_*.deb /tmp/pingus
    python tools/module_melody.py /tmp/pingus/usr/share/games/pingus/data/music/pingus-1.it \\
        --channels 0 --end 30

It prints each channel's notes (count, range, instruments) to choose the lead from, renders the
whole module and the chosen channels alone (libopenmpt's interactive interface mutes the
others), finds the channels' tuning against the written notes from the solo render (0 for a
module whose samples are tuned; ±12 for an octave), and scores ``transcribe`` on the solo and on
the full mix with mir_eval (onset ±50 ms, pitch within a semitone, offsets ignored), as
``tests/core/test_transcribe.py`` scores generated songs.
"""

from __future__ import annotations

import argparse
import ctypes
import ctypes.util
import os
import sys
from collections import defaultdict
from pathlib import Path

import mir_eval
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from deeptrance_gui.core.analysis import analyse  # noqa: E402
from deeptrance_gui.core.analysis.transcribe import TranscribedNote, Transcription, transcribe  # noqa: E402
from deeptrance_gui.core.audio.clip import AudioClip  # noqa: E402

RATE_HZ = 44_100
NOTE, INSTRUMENT = 0, 1  # openmpt_module_get_pattern_row_channel_command
INTERACTIVE_SIZE = 16  # function pointers in openmpt_module_ext_interface_interactive
SET_CHANNEL_MUTE = 10


def _library() -> ctypes.CDLL:
    name = os.environ.get("LIBOPENMPT") or ctypes.util.find_library("openmpt")
    if not name:
        sys.exit("libopenmpt not found: apt-get install libopenmpt0, or set LIBOPENMPT=/path/libopenmpt.so.0")
    lib = ctypes.CDLL(name)
    create_args = [ctypes.c_void_p, ctypes.c_size_t, *[ctypes.c_void_p] * 4, ctypes.POINTER(ctypes.c_int), ctypes.c_void_p, ctypes.c_void_p]
    lib.openmpt_module_ext_create_from_memory.restype = ctypes.c_void_p
    lib.openmpt_module_ext_create_from_memory.argtypes = create_args
    lib.openmpt_module_ext_get_module.restype = ctypes.c_void_p
    lib.openmpt_module_ext_get_module.argtypes = [ctypes.c_void_p]
    lib.openmpt_module_ext_get_interface.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_void_p, ctypes.c_size_t]
    lib.openmpt_module_read_interleaved_float_stereo.argtypes = [ctypes.c_void_p, ctypes.c_int32, ctypes.c_size_t, ctypes.POINTER(ctypes.c_float)]
    lib.openmpt_module_read_interleaved_float_stereo.restype = ctypes.c_size_t
    lib.openmpt_module_get_pattern_row_channel_command.argtypes = [ctypes.c_void_p, *[ctypes.c_int32] * 3, ctypes.c_int]
    lib.openmpt_module_get_pattern_row_channel_command.restype = ctypes.c_uint8
    for name in ("get_current_pattern", "get_current_row", "get_num_channels"):
        getattr(lib, f"openmpt_module_{name}").argtypes = [ctypes.c_void_p]
    lib.openmpt_module_set_repeat_count.argtypes = [ctypes.c_void_p, ctypes.c_int32]
    return lib


def render(path: Path, *, end_s: float, solo: set[int] | None = None) -> tuple[np.ndarray, list[tuple[float, int, int, int]]]:
    """The module's audio (2, frames) at :data:`RATE_HZ` up to ``end_s`` (only ``solo`` channels
    audible when given) and its notes as played: (time s, channel, MIDI key, instrument)."""
    lib = _library()
    data = path.read_bytes()
    error = ctypes.c_int(0)
    ext = lib.openmpt_module_ext_create_from_memory(data, len(data), None, None, None, None, ctypes.byref(error), None, None)
    if not ext:
        sys.exit(f"{path}: libopenmpt could not open it (error {error.value})")
    module = lib.openmpt_module_ext_get_module(ext)
    lib.openmpt_module_set_repeat_count(module, 0)
    channels = lib.openmpt_module_get_num_channels(module)
    if solo is not None:
        interface = (ctypes.c_void_p * INTERACTIVE_SIZE)()
        size = ctypes.sizeof(interface)
        if lib.openmpt_module_ext_get_interface(ext, b"interactive", interface, size) != 1:
            sys.exit("this libopenmpt has no interactive interface of the expected size")
        mute = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_int32, ctypes.c_int)(interface[SET_CHANNEL_MUTE])
        for channel in range(channels):
            mute(ext, channel, int(channel not in solo))
    chunk = 32  # ≈ 0.7 ms: the row each note starts on is timed to within a chunk
    buffer = (ctypes.c_float * (2 * chunk))()
    pieces, rows, last, done = [], [], None, 0
    while done < end_s * RATE_HZ:
        position = (lib.openmpt_module_get_current_pattern(module), lib.openmpt_module_get_current_row(module))
        if position != last:
            rows.append((done / RATE_HZ, *position))
            last = position
        n = lib.openmpt_module_read_interleaved_float_stereo(module, RATE_HZ, chunk, buffer)
        if n == 0:
            break
        pieces.append(np.frombuffer(buffer, np.float32, 2 * n).copy())
        done += n
    notes = []
    for time_s, pattern, row in rows:
        for channel in range(channels):
            note = lib.openmpt_module_get_pattern_row_channel_command(module, pattern, row, channel, NOTE)
            if 1 <= note <= 120:  # 0: none; above: note off, cut, fade
                instrument = lib.openmpt_module_get_pattern_row_channel_command(module, pattern, row, channel, INSTRUMENT)
                notes.append((time_s, channel, note - 1, instrument))  # openmpt's C-5 (61) is MIDI 60
    return np.concatenate(pieces).reshape(-1, 2).T.copy(), notes


def score(found: tuple[TranscribedNote, ...], truth: list[tuple[float, float, int]], *, shift: int = 0) -> tuple[float, float, float]:
    """mir_eval precision, recall, F (onset ±50 ms, pitch ±50 cents of the written key + shift)."""
    if not found or not truth:
        return 0.0, 0.0, 0.0
    ref_i = np.array([[a, max(b, a + 0.05)] for a, b, _ in truth])
    ref_p = 440.0 * 2.0 ** ((np.array([k + shift for *_, k in truth]) - 69) / 12)
    est_i = np.array([[n.start_s, n.start_s + n.duration_s] for n in found])
    est_p = 440.0 * 2.0 ** ((np.array([n.key for n in found]) - 69) / 12)
    p, r, f, _ = mir_eval.transcription.precision_recall_f1_overlap(
        ref_i, ref_p, est_i, est_p, onset_tolerance=0.05, pitch_tolerance=50.0, offset_ratio=None
    )
    return float(p), float(r), float(f)


def melody_of(samples: np.ndarray, start_s: float, beats_of: np.ndarray) -> Transcription:
    """The transcription of ``samples`` from ``start_s``, on the beats of ``beats_of`` (the full
    mix: a lead alone has no drums to track)."""

    def excerpt(audio: np.ndarray) -> AudioClip:
        return AudioClip(np.ascontiguousarray(audio[:, round(start_s * RATE_HZ) :]), RATE_HZ)

    beats = analyse(excerpt(beats_of)).beat_times_s
    return transcribe(excerpt(samples).samples, sample_rate_hz=RATE_HZ, beat_times_s=beats)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("module", type=Path)
    parser.add_argument("--channels", required=True, help="the lead's channels, comma-separated (0-based)")
    parser.add_argument("--start", type=float, default=0.0, help="excerpt start, s")
    parser.add_argument("--end", type=float, default=30.0, help="excerpt end, s")
    args = parser.parse_args()
    lead = {int(c) for c in args.channels.split(",")}
    mix, notes = render(args.module, end_s=args.end)
    by_channel: dict[int, list[tuple[float, int, int]]] = defaultdict(list)
    for t, channel, key, instrument in notes:
        by_channel[channel].append((t, key, instrument))
    for channel, played in sorted(by_channel.items()):
        keys = [k for _, k, _ in played]
        instruments = sorted({i for *_, i in played})
        print(f"channel {channel:2d}: {len(played):4d} notes, keys {min(keys)}–{max(keys)} (median {int(np.median(keys))}), instruments {instruments}")
    truth = []
    for channel in lead:
        played = by_channel[channel]
        for (t, key, _), (following, _, _) in zip(played, [*played[1:], (args.end, 0, 0)], strict=True):
            if args.start <= t < args.end:
                truth.append((t - args.start, min(following, args.end) - args.start, key))
    truth.sort()
    solo, _ = render(args.module, end_s=args.end, solo=lead)
    solo_found = melody_of(solo, args.start, mix)
    shift = max(range(-24, 25), key=lambda s: score(solo_found.melody, truth, shift=s)[2])
    mix_found = melody_of(mix, args.start, mix)
    print(f"{args.module.name} {args.start:g}–{args.end:g} s, lead channels {sorted(lead)}: {len(truth)} notes; tuning {shift:+d} semitones")
    for name, found in (("the lead alone", solo_found), ("the full mix", mix_found)):
        grid, played = score(found.melody, truth, shift=shift), score(found.phrased, truth, shift=shift)
        print(f"  {name + ':':16s} on the grid P {grid[0]:.2f} R {grid[1]:.2f} F {grid[2]:.2f}; "
              f"as played P {played[0]:.2f} R {played[1]:.2f} F {played[2]:.2f}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
