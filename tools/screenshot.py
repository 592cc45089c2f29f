"""``make screenshot``: the real app, real models, demo clip, a short dream → docs/screenshot.png
(``--band`` or ``--cover``: a band or cover dream, with its lanes → the given path; ``--toward=TAG``: its target, rock
by default).

Runs under Xvfb (re-executes itself through ``xvfb-run`` when there is no display), so the
picture is what a user's X11 session shows, not the offscreen renderer.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path


def main() -> int:
    mode = "cover" if "--cover" in sys.argv else "band" if "--band" in sys.argv else None
    toward = next((a.split("=", 1)[1] for a in sys.argv if a.startswith("--toward=")), "rock")
    args = [a for a in sys.argv[1:] if a not in ("--band", "--cover") and not a.startswith("--toward=")]
    if any(a.startswith("-") for a in args) or len(args) > 1:
        print("usage: python tools/screenshot.py [OUT.png] [--band | --cover] [--toward=TAG]", file=sys.stderr)
        return 2
    out = Path(args[0] if args else "docs/screenshot.png").resolve()
    if not os.environ.get("DISPLAY"):
        if shutil.which("xvfb-run") is None:
            print("xvfb-run not found; install it with: sudo apt-get install xvfb xauth", file=sys.stderr)
            return 2
        cmd = ["xvfb-run", "-a", "-s", "-screen 0 1600x1000x24", sys.executable, __file__, str(out)]
        cmd += ([f"--{mode}"] if mode else []) + [f"--toward={toward}"]
        return subprocess.call(cmd)
    os.environ["QT_QPA_PLATFORM"] = "xcb"
    os.environ.setdefault("DEEPTRANCE_HOME", str(Path("build/screenshot-home").resolve()))

    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from deeptrance_gui.core import paths
    from deeptrance_gui.core.model.loading import load_model
    from deeptrance_gui.core.playback import NullBackend, Player
    from deeptrance_gui.ui.main_window import MainWindow
    from deeptrance_gui.ui.settings import AppSettings
    from deeptrance_gui.ui.theme import apply_theme

    app = QApplication(sys.argv[:1])
    apply_theme(app, "dark")
    window = MainWindow(
        AppSettings(),
        Player(NullBackend("screenshot")),
        model_loader=load_model,
    )
    window.resize(1560, 940)
    window.show()
    state = {"track": False, "models": False}

    def maybe_dream() -> None:
        if state["track"] and state["models"] and not window.session.dreaming:
            panel = window.dream_panel
            panel.iterations.setValue(8)
            if mode:
                panel.mode.setCurrentIndex(panel.mode.findData(mode))
            panel.toward.setCurrentText(toward)
            window.seek(6.0)
            window.start_dream()

    def ready(key: str) -> None:
        state[key] = True
        maybe_dream()

    def finished(_take: object) -> None:
        window.acts["difference"].setChecked(False)
        QTimer.singleShot(800, grab)

    def grab() -> None:
        out.parent.mkdir(parents=True, exist_ok=True)
        window.grab().save(str(out), "PNG")
        print(f"wrote {out}")
        window.confirm_close = lambda: True  # the take is a picture's, not a musician's
        window.close()
        app.quit()

    window.trackLoaded.connect(lambda _t: ready("track"))
    window.modelsReady.connect(lambda: ready("models"))
    window.dreamFinished.connect(finished)
    window.open_path(paths.demo_clip_path())
    window.load_models(["msd-musicnn", "mtt-musicnn", "mtt-vgg"])
    QTimer.singleShot(120_000, app.quit)
    app.exec()
    return 0 if out.exists() else 1


if __name__ == "__main__":
    raise SystemExit(main())
