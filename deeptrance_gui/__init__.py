"""Deep Trance: DeepDream for music."""

__version__ = "0.1.0"
