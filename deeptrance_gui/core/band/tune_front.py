"""Keeping the tune in front: how often the line heard in front of a cover plays the original's
tune, differentiable in the band dream's parameters, so that the dream can make room for the
tune where the band covers it (a level, an EQ, a variant), and leave the band alone elsewhere.

The measure is a soft version of the one the cover is judged by
(:func:`~deeptrance_gui.core.analysis.identity.melody_presence`): the melody tracker
(:func:`~deeptrance_gui.core.analysis.transcribe.melody_line`) hears the loudest harmonic line
in the melody's range, by a harmonic sum of the magnitude spectrum. Here the mix's harmonic sum
is built from its parts' (every part variant and what the band plays over are summed once per
EQ band of the band dream; magnitudes are added, which is exact for partials that do not meet),
a softmax over the keys stands for the tracker's choice, and the term is the mean, over the
frames where the original's melody plays, of the weight the softmax gives the pitch class the
original's line plays there.

Left out, as approximations: the band's bass (the tracker notches the tracked bass's first
harmonics out of the melody's spectrum, and the band's bass plays under the melody's range)
and the tracker's continuity (a line that holds is preferred over a jump).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import numpy.typing as npt
import torch
from scipy import sparse

from deeptrance_gui.core.analysis.chroma import ANALYSIS_RATE_HZ, to_analysis_rate
from deeptrance_gui.core.analysis.transcribe import (
    HARMONICS,
    MELODY_KEYS,
    MELODY_N_FFT,
    TranscribedNote,
    harmonic_sum,
    melody_line,
)
from deeptrance_gui.core.audio.clip import FloatArray
from deeptrance_gui.core.band.keep_song import mixed
from deeptrance_gui.core.dsp.stft import bin_frequencies_hz, stft

#: Frames of the term (≈ 23 ms at the analysis rate: the tune's shortest notes are 50 ms).
TUNE_HOP = 512
#: Softmax temperature, as a share of the frame's largest salience: a key 5 % below the
#: largest weighs e⁻¹ of it.
SOFT_PICK = 0.05


class TuneFront:
    """The share of the original's melody frames where the mix's line plays the original's
    pitch class, as a function of the band dream's parameters (see the module docstring)."""

    def __init__(
        self,
        reference: FloatArray,
        under: FloatArray,
        melody: Sequence[TranscribedNote],
        n_variants: list[int],
        *,
        sample_rate_hz: int,
        band_weights: Callable[[npt.NDArray[np.float64]], npt.NDArray[np.float32]],
    ) -> None:
        """``reference``: the original region (channels, frames), whose line is the target;
        ``under``: what the band plays over; ``melody``: the original's melody notes (their
        spans are where the term is read); ``n_variants``: each part's number of variants (each
        added with :meth:`add_variant`; a variant never added is silent to the term); ``band_weights(frequencies_hz)``:
        (bins, bands) of the dream's EQ bands."""
        matrix, grid = harmonic_sum(n_fft=MELODY_N_FFT, keys=MELODY_KEYS, harmonics=HARMONICS)
        # Each key sums 16 bins of 1025: sparse, so the set-up costs a few ms per part variant.
        self.matrix = sparse.csr_matrix(matrix)
        self.weights = band_weights(bin_frequencies_hz(n_fft=MELODY_N_FFT, sample_rate_hz=ANALYSIS_RATE_HZ))  # (bins, B)
        hop_s = TUNE_HOP / ANALYSIS_RATE_HZ
        under_mono = to_analysis_rate(under, sample_rate_hz=sample_rate_hz)
        n_frames = 1 + under_mono.shape[1] // TUNE_HOP  # centred STFT
        frame_times_s = np.arange(n_frames, dtype=np.float64) * hop_s
        # The target: the original's own line, frame by frame, where its melody notes play.
        line, line_hop_s = melody_line(reference, sample_rate_hz=sample_rate_hz)
        keys = line[np.minimum((frame_times_s / line_hop_s).astype(np.int64), line.size - 1)]
        inside = np.zeros(frame_times_s.size, dtype=bool)
        for note in melody:
            inside[int(note.start_s / hop_s) : int(np.ceil((note.start_s + note.duration_s) / hop_s))] = True
        # Only those frames are kept: the term reads nothing else.
        self.frames = np.flatnonzero(inside & ~np.isnan(keys))
        #: Seconds of the frames the term reads (where the dream's gains are wanted).
        self.times_s: npt.NDArray[np.float64] = frame_times_s[self.frames]
        self.under = self._per_band(under_mono)  # (B, frames read, keys)
        self.parts = torch.zeros((len(n_variants), max(n_variants), *self.under.shape))
        classes = np.round(keys[self.frames]).astype(np.int64) % 12
        key_classes = np.round(grid).astype(np.int64) % 12
        self.target = torch.from_numpy((key_classes[None, :] == classes[:, None]).astype(np.float32))  # (frames, keys)

    def _per_band(self, mono: FloatArray) -> torch.Tensor:
        """Harmonic sum of ``mono``'s magnitude (analysis rate, (1, frames)) per EQ band at the
        frames the term reads, (bands, frames, keys)."""
        magnitude = np.abs(stft(mono, n_fft=MELODY_N_FFT, hop=TUNE_HOP)[0]).astype(np.float32)
        magnitude = magnitude[:, self.frames[self.frames < magnitude.shape[1]]]  # a render a frame short: silence
        out = np.zeros((self.weights.shape[1], self.frames.size, self.matrix.shape[0]), dtype=np.float32)
        for band in range(self.weights.shape[1]):
            out[band, : magnitude.shape[1]] = (self.matrix @ (self.weights[:, band, None] * magnitude)).T
        return torch.from_numpy(out)

    def add_variant(self, part: int, variant: int, mono: FloatArray) -> None:
        """Part ``part``'s variant ``variant`` as rendered at the style's balance, in mono at the
        analysis rate (as :meth:`~deeptrance_gui.core.band.keep_song.SongChroma.add_variant`)."""
        self.parts[part, variant] = self._per_band(mono)

    def in_front(
        self,
        variant_weights: torch.Tensor,
        part_gain_db: torch.Tensor,
        under_gain_db: torch.Tensor | None,
        band_scale: torch.Tensor,
    ) -> torch.Tensor:
        """Mean share (0–1) of the original's melody frames where the mix's line plays its pitch
        class; the parameters as :meth:`~deeptrance_gui.core.band.keep_song.SongChroma.similarity`
        takes them (``band_scale``: the band's amplitude against the track), the gains at
        :attr:`times_s`."""
        if self.frames.size == 0:
            return torch.zeros(())
        mix = mixed(self.parts, self.under, variant_weights, part_gain_db, under_gain_db, band_scale, db=20.0)
        peak = mix.amax(dim=1, keepdim=True).clamp_min(1e-12)
        pick = torch.softmax(mix / (SOFT_PICK * peak), dim=1)
        share: torch.Tensor = (pick * self.target).sum(dim=1).mean()
        return share
