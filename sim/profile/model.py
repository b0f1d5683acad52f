"""The profile: one model family measured on one device, checked as a whole (ids, parents,
exit tables, pools)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    Field,
    PrivateAttr,
    model_validator,
)

from sim.profile.base import Frozen, FrozenModel
from sim.profile.interference import Interference
from sim.profile.outcomes import ExitTable, Outcomes
from sim.profile.pool import Pool
from sim.profile.progressive import Progressive
from sim.profile.variants import DeviceInfo, LatencyStats, LookupTable, Provenance, Task, Variant


class Profile(FrozenModel):
    """One family measured on one device (DESIGN 3.1)."""

    schema_version: Literal[1] = 1
    family: str = Field(min_length=1)
    kind: Literal["multi_capacity", "supernet", "elastified", "progressive", "fixed"]
    task: Task
    provenance: Provenance
    device: DeviceInfo
    variants: tuple[Variant, ...] = Field(min_length=1)
    lookup_table: LookupTable | None = None
    progressive: Progressive | None = None
    outcomes: Outcomes | None = None
    pool: Pool | None = None
    interference: Interference | None = Field(
        default=None, description="co-run slowdown (applied by engine.interference)")
    extra: Annotated[dict[str, Any], Frozen] = Field(
        default_factory=dict, description="family-specific records that no code reads (logs, notes)"
    )
    _runnable_cache: tuple[tuple[int, int], dict[str, Variant]] | None = PrivateAttr(default=None)

    def __eq__(self, other: object) -> bool:
        """Equal content (the private lookup cache does not count)."""
        if not isinstance(other, Profile):
            return NotImplemented
        return self.__dict__ == other.__dict__

    __hash__ = None  # type: ignore[assignment]  # profiles are compared, never hashed

    @model_validator(mode="after")
    def _consistent(self) -> Profile:
        ids = [v.id for v in self.variants]
        dup = {i for i in ids if ids.count(i) > 1}
        if dup:
            raise ValueError(f"variants: duplicate variant ids: {sorted(dup)}")
        known = set(ids)
        for i, v in enumerate(self.variants):
            if v.parent is not None and v.parent not in known:
                raise ValueError(
                    f"variants[{i}].parent: {v.parent!r} is not a variant id (variant {v.id!r})"
                )
            if v.weight_bytes is not None and v.shared_bytes > v.weight_bytes:
                raise ValueError(f"variants[{i}].shared_bytes: exceeds weight_bytes ({v.id!r})")
        if self.kind == "progressive" and self.progressive is None:
            raise ValueError("progressive: kind 'progressive' needs a 'progressive' section")
        if self.outcomes is not None:
            names = known | {e.name for e in (self.progressive.exits if self.progressive else [])}
            unknown = set(self.outcomes.correct) - names
            if unknown:
                raise ValueError(f"outcomes.correct: unknown variants/exits {sorted(unknown)}")
            if self.outcomes.exit_table is not None:
                _check_exit_table(self.outcomes.exit_table, self.progressive)
        if self.pool is not None:
            _check_pool(self.pool, self.variants, known)
        if self.interference is not None:
            stray = sorted(set(self.interference.per_variant) - set(self._runnable()))
            if stray:
                raise ValueError(f"interference.per_variant: unknown variants {stray}")
        return self

    def variant(self, variant_id: str) -> Variant:
        """The variant (or search candidate, see :meth:`runnable`) with this id; KeyError
        naming the known ids otherwise."""
        found = self._runnable().get(variant_id)
        if found is None:
            raise KeyError(
                f"{self.family}: no variant {variant_id!r}; known: {[v.id for v in self.variants]}"
            )
        return found

    def _runnable(self) -> dict[str, Variant]:
        """id -> Variant over variants and search candidates, built once per content (a
        ``model_copy`` with new variants or pool rebuilds it)."""
        key = (id(self.variants), id(self.pool))
        # the private store read directly: attribute access to a pydantic private attribute
        # costs ~2 us, and the engine and schedulers look variants up on every decision
        cached = self.__pydantic_private__["_runnable_cache"]  # type: ignore[index]
        if cached is not None and cached[0] == key:
            return cached[1]
        cache = {v.id: v for v in self.variants}
        search = self.pool.search if self.pool is not None else None
        for c in search.candidates if search is not None else ():
            cache.setdefault(c.id, Variant(
                id=c.id, arch=c.arch, weight_bytes=c.weight_bytes,
                peak_activation_bytes=c.peak_activation_bytes,
                latency_ms=LatencyStats(median=c.table_ms), top1=c.val_top1, blocks=c.blocks,
            ))
        self._runnable_cache = (key, cache)
        return cache

    def runnable_ids(self) -> tuple[str, ...]:
        """Every id a plan may name: the variants, then the search candidates."""
        return tuple(self._runnable())

    def nested(self) -> list[Variant]:
        """Variants of the multi-capacity set (not independent), smallest first."""
        return sorted((v for v in self.variants if not v.independent), key=lambda v: v.known_weight_bytes())

    def independents(self) -> list[Variant]:
        """Independently trained variants (the resource-agnostic baseline's models)."""
        return sorted((v for v in self.variants if v.independent), key=lambda v: v.known_weight_bytes())

    def switch_bytes(self, old: str | None, new: str) -> int:
        """Bytes read from storage to go from ``old`` to ``new`` (DESIGN 4, Switching).

        Upgrade inside the nested set: only the bytes not shared with the old descendant.
        Downgrade inside it, or no change: nothing. Anything else (a first load with ``old``
        None, independent models): the whole target.
        """
        target = self.variant(new)
        if old == new:
            return 0
        if old is None:
            return target.known_weight_bytes()
        previous = self.variant(old)
        sizes = self.pool.block_bytes if self.pool is not None else None
        if sizes is not None and target.blocks is not None and previous.blocks is not None:
            resident = set(previous.blocks)
            return sum(sizes[k] for k in target.blocks if k not in resident)
        if self.is_ancestor(new, old):
            return 0
        if self.is_ancestor(old, new):
            return max(0, target.known_weight_bytes() - self.variant(old).known_weight_bytes())
        return target.known_weight_bytes()

    def is_ancestor(self, older: str, newer: str) -> bool:
        """True when ``older`` is nested inside ``newer`` (following parent links)."""
        cur: str | None = newer
        while cur is not None:
            if cur == older:
                return True
            cur = self.variant(cur).parent
        return False


def _check_exit_table(table: ExitTable, prog: Progressive | None) -> None:
    """The exit table names the progressive section's exits, in order, final exit last."""
    if prog is None:
        raise ValueError("outcomes.exit_table: needs a progressive section with the exits")
    names = [e.name for e in prog.exits]
    if list(table.exits) != names:
        raise ValueError(f"outcomes.exit_table.exits: {list(table.exits)} must be the "
                         f"progressive exits in their order, {names}")
    last = prog.exits[-1]
    if last.flops_fraction < 1.0 or any(e.flops_fraction >= 1.0 for e in prog.exits[:-1]):
        raise ValueError("outcomes.exit_table.exits: the last exit must be the final one "
                         "(flops_fraction 1) and the only one")


def _check_pool(pool: Pool, variants: tuple[Variant, ...], known: set[str]) -> None:
    """Cross-references of the pool section (ValueError naming the field)."""
    missing = [i for i in pool.ids if i not in known]
    if missing:
        raise ValueError(f"pool.ids: not variant ids: {missing}")
    sizes = pool.block_bytes
    cands = pool.search.candidates if pool.search is not None else ()
    ids = [c.id for c in cands]
    clash = sorted({i for i in ids if ids.count(i) > 1 or i in known})
    if clash:
        raise ValueError(f"pool.search.candidates: ids repeated or equal to a variant id: {clash}")
    holders = [(f"variants[{i}].blocks", v.blocks) for i, v in enumerate(variants)]
    holders += [(f"pool.search.candidates.{i}.blocks", c.blocks) for i, c in enumerate(cands)]
    for where, blocks in holders:
        if blocks is None:
            continue
        if sizes is None:
            raise ValueError(f"{where}: needs pool.block_bytes to say what the blocks weigh")
        unknown = [k for k in blocks if k not in sizes]
        if unknown:
            raise ValueError(f"{where}: unknown block keys {unknown[:3]} (not in pool.block_bytes)")


