"""The elastic MBConv block of the OFA supernet: kernel and expand ratio chosen per call.

Input and output widths are fixed per position; the middle (expanded) width follows the
expand ratio, and channel re-sorting keeps the most important middle channels first
(ALGORITHMS 4.1).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from models.elastic import (
    DynamicBatchNorm2d,
    DynamicConv2d,
    DynamicDepthwiseConv2d,
    DynamicSE,
    make_divisible,
)
from models.ofa.blocks import MBConvBlock

__all__ = ["DynamicMBConv"]


class DynamicMBConv(nn.Module):
    """Inverted bottleneck with elastic kernel and expand ratio (fixed in/out widths)."""

    def __init__(
        self, cin: int, cout: int, stride: int, kernels: Sequence[int], expands: Sequence[int],
        se: bool, hswish: bool,
    ) -> None:
        super().__init__()
        self.cin, self.cout, self.stride = cin, cout, stride
        self.expands = tuple(expands)
        self.kernels = tuple(kernels)
        self.use_se, self.hswish = se, hswish
        self.max_mid = self.mid(max(expands))
        self.expand_conv = DynamicConv2d(cin, self.max_mid, 1)
        self.expand_bn = DynamicBatchNorm2d(self.max_mid)
        self.dw = DynamicDepthwiseConv2d(self.max_mid, kernels, stride)
        self.dw_bn = DynamicBatchNorm2d(self.max_mid)
        self.se = DynamicSE(self.max_mid) if se else None
        self.project = DynamicConv2d(self.max_mid, cout, 1)
        self.project_bn = DynamicBatchNorm2d(cout)
        self.residual = stride == 1 and cin == cout
        self.active_kernel, self.active_expand = max(kernels), max(expands)

    def mid(self, expand: int) -> int:
        """Middle (expanded) width for an expand ratio."""
        return make_divisible(self.cin * expand, 8)

    def _act(self, x: torch.Tensor) -> torch.Tensor:
        return F.hardswish(x) if self.hswish else F.relu(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.expand_conv.active_out = self.mid(self.active_expand)
        self.dw.active_kernel = self.active_kernel
        y = self._act(self.expand_bn(self.expand_conv(x)))
        y = self._act(self.dw_bn(self.dw(y)))
        if self.se is not None:
            y = self.se(y)
        y = self.project_bn(self.project(y))
        return x + y if self.residual else y

    def export(self, kernel: int, expand: int) -> MBConvBlock:
        """A static block with this kernel and expand ratio (weights copied)."""
        mid = self.mid(expand)
        self.expand_conv.active_out = mid
        self.dw.active_kernel = kernel
        act = nn.Hardswish if self.hswish else nn.ReLU
        block = MBConvBlock(
            expand=nn.Sequential(
                self.expand_conv.export(self.cin), self.expand_bn.export(mid), act()
            ),
            depthwise=nn.Sequential(self.dw.export(mid), self.dw_bn.export(mid), act()),
            se=self.se.export(mid) if self.se is not None else nn.Identity(),
            project=nn.Sequential(self.project.export(mid), self.project_bn.export(self.cout)),
            residual=self.residual,
        )
        self.expand_conv.active_out = self.mid(self.active_expand)
        self.dw.active_kernel = self.active_kernel
        return block

    @torch.no_grad()
    def sort_channels(self, expand_stage: int) -> None:
        """Re-order middle channels by importance so narrower widths keep the important ones.

        Importance of a middle channel is the L1 norm of its slice of the projection conv
        (ALGORITHMS 4.1). For ``expand_stage`` k > 0, channels beyond the ``k`` narrower
        widths already supported are pushed behind them, so learned nesting is preserved.
        The permutation is applied consistently, so the full-width function is unchanged.
        """
        widths = [self.mid(e) for e in sorted(self.expands, reverse=True)]
        imp = self.project.conv.weight.abs().sum(dim=(0, 2, 3))
        perm = _ranked(imp, widths, expand_stage)
        for t in (self.expand_conv.conv.weight, self.dw.weight):
            t.copy_(t[perm])
        for bn in (self.expand_bn.bn,):
            for t in (bn.weight, bn.bias, bn.running_mean, bn.running_var):
                t.copy_(t[perm])
        for t in (self.dw_bn.bn.weight, self.dw_bn.bn.bias, self.dw_bn.bn.running_mean,
                  self.dw_bn.bn.running_var):
            t.copy_(t[perm])
        self.project.conv.weight.copy_(self.project.conv.weight[:, perm])
        if self.se is not None:
            se = self.se
            se.reduce.weight.copy_(se.reduce.weight[:, perm])
            se.expand.weight.copy_(se.expand.weight[perm])
            se.expand.bias.copy_(se.expand.bias[perm])
            se_widths = [se.mid(w) for w in widths]
            se_imp = se.expand.weight.abs().sum(dim=(0, 2, 3))
            sperm = _ranked(se_imp, se_widths, expand_stage)
            se.reduce.weight.copy_(se.reduce.weight[sperm])
            se.reduce.bias.copy_(se.reduce.bias[sperm])
            se.expand.weight.copy_(se.expand.weight[:, sperm])


def _ranked(importance: torch.Tensor, widths: Sequence[int], stage: int) -> torch.Tensor:
    """Descending-importance permutation, keeping each of the first ``stage`` narrower
    widths' channel sets ahead of the channels outside it (OFA's -1e5 offsets)."""
    imp = importance.clone().double()
    right = len(imp)
    base = -len(widths) * 1e5
    for i in range(min(stage + 1, len(widths))):
        left = widths[i]
        imp[left:right] += base
        base += 1e5
        right = left
    return torch.argsort(imp, descending=True, stable=True)
