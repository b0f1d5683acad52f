"""Iterative TRR pruning to a seed model, recording the pruning roadmap (ALGORITHMS 1.3).

Pruning never deletes weights: it permutes each group so the kept filters come first and
shrinks the active width. After K iterations the positions of a group read
``[seed | pruned at K | pruned at K-1 | ... | pruned at 1]``, so growing back in reverse
order (freeze-&-grow) is plain slicing and the grown model has the vanilla architecture.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

from models.nestdnn.network import NestedNet, Widths
from models.nestdnn.trr import rank_filters

__all__ = ["RoadmapStep", "level_widths", "prune_step", "reverse_roadmap"]


@dataclass(frozen=True)
class RoadmapStep:
    """One pruning iteration: widths after it and the original filter indices it removed."""

    widths: Widths
    removed: dict[str, list[int]]

    def to_dict(self) -> dict[str, object]:
        return {"widths": dict(self.widths), "removed": {g: list(v) for g, v in self.removed.items()}}

    @classmethod
    def from_dict(cls, d: dict[str, object]) -> RoadmapStep:
        return cls(dict(d["widths"]), {g: list(v) for g, v in d["removed"].items()})  # type: ignore[union-attr]


def level_widths(full: Widths, fractions: Sequence[float]) -> list[Widths]:
    """Widths of each level, level 0 = full: ``round(fraction * full)`` (at least 1 filter).

    ``fractions`` must start at 1 and strictly decrease; ValueError if two consecutive levels
    would be identical (too few filters for that many levels).
    """
    if not fractions or fractions[0] != 1.0 or any(
        b >= a for a, b in zip(fractions, fractions[1:], strict=False)
    ):
        raise ValueError(f"pruning fractions must start at 1.0 and decrease, got {list(fractions)}")
    levels = [{g: max(1, round(f * w)) for g, w in full.items()} for f in fractions]
    for i in range(1, len(levels)):
        if levels[i] == levels[i - 1]:
            raise ValueError(f"pruning levels {i - 1} and {i} have the same widths {levels[i]}")
    return levels


def prune_step(
    net: NestedNet, scores: dict[str, torch.Tensor], target: Widths, perm: dict[str, torch.Tensor]
) -> RoadmapStep:
    """Keep the ``target[g]`` highest-TRR active filters of each group, move them first.

    ``perm[g]`` maps current positions to original filter indices and is updated in place.
    """
    removed: dict[str, list[int]] = {}
    for g in net.groups():
        n, t = net.active[g], target[g]
        if t > n:
            raise ValueError(f"group {g}: target width {t} exceeds active width {n}")
        if len(scores[g]) != n:
            raise ValueError(f"group {g}: {len(scores[g])} scores for {n} active filters")
        ranked = rank_filters(scores[g])
        keep = ranked[:t].sort().values
        drop = ranked[t:].sort().values
        order = torch.cat([keep, drop, torch.arange(n, net.widths[g])])
        net.permute_group(g, order)
        perm[g] = perm[g][order]
        removed[g] = [int(i) for i in perm[g][t:n]]
    net.set_active(target)
    return RoadmapStep(dict(target), removed)


def reverse_roadmap(
    seed_filters: dict[str, list[int]], roadmap: Sequence[RoadmapStep]
) -> list[dict[str, list[int]]]:
    """Original filter indices of each descendant, seed first, by adding back the filters
    removed at the last pruning iteration, then the one before, and so on."""
    cur = {g: list(v) for g, v in seed_filters.items()}
    out = [{g: list(v) for g, v in cur.items()}]
    for step in reversed(roadmap):
        cur = {g: cur[g] + step.removed[g] for g in cur}
        out.append({g: list(v) for g, v in cur.items()})
    return out
