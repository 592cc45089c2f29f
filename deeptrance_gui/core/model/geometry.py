"""musicnn's input geometry as plain numbers (no torch), for code that plans or estimates work
on the window's start-up path; :mod:`.frontend` computes with them."""

SAMPLE_RATE_HZ = 16_000
N_FFT = 512
HOP = 256
N_MELS = 96
FMAX_HZ = 8_000.0
PATCH_FRAMES = 187
PATCH_SAMPLES = PATCH_FRAMES * HOP
PATCH_S = PATCH_SAMPLES / SAMPLE_RATE_HZ
N_BINS = N_FFT // 2 + 1
