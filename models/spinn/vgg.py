"""VGG-style backbone for 32x32 inputs with the same unit interface as the ResNet.

Each unit is conv3x3 -> BN -> ReLU; the last unit of every stage but the final one ends with
a 2x2 max-pool (a pool of ReLU outputs, still non-negative), so splitting after a stage sends
the pooled map. Without residual connections the activations are larger and less sparse
than the ResNet's, which gives SPINN a second, differently shaped split profile.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn

from models.spinn.network import UnitBackbone

__all__ = ["VGG_SCALES", "ConvUnit", "VGGBackbone", "VGGConfig"]


@dataclass(frozen=True)
class VGGConfig:
    """Widths and conv counts per stage; every stage but the last ends in a 2x2 max-pool."""

    widths: tuple[int, ...] = (32, 64, 128, 256)
    depths: tuple[int, ...] = (2, 2, 2, 2)
    in_channels: int = 3
    classes: int = 10
    input_size: int = 32

    def __post_init__(self) -> None:
        if not self.widths or len(self.widths) != len(self.depths):
            raise ValueError(f"widths {self.widths} and depths {self.depths} must pair up")
        if min(self.widths) < 1 or min(self.depths) < 1:
            raise ValueError(f"widths and depths must be >= 1, got {self.widths}, {self.depths}")
        if self.input_size % (2 ** (len(self.widths) - 1)):
            raise ValueError(f"input_size {self.input_size} is not divisible by the pools")

    def to_dict(self) -> dict[str, object]:
        """A JSON-friendly description (the profile's ``arch``)."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}


VGG_SCALES: dict[str, VGGConfig] = {
    "tiny": VGGConfig(widths=(8, 16, 32, 64), depths=(2, 2, 2, 2)),
    # 8 conv layers, ~0.23 GFLOPs
    "standard": VGGConfig(widths=(48, 96, 192, 384), depths=(2, 2, 2, 2)),
}


class ConvUnit(nn.Module):
    """conv3x3 -> BN -> ReLU, optionally followed by a 2x2 max-pool."""

    def __init__(self, cin: int, cout: int, pool: bool) -> None:
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, 3, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(cout)
        self.relu = nn.ReLU()
        self.pool: nn.Module = nn.MaxPool2d(2) if pool else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pool(self.relu(self.bn(self.conv(x))))


class VGGBackbone(UnitBackbone):
    """``units`` (conv units) then ``head`` (global average pool + linear).

    ``unit_names[i]`` names the split point after unit ``i``; ``unit_shapes[i]`` is the
    (channels, height, width) of its output for one input.
    """

    def __init__(self, cfg: VGGConfig) -> None:
        super().__init__()
        self.cfg = cfg
        units: list[nn.Module] = []
        names: list[str] = []
        shapes: list[tuple[int, int, int]] = []
        cin, size = cfg.in_channels, cfg.input_size
        last_stage = len(cfg.widths) - 1
        for s, (w, d) in enumerate(zip(cfg.widths, cfg.depths, strict=True)):
            for c in range(d):
                pool = c == d - 1 and s < last_stage
                units.append(ConvUnit(cin, w, pool))
                size //= 2 if pool else 1
                names.append(f"s{s + 1}c{c + 1}" + ("p" if pool else ""))
                shapes.append((w, size, size))
                cin = w
        self._finish(units, names, shapes, cin, cfg.classes)
