"""The once-for-all MobileNetV3 supernet for small (32 px) inputs.

Layout (ALGORITHMS 4.1, strides adapted to 32 px): a fixed stem (3x3 conv, then one
depthwise-separable block), ``S`` stages of up to ``max(depths)`` elastic MBConv blocks
(kernel, expand ratio per block; depth per stage), and a fixed head (1x1 final expand, global
pool, 1x1 feature mix, linear classifier). The input is resized to the subnet's resolution
inside :meth:`OFAMobileNetV3.forward_features`, so any subnet accepts the data set's images.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from models.elastic import ElasticStage
from models.ofa.blocks import OFAConfig, OFASubnet, build_head, build_stem, resize
from models.ofa.mbconv import DynamicMBConv
from models.supernet import Supernet

__all__ = ["DynamicMBConv", "OFAArch", "OFAMobileNetV3", "SCALES"]


@dataclass(frozen=True)
class OFAArch:
    """Architecture of the supernet: fixed widths, elastic choices, resolutions."""

    in_channels: int = 1
    classes: int = 10
    first_width: int = 16
    widths: tuple[int, ...] = (24, 40, 80, 112, 160)
    strides: tuple[int, ...] = (1, 2, 2, 1, 2)
    se: tuple[bool, ...] = (False, True, False, True, True)
    hswish: tuple[bool, ...] = (False, False, True, True, True)
    final_expand: int = 960
    feature_mix: int = 1280
    depths: tuple[int, ...] = (2, 3, 4)
    expands: tuple[int, ...] = (3, 4, 6)
    kernels: tuple[int, ...] = (3, 5, 7)
    resolutions: tuple[int, ...] = (24, 28, 32)

    def __post_init__(self) -> None:
        n = len(self.widths)
        if n == 0 or not (len(self.strides) == len(self.se) == len(self.hswish) == n):
            raise ValueError("OFAArch: widths, strides, se and hswish must have one entry per stage")
        for name in ("depths", "expands", "kernels", "resolutions"):
            vals = getattr(self, name)
            if not vals or list(vals) != sorted(set(vals)) or min(vals) < 1:
                raise ValueError(f"OFAArch.{name}: expected increasing positive values, got {vals}")

    @property
    def stages(self) -> int:
        return len(self.widths)

    @property
    def max_depth(self) -> int:
        return self.depths[-1]

    def to_dict(self) -> dict[str, Any]:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> OFAArch:
        fields = set(cls.__dataclass_fields__)
        unknown = sorted(set(d) - fields)
        if unknown:
            raise ValueError(f"OFAArch: unknown fields {unknown}")
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in d.items()})


SCALES: dict[str, OFAArch] = {
    # 3 stages x 4 blocks: every elastic dimension present, trains in seconds
    "tiny": OFAArch(
        first_width=8, widths=(8, 16, 24), strides=(2, 2, 2), se=(False, True, True),
        hswish=(False, True, True), final_expand=64, feature_mix=96,
    ),
    # MobileNetV3-style 5 x 4 blocks at a width that trains on a 2-core CPU in minutes; the
    # stem keeps 32 px and the stages stride 2, 2, 2, 1, 2 (ImageNet's stride-2 stem dropped
    # for small inputs)
    "standard": OFAArch(
        first_width=8, widths=(16, 24, 32, 48, 64), strides=(2, 2, 2, 1, 2),
        se=(False, True, False, True, True), hswish=(False, False, True, True, True),
        final_expand=192, feature_mix=256,
    ),
}


class OFAMobileNetV3(Supernet):
    """The OFA supernet (see module docstring); ``config_class`` is :class:`OFAConfig`."""

    config_class = OFAConfig

    def __init__(self, arch: OFAArch) -> None:
        super().__init__()
        self.arch = arch
        self.stem = build_stem(arch.in_channels, arch.first_width)
        stages: list[ElasticStage] = []
        cin = arch.first_width
        for w, s, se, hs in zip(arch.widths, arch.strides, arch.se, arch.hswish, strict=True):
            blocks = [
                DynamicMBConv(cin if b == 0 else w, w, s if b == 0 else 1, arch.kernels,
                              arch.expands, se, hs)
                for b in range(arch.max_depth)
            ]
            stages.append(ElasticStage(blocks, min_depth=arch.depths[0]))
            cin = w
        self.stages = nn.ModuleList(stages)
        self.head = build_head(cin, arch.final_expand, arch.feature_mix, arch.classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d) and m.groups == 1:
                nn.init.kaiming_normal_(m.weight, mode="fan_out")
        self._active = self.largest_subnet()

    # -- search space ------------------------------------------------------------------
    def _full(self, k: int, e: int, d: int, r: int) -> OFAConfig:
        n = self.arch.stages * self.arch.max_depth
        return OFAConfig(resolution=r, depths=(d,) * self.arch.stages, kernels=(k,) * n,
                         expands=(e,) * n)

    def largest_subnet(self) -> OFAConfig:
        a = self.arch
        return self._full(a.kernels[-1], a.expands[-1], a.depths[-1], a.resolutions[-1])

    def smallest_subnet(self) -> OFAConfig:
        a = self.arch
        return self._full(a.kernels[0], a.expands[0], a.depths[0], a.resolutions[0])

    def sample_subnet(
        self, rng: np.random.Generator, *, kernels: Sequence[int] | None = None,
        expands: Sequence[int] | None = None, depths: Sequence[int] | None = None,
        resolutions: Sequence[int] | None = None,
    ) -> OFAConfig:
        """Uniform random subnet; the keyword lists restrict a dimension (progressive
        shrinking phases) and must be subsets of the architecture's choices."""
        a = self.arch
        ks, es = list(kernels or a.kernels), list(expands or a.expands)
        ds, rs = list(depths or a.depths), list(resolutions or a.resolutions)
        for name, sub, full in (("kernels", ks, a.kernels), ("expands", es, a.expands),
                                ("depths", ds, a.depths), ("resolutions", rs, a.resolutions)):
            if not set(sub) <= set(full):
                raise ValueError(f"sample_subnet: {name} {sub} not within {list(full)}")
        n = a.stages * a.max_depth
        return OFAConfig(
            resolution=int(rng.choice(rs)),
            depths=tuple(int(v) for v in rng.choice(ds, size=a.stages)),
            kernels=tuple(int(v) for v in rng.choice(ks, size=n)),
            expands=tuple(int(v) for v in rng.choice(es, size=n)),
        )

    def check_subnet(self, cfg: Any) -> None:
        super().check_subnet(cfg)
        a, n = self.arch, self.arch.stages * self.arch.max_depth
        problems = []
        if cfg.resolution not in a.resolutions:
            problems.append(f"resolution {cfg.resolution} not in {list(a.resolutions)}")
        if len(cfg.depths) != a.stages or not set(cfg.depths) <= set(a.depths):
            problems.append(f"depths {list(cfg.depths)}: need {a.stages} of {list(a.depths)}")
        if len(cfg.kernels) != n or not set(cfg.kernels) <= set(a.kernels):
            problems.append(f"kernels: need {n} of {list(a.kernels)}")
        if len(cfg.expands) != n or not set(cfg.expands) <= set(a.expands):
            problems.append(f"expands: need {n} of {list(a.expands)}")
        if problems:
            raise ValueError(f"subnet outside the OFA space: {'; '.join(problems)}")

    def active_blocks(self, cfg: OFAConfig) -> list[tuple[int, int, int, int]]:
        """(stage, block, kernel, expand) of every block the subnet runs, in order."""
        d = self.arch.max_depth
        return [
            (s, b, cfg.kernels[s * d + b], cfg.expands[s * d + b])
            for s in range(self.arch.stages) for b in range(cfg.depths[s])
        ]

    # -- active subnet -----------------------------------------------------------------
    def set_active_subnet(self, cfg: OFAConfig) -> None:  # type: ignore[override]
        self.check_subnet(cfg)
        d = self.arch.max_depth
        for s, stage in enumerate(self.stages):
            stage.active_depth = cfg.depths[s]
            for b, block in enumerate(stage.blocks):
                block.active_kernel = cfg.kernels[s * d + b]
                block.active_expand = cfg.expands[s * d + b]
        self._active = cfg

    def active_subnet(self) -> OFAConfig:
        return self._active

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stem(resize(x, self._active.resolution))
        for stage in self.stages:
            x = stage(x)
        return x

    def forward_head(self, features: torch.Tensor) -> torch.Tensor:
        return self.head(features)

    def export_subnet(self, cfg: OFAConfig) -> OFASubnet:  # type: ignore[override]
        self.check_subnet(cfg)
        stages = [[] for _ in range(self.arch.stages)]  # type: list[list[nn.Module]]
        for s, b, k, e in self.active_blocks(cfg):
            stages[s].append(self.stages[s].blocks[b].export(k, e))
        return OFASubnet(
            cfg.resolution, copy.deepcopy(self.stem),
            nn.ModuleList(nn.Sequential(*blocks) for blocks in stages),
            copy.deepcopy(self.head),
        )

    def sort_channels(self, expand_stage: int) -> None:
        """Channel re-sorting of every block before an expand phase (ALGORITHMS 4.1)."""
        for stage in self.stages:
            for block in stage.blocks:
                block.sort_channels(expand_stage)

    # -- config round trip -------------------------------------------------------------
    def to_config(self) -> dict[str, Any]:
        return {"name": "OFAMobileNetV3", "arch": self.arch.to_dict()}

    @classmethod
    def from_config(cls, d: Mapping[str, Any]) -> OFAMobileNetV3:
        if not isinstance(d, Mapping) or d.get("name") != "OFAMobileNetV3" or "arch" not in d:
            raise ValueError("OFAMobileNetV3.from_config: expected {'name': 'OFAMobileNetV3', "
                             "'arch': {...}}")
        return cls(OFAArch.from_dict(d["arch"]))
