"""Qt-free engine of Deep Trance: audio, DSP, models, dreams, playback, training.

Nothing under ``core`` imports Qt (checked by import-linter in ``make test``).
"""
