"""Start the window fast: Qt first, torch and the models later on a worker."""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

STARTED = time.perf_counter()


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Command line of the GUI."""
    from deeptrance_gui import __version__

    parser = argparse.ArgumentParser(prog="deeptrance-gui", description="Deep Trance: DeepDream for music")
    parser.add_argument("path", nargs="?", type=Path, help="audio file to open")
    parser.add_argument(
        "--self-test",
        action="store_true",
        help="headless check (demo clip, predict, dream, write, decode) and exit",
    )
    parser.add_argument(
        "--quit-after",
        type=float,
        metavar="SECONDS",
        default=float(os.environ.get("DEEPTRANCE_QUIT_AFTER_S", "0") or 0),
        help="close the window after SECONDS (smoke tests; env DEEPTRANCE_QUIT_AFTER_S)",
    )
    parser.add_argument("--version", action="version", version=f"Deep Trance {__version__}")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``deeptrance-gui`` and ``python -m deeptrance_gui``."""
    args = parse_args(argv)
    if args.self_test:
        from deeptrance_gui.self_test import run_self_test

        ok, summary = run_self_test()
        print(summary, file=sys.stdout if ok else sys.stderr)
        return 0 if ok else 1

    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from deeptrance_gui.core import paths
    from deeptrance_gui.core.dream.recovery import left_behind
    from deeptrance_gui.core.model.registry import available_models
    from deeptrance_gui.core.playback import Player, create_backend
    from deeptrance_gui.ui.main_window import MainWindow
    from deeptrance_gui.ui.settings import load_settings, settings_problem
    from deeptrance_gui.ui.theme import apply_theme

    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication(sys.argv[:1])
    app.setApplicationName("Deep Trance")
    app.setOrganizationName("Deep Trance")
    settings = load_settings()
    apply_theme(app, settings.theme)
    backend, muted_reason = create_backend(settings.output_device or None)
    names = list(available_models())

    def load_model(name: str) -> object:
        from deeptrance_gui.core.model.loading import load_model as load

        return load(name)

    notice = "; ".join(n for n in (muted_reason, settings_problem()) if n) or None
    window = MainWindow(settings, Player(backend), model_loader=load_model, startup_notice=notice)
    window.show()

    def after_show() -> None:
        if os.environ.get("DEEPTRANCE_REPORT_STARTUP"):
            print(f"window shown after {time.perf_counter() - STARTED:.3f} s", flush=True)
        target = args.path
        if target is None:
            recent = [Path(p) for p in settings.recent_files if Path(p).is_file()]
            target = recent[0] if recent else paths.demo_clip_path()
        window.open_path(target)
        # The dreamer, then its judges: the panel of the other dataset, or the one chosen.
        wanted = [settings.dream.dreamer, settings.dream.judge]
        if settings.dream.judge == "panel":
            other = "mtt" if settings.dream.dreamer.startswith("msd") else "msd"
            wanted[1:] = [f"{other}-musicnn", f"{other}-vgg"]
        wanted = [n for n in dict.fromkeys(wanted) if n in names] or ["msd-musicnn", "mtt-musicnn", "mtt-vgg"]
        window.load_models(wanted)
        sessions = left_behind()  # takes of a session that crashed
        if sessions:
            window.offer_recovery(sessions)

    QTimer.singleShot(0, after_show)
    if args.quit_after > 0:
        QTimer.singleShot(int(args.quit_after * 1000), window.close)
        QTimer.singleShot(int(args.quit_after * 1000) + 50, app.quit)
    return int(app.exec())
