"""The elastified supernet (ALGORITHMS 3.1): a pretrained ResNet plus merged and shrunk branches.

Position ``i`` holds a :class:`torch.nn.ModuleDict` of branches keyed by choice: ``"0"`` is the
pretrained block ``b_i``, ``"1"``/``"2"`` merged blocks replacing 2/3 blocks, ``"-1"``/``"-2"``
shrunk copies. After :meth:`ElasticResNet.freeze_original` the stem, head and every original
block keep their weights *and* BN statistics (they stay in eval mode even while the supernet
trains), so the all-zeros subnet computes exactly the pretrained model.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, ClassVar, cast

import numpy as np
import torch
from torch import nn

from models.adaptivenet.backbone import BackboneConfig, Head, ResNetBackbone, Stem
from models.adaptivenet.blocks import Bottleneck, merged_block, shrunk_block
from models.adaptivenet.space import ElasticSpace, SubnetConfig, span
from models.supernet import SubnetConfig as BaseSubnetConfig
from models.supernet import Supernet

__all__ = ["ElasticResNet", "StaticSubnet"]


class StaticSubnet(nn.Module):
    """An exported subnet: stem, its blocks in order, head (own copies of the tensors)."""

    def __init__(self, stem: nn.Module, blocks: Iterable[nn.Module], head: nn.Module) -> None:
        super().__init__()
        self.stem, self.blocks, self.head = stem, nn.Sequential(*blocks), head

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        return self.blocks(self.stem(x))

    def forward_head(self, features: torch.Tensor) -> torch.Tensor:
        return self.head(features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.blocks(self.stem(x)))


class ElasticResNet(Supernet):
    """Supernet grown from a :class:`ResNetBackbone` (new one when ``backbone`` is None).

    Branches are initialised from the backbone's blocks (merged: tensors whose shapes match
    ``b_i``; shrunk: the kept channels of ``b_i``), the originals are deep copies.
    """

    config_class: ClassVar[type[SubnetConfig]] = SubnetConfig

    def __init__(
        self, cfg: BackboneConfig, shrink_rates: Sequence[float] = (0.25, 0.5),
        max_merge: int = 2, backbone: ResNetBackbone | None = None,
    ) -> None:
        super().__init__()
        src = copy.deepcopy(backbone) if backbone is not None else ResNetBackbone(cfg)
        if src.cfg != cfg:
            raise ValueError(f"backbone config {src.cfg} differs from supernet config {cfg}")
        self.cfg, self.shrink_rates, self.max_merge = cfg, tuple(shrink_rates), max_merge
        shrink = tuple(-(k + 1) for k in range(len(self.shrink_rates)))
        self.space = ElasticSpace(len(src.blocks), max_merge, shrink)
        self.stem: Stem = src.stem
        self.head: Head = src.head
        originals = [cast(Bottleneck, b) for b in src.blocks]
        self.branches = nn.ModuleList()
        for i, orig in enumerate(originals):
            opts: dict[str, nn.Module] = {"0": orig}
            for c in self.space.choices_at(i):
                if c > 0:
                    opts[str(c)] = merged_block(originals, i, c)
                elif c < 0:
                    opts[str(c)] = shrunk_block(orig, self.shrink_rates[-c - 1])
            self.branches.append(nn.ModuleDict(opts))
        self.frozen = False
        self._active = self.space.original()
        self._flops: dict[tuple[int, int], float] | None = None

    # --- the shared supernet verbs ------------------------------------------------------------
    def block(self, position: int, choice: int) -> nn.Module:
        return cast(nn.ModuleDict, self.branches[position])[str(choice)]

    def _own(self, cfg: BaseSubnetConfig) -> SubnetConfig:
        super().check_subnet(cfg)
        return self.space.check(cast(SubnetConfig, cfg))

    def check_subnet(self, cfg: BaseSubnetConfig) -> None:
        self._own(cfg)

    def sample_subnet(self, rng: np.random.Generator) -> SubnetConfig:
        return self.space.sample(rng)

    def set_active_subnet(self, cfg: BaseSubnetConfig) -> None:
        self._active = self._own(cfg)

    def active_subnet(self) -> SubnetConfig:
        return self._active

    def largest_subnet(self) -> SubnetConfig:
        return self.space.original()

    def smallest_subnet(self) -> SubnetConfig:
        """The subnet of fewest FLOPs (dynamic programming over per-block FLOPs)."""
        flops = self.block_flops()
        n = self.space.positions
        best: list[tuple[float, tuple[int, ...]]] = [(0.0, ())] * (n + 1)
        for i in range(n - 1, -1, -1):
            best[i] = min(
                (flops[(i, c)] + best[i + span(c)][0],
                 (c,) + (99,) * (span(c) - 1) + best[i + span(c)][1])
                for c in self.space.choices_at(i)
            )
        return SubnetConfig(best[0][1])

    def export_subnet(self, cfg: BaseSubnetConfig) -> StaticSubnet:
        cfg = self._own(cfg)
        blocks = [copy.deepcopy(self.block(i, c)) for i, c in cfg.tokens()]
        net = StaticSubnet(copy.deepcopy(self.stem), blocks, copy.deepcopy(self.head))
        return net.train(self.training)

    def to_config(self) -> dict[str, Any]:
        return {"backbone": self.cfg.to_dict(), "shrink_rates": list(self.shrink_rates),
                "max_merge": self.max_merge}

    @classmethod
    def from_config(cls, d: Mapping[str, Any]) -> ElasticResNet:
        return cls(BackboneConfig.from_dict(d["backbone"]), tuple(d["shrink_rates"]),
                   int(d["max_merge"]))

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        return self.run_blocks(self.stem(x), self._active.tokens())

    def forward_head(self, features: torch.Tensor) -> torch.Tensor:
        return self.head(features)

    # --- pieces used by training, the latency table and reuse-based evaluation ----------------
    def run_blocks(self, h: torch.Tensor, tokens: Iterable[tuple[int, int]]) -> torch.Tensor:
        for i, c in tokens:
            h = self.block(i, c)(h)
        return h

    def block_features(self, x: torch.Tensor, cfg: SubnetConfig) -> list[tuple[int, torch.Tensor]]:
        """(index of the last original block it replaces, output) of every block of ``cfg``."""
        h, out = self.stem(x), []
        for i, c in cfg.tokens():
            h = self.block(i, c)(h)
            out.append((i + span(c) - 1, h))
        return out

    def block_input_shape(self, position: int) -> tuple[int, int, int]:
        return self.cfg.block_input_shapes()[position]

    def block_flops(self) -> dict[tuple[int, int], float]:
        """FLOPs of every (position, choice) block for one input (counted once, cached)."""
        if self._flops is None:
            from models.measure import count_flops

            self._flops = {
                (i, c): count_flops(self.block(i, c), torch.zeros(1, *self.block_input_shape(i)))
                for i, c in self.space.block_keys()
            }
        return self._flops

    def original_modules(self) -> list[nn.Module]:
        """Stem, head and the original blocks: what AdaptiveNet keeps frozen."""
        return [self.stem, self.head, *(self.block(i, 0) for i in range(self.space.positions))]

    def freeze_original(self) -> None:
        """Freeze the pretrained parts: no gradients, BN statistics kept (always eval mode)."""
        self.frozen = True
        for m in self.original_modules():
            m.requires_grad_(False)
        self.train(self.training)

    def train(self, mode: bool = True) -> ElasticResNet:
        super().train(mode)
        if getattr(self, "frozen", False):
            for m in self.original_modules():
                m.eval()
        return self
