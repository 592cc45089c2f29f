"""Audio outputs for :class:`~deeptrance_gui.core.playback.player.Player`.

* :class:`SoundDeviceBackend`: PortAudio through sounddevice (float32 stream).
* :class:`NullBackend`: no sound card; a clock thread calls the callback in real time so the
  playhead still moves, muted.
* :class:`ManualBackend`: tests drive the callback block by block.
"""

from __future__ import annotations

import contextlib
import threading
import time
from typing import Any

import numpy as np

from deeptrance_gui.core.errors import PlaybackError

BLOCK_FRAMES = 1024


class SoundDeviceBackend:
    """PortAudio output. ``device`` is a sounddevice index or name; None = system default."""

    def __init__(self, device: int | str | None = None, *, block_frames: int = BLOCK_FRAMES) -> None:
        try:
            import sounddevice
        except OSError as err:  # the PortAudio shared library is missing
            raise PlaybackError(
                f"PortAudio is not installed ({err}); on Debian/Ubuntu run "
                "'sudo apt-get install libportaudio2'. Playing muted."
            ) from None
        self._sd = sounddevice
        self.device = device
        self.block_frames = block_frames
        self._stream: Any = None
        self._stopping = False
        self._error: str | None = None
        try:
            info = sounddevice.query_devices(device, kind="output")
        except (ValueError, sounddevice.PortAudioError) as err:
            raise PlaybackError(f"no audio output device ({err}); playing muted") from None
        self.description = str(info["name"])
        self.default_rate_hz = int(info["default_samplerate"])

    def open(self, *, sample_rate_hz: int, channels: int, callback: Any) -> int:
        """Open a float32 stream at ``sample_rate_hz`` if the device accepts it, else at the
        device's default rate (the player then resamples once)."""
        rate = sample_rate_hz
        try:
            self._sd.check_output_settings(self.device, channels=channels, dtype="float32", samplerate=rate)
        except (ValueError, self._sd.PortAudioError):
            rate = self.default_rate_hz
        self._error = None
        self._stopping = False
        try:
            self._stream = self._sd.OutputStream(
                samplerate=rate,
                channels=channels,
                dtype="float32",
                device=self.device,
                blocksize=self.block_frames,
                callback=callback,
                finished_callback=self._finished,
            )
        except (ValueError, self._sd.PortAudioError) as err:
            raise PlaybackError(f"cannot open the audio output '{self.description}' ({err})") from None
        return rate

    def _finished(self) -> None:
        if not self._stopping:
            self._error = f"the audio output '{self.description}' stopped (unplugged or failed)"

    def start(self) -> None:
        """Start the stream."""
        try:
            self._stream.start()
        except self._sd.PortAudioError as err:
            self._error = f"cannot start the audio output ({err})"

    def stop(self) -> None:
        """Stop the stream (waits for the callback to return)."""
        self._stopping = True
        if self._stream is not None:
            with contextlib.suppress(self._sd.PortAudioError):
                self._stream.stop()

    def close(self) -> None:
        """Release the device."""
        self._stopping = True
        if self._stream is not None:
            with contextlib.suppress(self._sd.PortAudioError):
                self._stream.close()
            self._stream = None

    def error(self) -> str | None:
        """Device failure since opening, if any."""
        return self._error


class NullBackend:
    """No sound card: real-time clock, silent. ``reason`` says why (shown once)."""

    muted = True

    def __init__(self, reason: str = "no audio output", *, block_frames: int = BLOCK_FRAMES) -> None:
        self.description = "muted (no audio output)"
        self.reason = reason
        self.block_frames = block_frames
        self._callback: Any = None
        self._rate = 0
        self._channels = 0
        self._thread: threading.Thread | None = None
        self._running = threading.Event()

    def open(self, *, sample_rate_hz: int, channels: int, callback: Any) -> int:
        self._callback, self._rate, self._channels = callback, sample_rate_hz, channels
        return sample_rate_hz

    def start(self) -> None:
        self._running.set()
        self._thread = threading.Thread(target=self._run, name="deeptrance-null-audio", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        buffer = np.zeros((self.block_frames, self._channels), np.float32)
        period_s = self.block_frames / self._rate
        next_time = time.monotonic()
        while self._running.is_set():
            self._callback(buffer, self.block_frames, None, None)
            next_time += period_s
            delay = next_time - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            else:
                next_time = time.monotonic()

    def stop(self) -> None:
        self._running.clear()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def close(self) -> None:
        self.stop()

    def error(self) -> str | None:
        return None


class ManualBackend:
    """Test backend: ``pump(frames)`` calls the callback once and returns the block."""

    def __init__(self, *, rate_hz: int | None = None) -> None:
        self.description = "manual (tests)"
        self._forced_rate = rate_hz
        self._callback: Any = None
        self.channels = 0
        self.failure: str | None = None
        self.started = False

    def open(self, *, sample_rate_hz: int, channels: int, callback: Any) -> int:
        self._callback, self.channels = callback, channels
        return self._forced_rate or sample_rate_hz

    def start(self) -> None:
        self.started = True

    def stop(self) -> None:
        self.started = False

    def close(self) -> None:
        self.started = False

    def error(self) -> str | None:
        return self.failure

    def pump(self, frames: int, *, status: Any = None) -> np.ndarray:
        """One callback of ``frames`` frames; returns a copy of what was written."""
        out = np.full((frames, self.channels), np.nan, np.float32)  # NaN: unwritten is visible
        self._callback(out, frames, None, status)
        return out.copy()


def create_backend(device: int | str | None = None) -> tuple[Any, str | None]:
    """The best available output and, when muted, the one message to show the user."""
    try:
        return SoundDeviceBackend(device), None
    except PlaybackError as err:
        return NullBackend(str(err)), str(err)


def output_devices() -> list[tuple[int, str]]:
    """(index, name) of every output device; empty without PortAudio."""
    try:
        import sounddevice
    except OSError:
        return []
    try:
        devices = sounddevice.query_devices()
    except sounddevice.PortAudioError:
        return []
    return [(i, str(d["name"])) for i, d in enumerate(devices) if d["max_output_channels"] > 0]
