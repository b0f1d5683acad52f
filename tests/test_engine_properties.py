"""Invariants of the engine over random small worlds (STYLE habit 8)."""

from __future__ import annotations

import numpy as np
from enginekit import FixedScheduler, simulate, write_world
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from synthetic import make_profile

from sim.schedulers.base import AppPlan, Plan

PROF = make_profile("n", [("d0", 2_000_000, 7.0, 0.6), ("d1", 5_000_000, 15.0, 0.7),
                          ("d2", 9_000_000, 33.0, 0.8)],
                    independents=[("i2", 9_000_000, 33.0, 0.8)])
VARIANTS = ["d0", "d1", "d2", "i2"]


@st.composite
def worlds(draw):
    n = draw(st.integers(1, 4))
    apps = [{"name": f"a{i}", "family": "n", "fps": draw(st.sampled_from([5, 10, 15, 30]))}
            for i in range(n)]
    events = []
    for a in apps:
        t0 = draw(st.floats(0, 3))
        events.append({"t": round(t0, 3), "action": "launch", "app": a["name"]})
        if draw(st.booleans()):
            events.append({"t": round(t0 + draw(st.floats(0.01, 3)), 3), "action": "exit",
                           "app": a["name"]})
    steps = [[0, draw(st.floats(0, 0.8))], [draw(st.floats(0.1, 5)), draw(st.floats(0, 0.8))]]
    seed = draw(st.integers(0, 2**16))
    wc = draw(st.booleans())
    return apps, events, steps, seed, wc


def random_plans(seed: int):
    rng = np.random.default_rng(seed)

    def decide(view):
        if not view.apps:
            return Plan({})
        raw = rng.random(len(view.apps)) + 0.05
        shares = raw / raw.sum() * rng.uniform(0.5, 1.0)
        return Plan({a.name: AppPlan(VARIANTS[int(rng.integers(4))], float(s))
                     for a, s in zip(view.apps, shares)})
    return decide


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(worlds())
def test_conservation_capacity_memory_and_time(tmp_path, world):
    apps, events, steps, seed, wc = world
    path = write_world(tmp_path, {
        "duration_s": 6, "apps": apps, "events": events,
        "engine": {"work_conserving": wc},
        "monitor": {"decision_period_s": 0.7, "period_s": 0.25},
        "device": {"name": "dev", "memory_mb": 20, "storage_read_mbps": 50,
                   "background_load": {"kind": "step", "steps": steps}}}, {"n": PROF})
    res = simulate(path, FixedScheduler(random_plans(seed)))
    load = res.inputs.load
    # frames in = processed + dropped, per app
    for app in res.apps.values():
        rec = app.record
        assert rec.arrived == len(rec.frames) + rec.dropped
        arrival, finish = rec.frames.column("arrival_s"), rec.frames.column("finish_s")
        # time never goes backwards; each frame finishes after it arrived
        assert all(f >= a - 1e-12 for a, f in zip(arrival, finish))
        assert all(b >= a for a, b in zip(finish, finish[1:]))
        assert all(b > a for a, b in zip(arrival, arrival[1:]))
    # capacity never exceeded: compute given <= compute available while busy
    available = 6.0 - load.integral(0.0, 6.0)
    assert sum(res.work_done.values()) <= available + 1e-9
    assert sum(res.work_done.values()) <= res.busy_time + 1e-9
    # memory: applied plans never exceed the budget
    assert res.peak_memory_bytes <= 20_000_000
    times = [d.t_s for d in res.timeline]
    assert times == sorted(times)


def test_processed_frames_use_only_planned_variants(tmp_path):
    path = write_world(tmp_path, {
        "duration_s": 3, "apps": [{"name": "a", "family": "n", "fps": 30}],
        "events": [{"t": 0, "action": "launch", "app": "a"}]}, {"n": PROF})
    res = simulate(path, FixedScheduler({"a": ("d1", 1.0)}))
    assert set(res.apps["a"].record.frames.column("variant")) == {"d1"}
    assert len(res.apps["a"].record.frames) == 90  # 15 ms per frame: every frame processed
