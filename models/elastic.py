"""Elastic operators: one set of weights, many active sizes (once-for-all, ALGORITHMS 4.1).

Every operator holds the weights of its largest configuration and runs a smaller one by
slicing: the first ``C`` channels, the centre of the kernel (through learned transforms),
the first ``d`` blocks. Each has an ``export`` that returns the plain ``torch.nn`` layer with
the active slice copied out, so an exported subnet computes exactly what the supernet does.

Channel counts are read from the input (``x.shape[1]``) wherever the previous layer decides
them; the operator's own output width is an attribute set by the block that owns it.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

__all__ = [
    "DynamicBatchNorm2d",
    "DynamicConv2d",
    "DynamicDepthwiseConv2d",
    "DynamicLinear",
    "DynamicSE",
    "ElasticStage",
    "SqueezeExcite",
    "make_divisible",
]


def make_divisible(v: float, divisor: int = 8, min_value: int | None = None) -> int:
    """Round ``v`` to a multiple of ``divisor`` without going more than 10 % below it."""
    min_value = divisor if min_value is None else min_value
    out = max(min_value, int(v + divisor / 2) // divisor * divisor)
    if out < 0.9 * v:
        out += divisor
    return out


class DynamicConv2d(nn.Module):
    """Dense convolution with elastic input and output channels (first channels kept)."""

    def __init__(
        self, max_in: int, max_out: int, kernel_size: int = 1, stride: int = 1,
        bias: bool = False,
    ) -> None:
        super().__init__()
        self.conv = nn.Conv2d(
            max_in, max_out, kernel_size, stride=stride, padding=kernel_size // 2, bias=bias
        )
        self.active_out = max_out

    def _params(self, cin: int) -> tuple[torch.Tensor, torch.Tensor | None]:
        w = self.conv.weight[: self.active_out, :cin]
        b = None if self.conv.bias is None else self.conv.bias[: self.active_out]
        return w, b

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        w, b = self._params(x.shape[1])
        return F.conv2d(x, w, b, self.conv.stride, self.conv.padding)

    def export(self, cin: int) -> nn.Conv2d:
        """A plain ``nn.Conv2d`` for input width ``cin`` and the active output width."""
        w, b = self._params(cin)
        k = self.conv.kernel_size
        out = nn.Conv2d(cin, w.shape[0], k, self.conv.stride, self.conv.padding, bias=b is not None)
        with torch.no_grad():
            out.weight.copy_(w)
            if b is not None:
                out.bias.copy_(b)
        return out


class DynamicDepthwiseConv2d(nn.Module):
    """Depthwise convolution with an elastic kernel size and elastic channels.

    One ``k_max x k_max`` weight. A smaller kernel takes the centre crop of the next larger
    *transformed* kernel, flattens it and multiplies by a learned ``k^2 x k^2`` matrix shared
    across channels (7 -> 5 by 25x25, then 5 -> 3 by 9x9), initialised to the identity.
    """

    def __init__(self, max_channels: int, kernel_sizes: Sequence[int], stride: int = 1) -> None:
        super().__init__()
        ks = sorted(set(int(k) for k in kernel_sizes))
        if not ks or any(k < 1 or k % 2 == 0 for k in ks):
            raise ValueError(f"kernel sizes must be odd and positive, got {list(kernel_sizes)}")
        self.kernel_sizes = tuple(ks)
        self.max_kernel = ks[-1]
        self.stride = stride
        self.weight = nn.Parameter(torch.empty(max_channels, 1, self.max_kernel, self.max_kernel))
        nn.init.kaiming_normal_(self.weight, mode="fan_out")
        # names like "7to5_matrix" are not attribute-safe; keep them in a ParameterDict
        self.transforms = nn.ParameterDict({
            f"{big}to{small}": nn.Parameter(torch.eye(small * small))
            for big, small in zip(ks[::-1], ks[::-1][1:], strict=False)
        })
        self.active_kernel = self.max_kernel

    def active_filter(self, channels: int, kernel: int) -> torch.Tensor:
        """The ``(channels, 1, kernel, kernel)`` filter of this kernel size."""
        if kernel not in self.kernel_sizes:
            raise ValueError(f"kernel {kernel} not in {self.kernel_sizes}")
        filt = self.weight[:channels]
        size = self.max_kernel
        for small in reversed(self.kernel_sizes[:-1]):
            if small < kernel:
                break
            lo = (size - small) // 2
            crop = filt[:, :, lo:lo + small, lo:lo + small].contiguous()
            mat = self.transforms[f"{size}to{small}"]
            filt = (crop.view(channels, small * small) @ mat).view(channels, 1, small, small)
            size = small
        return filt

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        c, k = x.shape[1], self.active_kernel
        return F.conv2d(x, self.active_filter(c, k), None, self.stride, k // 2, 1, c)

    def export(self, channels: int) -> nn.Conv2d:
        """A plain depthwise ``nn.Conv2d`` with the active kernel's filter."""
        k = self.active_kernel
        out = nn.Conv2d(channels, channels, k, self.stride, k // 2, groups=channels, bias=False)
        with torch.no_grad():
            out.weight.copy_(self.active_filter(channels, k))
        return out


class DynamicBatchNorm2d(nn.Module):
    """BatchNorm over the first ``C`` channels of its running statistics and affine terms.

    In training mode the sliced running statistics are updated in place, so a narrow subnet
    refreshes exactly the channels it uses.
    """

    def __init__(self, max_channels: int) -> None:
        super().__init__()
        self.bn = nn.BatchNorm2d(max_channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        bn, c = self.bn, x.shape[1]
        if c == bn.num_features:
            return bn(x)
        factor = 0.0
        if bn.training and bn.track_running_stats:
            bn.num_batches_tracked.add_(1)
            momentum = bn.momentum
            factor = 1.0 / float(bn.num_batches_tracked) if momentum is None else momentum
        use_batch = bn.training or not bn.track_running_stats
        return F.batch_norm(
            x, bn.running_mean[:c], bn.running_var[:c], bn.weight[:c], bn.bias[:c],
            use_batch, factor, bn.eps,
        )

    def export(self, channels: int) -> nn.BatchNorm2d:
        """A plain ``nn.BatchNorm2d`` holding the first ``channels`` statistics."""
        out = nn.BatchNorm2d(channels, eps=self.bn.eps, momentum=self.bn.momentum)
        with torch.no_grad():
            out.weight.copy_(self.bn.weight[:channels])
            out.bias.copy_(self.bn.bias[:channels])
            out.running_mean.copy_(self.bn.running_mean[:channels])
            out.running_var.copy_(self.bn.running_var[:channels])
            out.num_batches_tracked.copy_(self.bn.num_batches_tracked)
        return out


class DynamicLinear(nn.Module):
    """Fully connected layer with an elastic input width (first features kept)."""

    def __init__(self, max_in: int, out_features: int, bias: bool = True) -> None:
        super().__init__()
        self.linear = nn.Linear(max_in, out_features, bias=bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.linear(x, self.linear.weight[:, : x.shape[-1]], self.linear.bias)

    def export(self, cin: int) -> nn.Linear:
        """A plain ``nn.Linear`` for input width ``cin``."""
        bias = self.linear.bias is not None
        out = nn.Linear(cin, self.linear.out_features, bias=bias)
        with torch.no_grad():
            out.weight.copy_(self.linear.weight[:, :cin])
            if bias:
                out.bias.copy_(self.linear.bias)
        return out


class SqueezeExcite(nn.Module):
    """Static squeeze-and-excite (MobileNetV3): pool, reduce 1x1 + ReLU, expand 1x1, h-sigmoid."""

    def __init__(self, reduce: nn.Conv2d, expand: nn.Conv2d) -> None:
        super().__init__()
        self.reduce, self.expand = reduce, expand
        self.act, self.gate = nn.ReLU(), nn.Hardsigmoid()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        s = x.mean((2, 3), keepdim=True)
        return x * self.gate(self.expand(self.act(self.reduce(s))))


class DynamicSE(nn.Module):
    """Squeeze-and-excite whose channel count follows the input and whose reduced width is
    ``make_divisible(C / reduction, divisor)`` of the active ``C`` (first channels kept)."""

    def __init__(self, max_channels: int, reduction: int = 4, divisor: int = 8) -> None:
        super().__init__()
        self.reduction, self.divisor = reduction, divisor
        mid = make_divisible(max_channels / reduction, divisor)
        self.reduce = nn.Conv2d(max_channels, mid, 1, bias=True)
        self.expand = nn.Conv2d(mid, max_channels, 1, bias=True)

    def mid(self, channels: int) -> int:
        """Reduced width used at input width ``channels``."""
        return min(self.reduce.out_channels, make_divisible(channels / self.reduction, self.divisor))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        c = x.shape[1]
        m = self.mid(c)
        s = x.mean((2, 3), keepdim=True)
        s = F.relu(F.conv2d(s, self.reduce.weight[:m, :c], self.reduce.bias[:m]))
        s = F.conv2d(s, self.expand.weight[:c, :m], self.expand.bias[:c])
        return x * F.hardsigmoid(s)

    def export(self, channels: int) -> SqueezeExcite:
        """A static :class:`SqueezeExcite` for input width ``channels``."""
        m = self.mid(channels)
        red, exp = nn.Conv2d(channels, m, 1), nn.Conv2d(m, channels, 1)
        with torch.no_grad():
            red.weight.copy_(self.reduce.weight[:m, :channels])
            red.bias.copy_(self.reduce.bias[:m])
            exp.weight.copy_(self.expand.weight[:channels, :m])
            exp.bias.copy_(self.expand.bias[:channels])
        return SqueezeExcite(red, exp)


class ElasticStage(nn.Module):
    """A stage of blocks with elastic depth: depth ``d`` runs the first ``d`` blocks."""

    def __init__(self, blocks: Sequence[nn.Module], min_depth: int = 1) -> None:
        super().__init__()
        if not 1 <= min_depth <= len(blocks):
            raise ValueError(f"min_depth {min_depth} must be in 1..{len(blocks)}")
        self.blocks = nn.ModuleList(blocks)
        self.min_depth = min_depth
        self.active_depth = len(blocks)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for block in self.blocks[: self.active_depth]:
            x = block(x)
        return x
