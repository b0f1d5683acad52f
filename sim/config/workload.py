"""NestDNN-style random workload: apps from a pool launch and exit at random times.

NestDNN evaluates its scheduler on a stream of app launches and exits with a bounded number of
apps running at once. Each app alternates on/off with exponential on and off times; a transition
that would break the concurrency bounds is postponed by a fresh on (or off) time, so the
number of running apps stays within [min_concurrent, max_concurrent] at every instant.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = ["MAX_MEAN_S", "RandomWorkloadSpec", "WorkloadEvent", "generate_workload"]

MAX_MEAN_S = 1e9
"""Longest mean on or off time (about 30 years). How many draws a scenario's workload may
take (what bounds the shortest) is checked with its duration: sim.config.scenario."""

Action = Literal["launch", "exit"]


@dataclass(frozen=True, order=True)
class WorkloadEvent:
    """App ``app`` launches or exits at simulated time ``t`` (seconds).

    Ordering is by (t, action, app), so at equal times exits sort before launches.
    """

    t: float
    action: Action
    app: str


def _check_params(
    pool: Sequence[str],
    min_concurrent: int,
    max_concurrent: int,
    mean_on_s: float,
    mean_off_s: float,
) -> None:
    """Raise ValueError (plain message) if the generator's parameters are inconsistent."""
    if len(set(pool)) != len(pool):
        raise ValueError(f"pool names must be unique, got {list(pool)}")
    if not 1 <= min_concurrent <= max_concurrent <= len(pool):
        raise ValueError(
            "expected 1 <= min_concurrent <= max_concurrent <= len(pool), got "
            f"{min_concurrent}, {max_concurrent}, {len(pool)}"
        )
    if not (mean_on_s > 0 and mean_off_s > 0):
        raise ValueError(f"mean_on_s and mean_off_s must be > 0, got {mean_on_s}, {mean_off_s}")


def generate_workload(
    pool: Sequence[str],
    duration_s: float,
    rng: np.random.Generator,
    min_concurrent: int = 2,
    max_concurrent: int = 6,
    mean_on_s: float = 60.0,
    mean_off_s: float = 30.0,
) -> list[WorkloadEvent]:
    """Launch/exit events in [0, duration_s), sorted by (t, action, app).

    At t=0, ``min_concurrent`` apps drawn from the pool launch; the others start off. After
    that every running app exits after an Exp(mean_on_s) time and every stopped app launches
    after an Exp(mean_off_s) time, except that an exit which would go below ``min_concurrent``
    is postponed by a fresh on time and a launch which would exceed ``max_concurrent`` by a
    fresh off time. Apps still running at ``duration_s`` get no exit event. The result depends
    only on the arguments and the rng state.
    """
    _check_params(pool, min_concurrent, max_concurrent, mean_on_s, mean_off_s)
    events: list[WorkloadEvent] = []
    # Heap of (time, tie-break counter, action, app index): the counter makes order total and
    # independent of app names, so equal-time pops stay deterministic.
    pending: list[tuple[float, int, Action, int]] = []
    first = set(rng.choice(len(pool), size=min_concurrent, replace=False).tolist())
    for k in range(len(pool)):
        if k in first:
            events.append(WorkloadEvent(0.0, "launch", pool[k]))
            pending.append((float(rng.exponential(mean_on_s)), k, "exit", k))
        else:
            pending.append((float(rng.exponential(mean_off_s)), k, "launch", k))
    heapq.heapify(pending)
    counter = len(pool)
    running = min_concurrent
    while pending and pending[0][0] < duration_s:
        t, _, action, k = heapq.heappop(pending)
        allowed = running > min_concurrent if action == "exit" else running < max_concurrent
        if allowed:
            running += -1 if action == "exit" else 1
            events.append(WorkloadEvent(t, action, pool[k]))
            action = "launch" if action == "exit" else "exit"
        # The next attempt waits an on time before an exit, an off time before a launch;
        # a refused attempt is thereby retried after a fresh draw of the same kind.
        mean = mean_on_s if action == "exit" else mean_off_s
        heapq.heappush(pending, (t + float(rng.exponential(mean)), counter, action, k))
        counter += 1
    return sorted(events)


class RandomWorkloadSpec(BaseModel):
    """Scenario block for :func:`generate_workload` (durations in seconds)."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    pool: tuple[str, ...] = Field(min_length=1)
    min_concurrent: int = Field(2, ge=1)
    max_concurrent: int = Field(6, ge=1)
    mean_on_s: float = Field(60.0, gt=0, le=MAX_MEAN_S, allow_inf_nan=False)
    mean_off_s: float = Field(30.0, gt=0, le=MAX_MEAN_S, allow_inf_nan=False)

    @model_validator(mode="after")
    def _consistent(self) -> RandomWorkloadSpec:
        _check_params(
            self.pool, self.min_concurrent, self.max_concurrent, self.mean_on_s, self.mean_off_s
        )
        return self

    def generate(self, duration_s: float, rng: np.random.Generator) -> list[WorkloadEvent]:
        """The events this spec describes, for one scenario run."""
        return generate_workload(
            self.pool,
            duration_s,
            rng,
            self.min_concurrent,
            self.max_concurrent,
            self.mean_on_s,
            self.mean_off_s,
        )
