"""Device and server halves of a :class:`SpinnNet` cut after one unit.

The halves share the network's modules (no copies), so they always agree with it: for every
split, ``Suffix(net, k)(Prefix(net, k)(x)[0])`` equals the final exit of ``net(x)``.
The device half also runs the exit heads located before the cut, as progressive inference
does on the device; the server half runs straight to the final classifier (ALGORITHMS 2.2).
"""

from __future__ import annotations

import torch
from torch import nn

from models.spinn.exits import SpinnNet

__all__ = ["Prefix", "Suffix"]


def _check_unit(net: SpinnNet, unit: int) -> None:
    last = len(net.backbone.units) - 1
    if not 0 <= unit <= last:
        raise ValueError(f"split unit must be in 0..{last}, got {unit}")


class Prefix(nn.Module):
    """Units ``0..unit`` of the backbone, with the exit heads attached at or before ``unit``.

    Returns ``(activation at the split, [logits of each exit passed])``; with
    ``with_exits=False`` the list is empty and no head runs.
    """

    def __init__(self, net: SpinnNet, unit: int, with_exits: bool = True) -> None:
        super().__init__()
        _check_unit(net, unit)
        self.units = nn.ModuleList(net.backbone.units[: unit + 1])
        keep = [i for i, u in enumerate(net.exit_units) if u <= unit] if with_exits else []
        self.exit_units = tuple(net.exit_units[i] for i in keep)
        self.exits = nn.ModuleList(net.exits[i] for i in keep)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        heads = dict(zip(self.exit_units, self.exits, strict=True))
        logits: list[torch.Tensor] = []
        for i, unit in enumerate(self.units):
            x = unit(x)
            if i in heads:
                logits.append(heads[i](x))
        return x, logits


class Suffix(nn.Module):
    """Units after ``unit`` and the final classifier: the server side of the split."""

    def __init__(self, net: SpinnNet, unit: int) -> None:
        super().__init__()
        _check_unit(net, unit)
        self.units = nn.ModuleList(net.backbone.units[unit + 1 :])
        self.head = net.backbone.head

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for unit in self.units:
            x = unit(x)
        return self.head(x)
