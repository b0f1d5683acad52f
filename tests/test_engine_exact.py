"""Exact event traces of tiny scenarios, computed by hand (STYLE habit 7)."""

from __future__ import annotations

import pytest
from enginekit import FixedScheduler, frames, simulate, write_world
from synthetic import make_profile

ONE = make_profile("one", [("v0", 0, 100.0, 0.5)])


def launch(*apps: str, t: float = 0.0) -> list[dict]:
    return [{"t": t, "action": "launch", "app": a} for a in apps]


def test_two_apps_sharing_half_half_finish_together(tmp_path):
    # each job is 100 ms of full-device work at rate 0.5 -> done at 0.2 s, every second
    path = write_world(tmp_path, {
        "duration_s": 3, "apps": [{"name": "a", "family": "one", "fps": 1},
                                  {"name": "b", "family": "one", "fps": 1}],
        "events": launch("a", "b")}, {"one": ONE})
    res = simulate(path, FixedScheduler({"a": ("v0", 0.5), "b": ("v0", 0.5)}))
    assert frames(res, "a") == [(0.0, 0.2), (1.0, 1.2), (2.0, 2.2)]
    assert frames(res, "b") == frames(res, "a")
    assert res.apps["a"].record.arrived == 3 and res.apps["a"].record.dropped == 0
    assert res.work_done["a"] == pytest.approx(0.3)
    assert res.busy_time == pytest.approx(0.6)


def test_unequal_shares_then_work_conserving_speedup(tmp_path):
    prof = make_profile("p", [("v0", 0, 30.0, 0.5)])
    path = write_world(tmp_path, {
        "duration_s": 0.5, "apps": [{"name": "a", "family": "p", "fps": 1},
                                    {"name": "b", "family": "p", "fps": 1}],
        "events": launch("a", "b")}, {"p": prof})
    res = simulate(path, FixedScheduler({"a": ("v0", 0.75), "b": ("v0", 0.25)}))
    # a: 30 ms at 0.75 -> 40 ms. b: 10 ms of work by then, 20 ms left alone at rate 1 -> 60 ms
    assert frames(res, "a") == [(0.0, 0.04)]
    assert frames(res, "b") == [(0.0, 0.06)]


def test_not_work_conserving_keeps_absolute_shares(tmp_path):
    prof = make_profile("p", [("v0", 0, 30.0, 0.5)])
    path = write_world(tmp_path, {
        "duration_s": 0.5, "engine": {"work_conserving": False},
        "apps": [{"name": "a", "family": "p", "fps": 1}, {"name": "b", "family": "p", "fps": 1}],
        "events": launch("a", "b")}, {"p": prof})
    res = simulate(path, FixedScheduler({"a": ("v0", 0.75), "b": ("v0", 0.25)}))
    assert frames(res, "a") == [(0.0, 0.04)]
    assert frames(res, "b") == [(0.0, 0.12)]


def test_background_load_step_mid_job(tmp_path):
    prof = make_profile("p", [("v0", 0, 150.0, 0.5)])
    path = write_world(tmp_path, {
        "duration_s": 0.5, "apps": [{"name": "a", "family": "p", "fps": 1}],
        "device": {"name": "dev", "memory_mb": 100, "storage_read_mbps": 1e9,
                   "background_load": {"kind": "step", "steps": [[0, 0.0], [0.1, 0.5]]}},
        "events": launch("a")}, {"p": prof})
    res = simulate(path, FixedScheduler({"a": ("v0", 1.0)}))
    # 100 ms of work by t=0.1, then 50 ms left at rate 0.5 -> done at 0.2
    assert frames(res, "a") == [(0.0, 0.2)]


def test_latest_frame_semantics_drop_the_older_waiting_frames(tmp_path):
    prof = make_profile("p", [("v0", 0, 250.0, 0.5)])
    path = write_world(tmp_path, {
        "duration_s": 1.0, "apps": [{"name": "a", "family": "p", "fps": 10}],
        "events": launch("a")}, {"p": prof})
    res = simulate(path, FixedScheduler({"a": ("v0", 1.0)}))
    # frame 0 done at .25; frames 1,2 waited -> 1 dropped, 2 (t=.2) runs to .5;
    # frames 3,4,5 -> 5 (t=.5) runs to .75; 6,7 -> 7 (t=.7) runs to 1.0 = the end, which
    # counts (a completion at the instant an app stops counts); the frame of t = 1.0 is
    # outside the run
    assert frames(res, "a") == [(0.0, 0.25), (0.2, 0.5), (0.5, 0.75), (0.7, 1.0)]
    rec = res.apps["a"].record
    assert rec.arrived == 10  # t = 0.0 .. 0.9
    assert rec.arrived == len(rec.frames) + rec.dropped


def test_queue_length_two_keeps_the_two_newest_fifo(tmp_path):
    prof = make_profile("p", [("v0", 0, 250.0, 0.5)])
    path = write_world(tmp_path, {
        "duration_s": 0.6, "engine": {"queue_length": 2},
        "apps": [{"name": "a", "family": "p", "fps": 10}], "events": launch("a")}, {"p": prof})
    res = simulate(path, FixedScheduler({"a": ("v0", 1.0)}))
    # at .25 frames 1,2 wait -> both kept, 1 runs to .5; at .5 waiting 2,3,4,5 -> keep 4,5
    assert frames(res, "a") == [(0.0, 0.25), (0.1, 0.5)]


def test_upgrade_inside_nested_model_loads_only_new_bytes(tmp_path):
    prof = make_profile("n", [("d0", 10_000_000, 10.0, 0.5), ("d1", 30_000_000, 20.0, 0.6)],
                        independents=[("i1", 30_000_000, 20.0, 0.6)])
    def plan(view):
        from sim.schedulers.base import AppPlan, Plan
        v = "d0" if view.time_s < 1 else "d1"
        return Plan({"a": AppPlan(v, 1.0)})
    path = write_world(tmp_path, {
        "duration_s": 2.0, "apps": [{"name": "a", "family": "n", "fps": 2}],
        "device": {"name": "dev", "memory_mb": 100, "storage_read_mbps": 100},
        "monitor": {"decision_period_s": 1.0},
        "events": launch("a")}, {"n": prof})
    res = simulate(path, FixedScheduler(plan))
    rec = res.apps["a"].record
    # initial load 10 MB at 100 MB/s = 0.1 s, so frame 0 (t=0) starts at .1 and ends .11
    assert frames(res, "a")[0] == (0.0, 0.11)
    # the frame arriving at t=1 starts before the decision of that instant (world.py's
    # order), on d0: 1.0 -> 1.01; then the upgrade loads 20 new MB (0.2 s stall, to 1.21);
    # the frame at 1.5 runs on d1 (20 ms)
    assert frames(res, "a") == [(0.0, 0.11), (0.5, 0.51), (1.0, 1.01), (1.5, 1.52)]
    assert rec.switches == 1 and rec.switch_s == pytest.approx(0.2)
    assert rec.load_s == pytest.approx(0.1)
