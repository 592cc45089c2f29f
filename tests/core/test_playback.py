"""Player driven block by block through the manual backend."""

from __future__ import annotations

import numpy as np
import pytest

from deeptrance_gui.core.audio import AudioClip
from deeptrance_gui.core.playback import ManualBackend, NullBackend, Player

RATE = 8_000


def ramp_clip(frames: int = RATE * 2, channels: int = 2) -> AudioClip:
    """Each sample's value encodes its index, so positions can be read back from the output."""
    index = np.arange(frames, dtype=np.float32) / frames
    return AudioClip(np.stack([index * (1 - 0.5 * c) for c in range(channels)]), RATE)


def make_player(clip: AudioClip | None = None) -> tuple[Player, ManualBackend, AudioClip]:
    backend = ManualBackend()
    player = Player(backend)
    clip = clip or ramp_clip()
    player.load(clip)
    return player, backend, clip


def test_paused_output_is_silence_and_fully_written() -> None:
    _, backend, _ = make_player()
    block = backend.pump(256)
    assert not np.isnan(block).any()
    assert np.all(block == 0)


def test_plays_contiguously() -> None:
    player, backend, clip = make_player()
    player.play()
    blocks = [backend.pump(n) for n in (256, 100, 512, 7)]
    out = np.concatenate(blocks)
    np.testing.assert_array_equal(out, clip.samples.T[: out.shape[0]])
    assert player.poll().position_s == pytest.approx(out.shape[0] / RATE)


def test_end_of_track_zero_fills_and_reports() -> None:
    player, backend, clip = make_player(ramp_clip(frames=1000))
    player.play()
    block = backend.pump(1500)
    np.testing.assert_array_equal(block[:1000], clip.samples.T)
    assert np.all(block[1000:] == 0)
    status = player.poll()
    assert status.ended and not status.playing
    player.play()  # after the end, play starts over
    assert backend.pump(10)[5, 0] == pytest.approx(clip.samples[0, 5], abs=0.01)


def test_seek_is_consumed_once_and_crossfaded() -> None:
    player, backend, clip = make_player()
    player.play()
    backend.pump(256)
    player.seek(1.0)
    first = backend.pump(256)
    # Crossfade: starts at the old stream, ends at the new one.
    assert first[0, 0] == pytest.approx(clip.samples[0, 256], abs=1e-4)
    assert first[-1, 0] == pytest.approx(clip.samples[0, RATE + 255], abs=2e-3)
    second = backend.pump(256)
    np.testing.assert_array_equal(second, clip.samples.T[RATE + 256 : RATE + 512])


def test_region_borders_are_sample_exact() -> None:
    player, backend, clip = make_player()
    overlay = np.full((2, 300), 0.9, np.float32)
    player.publish_region(1000 / RATE, overlay)
    player.seek(0.0)
    player.play()
    backend.pump(256)  # absorb the seek crossfade
    out = np.concatenate([backend.pump(256) for _ in range(8)])  # frames 256..2303
    segment = out[1000 - 256 : 1300 - 256 + 1]
    assert np.all(segment[:300] == 0.9)
    assert segment[300, 0] == clip.samples[0, 1300]
    assert out[1000 - 256 - 1, 0] == clip.samples[0, 999]


def test_version_swap_is_click_free() -> None:
    tone = (0.5 * np.sin(2 * np.pi * 220 * np.arange(RATE * 2) / RATE)).astype(np.float32)
    clip = AudioClip(np.stack([tone, tone]), RATE)
    player, backend, _ = make_player(clip)
    player.play()
    pieces = [backend.pump(256) for _ in range(4)]
    player.publish_region(0.0, -clip.samples)  # worst case: polarity flip mid-stream
    pieces += [backend.pump(256) for _ in range(4)]
    out = np.concatenate(pieces)[:, 0]
    max_step_tone = np.abs(np.diff(tone)).max()
    assert np.abs(np.diff(out)).max() <= max_step_tone * 1.5
    np.testing.assert_allclose(out[-256:], -tone[7 * 256 : 8 * 256])


