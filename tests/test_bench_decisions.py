"""The decision benchmark's columns: median, p90, p99 and max per app, and the first decision,
timed from emptied caches (what a fresh process does) unless asked to reuse them."""

from __future__ import annotations

import numpy as np

from sim.bench import SCENARIOS, bench_run_decisions
from sim.profile.shared_cache import SharedCache, clear_derived
from sim.schedulers.builtin.spinn import configs


def test_decision_rows_give_the_first_decision_beside_median_p99_and_max() -> None:
    row = bench_run_decisions(SCENARIOS / "validation" / "one_core_equal.yaml", "agnostic")
    assert row["decisions"] >= 1
    assert 0 < row["median_ms_per_app"] <= row["p90_ms_per_app"] <= row["p99_ms_per_app"]
    assert row["p99_ms_per_app"] <= row["max_ms_per_app"]
    assert 0 < row["first_ms_per_app"] <= row["max_ms_per_app"]


def test_clear_derived_empties_the_caches_built_from_profiles() -> None:
    cache: SharedCache[np.ndarray] = SharedCache(10, len)
    kept = cache.put("k", np.arange(2))
    assert cache.get("k") is kept
    configs._TABLES[("x",)] = None  # type: ignore[assignment]
    clear_derived()
    assert cache.get("k") is None and kept.tolist() == [0, 1]
    assert not configs._TABLES
