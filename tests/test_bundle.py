"""The frozen app (``make package``): self-test and a GUI launch that quits by itself.

Skipped when ``dist/DeepTrance`` is absent, unless ``DEEPTRANCE_REQUIRE_BUNDLE=1`` (set by
``make test``, which builds the bundle first), in which case a missing bundle fails.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.conftest import ROOT

BUNDLE = ROOT / "dist" / "DeepTrance" / "DeepTrance"
REQUIRED = os.environ.get("DEEPTRANCE_REQUIRE_BUNDLE") == "1"
FATAL = ("Traceback", "Fatal", "FATAL", "Segmentation fault", "Aborted", "ModuleNotFoundError", "ImportError")

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not BUNDLE.exists() and not REQUIRED, reason="no bundle; run 'make package'"),
]


def _env(tmp_path: Path) -> dict[str, str]:
    return dict(os.environ, QT_QPA_PLATFORM="offscreen", DEEPTRANCE_HOME=str(tmp_path))


def test_bundle_exists() -> None:
    assert BUNDLE.exists(), "make package did not produce dist/DeepTrance/DeepTrance"


def test_frozen_self_test(tmp_path: Path) -> None:
    result = subprocess.run(
        [str(BUNDLE), "--self-test"], env=_env(tmp_path), capture_output=True, text=True, timeout=180
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("self-test OK"), result.stdout


def test_frozen_gui_opens_and_quits(tmp_path: Path) -> None:
    env = _env(tmp_path) | {"DEEPTRANCE_REPORT_STARTUP": "1"}
    result = subprocess.run(
        [str(BUNDLE), "--quit-after", "4"], env=env, capture_output=True, text=True, timeout=120
    )
    log = result.stdout + result.stderr
    assert result.returncode == 0, log
    assert "window shown after" in log
    assert not [line for line in log.splitlines() if any(word in line for word in FATAL)], log
