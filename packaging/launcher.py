"""Entry script of the frozen app (PyInstaller): the same main as ``python -m deeptrance_gui``."""

import sys

from deeptrance_gui.__main__ import main

if __name__ == "__main__":
    sys.exit(main())
