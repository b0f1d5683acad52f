"""The pretrained model AdaptiveNet grows its supernet from: a bottleneck ResNet for 32x32 inputs.

The backbone is a stem, a flat sequence of blocks ``b_1 .. b_N`` (the supernet's positions)
and a head; ``forward_features`` stops before the head.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

import torch
from torch import nn

from models.adaptivenet.blocks import Bottleneck

__all__ = ["SCALES", "BackboneConfig", "Head", "ResNetBackbone", "Stem"]


@dataclass(frozen=True)
class BackboneConfig:
    """Output width and depth per stage (stage k > 0 halves the resolution); bottleneck inner
    width = output width / ``expansion``."""

    widths: tuple[int, ...] = (64, 128, 256)
    depths: tuple[int, ...] = (3, 3, 3)
    stem_width: int = 32
    expansion: int = 4
    in_channels: int = 3
    classes: int = 10
    input_size: int = 32

    def __post_init__(self) -> None:
        if not self.widths or len(self.widths) != len(self.depths):
            raise ValueError(f"backbone: widths {self.widths} and depths {self.depths} must pair up")
        if min(self.depths) < 1 or min(self.widths) < self.expansion or self.stem_width < 1:
            raise ValueError(f"backbone: depths >= 1 and widths >= expansion expected, got "
                             f"{self.widths}, {self.depths}")
        if self.input_size % (2 ** (len(self.widths) - 1)):
            raise ValueError(f"backbone: input_size {self.input_size} is not divisible by the "
                             f"strides of {len(self.widths)} stages")

    def block_shapes(self) -> list[tuple[int, int, int, int]]:
        """(cin, mid, cout, stride) of every block, in order."""
        out, cin = [], self.stem_width
        for k, (w, d) in enumerate(zip(self.widths, self.depths, strict=True)):
            for j in range(d):
                out.append((cin, w // self.expansion, w, 2 if k > 0 and j == 0 else 1))
                cin = w
        return out

    def block_input_shapes(self) -> list[tuple[int, int, int]]:
        """(channels, height, width) entering every block, in order."""
        out, size = [], self.input_size
        for cin, _, _, stride in self.block_shapes():
            out.append((cin, size, size))
            size = (size - 1) // stride + 1
        return out

    def feature_shape(self) -> tuple[int, int, int]:
        """(channels, height, width) leaving the last block (the head's input)."""
        _, size, _ = self.block_input_shapes()[-1]
        stride = self.block_shapes()[-1][3]
        return (self.widths[-1], (size - 1) // stride + 1, (size - 1) // stride + 1)

    def to_dict(self) -> dict[str, Any]:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> BackboneConfig:
        kw: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in d.items()}
        return cls(**kw)


SCALES: dict[str, BackboneConfig] = {
    "tiny": BackboneConfig(widths=(16, 32), depths=(2, 2), stem_width=8),
    "standard": BackboneConfig(widths=(96, 192, 384), depths=(3, 3, 3), stem_width=32),
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


class Head(nn.Module):
    """Global average pooling -> linear classifier."""

    def __init__(self, cin: int, classes: int) -> None:
        super().__init__()
        self.fc = nn.Linear(cin, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(torch.flatten(nn.functional.adaptive_avg_pool2d(x, 1), 1))


class ResNetBackbone(nn.Module):
    """Stem -> blocks -> head; the pretrained model of the elastified family."""

    def __init__(self, cfg: BackboneConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.stem = Stem(cfg.in_channels, cfg.stem_width)
        self.blocks = nn.ModuleList(Bottleneck(*s) for s in cfg.block_shapes())
        self.head = Head(cfg.widths[-1], cfg.classes)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stem(x)
        for b in self.blocks:
            x = b(x)
        return x

    def forward_head(self, features: torch.Tensor) -> torch.Tensor:
        return self.head(features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_head(self.forward_features(x))
