"""Real PortAudio stream into a virtual ALSA device (the 'file' plugin over 'null').

The stream runs in a subprocess whose HOME holds an .asoundrc written here, so the test never
touches a real sound card or the user's ALSA set-up. The captured file is compared with what
was published, including a dream region swapped in while the stream was running. The null
device has no clock (it takes blocks as fast as the callback fills them), so the track is long
and the swap is published as soon as the stream passes 1 s, well before the region at 20 s.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

RATE = 48_000

PLAYER_SCRIPT = textwrap.dedent(
    """
    import sys, time
    import numpy as np
    from deeptrance_gui.core.audio import AudioClip
    from deeptrance_gui.core.playback import Player, SoundDeviceBackend

    rate = 48_000
    t = np.arange(30 * rate) / rate
    original = np.stack([0.3 * np.sin(2 * np.pi * 440 * t), 0.3 * np.sin(2 * np.pi * 660 * t)])
    dream = np.stack([0.2 * np.sin(2 * np.pi * 330 * t), 0.2 * np.sin(2 * np.pi * 550 * t)])
    player = Player(SoundDeviceBackend())
    player.load(AudioClip(original.astype(np.float32), rate))
    player.play()
    deadline = time.monotonic() + 10
    while player.poll().position_s < 1.0 and time.monotonic() < deadline:
        pass
    swapped_at = player.poll().position_s
    player.publish_region(20.0, dream[:, 20 * rate :].astype(np.float32))
    while not player.poll().ended and time.monotonic() < deadline:
        time.sleep(0.01)
    status = player.poll()
    player.close()
    print(f"swapped_at={swapped_at:.3f} ended={status.ended} underflows={status.underflows}")
    sys.exit(0 if status.ended and swapped_at < 19.0 else 3)
    """
)


def _portaudio_available() -> bool:
    try:
        import sounddevice  # noqa: F401
    except OSError:
        return False
    return True


@pytest.mark.slow
@pytest.mark.skipif(not _portaudio_available(), reason="PortAudio (libportaudio2) not installed")
@pytest.mark.skipif(not Path("/usr/share/alsa/alsa.conf").exists(), reason="no ALSA configuration")
def test_stream_through_virtual_alsa_device(tmp_path: Path) -> None:
    capture = tmp_path / "capture.raw"
    (tmp_path / ".asoundrc").write_text(
        f'pcm.!default {{\n  type file\n  slave.pcm "null"\n  file "{capture}"\n  format "raw"\n}}\n'
    )
    env = dict(os.environ, HOME=str(tmp_path))
    result = subprocess.run(
        [sys.executable, "-c", PLAYER_SCRIPT],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    raw = np.fromfile(capture, dtype=np.float32).reshape(-1, 2)
    t = np.arange(30 * RATE) / RATE
    expected = np.stack([0.3 * np.sin(2 * np.pi * 440 * t), 0.3 * np.sin(2 * np.pi * 660 * t)]).T
    dream = np.stack([0.2 * np.sin(2 * np.pi * 330 * t), 0.2 * np.sin(2 * np.pi * 550 * t)]).T
    expected[20 * RATE :] = dream[20 * RATE :]
    # Leading silence before play(): find where the track starts.
    start = int(np.flatnonzero(np.abs(raw[:, 1]) > 1e-6)[0]) - 1
    captured = raw[start : start + 30 * RATE]
    assert captured.shape == expected.shape, "the whole track was played"
    np.testing.assert_allclose(captured, expected.astype(np.float32), atol=1e-6)
