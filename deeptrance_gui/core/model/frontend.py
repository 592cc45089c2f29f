"""musicnn's input pipeline in torch, differentiable from the 16 kHz waveform.

Exactly what musicnn's ``extractor.batch_data`` computes (see ``models/MODEL_CARD.md``):
16 kHz mono, STFT n_fft 512 / hop 256 with a periodic Hann window, centred with zero padding,
power 2, a 96-band Slaney mel filterbank (0–8 kHz, area-normalised), ``log10(1 + 10000·mel)``,
and 187-frame (≈3 s) patches without overlap.

The mel filterbank is computed here in numpy (checked against ``librosa.filters.mel`` in the
tests) so the app does not need librosa, numba and llvmlite at run time.
"""

from __future__ import annotations

import torch

# The front end's numbers live in .geometry (torch-free, for planning on the start-up path).
from deeptrance_gui.core.model.geometry import (
    FMAX_HZ as FMAX_HZ,
)
from deeptrance_gui.core.model.geometry import (
    HOP as HOP,
)
from deeptrance_gui.core.model.geometry import (
    N_BINS as N_BINS,
)
from deeptrance_gui.core.model.geometry import (
    N_FFT as N_FFT,
)
from deeptrance_gui.core.model.geometry import (
    N_MELS as N_MELS,
)
from deeptrance_gui.core.model.geometry import (
    PATCH_FRAMES as PATCH_FRAMES,
)
from deeptrance_gui.core.model.geometry import (
    PATCH_S as PATCH_S,
)
from deeptrance_gui.core.model.geometry import (
    PATCH_SAMPLES as PATCH_SAMPLES,
)
from deeptrance_gui.core.model.geometry import (
    SAMPLE_RATE_HZ as SAMPLE_RATE_HZ,
)

# The filterbank lives in .melbank (numpy only, for decode workers that never import torch).
from deeptrance_gui.core.model.melbank import mel_filterbank as mel_filterbank


class MelFrontend(torch.nn.Module):
    """Waveform (16 kHz) → power spectrogram → musicnn log-mel, all differentiable."""

    window: torch.Tensor
    mel_basis: torch.Tensor

    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("window", torch.hann_window(N_FFT, periodic=True), persistent=False)
        self.register_buffer("mel_basis", torch.from_numpy(mel_filterbank().copy()), persistent=False)

    def power(self, waveform: torch.Tensor) -> torch.Tensor:
        """|STFT|² of ``waveform`` (..., samples) → (..., frames, 257), frames = 1 + samples // 256."""
        spec = torch.stft(
            waveform,
            n_fft=N_FFT,
            hop_length=HOP,
            win_length=N_FFT,
            window=self.window,
            center=True,
            pad_mode="constant",
            return_complex=True,
        )
        return (spec.real.square() + spec.imag.square()).transpose(-1, -2)

    def log_mel(self, power: torch.Tensor) -> torch.Tensor:
        """Power (..., frames, 257) → ``log10(1 + 10000·mel)`` (..., frames, 96)."""
        mel = torch.matmul(power, self.mel_basis.T)
        return torch.log10(1.0 + 10000.0 * mel)

    def forward(self, waveform: torch.Tensor) -> torch.Tensor:
        """Waveform (..., samples) at 16 kHz → log-mel (..., frames, 96)."""
        return self.log_mel(self.power(waveform))


def repeat_pad(waveform: torch.Tensor, *, min_samples: int = PATCH_SAMPLES) -> torch.Tensor:
    """Repeat a short waveform (..., samples) until it has ``min_samples`` (musicnn's training
    used ``pad_short: repeat-pad``); longer input is returned unchanged."""
    n = waveform.shape[-1]
    if n >= min_samples or n == 0:
        return waveform
    reps = -(-min_samples // n)
    return waveform.repeat(*([1] * (waveform.dim() - 1)), reps)[..., :min_samples]


def to_patches(log_mel: torch.Tensor) -> torch.Tensor:
    """Log-mel (frames, 96) → non-overlapping patches (n, 187, 96); a trailing partial patch is
    dropped, as musicnn does. Input shorter than one patch must be repeat-padded first."""
    n = log_mel.shape[0] // PATCH_FRAMES
    return log_mel[: n * PATCH_FRAMES].reshape(n, PATCH_FRAMES, log_mel.shape[-1])
