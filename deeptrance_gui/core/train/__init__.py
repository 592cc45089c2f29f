"""Training: datasets (FMA layout, folder per genre), a memory-mapped feature cache, and a
training loop that fine-tunes the musicnn backbone (or trains a small CNN from scratch)."""
