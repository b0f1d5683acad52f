"""Sizes and work of the PORTEND networks, derived from their architecture (no torch).

PORTEND publishes latencies, tensor shapes and exit statistics but no model sizes or FLOPs.
The simulator needs ``weight_bytes`` (memory budget, model loads) and each exit's and split's
position as a share of the backbone's work (``flops_fraction``), so both are derived here
from the layer shapes of the authors' models (``instance_folder/codes/EfficientNet.py`` and
``ResNet_CIFAR.py`` of ``MaryamEbr/PORTEND_Performance_Model`` at daea47d), block by block:

- EfficientNet-B0/B7: torchvision's EfficientNet (stem conv; seven MBConv stages with
  squeeze-excitation, channels rounded to multiples of 8 after the width multiplier, layers
  rounded up after the depth multiplier; the last stage ends with the 1x1 conv to 4x its
  channels), convolutions without bias, each followed by BatchNorm; an exit after every
  block: average pool + linear layer to the classes (the last one is the classifier).
- ResNet-20/110 (CIFAR): a 3x3 stem conv to 16 channels, then 3n basic blocks of 16, 32
  and 64 channels (the first of the 32 and 64 stages with stride 2 and a 1x1 projection
  shortcut without BatchNorm); every convolution has a bias (PyTorch's default, which the
  authors' code keeps); an exit after every block: average pool + linear layer.

``weight_bytes`` = 4 x (parameters + BatchNorm running mean and variance), the convention of
:mod:`sim.importers.arch_params`. Work is counted as multiply-accumulates of convolutions and
linear layers (BatchNorm, activations, pooling and additions left out, as FLOP counts
usually do). Each block's output shape is derived too, and the importer checks it against
the published shapes before it uses any of these numbers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["ARCHITECTURES", "Block", "Network", "efficientnet", "resnet_cifar"]


@dataclass(frozen=True)
class Block:
    """One block of the backbone: its parameters, BN buffer elements, multiply-accumulates
    and output shape (C, H, W); and the exit head after it."""

    params: int
    buffers: int
    macs: int
    shape: tuple[int, int, int]
    exit_params: int
    exit_macs: int


@dataclass(frozen=True)
class Network:
    """A PORTEND network: where its numbers come from and its blocks, first to last."""

    source: str
    """model name in the published files, e.g. ``EfficientNetB0``"""
    dataset: str
    """data set name in the published files, e.g. ``ImageNet``"""
    family: str
    variant: str
    task: str
    classes: int
    input_shape: tuple[int, int, int]
    blocks: tuple[Block, ...]
    description: str

    @property
    def params(self) -> int:
        """Parameters of the backbone and every exit head (the last one is the classifier)."""
        return sum(b.params + b.exit_params for b in self.blocks)

    @property
    def weight_bytes(self) -> int:
        return 4 * (self.params + sum(b.buffers for b in self.blocks))

    def backbone_fraction(self, k: int) -> float:
        """Share of the backbone's multiply-accumulates in blocks 1..k (exit heads excluded)."""
        total = sum(b.macs for b in self.blocks)
        return sum(b.macs for b in self.blocks[:k]) / total


