"""ResNet-style backbone for 32x32 inputs, cut into units that end in a ReLU.

Every unit (the stem, then each residual block) ends with a ReLU, so the boundaries between
units are SPINN's candidate split points and the places early exits attach. The head is kept
apart from :meth:`ResNetBackbone.forward_features` so exits and splits never touch it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn

__all__ = ["SCALES", "BasicBlock", "ResNetBackbone", "ResNetConfig", "Stem"]


@dataclass(frozen=True)
class ResNetConfig:
    """Widths and depths per stage; stage k > 0 halves the resolution."""

    widths: tuple[int, ...] = (16, 32, 64)
    depths: tuple[int, ...] = (3, 3, 3)
    in_channels: int = 3
    classes: int = 10
    input_size: int = 32

    def __post_init__(self) -> None:
        if not self.widths or len(self.widths) != len(self.depths):
            raise ValueError(f"widths {self.widths} and depths {self.depths} must pair up")
        if min(self.widths) < 1 or min(self.depths) < 1:
            raise ValueError(f"widths and depths must be >= 1, got {self.widths}, {self.depths}")
        if self.input_size % (2 ** (len(self.widths) - 1)):
            raise ValueError(f"input_size {self.input_size} is not divisible by the strides")

    def to_dict(self) -> dict[str, object]:
        """A JSON-friendly description (the profile's ``arch``)."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}


SCALES: dict[str, ResNetConfig] = {
    # 7 units: enough positions for the 15..90 % exits to stay apart
    "tiny": ResNetConfig(widths=(8, 16, 32), depths=(2, 2, 2)),
    # ResNet-20 layout (He et al. 2016, CIFAR variant) at 1.5x width: 10 units, ~0.18 GFLOPs
    "standard": ResNetConfig(widths=(24, 48, 96), depths=(3, 3, 3)),
}


class Stem(nn.Module):
    """conv3x3 -> BN -> ReLU at full resolution."""

    def __init__(self, cin: int, cout: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, 3, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(cout)
        self.relu = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.relu(self.bn(self.conv(x)))


class BasicBlock(nn.Module):
    """Two 3x3 convs with a residual connection; ends in a ReLU (a split point)."""

    def __init__(self, cin: int, cout: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.relu = nn.ReLU()
        self.shortcut: nn.Module = nn.Identity()
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(
                nn.Conv2d(cin, cout, 1, stride=stride, bias=False), nn.BatchNorm2d(cout)
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + self.shortcut(x))


class UnitBackbone(nn.Module):
    """A backbone as a list of units, each ending in a ReLU (the candidate split points),
    followed by a pooling + linear head. Subclasses build the units then call ``_finish``."""

    def _finish(self, units: list[nn.Module], names: list[str],
                shapes: list[tuple[int, int, int]], cin: int, classes: int) -> None:
        self.units = nn.ModuleList(units)
        self.unit_names: tuple[str, ...] = tuple(names)
        self.unit_shapes: tuple[tuple[int, int, int], ...] = tuple(shapes)
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(cin, classes))
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    def run_units(self, x: torch.Tensor, start: int, stop: int) -> torch.Tensor:
        """Apply units ``start .. stop-1`` to ``x`` (the output of unit ``start-1``)."""
        for unit in self.units[start:stop]:
            x = unit(x)
        return x

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """Output of the last unit (before the head)."""
        return self.run_units(x, 0, len(self.units))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.forward_features(x))


class ResNetBackbone(UnitBackbone):
    """``units`` (stem + blocks) then ``head`` (global average pool + linear).

    ``unit_names[i]`` names the split point after unit ``i``; ``unit_shapes[i]`` is the
    (channels, height, width) of its output for one input.
    """

    def __init__(self, cfg: ResNetConfig) -> None:
        super().__init__()
        self.cfg = cfg
        units: list[nn.Module] = [Stem(cfg.in_channels, cfg.widths[0])]
        names = ["stem"]
        shapes = [(cfg.widths[0], cfg.input_size, cfg.input_size)]
        cin, size = cfg.widths[0], cfg.input_size
        for s, (w, d) in enumerate(zip(cfg.widths, cfg.depths, strict=True)):
            for b in range(d):
                stride = 2 if s > 0 and b == 0 else 1
                size //= stride
                units.append(BasicBlock(cin, w, stride))
                names.append(f"s{s + 1}b{b + 1}")
                shapes.append((w, size, size))
                cin = w
        self._finish(units, names, shapes, cin, cfg.classes)
