"""conv → ReLU → BN → max over frequency, with a backward pass that uses the max's sparsity.

musicnn's front-end blocks end in a max over every frequency position, so only one of 30–96
positions per (channel, frame) receives gradient, and through the ReLU only where it fired:
on real music only ≈ 8–16 % of the timbral (channel, frame) pairs, concentrated in a few dozen
of the 204 channels (most channels are dead: running variance ≈ 1e-36). PyTorch's backward
runs dense elementwise passes and a dense transposed convolution over all channels. Here the
gradient goes through the pooling analytically; the winners' scaled kernels are summed per
input position (a small matmul over the channels that won) and scattered into the input
gradient (index_add). Measured on the demo clip, 30 s: 0.61 s per iteration for one scatter
per winner against 0.67 s for a transposed convolution restricted to the active channels and
1.04–1.13 s for PyTorch's own backward; summing per position first cut the backward of the
five front-end blocks from 27 to 9 ms per 2 patches (a 30-s iteration: 0.30 → 0.22 s). The
forward takes the max or min of the conv output per channel, by the sign of the BN scale (BN
after ReLU is monotone), instead of three elementwise passes. Values and gradients equal the
plain path to float rounding (tests compare them, on noise and on music); weights get no
gradient (frozen for dreaming; training uses the plain path). Tried and dropped: finding the
winning frequency only where the ReLU fired (amax, then an argmax over those rows) halved the
timbral block's forward-backward in isolation but made the dream's iteration slower (0.22 →
0.25 s).
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F


class _ConvReluBnMax(torch.autograd.Function):
    @staticmethod
    def forward(
        ctx: Any,
        x: torch.Tensor,
        weight: torch.Tensor,
        bias: torch.Tensor,
        bn_scale: torch.Tensor,
        bn_shift: torch.Tensor,
    ) -> torch.Tensor:
        # BN after ReLU is monotone per channel: the max over frequency of scale·relu(z)+shift
        # is taken at max_f z where scale ≥ 0 and at min_f z = −max_f(−z) where scale < 0.
        # Flipping the sign of those channels' kernels makes it one max reduction instead of
        # three elementwise passes over the (B, C, T, Fo) map; same values.
        sign = torch.where(bn_scale < 0, -1.0, 1.0)
        z = F.conv2d(x, weight * sign[:, None, None, None], bias * sign)  # (B, C, T, Fo)
        scale, shift = bn_scale[None, :, None], bn_shift[None, :, None]
        if not ctx.needs_input_grad[0]:
            chosen = z.amax(dim=3) * sign[None, :, None]
            return torch.relu(chosen) * scale + shift
        best, index = z.max(dim=3)
        chosen = best * sign[None, :, None]
        out = torch.relu(chosen) * scale + shift
        active = chosen > 0
        ctx.save_for_backward(weight, bn_scale, index, active)
        ctx.input_shape = x.shape
        ctx.out_freq = z.shape[3]
        return out

    @staticmethod
    def backward(ctx: Any, grad_out: torch.Tensor) -> tuple[torch.Tensor | None, ...]:
        weight, bn_scale, index, active = ctx.saved_tensors
        batch, _, height, width = ctx.input_shape
        channels, _, kh, kw = weight.shape
        # Gradient at each winning position: through BN (scale) and ReLU (active or not).
        g = grad_out * bn_scale[None, :, None]
        b, c, t = (active & (g != 0)).nonzero(as_tuple=True)
        values = g[b, c, t]
        # Top-left input position of each winner's kernel. Several channels often win at the
        # same position (≈ 3 winners per position on music), and few channels win at all, so
        # their scaled kernels are summed by one small matmul per position before the scatter:
        # a third of the scattered values (30-s dream backward: 27 → 9 ms per 2 patches).
        origin = (b * height + t) * width + index[b, c, t]
        positions, row = torch.unique(origin, return_inverse=True)
        used, column = torch.unique(c, return_inverse=True)
        per_position = torch.zeros(positions.numel(), used.numel(), dtype=grad_out.dtype)
        per_position[row, column] = values  # a channel wins once per (b, t): no cell twice
        kernels = per_position @ weight.reshape(channels, kh * kw)[used]  # (positions, kh·kw)
        # Scatter each position's summed kernel into the input gradient at (t + i, f + j).
        offsets = (torch.arange(kh).view(kh, 1) * width + torch.arange(kw).view(1, kw)).reshape(1, kh * kw)
        grad_x = torch.zeros(batch * height * width, dtype=grad_out.dtype)
        grad_x.index_add_(0, (positions.unsqueeze(1) + offsets).reshape(-1), kernels.reshape(-1))
        return grad_x.view(batch, 1, height, width), None, None, None, None


def conv_relu_bn_max(x: torch.Tensor, conv: torch.nn.Conv2d, bn: torch.nn.BatchNorm2d) -> torch.Tensor:
    """max_f(BN(ReLU(conv(x)))) for x (B, 1, H, W) → (B, C, T); eval-mode BN, frozen weights."""
    assert conv.bias is not None and bn.running_var is not None and bn.running_mean is not None
    scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)
    shift = bn.bias - bn.running_mean * scale
    out: torch.Tensor = _ConvReluBnMax.apply(  # type: ignore[no-untyped-call]
        x, conv.weight, conv.bias, scale.detach(), shift.detach()
    )
    return out