class _Tally:
    """Counts of one block as its layers are added; tracks the spatial size."""

    def __init__(self, h: int, w: int) -> None:
        self.params = self.buffers = self.macs = 0
        self.h, self.w = h, w

    def conv(self, cin: int, cout: int, k: int, stride: int = 1, groups: int = 1,
             bias: bool = False, bn: bool = True) -> None:
        pad = (k - 1) // 2
        self.h = (self.h + 2 * pad - k) // stride + 1
        self.w = (self.w + 2 * pad - k) // stride + 1
        weights = cout * (cin // groups) * k * k
        self.params += weights + (cout if bias else 0)
        self.macs += weights * self.h * self.w
        if bn:
            self.params += 2 * cout
            self.buffers += 2 * cout

    def pointwise_on_pooled(self, cin: int, cout: int) -> None:
        """A 1x1 conv with bias on a globally pooled (1x1) input (squeeze-excitation)."""
        self.params += cin * cout + cout
        self.macs += cin * cout


def _block(t: _Tally, channels: int, classes: int) -> Block:
    return Block(t.params, t.buffers, t.macs, (channels, t.h, t.w),
                 exit_params=channels * classes + classes, exit_macs=channels * classes)


def _divisible(v: float, divisor: int = 8) -> int:
    new_v = max(divisor, int(v + divisor / 2) // divisor * divisor)
    return new_v + divisor if new_v < 0.9 * v else new_v


_STAGES = (  # expand ratio, kernel, stride, in, out, layers (EfficientNet-B0 base)
    (1, 3, 1, 32, 16, 1), (6, 3, 2, 16, 24, 2), (6, 5, 2, 24, 40, 2), (6, 3, 2, 40, 80, 3),
    (6, 5, 1, 80, 112, 3), (6, 5, 2, 112, 192, 4), (6, 3, 1, 192, 320, 1),
)


def efficientnet(width: float, depth: float, resolution: int,
                 classes: int = 1000) -> tuple[Block, ...]:
    """The 8 blocks of an EfficientNet (stem + 7 stages) for a square input."""
    t = _Tally(resolution, resolution)
    stem = _divisible(32 * width)
    t.conv(3, stem, 3, stride=2)
    blocks = [_block(t, stem, classes)]
    for i, (ratio, k, stride, cin, cout, layers) in enumerate(_STAGES):
        t = _Tally(t.h, t.w)
        cin, cout = _divisible(cin * width), _divisible(cout * width)
        for j in range(int(math.ceil(layers * depth))):
            c_in = cin if j == 0 else cout
            mid = _divisible(c_in * ratio)
            if mid != c_in:
                t.conv(c_in, mid, 1)
            t.conv(mid, mid, k, stride=stride if j == 0 else 1, groups=mid)
            squeeze = max(1, c_in // 4)
            t.pointwise_on_pooled(mid, squeeze)
            t.pointwise_on_pooled(squeeze, mid)
            t.conv(mid, cout, 1)
        out = cout
        if i == len(_STAGES) - 1:  # the last stage ends with the 1x1 conv to 4x channels
            out = 4 * cout
            t.conv(cout, out, 1)
        blocks.append(_block(t, out, classes))
    return tuple(blocks)


def resnet_cifar(n: int, classes: int = 10, resolution: int = 32) -> tuple[Block, ...]:
    """The 3n + 1 blocks of a CIFAR ResNet-(6n+2) (stem + 3n basic blocks)."""
    t = _Tally(resolution, resolution)
    t.conv(3, 16, 3, bias=True)
    blocks = [_block(t, 16, classes)]
    cin = 16
    for width in (16, 32, 64):
        for j in range(n):
            t = _Tally(t.h, t.w)
            stride = 2 if j == 0 and width != 16 else 1
            h, w = t.h, t.w
            t.conv(cin, width, 3, stride=stride, bias=True)
            t.conv(width, width, 3, bias=True)
            if stride != 1:  # 1x1 projection shortcut with bias, no BatchNorm
                shortcut = _Tally(h, w)
                shortcut.conv(cin, width, 1, stride=stride, bias=True, bn=False)
                t.params += shortcut.params
                t.macs += shortcut.macs
            blocks.append(_block(t, width, classes))
            cin = width
    return tuple(blocks)


_B0 = "EfficientNet-B0 (width 1.0, depth 1.0, 224 px) with an exit after each of its 8 blocks"
_B7 = "EfficientNet-B7 (width 2.0, depth 3.1, 600 px) with an exit after each of its 8 blocks"
_R20 = "ResNet-20 for CIFAR (n = 3) with an exit after each of its 10 blocks"
_R110 = "ResNet-110 for CIFAR (n = 18) with an exit after each of its 55 blocks"

ARCHITECTURES: dict[tuple[str, str], Network] = {
    ("EfficientNetB0", "ImageNet"): Network(
        "EfficientNetB0", "ImageNet", "portend-efficientnet-b0", "efficientnet-b0",
        "imagenet", 1000, (3, 224, 224), efficientnet(1.0, 1.0, 224), _B0),
    ("EfficientNetB7", "ImageNet"): Network(
        "EfficientNetB7", "ImageNet", "portend-efficientnet-b7", "efficientnet-b7",
        "imagenet", 1000, (3, 600, 600), efficientnet(2.0, 3.1, 600), _B7),
    ("ResNet20", "CIFAR10"): Network(
        "ResNet20", "CIFAR10", "portend-resnet20", "resnet20", "cifar10", 10, (3, 32, 32),
        resnet_cifar(3), _R20),
    ("ResNet110", "CIFAR10"): Network(
        "ResNet110", "CIFAR10", "portend-resnet110", "resnet110", "cifar10", 10, (3, 32, 32),
        resnet_cifar(18), _R110),
}
"""The networks whose architecture the importer knows, by (model, data set) as the
published file names give them."""
