"""Window latency: launch → first window (source, and bundle if built), and GUI-thread stalls
while a real dream runs (p99 of a 5 ms timer's lateness; baseline: the same probe idle).

Targets: window ≤ 2 s from source, ≤ 3 s from the bundle; stall p99 ≤ 50 ms.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def launch_to_window(command: list[str]) -> float:
    """Seconds from spawning the app until it reports its window shown."""
    env = dict(
        os.environ,
        QT_QPA_PLATFORM="offscreen",
        DEEPTRANCE_REPORT_STARTUP="1",
        DEEPTRANCE_HOME=str(ROOT / "build" / "bench-home"),
    )
    start = time.perf_counter()
    proc = subprocess.Popen(
        [*command, "--quit-after", "2"], env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith("window shown"):
            elapsed = time.perf_counter() - start
            break
    else:
        elapsed = float("nan")
    proc.wait(timeout=60)
    return elapsed


def stall_probe(seconds: float, *, dreaming: bool) -> float:
    """p99 lateness (s) of a 5 ms GUI timer, optionally while a real dream runs."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ["DEEPTRANCE_HOME"] = str(ROOT / "build" / "bench-home")
    from PySide6.QtCore import QElapsedTimer, QEventLoop, QTimer
    from PySide6.QtWidgets import QApplication

    from deeptrance_gui.core import paths
    from deeptrance_gui.core.model.loading import load_model
    from deeptrance_gui.core.playback import NullBackend, Player
    from deeptrance_gui.core.session import DreamChoices
    from deeptrance_gui.ui.main_window import MainWindow
    from deeptrance_gui.ui.settings import AppSettings

    app = QApplication.instance() or QApplication([])
    window = MainWindow(
        AppSettings(dream=DreamChoices(iterations=200)),
        Player(NullBackend("bench")),
        model_loader=load_model,
    )
    window.show()
    loop = QEventLoop()
    window.trackLoaded.connect(lambda _t: loop.quit())
    window.open_path(paths.demo_clip_path())
    loop.exec()
    window.modelsReady.connect(loop.quit)
    window.load_models(["msd-musicnn", "mtt-musicnn"])
    loop.exec()
    if dreaming:
        window.session.player.play()
        window.start_dream()
    lateness: list[float] = []
    clock = QElapsedTimer()
    clock.start()
    last = [clock.nsecsElapsed()]

    def tick() -> None:
        now = clock.nsecsElapsed()
        lateness.append(max(0.0, (now - last[0]) / 1e9 - 0.005))
        last[0] = now

    timer = QTimer()
    timer.setInterval(5)
    timer.timeout.connect(tick)
    timer.start()
    QTimer.singleShot(int(seconds * 1000), loop.quit)
    loop.exec()
    timer.stop()
    window.confirm_close = lambda: True  # type: ignore[method-assign]
    window.close()
    app.processEvents()
    return float(np.percentile(lateness, 99))


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--probe":
        print(stall_probe(float(sys.argv[2]), dreaming=sys.argv[3] == "1"))
        return
    source = launch_to_window([sys.executable, "-m", "deeptrance_gui"])
    print(f"launch → window, source        {source:6.2f} s   target ≤ 2 s: {'OK' if source <= 2 else 'MISSED'}")
    bundle = ROOT / "dist" / "DeepTrance" / "DeepTrance"
    if bundle.exists():
        frozen = launch_to_window([str(bundle)])
        print(
            f"launch → window, bundle        {frozen:6.2f} s   target ≤ 3 s: {'OK' if frozen <= 3 else 'MISSED'}"
        )
    else:
        print("launch → window, bundle        not built (make package)")
    probe = [sys.executable, __file__, "--probe", "20"]
    idle = float(subprocess.run([*probe, "0"], capture_output=True, text=True).stdout.strip().splitlines()[-1])
    busy = float(subprocess.run([*probe, "1"], capture_output=True, text=True).stdout.strip().splitlines()[-1])
    print(f"GUI stall p99, idle (baseline) {idle * 1000:6.1f} ms")
    print(
        f"GUI stall p99, dreaming        {busy * 1000:6.1f} ms   target ≤ 50 ms: {'OK' if busy <= 0.05 else 'MISSED'}"
        f"   (ratio {busy / max(idle, 1e-4):.1f})"
    )


if __name__ == "__main__":
    main()
