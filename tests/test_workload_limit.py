"""A random workload is bounded by what it costs to generate and simulate: at most
MAX_WORKLOAD_DRAWS (100,000) expected launch/exit draws, refused beyond in one line naming
the field and the limit (a million draws simulated for minutes, up to ~13 under NestDNN)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from enginekit import write_world
from synthetic import make_profile

from sim.cli import main
from sim.config.limits import MAX_WORKLOAD_DRAWS
from sim.config.scenario import ScenarioError, load_scenario
from sim.config.workload import MAX_MEAN_S, generate_workload

ROOT = Path(__file__).resolve().parent.parent
PROF = make_profile("n", [("d0", 1_000_000, 5.0, 0.6)])
APPS = [{"name": "a", "family": "n", "fps": 1}, {"name": "b", "family": "n", "fps": 1}]


def _world(tmp_path, duration_s: float, mean_on_s: float, mean_off_s: float = 60.0) -> Path:
    return write_world(tmp_path, {"duration_s": duration_s, "apps": APPS, "random_workload": {
        "pool": ["a", "b"], "min_concurrent": 1, "max_concurrent": 2, "mean_on_s": mean_on_s,
        "mean_off_s": mean_off_s}}, {"n": PROF})


def test_the_limit_is_a_hundred_thousand_draws():
    assert MAX_WORKLOAD_DRAWS == 100_000


def test_exactly_at_the_limit_is_accepted(tmp_path):
    # 2 apps x 1000 s / 0.02 s = 100,000 expected draws
    sc = load_scenario(_world(tmp_path, 1000, 0.02))
    assert sc.random_workload is not None


def test_over_the_limit_is_one_line_naming_field_and_limit(tmp_path, capsys):
    path = _world(tmp_path, 1000, 0.019)  # 105,263 draws (a million was accepted before)
    assert main(["validate", str(path)]) == 2
    assert capsys.readouterr().err == (
        f"error: {path}: random_workload: ~1.05e+05 launch/exit draws (2 apps x duration_s / "
        "the shorter of mean_on_s and mean_off_s), over 100,000; are mean_on_s/mean_off_s in "
        "seconds?\n")
    path = _world(tmp_path, 1000, 60.0, 0.002)  # the off time counts alike: 1e6 draws
    with pytest.raises(ScenarioError, match=r"random_workload: ~1e\+06 launch/exit draws"):
        load_scenario(path)


def test_a_workload_at_the_limit_draws_no_more_events_than_the_limit():
    events = generate_workload(["a", "b"], 1000, np.random.default_rng(0), 1, 2, 0.02, 0.02)
    assert 0.5 * MAX_WORKLOAD_DRAWS < len(events) <= MAX_WORKLOAD_DRAWS


def test_mean_times_are_bounded_above(tmp_path):
    with pytest.raises(ScenarioError, match=r"random_workload.mean_on_s: Input should be less "
                                            r"than or equal to 1000000000 \(got 1e\+300\)"):
        load_scenario(_world(tmp_path, 10, 1e300))
    assert MAX_MEAN_S == 1e9


def test_the_limit_is_documented():
    text = (ROOT / "scenarios" / "README.md").read_text(encoding="utf-8")
    assert re.search(r"random workload expected to draw\s+over 100,000 launches and exits", text)
