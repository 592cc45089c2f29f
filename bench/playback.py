"""Playback under load: callback time p99 as a fraction of the block, and underflows, while a
dream-sized torch workload runs on other threads (60 s by default).

The callback runs on the null backend's real-time clock thread (no sound card here). It
models a device with two blocks of buffering (PortAudio's usual output latency is larger): a
block that starts more than one extra block after its deadline counts as an underflow.
Baseline: the same measurement with nothing else running, in the same run.
"""

from __future__ import annotations

import argparse
import threading
import time

import numpy as np
import torch
from _common import synth_music

from deeptrance_gui.core.audio import AudioClip
from deeptrance_gui.core.playback import NullBackend, Player

BLOCK = 1024
RATE = 44_100


class TimedNullBackend(NullBackend):
    """Null backend that times each callback and counts late blocks."""

    def __init__(self) -> None:
        super().__init__("benchmark", block_frames=BLOCK)
        self.durations: list[float] = []
        self.lateness: list[float] = []
        self.late = 0

    def _run(self) -> None:
        buffer = np.zeros((self.block_frames, self._channels), np.float32)
        period = self.block_frames / self._rate
        deadline = time.perf_counter()
        while self._running.is_set():
            start = time.perf_counter()
            self.lateness.append(max(0.0, start - deadline))
            if start > deadline + period:  # two blocks of buffer: the device would have run dry
                self.late += 1
                deadline = start
            self._callback(buffer, self.block_frames, None, None)
            self.durations.append(time.perf_counter() - start)
            deadline += period
            delay = deadline - time.perf_counter()
            if delay > 0:
                time.sleep(delay)


def measure(seconds: float, *, load: bool) -> tuple[float, int, float]:
    from deeptrance_gui.core.dream.gain_mask import warm_up
    from deeptrance_gui.core.dream.settings import DreamSettings, Objective
    from deeptrance_gui.core.model.loading import load_model
    from deeptrance_gui.core.modes import dream

    clip = AudioClip(synth_music(30.0), RATE)
    model = load_model("msd-musicnn")
    warm_up(model)  # as the app does after loading models, before anything plays
    backend = TimedNullBackend()
    player = Player(backend)
    player.load(clip)
    player.set_loop((0.0, 30.0))
    stop = threading.Event()

    def work() -> None:
        while not stop.is_set():
            for step in dream(
                clip,
                [model],
                objective=Objective(toward="rock"),
                settings=DreamSettings(iterations=500),
                cancel=stop,
            ):
                if step.audio is not None:
                    player.publish_region(step.span_start_s, step.audio)  # as the GUI does

    worker = threading.Thread(target=work, daemon=True)
    player.play()
    if load:
        worker.start()
    time.sleep(seconds)
    stop.set()
    if load:
        worker.join(timeout=10)
    player.close()
    durations = np.array(backend.durations)
    return float(np.percentile(durations, 99)), backend.late, float(np.max(backend.lateness))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=60.0)
    args = parser.parse_args()
    torch.set_num_threads(2)
    block_s = BLOCK / RATE
    idle_p99, idle_late, idle_worst = measure(min(10.0, args.seconds), load=False)
    busy_p99, busy_late, busy_worst = measure(args.seconds, load=True)
    print(
        f"block {BLOCK} frames = {block_s * 1000:.1f} ms; dream running on 2 torch threads for {args.seconds:g} s"
    )
    print(
        f"callback p99 idle (baseline)  {idle_p99 * 1e6:7.0f} µs = {idle_p99 / block_s:6.2%} of a block; "
        f"underflows {idle_late}; worst start delay {idle_worst * 1000:.1f} ms"
    )
    print(
        f"callback p99 while dreaming   {busy_p99 * 1e6:7.0f} µs = {busy_p99 / block_s:6.2%} of a block; "
        f"underflows {busy_late}; worst start delay {busy_worst * 1000:.1f} ms   targets ≤ 5 %, 0 underflows: "
        f"{'OK' if busy_p99 / block_s <= 0.05 and busy_late == 0 else 'MISSED'}  (ratio {busy_p99 / idle_p99:.2f})"
    )


if __name__ == "__main__":
    main()
