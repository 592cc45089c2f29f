"""Dreaming: objectives, settings, the engine (a generator of DreamSteps), sidecars."""
