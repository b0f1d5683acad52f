"""Random app launch/exit workload: determinism, concurrency bounds, launch-before-exit."""

from __future__ import annotations

import itertools
import re

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from sim.config.workload import RandomWorkloadSpec, WorkloadEvent, generate_workload

POOL = [f"app{i}" for i in range(8)]


def test_same_seed_same_events_other_seed_other_events() -> None:
    def run(seed: int) -> list[WorkloadEvent]:
        return generate_workload(POOL, 1800, np.random.default_rng(seed))

    assert run(1) == run(1)
    assert run(1) != run(2)


def test_starts_with_min_concurrent_launches_at_zero() -> None:
    events = generate_workload(POOL, 600, np.random.default_rng(0), min_concurrent=3)
    at_zero = [e for e in events if e.t == 0]
    assert len(at_zero) == 3 and all(e.action == "launch" for e in at_zero)
    assert events == sorted(events)
    assert all(0 <= e.t < 600 for e in events)


@given(
    seed=st.integers(0, 2**32),
    n=st.integers(1, 8),
    bounds=st.tuples(st.integers(1, 8), st.integers(1, 8)),
    mean_on=st.floats(5, 100),
    mean_off=st.floats(5, 100),
)
def test_concurrency_bounds_and_launch_before_exit(
    seed: int, n: int, bounds: tuple[int, int], mean_on: float, mean_off: float
) -> None:
    lo, hi = min(bounds[0], n), min(max(bounds), n)
    events = generate_workload(
        POOL[:n], 1000, np.random.default_rng(seed), lo, hi, mean_on, mean_off
    )
    running: set[str] = set()
    for _, group in itertools.groupby(events, key=lambda e: e.t):
        for e in group:
            if e.action == "launch":
                assert e.app not in running
                running.add(e.app)
            else:
                assert e.app in running  # every exit follows a launch of the same app
                running.remove(e.app)
        assert lo <= len(running) <= hi


def test_spec_generates_the_same_events_as_the_function() -> None:
    spec = RandomWorkloadSpec(pool=POOL[:4], min_concurrent=1, max_concurrent=3, mean_on_s=20)
    expected = generate_workload(POOL[:4], 300, np.random.default_rng(5), 1, 3, 20.0, 30.0)
    assert spec.generate(300, np.random.default_rng(5)) == expected


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"min_concurrent": 3, "max_concurrent": 2}, "min_concurrent <= max_concurrent"),
        ({"max_concurrent": 9}, "max_concurrent <= len(pool)"),
        ({"min_concurrent": 0}, "greater than or equal to 1"),
        ({"mean_on_s": 0}, "greater than 0"),
        ({"pool": ["a", "a"], "min_concurrent": 1, "max_concurrent": 1}, "unique"),
        ({"priority": 2}, "not permitted"),
    ],
)
def test_spec_validation(fields: dict, message: str) -> None:
    with pytest.raises(ValidationError, match=re.escape(message)):
        RandomWorkloadSpec(**{"pool": POOL, **fields})


def test_function_rejects_inconsistent_bounds() -> None:
    with pytest.raises(ValueError, match="len\\(pool\\)"):
        generate_workload(POOL[:2], 100, np.random.default_rng(0))
