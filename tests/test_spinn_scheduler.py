"""SPINN's solver on a small configuration table, against choices derived by hand."""

from __future__ import annotations

import numpy as np
import pytest
from synthetic import make_app, make_view, view_of_kind

from sim.schedulers import create_scheduler
from sim.schedulers.base import SpinnGoals
from sim.schedulers.builtin.spinn.offload_model import ConfigTable, estimate
from sim.schedulers.builtin.spinn.scheduler import choose

# A device only (no exits), B device with exits, C split s1, D cloud only
TABLE = ConfigTable(
    variant="full",
    splits=(None, None, "s1", "input"),
    thresholds=(None, 0.5, None, None),
    device_s=np.array([0.040, 0.020, 0.012, 0.0]),
    offload=np.array([0.0, 0.0, 1.0, 1.0]),
    bytes=np.array([0.0, 0.0, 10_000.0, 50_000.0]),
    server_s=np.array([0.0, 0.0, 0.008, 0.010]),
    accuracy=np.array([0.80, 0.70, 0.80, 0.80]),
)
# 8 Mbit/s = 1e6 B/s, 20 ms round trip, unloaded server and device, camera at 100 fps:
# latency A 40, B 20, C 12 + 10 + 20 + 8 = 50, D 50 + 20 + 10 = 80 ms, plus the age of the
# frame taken: every one's slowest stage is busier than the camera's 10 ms period, so the
# newest frame is half a period old on average when taken (the table says nothing of
# fixed stage times): 45, 25, 55, 85 ms
# throughput A 25, B 50, C 1/12 ms = 83.3, D 1/50 ms = 20 fps; server ms 0, 0, 8, 10
VIEW = make_view([], bandwidth_mbps=8.0, rtt_ms=20.0, server_capacity=1.0)
APP = make_app("a", view_of_kind("progressive").apps[0].profile, fps=100.0)
EST = estimate(TABLE, APP, VIEW, share=1.0, n_link=1, n_server=1)
NAMES = "ABCD"


def test_estimates_match_the_hand_figures():
    v = EST.values
    assert v["latency_ms"] == pytest.approx([45, 25, 55, 85])
    assert v["throughput_fps"] == pytest.approx([25, 50, 1000 / 12, 20])
    assert v["server_ms"] == pytest.approx([0, 0, 8, 10])
    assert v["device_ms"] == pytest.approx([40, 20, 12, 0])


@pytest.mark.parametrize(("constraints", "objectives", "expected"), [
    ([("latency_ms", "<=", 50)], [("accuracy", "max")], "A"),
    ([], [("throughput_fps", "max")], "C"),
    ([("latency_ms", "<=", 30)], [("accuracy", "max"), ("latency_ms", "min")], "B"),
    ([("accuracy", ">=", 0.8), ("server_ms", "<=", 5)], [("latency_ms", "min")], "A"),
    ([], [("accuracy", "max"), ("throughput_fps", "max")], "C"),
    ([], [("device_ms", "min"), ("accuracy", "max")], "D"),
    ([], [("server_ms", "min"), ("throughput_fps", "max")], "B"),
    ([("throughput_fps", ">=", 60)], [("latency_ms", "min")], "C"),
])
def test_hand_derived_choices(constraints, objectives, expected):
    k, note = choose(EST, SpinnGoals(tuple(constraints), tuple(objectives)), 0.01)
    assert NAMES[k] == expected and note is None


def test_nothing_feasible_takes_the_least_violating_and_says_so():
    # latency <= 10: relative violations A 3.5, B 1.5, C 4.5, D 7.5
    k, note = choose(EST, SpinnGoals((("latency_ms", "<=", 10),), (("accuracy", "max"),)), 0.01)
    assert NAMES[k] == "B"
    assert note is not None and note.startswith("infeasible") and "latency_ms <= 10" in note


def test_a_dead_link_leaves_only_the_device():
    dead = make_view([], bandwidth_mbps=8.0, rtt_ms=20.0, server_capacity=1.0, link_up=False)
    est = estimate(TABLE, APP, dead, 1.0, 1, 1)
    k, _ = choose(est, SpinnGoals((), (("throughput_fps", "max"),)), 0.01)
    assert NAMES[k] == "B"


def test_tolerance_keeps_near_ties_for_the_next_objective():
    # accuracy 0.80 vs 0.79: within 2 % they tie and latency decides
    table = ConfigTable("full", (None, None), (None, 0.5), np.array([0.04, 0.02]),
                        np.zeros(2), np.zeros(2), np.zeros(2), np.array([0.80, 0.79]))
    est = estimate(table, APP, VIEW, 1.0, 1, 1)
    goals = SpinnGoals((), (("accuracy", "max"), ("latency_ms", "min")))
    assert choose(est, goals, 0.02)[0] == 1
    assert choose(est, goals, 0.001)[0] == 0


def test_scheduler_follows_bandwidth_on_the_synthetic_network():
    """More bandwidth never makes SPINN offload less (here: device-only when it is low)."""
    base = view_of_kind("progressive", n_apps=1)
    sched = create_scheduler("spinn")
    low = sched.decide(make_view(base.apps, bandwidth_mbps=0.01, rtt_ms=20.0,
                                 server_capacity=1.0)).apps["p0"]
    assert low.split is None
    share = sched.decide(base).apps["p0"].share
    assert share == pytest.approx(1.0)
