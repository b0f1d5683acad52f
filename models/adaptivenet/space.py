"""The AdaptiveNet subnet encoding: one gene per block position.

A subnet is a tuple over the N block positions of the backbone. At a position that starts a
span the gene is a block choice: ``0`` the original block, ``1``/``2`` a merged block replacing
2/3 consecutive blocks, ``-1``/``-2`` the block shrunk by 25 %/50 %. The positions a merged
block absorbs carry :data:`SKIP` (99). The all-zeros subnet is the pretrained model.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from models.supernet import SubnetConfig as BaseSubnetConfig

__all__ = ["SKIP", "ElasticSpace", "SubnetConfig", "span"]

SKIP = 99


def span(choice: int) -> int:
    """How many original positions a block choice covers (1 for original/shrunk blocks)."""
    return choice + 1 if choice > 0 else 1


@dataclass(frozen=True)
class SubnetConfig(BaseSubnetConfig):
    """One subnet: a gene per block position (see the module docstring)."""

    choices: tuple[int, ...]

    @property
    def key(self) -> str:
        """A compact string id, e.g. ``0.1.99.-1``."""
        return ".".join(str(c) for c in self.choices)

    def tokens(self) -> tuple[tuple[int, int], ...]:
        """The (position, choice) of every executed block, in order."""
        return tuple((i, c) for i, c in enumerate(self.choices) if c != SKIP)


@dataclass(frozen=True)
class ElasticSpace:
    """Which genes are legal: ``positions`` blocks, merges of up to ``max_merge + 1`` blocks,
    shrink choices ``shrink`` (negative ints)."""

    positions: int
    max_merge: int = 2
    shrink: tuple[int, ...] = (-1, -2)

    def __post_init__(self) -> None:
        if self.positions < 1 or self.max_merge < 0 or any(s >= 0 for s in self.shrink):
            raise ValueError(
                f"elastic space: positions >= 1, max_merge >= 0 and negative shrink choices "
                f"expected, got {self.positions}, {self.max_merge}, {self.shrink}"
            )

    def choices_at(self, i: int) -> tuple[int, ...]:
        """Choices that may start a span at position ``i`` (merges must fit before the end)."""
        merges = tuple(m for m in range(1, self.max_merge + 1) if i + m < self.positions)
        return (0, *merges, *self.shrink)

    def block_keys(self) -> list[tuple[int, int]]:
        """Every (position, choice) block of the supernet."""
        return [(i, c) for i in range(self.positions) for c in self.choices_at(i)]

    def check(self, cfg: SubnetConfig) -> SubnetConfig:
        """``cfg`` if valid, ValueError naming the first bad position otherwise."""
        genes = cfg.choices
        if len(genes) != self.positions:
            raise ValueError(f"subnet has {len(genes)} genes, expected {self.positions}")
        i = 0
        while i < self.positions:
            if genes[i] not in self.choices_at(i):
                raise ValueError(
                    f"subnet gene {i} = {genes[i]}: expected one of {self.choices_at(i)}"
                )
            for j in range(i + 1, i + span(genes[i])):
                if genes[j] != SKIP:
                    raise ValueError(f"subnet gene {j} = {genes[j]}: inside a merge, expected 99")
            i += span(genes[i])
        return cfg

    def is_valid(self, cfg: SubnetConfig) -> bool:
        try:
            self.check(cfg)
        except ValueError:
            return False
        return True

    def original(self) -> SubnetConfig:
        return SubnetConfig((0,) * self.positions)

    def normalise(self, genes: Sequence[int]) -> SubnetConfig:
        """Repair 99-markers after an edit: span starts win, orphan 99s become 0, a span that
        would run past the end is cut to the longest merge that fits."""
        out = list(genes)
        i = 0
        while i < self.positions:
            g = out[i]
            if g == SKIP:
                g = 0
            while g > 0 and i + g >= self.positions:
                g -= 1
            out[i] = g
            for j in range(i + 1, i + span(g)):
                out[j] = SKIP
            i += span(g)
        return SubnetConfig(tuple(out))

    def sample(self, rng: np.random.Generator, exclude_original: bool = False) -> SubnetConfig:
        """Uniform choice among the valid choices at each span start (the artifact's
        ``generate_random_subnet``); optionally re-draw the all-original subnet."""
        if exclude_original and self.count() < 2:
            raise ValueError("elastic space holds only the original subnet; nothing else to draw")
        while True:
            genes: list[int] = []
            while len(genes) < self.positions:
                opts = self.choices_at(len(genes))
                c = int(opts[int(rng.integers(len(opts)))])
                genes += [c] + [SKIP] * (span(c) - 1)
            cfg = SubnetConfig(tuple(genes))
            if not (exclude_original and cfg == self.original()):
                return cfg

    def count(self) -> int:
        """Number of valid subnets (dynamic programming over span lengths)."""
        ways = [0] * (self.positions + 1)
        ways[self.positions] = 1
        for i in range(self.positions - 1, -1, -1):
            ways[i] = sum(ways[i + span(c)] for c in self.choices_at(i))
        return ways[0]

    def enumerate(self) -> Iterator[SubnetConfig]:
        """Every valid subnet, in lexicographic order of the span choices."""

        def rec(i: int, prefix: tuple[int, ...]) -> Iterator[tuple[int, ...]]:
            if i == self.positions:
                yield prefix
                return
            for c in self.choices_at(i):
                yield from rec(i + span(c), prefix + (c,) + (SKIP,) * (span(c) - 1))

        for genes in rec(0, ()):
            yield SubnetConfig(genes)