def test_ab_switch_is_crossfaded_and_keeps_position() -> None:
    player, backend, clip = make_player()
    player.publish_region(0.0, np.zeros((2, RATE * 2), np.float32))
    player.play()
    np.testing.assert_array_equal(backend.pump(128), 0)
    player.set_ab(dream=False)
    fade = backend.pump(128)
    assert fade[0, 0] == 0.0
    assert fade[-1, 0] == pytest.approx(clip.samples[0, 255], rel=0.01)
    np.testing.assert_array_equal(backend.pump(128), clip.samples.T[256:384])
    assert not player.poll().listening_to_dream


def test_loop_wraps_cleanly() -> None:
    player, backend, clip = make_player()
    player.set_loop((1000 / RATE, 1100 / RATE))
    player.seek(1000 / RATE)
    player.play()
    backend.pump(50)  # seek crossfade
    out = backend.pump(300)
    expected = np.concatenate(
        [
            clip.samples.T[1050:1100],
            clip.samples.T[1000:1100],
            clip.samples.T[1000:1100],
            clip.samples.T[1000:1050],
        ]
    )
    np.testing.assert_array_equal(out, expected)
    assert not player.poll().ended


def test_volume_and_underflow_count() -> None:
    player, backend, clip = make_player()
    player.set_volume(0.5)
    player.play()

    class Status:
        output_underflow = True

    out = backend.pump(64, status=Status())
    np.testing.assert_allclose(out, clip.samples.T[:64] * 0.5)
    assert player.poll().underflows == 1


def test_multichannel_folds_to_stereo_and_rate_is_resampled_once() -> None:
    backend = ManualBackend(rate_hz=16_000)
    player = Player(backend)
    clip = ramp_clip(channels=6)
    player.load(clip)
    assert backend.channels == 2
    player.play()
    out = backend.pump(1000)
    assert out.shape == (1000, 2)
    assert np.all(np.isfinite(out))
    assert player.sample_rate_hz == 16_000


def test_device_failure_stops_cleanly() -> None:
    player, backend, _ = make_player()
    player.play()
    backend.failure = "the audio output 'USB' stopped (unplugged or failed)"
    status = player.poll()
    assert status.error is not None and "USB" in status.error
    assert not status.playing


def test_callback_does_not_allocate_arrays() -> None:
    import tracemalloc

    player, _, _ = make_player(ramp_clip(frames=RATE * 10))
    player.play()
    out = np.zeros((512, 2), np.float32)
    callback = player._callback
    callback(out, 512, None, None)
    player.publish_region(0.5, np.zeros((2, 4000), np.float32))
    tracemalloc.start()
    try:
        before = tracemalloc.take_snapshot()
        for _ in range(50):
            callback(out, 512, None, None)
        player.seek(3.0)
        callback(out, 512, None, None)
        after = tracemalloc.take_snapshot()
    finally:
        tracemalloc.stop()
    grown = sum(stat.size_diff for stat in after.compare_to(before, "filename") if stat.size_diff > 0)
    assert grown < 4096, f"callback allocated {grown} bytes"


def test_null_backend_runs_the_clock_muted() -> None:
    import time

    backend = NullBackend("no device", block_frames=256)
    player = Player(backend)
    player.load(ramp_clip())
    try:
        player.play()
        deadline = time.monotonic() + 5
        while player.poll().position_s < 0.1 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert player.poll().position_s >= 0.1
        assert player.poll().muted
    finally:
        player.close()


def test_overlapping_overlays_are_trimmed_not_dropped() -> None:
    player, backend, clip = make_player()
    player.publish_region(100 / RATE, np.full((2, 400), 0.25, np.float32))  # 100..500
    player.publish_region(200 / RATE, np.full((2, 100), 0.75, np.float32))  # 200..300
    player.play()
    out = backend.pump(600)[:, 0]
    assert np.all(out[100:200] == 0.25)
    assert np.all(out[200:300] == 0.75)
    assert np.all(out[300:500] == 0.25)
    assert out[500] == clip.samples[0, 500]
