"""Static building blocks of OFA subnets: what an exported subnet is made of.

The supernet (:mod:`models.ofa.network`) exports into these plain modules, and the latency
table times exactly these modules, so table entries and deployed subnets run the same code.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from models.supernet import SubnetConfig

__all__ = ["MBConvBlock", "OFAConfig", "OFASubnet", "build_head", "build_stem", "resize"]


@dataclass(frozen=True)
class OFAConfig(SubnetConfig):
    """One OFA subnet: input resolution, depth per stage, kernel and expand ratio per block
    slot (``stages * max_depth`` slots; slots beyond a stage's depth are not run)."""

    resolution: int
    depths: tuple[int, ...]
    kernels: tuple[int, ...]
    expands: tuple[int, ...]

    @property
    def key(self) -> str:
        """Canonical key over the blocks that run, e.g. ``r32-k7e6.k3e4-k5e3.k5e3``
        (stages separated by '-'); configs differing only in unused slots share a key."""
        d = len(self.kernels) // max(1, len(self.depths))
        stages = [
            ".".join(f"k{self.kernels[s * d + b]}e{self.expands[s * d + b]}" for b in range(n))
            for s, n in enumerate(self.depths)
        ]
        return f"r{self.resolution}-" + "-".join(stages)


def resize(x: torch.Tensor, resolution: int) -> torch.Tensor:
    """Bilinear resize to ``resolution x resolution`` (identity when already that size)."""
    if x.shape[-2] == resolution and x.shape[-1] == resolution:
        return x
    return F.interpolate(x, size=(resolution, resolution), mode="bilinear", align_corners=False)


class MBConvBlock(nn.Module):
    """Inverted bottleneck: expand 1x1, depthwise kxk, optional SE, project 1x1, residual."""

    def __init__(
        self, expand: nn.Module, depthwise: nn.Module, se: nn.Module, project: nn.Module,
        residual: bool,
    ) -> None:
        super().__init__()
        self.expand, self.depthwise, self.se, self.project = expand, depthwise, se, project
        self.residual = residual

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.project(self.se(self.depthwise(self.expand(x))))
        return x + y if self.residual else y


def build_stem(cin: int, width: int) -> nn.Sequential:
    """3x3 conv + BN + h-swish at full resolution, then one depthwise-separable block."""
    first = MBConvBlock(
        expand=nn.Identity(),
        depthwise=nn.Sequential(
            nn.Conv2d(width, width, 3, 1, 1, groups=width, bias=False), nn.BatchNorm2d(width),
            nn.ReLU(),
        ),
        se=nn.Identity(),
        project=nn.Sequential(nn.Conv2d(width, width, 1, bias=False), nn.BatchNorm2d(width)),
        residual=True,
    )
    return nn.Sequential(
        nn.Conv2d(cin, width, 3, 1, 1, bias=False), nn.BatchNorm2d(width), nn.Hardswish(), first
    )


def build_head(cin: int, final_expand: int, feature_mix: int, classes: int) -> nn.Sequential:
    """1x1 final expand + BN + h-swish, global pool, 1x1 feature mix + h-swish, linear."""
    return nn.Sequential(
        nn.Conv2d(cin, final_expand, 1, bias=False), nn.BatchNorm2d(final_expand), nn.Hardswish(),
        nn.AdaptiveAvgPool2d(1),
        nn.Conv2d(final_expand, feature_mix, 1, bias=False), nn.Hardswish(),
        nn.Flatten(), nn.Linear(feature_mix, classes),
    )


class OFASubnet(nn.Module):
    """A static exported subnet: resize, stem, stages of :class:`MBConvBlock`, head.

    ``stages[i]`` is stage ``i``'s ``nn.Sequential`` of blocks, so exits can attach after a
    named stage through :meth:`forward_features`.
    """

    def __init__(
        self, resolution: int, stem: nn.Module, stages: nn.ModuleList, head: nn.Module
    ) -> None:
        super().__init__()
        self.resolution = resolution
        self.stem, self.stages, self.head = stem, stages, head

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stem(resize(x, self.resolution))
        for stage in self.stages:
            x = stage(x)
        return x

    def forward_head(self, features: torch.Tensor) -> torch.Tensor:
        return self.head(features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_head(self.forward_features(x))
