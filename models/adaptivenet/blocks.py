"""Residual blocks of the backbone and the two ways AdaptiveNet derives new branches from them.

- :func:`merged_block` (ALGORITHMS 3.1, choices 1/2): a copy of ``b_i`` that replaces
  ``b_i .. b_{i+k}``: its 3x3 conv takes the product of the span's strides (the artifact's
  ``max``; equal whenever a span crosses at most one downsampling), ``conv3``/``bn3`` are new
  when the output width changes, and a 1x1-conv+BN shortcut is used when input and output
  shapes differ. Tensors whose shapes still match are copied from ``b_i``.
- :func:`shrunk_block` (choices -1/-2): ``b_i`` with ``floor(rate * mid)`` inner channels
  removed. We remove the channels of least L1 norm (of the conv producing them), not the first
  ones as the artifact does, so the shrunk copy starts closer to the original function.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Sequence
from typing import cast

import torch
from torch import nn

__all__ = ["Bottleneck", "merged_block", "shrunk_block"]


def _conv_bn(cin: int, cout: int, k: int, stride: int = 1) -> tuple[nn.Conv2d, nn.BatchNorm2d]:
    return nn.Conv2d(cin, cout, k, stride=stride, padding=k // 2, bias=False), nn.BatchNorm2d(cout)


class Bottleneck(nn.Module):
    """1x1 (in -> mid) -> 3x3 (mid -> mid, stride) -> 1x1 (mid -> out), plus a shortcut that
    is the identity when shapes match and a 1x1 conv + BN otherwise; ends in a ReLU."""

    def __init__(self, cin: int, mid: int, cout: int, stride: int = 1) -> None:
        super().__init__()
        self.cin, self.mid, self.cout, self.stride = cin, mid, cout, stride
        self.conv1, self.bn1 = _conv_bn(cin, mid, 1)
        self.conv2, self.bn2 = _conv_bn(mid, mid, 3, stride)
        self.conv3, self.bn3 = _conv_bn(mid, cout, 1)
        self.relu = nn.ReLU()
        self.downsample: nn.Module | None = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(*_conv_bn(cin, cout, 1, stride))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        identity = x if self.downsample is None else self.downsample(x)
        return self.relu(out + identity)

    def describe(self) -> dict[str, int]:
        return {"cin": self.cin, "mid": self.mid, "cout": self.cout, "stride": self.stride}


def _copy_matching(dst: nn.Module, src: nn.Module) -> int:
    """Copy every parameter/buffer of ``src`` into ``dst`` where names and shapes match;
    returns how many tensors were copied."""
    theirs = src.state_dict()
    mine = dst.state_dict()
    same = {k: v.clone() for k, v in theirs.items() if k in mine and mine[k].shape == v.shape}
    mine.update(same)
    dst.load_state_dict(mine)
    return len(same)


def merged_block(blocks: Sequence[Bottleneck], start: int, extra: int) -> Bottleneck:
    """One block replacing ``blocks[start .. start + extra]`` (same input and output shape as
    that run of blocks), initialised from ``blocks[start]`` where shapes match."""
    if extra < 1 or start + extra >= len(blocks):
        raise ValueError(f"merge of {extra + 1} blocks at position {start} does not fit "
                         f"{len(blocks)} blocks")
    first, last = blocks[start], blocks[start + extra]
    stride = math.prod(b.stride for b in blocks[start:start + extra + 1])
    merged = Bottleneck(first.cin, first.mid, last.cout, stride)
    _copy_matching(merged, first)
    return merged


def _keep(weight: torch.Tensor, keep: int) -> torch.Tensor:
    """Indices (sorted) of the ``keep`` output channels of largest L1 norm."""
    norms = weight.detach().abs().flatten(1).sum(dim=1)
    idx = torch.argsort(norms, descending=True, stable=True)[:keep]
    return torch.sort(idx).values


def _slice_bn(bn: nn.BatchNorm2d, idx: torch.Tensor) -> nn.BatchNorm2d:
    out = nn.BatchNorm2d(len(idx), eps=bn.eps, momentum=bn.momentum)
    with torch.no_grad():
        for name in ("weight", "bias", "running_mean", "running_var", "num_batches_tracked"):
            src = cast(torch.Tensor, getattr(bn, name))
            cast(torch.Tensor, getattr(out, name)).copy_(src if src.ndim == 0 else src[idx])
    return out


def shrunk_block(block: Bottleneck, rate: float) -> Bottleneck:
    """A copy of ``block`` with ``floor(rate * mid)`` inner channels pruned (least L1 first)."""
    if not 0.0 < rate < 1.0:
        raise ValueError(f"shrink rate must be in (0, 1), got {rate}")
    keep = block.mid - math.floor(rate * block.mid)
    if keep < 1:
        raise ValueError(f"shrinking {block.mid} channels by {rate} leaves none")
    out = copy.deepcopy(block)
    out.mid = keep
    i1 = _keep(block.conv1.weight, keep)
    i2 = _keep(block.conv2.weight[:, i1], keep)
    with torch.no_grad():
        out.conv1 = nn.Conv2d(block.cin, keep, 1, bias=False)
        out.conv1.weight.copy_(block.conv1.weight[i1])
        out.bn1 = _slice_bn(block.bn1, i1)
        out.conv2 = nn.Conv2d(keep, keep, 3, stride=block.stride, padding=1, bias=False)
        out.conv2.weight.copy_(block.conv2.weight[i2][:, i1])
        out.bn2 = _slice_bn(block.bn2, i2)
        out.conv3 = nn.Conv2d(keep, block.cout, 1, bias=False)
        out.conv3.weight.copy_(block.conv3.weight[:, i2])
    return out
