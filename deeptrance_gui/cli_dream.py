"""dream, evaluate and self-test subcommands."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the dream subcommands to ``sub``."""
