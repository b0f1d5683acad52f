"""engine.latency: measured draws each inference's work from the variant's measured p10,
median and p90 (deterministic per seed); median keeps every inference at the median."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
from enginekit import write_world
from synthetic import make_profile

from sim.engine.latency import MIN_FACTOR, quantile_factor
from sim.profile import LatencyStats
from sim.runner import run_scenario


def test_the_quantile_function_passes_through_the_measured_points() -> None:
    assert quantile_factor(0.1, 0.8, 1.5) == pytest.approx(0.8)
    assert quantile_factor(0.5, 0.8, 1.5) == pytest.approx(1.0)
    assert quantile_factor(0.9, 0.8, 1.5) == pytest.approx(1.5)
    assert quantile_factor(0.0, 0.8, 1.5) == pytest.approx(0.75)  # the p10-median slope on
    assert quantile_factor(1.0, 0.8, 1.5) == pytest.approx(1.625)
    assert quantile_factor(0.0, 0.01, 1.0) == MIN_FACTOR


def _run(tmp_path, mode: str, seed: int = 3) -> tuple[dict, np.ndarray]:
    prof = make_profile("p", [("m", 1000, 10.0, 0.7)])
    v = prof.variants[0]
    prof = prof.model_copy(update={"variants": (v.model_copy(update={
        "latency_ms": LatencyStats(median=10.0, p10=8.0, p90=15.0)}),)})
    scen = write_world(tmp_path / mode / str(seed), {
        "duration_s": 120, "seed": seed, "metrics": {"frames_csv": True},
        "engine": {"latency": mode},
        "schedulers": [{"name": "agnostic"}],
        "apps": [{"name": "a", "family": "p", "fps": 5, "latency_goal_ms": 12}],
        "events": [{"t": 0, "action": "launch", "app": "a"}]}, {"p": prof})
    run_scenario(scen, out=tmp_path / mode / str(seed) / "out")
    run = tmp_path / mode / str(seed) / "out" / "agnostic"
    with (run / "frames.csv").open() as fh:
        lat = np.array([float(r["latency_ms"]) for r in csv.DictReader(fh) if r["latency_ms"]])
    return json.loads((run / "metrics.json").read_text())["overall"], lat


def test_measured_latencies_follow_the_profiles_spread_and_repeat_per_seed(tmp_path) -> None:
    overall, lat = _run(tmp_path, "measured")
    assert lat.size == 600  # 5 fps for 120 s, never queued (the slowest frame < 200 ms)
    p10, p50, p90 = np.percentile(lat, [10, 50, 90])
    assert p10 == pytest.approx(8.0, abs=0.4) and p50 == pytest.approx(10.0, abs=0.4)
    assert p90 == pytest.approx(15.0, abs=0.7)
    # a 12 ms goal: on time at the median, late on the slow frames (u > 0.66: 34%)
    assert overall["deadline_misses"] == pytest.approx(0.34 * 600, abs=30)
    again, lat2 = _run(tmp_path / "again", "measured")
    assert np.array_equal(lat, lat2) and again == overall
    other, lat3 = _run(tmp_path, "measured", seed=4)
    assert not np.array_equal(lat, lat3)


def test_median_keeps_every_inference_at_the_median(tmp_path) -> None:
    overall, lat = _run(tmp_path, "median")
    assert np.allclose(lat, 10.0) and overall["deadline_misses"] == 0
