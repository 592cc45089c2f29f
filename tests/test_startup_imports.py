"""torch stays off the start-up path: importing the window (and the CLI's parser) loads no torch."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def test_the_window_and_the_cli_import_without_torch() -> None:
    code = (
        "import sys; import deeptrance_gui.ui.main_window, deeptrance_gui.cli; "
        "deeptrance_gui.cli.build_parser(); "
        "heavy = [m for m in ('torch', 'librosa', 'numba', 'tinysoundfont') if m in sys.modules]; "
        "print(','.join(heavy))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert result.stdout.strip() == ""


def test_feature_cache_workers_decode_without_torch(tmp_path: Path) -> None:
    # Each spawned decode worker imports what clip_patches needs; torch would cost it a second
    # and a thread pool of its own.
    import numpy as np
    import soundfile as sf

    path = tmp_path / "clip.wav"
    sf.write(path, np.random.default_rng(0).uniform(-0.1, 0.1, 16_000 * 4).astype(np.float32), 16_000)
    code = (
        "import sys; from pathlib import Path; from deeptrance_gui.core.train.features import clip_patches; "
        f"print(clip_patches(Path({str(path)!r})).shape, 'torch' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert result.stdout.strip() == "(1, 187, 96) False"
