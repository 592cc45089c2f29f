"""Taggers (musicnn and vgg ported to PyTorch), their registry, predictions and layers.

Importing this package does not import torch; ``loading``, ``predict``, ``networks`` and
``frontend`` do.
"""
