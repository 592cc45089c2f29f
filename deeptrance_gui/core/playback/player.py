"""Gapless, click-free playback of a track whose dreamed regions change while it plays.

Threads
-------
GUI thread
    ``load``, ``publish_region``, ``play``/``pause``/``stop``/``seek``/``set_loop``/``set_ab``,
    ``poll``. Each builds new immutable state and swaps one reference.
PortAudio thread
    ``_callback`` only. It reads the current snapshot reference once per block, copies slices
    into ``outdata``, zero-fills the rest and crossfades over one block when the snapshot, the
    A/B choice or the position jumps. It never allocates arrays, locks, logs, raises or touches
    Qt: scratch buffers are allocated when the stream opens.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from deeptrance_gui.core.audio.clip import AudioClip, FloatArray
from deeptrance_gui.core.audio.load import resample

MAX_BLOCK_FRAMES = 8192
OUTPUT_CHANNELS_MAX = 2


class OutputBackend(Protocol):
    """What the player needs from an audio output (sounddevice, null or fake)."""

    description: str

    def open(self, *, sample_rate_hz: int, channels: int, callback: Any) -> int:
        """Open a stream calling ``callback(outdata, frames, time, status)``; return the rate
        actually used (the player resamples once when it differs)."""

    def start(self) -> None:
        """Start calling the callback."""

    def stop(self) -> None:
        """Stop calling the callback (blocks until it has returned)."""

    def close(self) -> None:
        """Release the device."""

    def error(self) -> str | None:
        """A device failure seen since opening, or None."""


@dataclass(frozen=True)
class Overlay:
    """Dreamed audio replacing the original from ``start_frame`` on, shape (frames, channels)."""

    start_frame: int
    samples: FloatArray

    @property
    def end_frame(self) -> int:
        """One past the last frame covered."""
        return self.start_frame + int(self.samples.shape[0])


@dataclass(frozen=True)
class Snapshot:
    """Immutable audio the callback plays: the original plus dreamed overlays."""

    original: FloatArray  # (frames, channels), read-only
    overlays: tuple[Overlay, ...] = ()
    version: int = 0

    @property
    def frames(self) -> int:
        """Track length in frames."""
        return int(self.original.shape[0])


@dataclass(frozen=True)
class PlayerStatus:
    """What the GUI polls."""

    position_s: float
    playing: bool
    ended: bool
    underflows: int
    listening_to_dream: bool
    muted: bool
    error: str | None = None


@dataclass
class _Transport:
    """Values written by the GUI, read by the callback (each a single reference swap)."""

    playing: bool = False
    seek: tuple[int, int] = (0, 0)  # (serial, frame)
    loop: tuple[int, int] | None = None
    dream: bool = True
    volume: float = 1.0


@dataclass
class _CallbackState:
    """Values written only by the callback."""

    position: int = 0
    seek_serial: int = 0
    underflows: int = 0
    ended: bool = False
    last_version: int = -1
    last_dream: bool = True
    scratch: npt.NDArray[np.float32] = field(default_factory=lambda: np.zeros((0, 0), np.float32))
    ramp: npt.NDArray[np.float32] = field(default_factory=lambda: np.zeros((0, 1), np.float32))
    index: npt.NDArray[np.float32] = field(default_factory=lambda: np.zeros((0, 1), np.float32))
    last_snapshot: Snapshot | None = None


class Player:
    """Plays a track with dreamed regions over an injected output backend.

    Parameters
    ----------
    backend
        The output; :class:`NullBackend` when there is no sound card (muted, clock still runs).
    """

    def __init__(self, backend: OutputBackend) -> None:
        self._backend = backend
        self._snapshot: Snapshot | None = None
        self._transport = _Transport()
        self._state = _CallbackState()
        self._stream_rate_hz = 0
        self._source_rate_hz = 0
        self._channels = 0
        self._seek_serial = 0
        self._muted = bool(getattr(backend, "muted", False))
        self._error: str | None = None

    # --- GUI thread -----------------------------------------------------------------------

    @property
    def backend_description(self) -> str:
        """Human-readable output name (status bar)."""
        return self._backend.description

    @property
    def sample_rate_hz(self) -> int:
        """Rate of the open stream (0 before ``load``)."""
        return self._stream_rate_hz

    def load(self, clip: AudioClip) -> None:
        """Stop, (re)open the stream for ``clip`` and rewind. GUI thread.

        Raises
        ------
        PlaybackError
            The output cannot be opened; the caller may fall back to :class:`NullBackend`.
        """
        self.close()
        channels = min(clip.channels, OUTPUT_CHANNELS_MAX)
        rate = self._backend.open(sample_rate_hz=clip.sample_rate_hz, channels=channels, callback=self._callback)
        self._stream_rate_hz = rate
        self._source_rate_hz = clip.sample_rate_hz
        self._channels = channels
        self._state = _CallbackState(
            scratch=np.zeros((1, MAX_BLOCK_FRAMES, channels), np.float32),
            ramp=np.zeros((MAX_BLOCK_FRAMES, 1), np.float32),
            index=np.arange(MAX_BLOCK_FRAMES, dtype=np.float32)[:, None],
        )
        self._transport = _Transport()
        self._snapshot = Snapshot(original=self._prepare(clip.samples))
        self._backend.start()

    def close(self) -> None:
        """Stop the stream and release the device. GUI thread."""
        self._transport.playing = False
        if self._stream_rate_hz:
            self._backend.stop()
            self._backend.close()
        self._stream_rate_hz = 0
        self._snapshot = None

    def publish_region(self, start_s: float, samples: FloatArray) -> None:
        """Play ``samples`` (channels, frames, at the track's rate) from ``start_s`` instead of
        the original; earlier overlays keep the parts it does not cover. GUI thread."""
        snapshot = self._snapshot
        if snapshot is None:
            return
        prepared = self._prepare(samples)
        start = round(start_s * self._stream_rate_hz)
        start = max(0, min(start, snapshot.frames))
        prepared = prepared[: snapshot.frames - start]
        new = Overlay(start, prepared)
        kept: list[Overlay] = []
        for old in snapshot.overlays:
            # Keep what the new overlay does not cover (views: no copies).
            if old.start_frame < new.start_frame:
                head = old.samples[: min(old.end_frame, new.start_frame) - old.start_frame]
                kept.append(Overlay(old.start_frame, head))
            if old.end_frame > new.end_frame:
                cut = max(new.end_frame, old.start_frame)
                kept.append(Overlay(cut, old.samples[cut - old.start_frame :]))
        self._snapshot = Snapshot(snapshot.original, (*kept, new), snapshot.version + 1)

    def clear_regions(self) -> None:
        """Back to the original everywhere. GUI thread."""
        snapshot = self._snapshot
        if snapshot is not None:
            self._snapshot = Snapshot(snapshot.original, (), snapshot.version + 1)

    def play(self) -> None:
        """Start or resume (from the start again if the track had ended). GUI thread."""
        if self._snapshot is None:
            return
        if self._state.ended:
            self.seek(0.0)
        self._transport.playing = True

    def pause(self) -> None:
        """Pause at the current position. GUI thread."""
        self._transport.playing = False

    def toggle(self) -> None:
        """Play/pause. GUI thread."""
        if self._transport.playing:
            self.pause()
        else:
            self.play()

    def stop(self) -> None:
        """Pause and rewind. GUI thread."""
        self.pause()
        self.seek(0.0)

    def seek(self, position_s: float) -> None:
        """Jump to ``position_s`` (crossfaded). GUI thread."""
        snapshot = self._snapshot
        if snapshot is None:
            return
        frame = round(max(0.0, position_s) * self._stream_rate_hz)
        self._seek_serial += 1
        self._transport.seek = (self._seek_serial, min(frame, snapshot.frames))

    def set_loop(self, region_s: tuple[float, float] | None) -> None:
        """Loop between two times, or None to stop looping. GUI thread."""
        if region_s is None:
            self._transport.loop = None
            return
        start, end = sorted(region_s)
        a, b = int(start * self._stream_rate_hz), int(end * self._stream_rate_hz)
        self._transport.loop = (a, b) if b - a > 16 else None

    def set_ab(self, *, dream: bool) -> None:
        """Listen to the dream (True) or the original (False), same position. GUI thread."""
        self._transport.dream = dream

    def set_volume(self, volume: float) -> None:
        """Linear gain 0…1. GUI thread."""
        self._transport.volume = float(min(max(volume, 0.0), 1.0))

    def poll(self) -> PlayerStatus:
        """Position, underflows, end of track, device failure. GUI thread."""
        state = self._state
        rate = self._stream_rate_hz or 1
        error = self._backend.error() if self._stream_rate_hz else None
        if error is not None and self._error is None:
            self._error = error
            self._transport.playing = False
        return PlayerStatus(
            position_s=state.position / rate,
            playing=self._transport.playing and not state.ended,
            ended=state.ended,
            underflows=state.underflows,
            listening_to_dream=self._transport.dream,
            muted=self._muted,
            error=self._error,
        )

    def _prepare(self, samples: FloatArray) -> FloatArray:
        """(channels, frames) at the source rate → (frames, out channels) at the stream rate.
        Runs on the GUI thread: any resampling happens here, once, never in the callback."""
        data = np.asarray(samples, dtype=np.float32)
        if data.shape[0] > self._channels:
            # More channels than the output: fold down to stereo (or mono) by averaging.
            groups = np.array_split(np.arange(data.shape[0]), self._channels)
            data = np.stack([data[g].mean(axis=0) for g in groups]).astype(np.float32)
        if self._stream_rate_hz != self._source_rate_hz:
            data = resample(data, self._source_rate_hz, self._stream_rate_hz)
        out = np.ascontiguousarray(data.T)
        out.flags.writeable = False
        return out

    # --- PortAudio thread -------------------------------------------------------------------

    def _callback(self, outdata: npt.NDArray[np.float32], frames: int, time: Any, status: Any) -> None:
        """Fill ``outdata`` (frames, channels). Audio thread: no allocation, lock, log or raise."""
        state = self._state
        transport = self._transport
        snapshot = self._snapshot
        if status is not None and getattr(status, "output_underflow", False):
            state.underflows += 1
        if snapshot is None or frames > MAX_BLOCK_FRAMES or state.scratch.shape[2] != outdata.shape[1]:
            outdata.fill(0.0)
            return
        seek_serial, seek_frame = transport.seek
        jumped = seek_serial != state.seek_serial
        changed = state.last_snapshot is not None and (
            snapshot.version != state.last_version or transport.dream != state.last_dream
        )
        if not transport.playing and not jumped:
            outdata.fill(0.0)
            return
        old_snapshot = state.last_snapshot if state.last_snapshot is not None else snapshot
        old_position = state.position
        if jumped:
            state.seek_serial = seek_serial
            state.position = seek_frame
            state.ended = False
        if not transport.playing:
            outdata.fill(0.0)
            return
        loop = transport.loop
        new_position = _render(outdata, snapshot, transport.dream, state.position, frames, loop)
        if (jumped or changed) and old_position < old_snapshot.frames:
            # Crossfade one block from what would have played to what plays now.
            previous = state.scratch[0, :frames]
            _render(previous, old_snapshot, state.last_dream, old_position, frames, loop)
            ramp = state.ramp[:frames]
            np.multiply(state.index[:frames], 1.0 / frames, out=ramp)
            np.subtract(outdata, previous, out=outdata)
            np.multiply(outdata, ramp, out=outdata)
            np.add(outdata, previous, out=outdata)
        state.position = new_position
        if loop is None and new_position >= snapshot.frames:
            state.ended = True
        if transport.volume != 1.0:
            np.multiply(outdata, transport.volume, out=outdata)
        state.last_snapshot = snapshot
        state.last_version = snapshot.version
        state.last_dream = transport.dream


def _render(
    out: npt.NDArray[np.float32],
    snapshot: Snapshot,
    dream: bool,
    position: int,
    frames: int,
    loop: tuple[int, int] | None,
) -> int:
    """Write ``frames`` frames of ``snapshot`` from ``position`` into ``out``; return the next
    position. Loops wrap sample-exactly; past the end is silence. No array allocation."""
    written = 0
    while written < frames:
        end = snapshot.frames
        if loop is not None and loop[0] <= position < loop[1]:
            end = min(end, loop[1])
        count = min(frames - written, max(0, end - position))
        if count == 0:
            if loop is not None and position >= loop[1] and loop[0] < snapshot.frames:
                position = loop[0]
                continue
            out[written:frames] = 0.0
            return position
        target = out[written : written + count]
        target[:] = snapshot.original[position : position + count]
        if dream:
            for overlay in snapshot.overlays:
                a = max(position, overlay.start_frame)
                b = min(position + count, overlay.end_frame)
                if a < b:
                    out[written + a - position : written + b - position] = overlay.samples[
                        a - overlay.start_frame : b - overlay.start_frame
                    ]
        written += count
        position += count
        if loop is not None and position >= loop[1]:
            position = loop[0]
    return position
