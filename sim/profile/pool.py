"""Runtime adaptation data of a supernet: its subnet pool, block sizes and search record."""

from __future__ import annotations

from typing import Annotated

from pydantic import (
    Field,
)

from sim.profile.base import Fraction, FreeForm, Frozen, FrozenModel, NonNeg


class SearchRun(FrozenModel):
    """One on-device search the profiler ran (AdaptiveNet), for one latency budget."""

    budget_ms: NonNeg
    seconds: NonNeg = Field(description="measured wall time of this search")
    evaluated: int = Field(ge=0, description="subnets whose accuracy it measured")


class SearchCandidate(FrozenModel):
    """A subnet an on-device search evaluated: what a re-search can choose at run time.

    Its latency is the lookup table's prediction (``table_ms``; see ``lookup_table.error``)
    and its accuracy the search's validation accuracy: neither is an end-to-end measurement.
    """

    id: str = Field(min_length=1)
    arch: FreeForm
    table_ms: NonNeg = Field(description="lookup-table latency on this device")
    val_top1: Fraction = Field(description="accuracy on the search's validation split")
    weight_bytes: int = Field(ge=0)
    peak_activation_bytes: int = Field(default=0, ge=0)
    blocks: tuple[str, ...] = Field(description="keys of pool.block_bytes it holds")


class SearchRecord(FrozenModel):
    """The on-device searches behind a pool, so a simulated re-search costs their real time."""

    seconds: NonNeg = Field(description="mean measured wall time of one search")
    runs: tuple[SearchRun, ...] = ()
    candidates: tuple[SearchCandidate, ...] = ()


class Pool(FrozenModel):
    """Runtime adaptation data of a supernet (AdaptiveNet): the subnet pool to switch among,
    the bytes of every block (switching loads only the blocks not resident), and the search
    that built the pool."""

    ids: tuple[str, ...] = Field(min_length=1, description="variant ids in the pool")
    rule: str = Field(description="how the pool was chosen from the evaluated subnets")
    block_bytes: Annotated[dict[str, int], Frozen] | None = Field(
        default=None, description="block key (stem, head, table keys) -> weight bytes"
    )
    search: SearchRecord | None = None


