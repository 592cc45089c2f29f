"""torch stays off the start-up path: importing the window (and the CLI's parser) loads no torch."""

from __future__ import annotations

import subprocess
import sys


def test_the_window_and_the_cli_import_without_torch() -> None:
    code = (
        "import sys; import deeptrance_gui.ui.main_window, deeptrance_gui.cli; "
        "deeptrance_gui.cli.build_parser(); "
        "heavy = [m for m in ('torch', 'librosa', 'numba', 'tinysoundfont') if m in sys.modules]; "
        "print(','.join(heavy))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert result.stdout.strip() == ""
