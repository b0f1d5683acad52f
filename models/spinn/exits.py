"""Early exits on a backbone: SDN-style heads placed at fractions of the FLOPs.

An exit is attached after the unit whose cumulative FLOPs is closest to its target fraction
(15/30/45/60/75/90 % by default, ALGORITHMS 2.1). The last unit is never a candidate (an exit
there would duplicate the final classifier), and a unit already holding an exit is not used
twice, so a shallow backbone can carry fewer than six exits.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from models.spinn.network import ResNetBackbone
from models.spinn.vgg import VGGBackbone

__all__ = [
    "EXIT_TARGETS",
    "FINAL",
    "Backbone",
    "ExitHead",
    "SpinnNet",
    "cumulative_fractions",
    "place_exits",
]

Backbone = ResNetBackbone | VGGBackbone
"""Backbones with the unit interface: ``units``, ``unit_names``, ``unit_shapes``, ``head``,
``run_units``, ``forward_features`` and a ``cfg`` with ``in_channels`` and ``input_size``."""

EXIT_TARGETS: tuple[float, ...] = (0.15, 0.30, 0.45, 0.60, 0.75, 0.90)
FINAL = "final"
"""Name of the backbone's own classifier among the exits."""


class ExitHead(nn.Module):
    """SDN feature reducer + linear: ``alpha * maxpool + (1 - alpha) * avgpool`` down to 4x4.

    Maps smaller than 8x8 are not pooled. ``alpha`` is learned (SDN's mixed pooling).
    """

    def __init__(self, channels: int, size: int, classes: int) -> None:
        super().__init__()
        kernel = max(1, size // 4)
        self.max_pool = nn.MaxPool2d(kernel)
        self.avg_pool = nn.AvgPool2d(kernel)
        self.alpha = nn.Parameter(torch.full((1,), 0.5))
        side = size // kernel
        self.fc = nn.Linear(channels * side * side, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mixed = self.alpha * self.max_pool(x) + (1 - self.alpha) * self.avg_pool(x)
        return self.fc(mixed.flatten(1))


def cumulative_fractions(unit_flops: Sequence[float]) -> list[float]:
    """Share of the backbone FLOPs done once each unit has run (last entry is 1.0)."""
    total = float(sum(unit_flops))
    if total <= 0 or min(unit_flops) < 0:
        raise ValueError(f"unit FLOPs must be >= 0 with a positive sum, got {list(unit_flops)}")
    out, acc = [], 0.0
    for f in unit_flops:
        acc += float(f)
        out.append(acc / total)
    return out


def place_exits(
    unit_flops: Sequence[float], targets: Sequence[float] = EXIT_TARGETS
) -> list[tuple[int, float]]:
    """``(unit index, target)`` for each placed exit, in backbone order.

    Each target takes the unit (last one excluded) with the closest cumulative FLOP fraction,
    ties to the earlier unit; a target whose unit is taken is dropped.
    """
    fractions = cumulative_fractions(unit_flops)[:-1]
    if not fractions:
        return []
    placed: dict[int, float] = {}
    for t in targets:
        unit = min(range(len(fractions)), key=lambda i: (abs(fractions[i] - t), i))
        placed.setdefault(unit, t)
    return sorted(placed.items())


class SpinnNet(nn.Module):
    """Backbone plus early exits; ``forward`` returns the logits of every exit, final last.

    ``exit_units[i]`` is the unit after which exit ``exit_names[i]`` sits; ``exit_targets[i]``
    is the FLOP fraction it was placed for (also its SDN loss weight ceiling).
    """

    def __init__(
        self, backbone: Backbone, placement: Sequence[tuple[int, float]], classes: int
    ) -> None:
        super().__init__()
        self.backbone = backbone
        units = [u for u, _ in placement]
        last = len(backbone.units) - 1
        if units != sorted(set(units)) or any(not 0 <= u < last for u in units):
            raise ValueError(f"exit units must be distinct, increasing and before the last: {units}")
        self.exit_units: tuple[int, ...] = tuple(units)
        self.exit_targets: tuple[float, ...] = tuple(t for _, t in placement)
        self.exit_names: tuple[str, ...] = tuple(f"exit{i + 1}" for i in range(len(units)))
        shapes = self.backbone.unit_shapes
        self.exits = nn.ModuleList(
            ExitHead(shapes[u][0], shapes[u][1], classes) for u in self.exit_units
        )

    @property
    def names(self) -> tuple[str, ...]:
        """Every exit name in order, the final classifier last."""
        return (*self.exit_names, FINAL)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        outs: list[torch.Tensor] = []
        start = 0
        for unit, head in zip(self.exit_units, self.exits, strict=True):
            x = self.backbone.run_units(x, start, unit + 1)
            outs.append(head(x))
            start = unit + 1
        x = self.backbone.run_units(x, start, len(self.backbone.units))
        outs.append(self.backbone.head(x))
        return outs
