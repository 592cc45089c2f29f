"""``python -m deeptrance_gui``: open the window (``--self-test`` runs headless)."""

from __future__ import annotations

import sys


def main() -> int:
    """Entry point of the ``deeptrance-gui`` script."""
    from deeptrance_gui.ui.app import main as app_main

    return app_main(sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
