"""Multi-core devices: water-filling against hand-computed rates, and one core unchanged."""

from __future__ import annotations

import json

import numpy as np
import pytest
import simpy
from enginekit import FixedScheduler, frames, simulate, write_world
from synthetic import make_profile

from sim.config.inputs import load_inputs
from sim.config.scenario import ScenarioError
from sim.engine.multicore import MultiCoreProcessor, water_fill
from sim.engine.processor import Job, SharedProcessor
from sim.results.metrics import compute_metrics
from sim.traces import Trace

ONE = make_profile("one", [("v0", 0, 100.0, 0.5)])


def launch(*apps: str) -> list[dict]:
    return [{"t": 0.0, "action": "launch", "app": a} for a in apps]


@pytest.mark.parametrize(("cap", "demand", "weight", "expected"), [
    (2.0, [1, 1, 1], [1, 1, 1], [2 / 3, 2 / 3, 2 / 3]),  # nobody capped: by weight
    (2.0, [1, 1], [3, 1], [1, 1]),  # both capped: the light one is not held back
    (1.5, [1, 1, 1], [2, 1, 1], [0.75, 0.375, 0.375]),  # one core left: as on one core
    (3.0, [1, 2, 2], [2, 1, 1], [1, 1, 1]),  # A capped at 1, the rest split the 2 left
    (2.0, [2, 1], [1, 1], [1, 1]),  # the 1-thread job is capped, the 2-thread takes the rest
    (2.0, [1, 1], [1, 0], [1, 0]),  # weight 0 gets nothing
    (0.0, [1, 1], [1, 1], [0, 0]),
])
def test_water_fill_by_hand(cap, demand, weight, expected):
    names = [f"j{i}" for i in range(len(demand))]
    got = water_fill(cap, dict(zip(names, map(float, demand))), dict(zip(names, weight)))
    assert [got[n] for n in names] == pytest.approx(expected)


def test_water_fill_not_work_conserving_keeps_absolute_shares():
    got = water_fill(2.0, {"a": 1.0, "b": 1.0}, {"a": 0.9, "b": 0.1}, work_conserving=False)
    assert got == pytest.approx({"a": 1.0, "b": 0.2})


def _run(cores: int, load: Trace, jobs: list[tuple[str, float, float, int]],
         work_conserving: bool = True) -> dict[str, float]:
    """Finish time of each (owner, work s, weight, threads) job started at 0."""
    env = simpy.Environment()
    proc = MultiCoreProcessor(env, load, cores, work_conserving)
    done: dict[str, float] = {}
    for owner, work, weight, threads in jobs:
        proc.set_demand(owner, threads)
        proc.set_weight(owner, weight)
        proc.submit(Job(owner, work, lambda j: done.__setitem__(j.owner, env.now)))
    env.run()
    return done


FULL = Trace([0.0], [1.0])


def test_three_one_thread_jobs_on_two_cores():
    # 2/3 core each until a and b end at 1.5 s; c has 1 s left alone at full speed
    done = _run(2, FULL, [("a", 1.0, 1, 1), ("b", 1.0, 1, 1), ("c", 2.0, 1, 1)])
    assert done == pytest.approx({"a": 1.5, "b": 1.5, "c": 2.5})


def test_background_load_step_halves_two_cores():
    # full speed for 1 s (1 s done each), then one core for two jobs: 1 s left at 0.5
    load = Trace([0.0, 1.0], [1.0, 0.5])
    done = _run(2, load, [("a", 2.0, 1, 1), ("b", 2.0, 1, 1)])
    assert done == pytest.approx({"a": 3.0, "b": 3.0})


def test_weights_capped_at_one_core_each():
    # 0.9 and 0.1 of two cores: water-filled, each gets the one core it can use; without
    # work conservation the light one keeps 0.1 x 2 = 0.2 of a core
    assert _run(2, FULL, [("a", 1.0, 0.9, 1), ("b", 1.0, 0.1, 1)]) == pytest.approx(
        {"a": 1.0, "b": 1.0})
    assert _run(2, FULL, [("a", 1.0, 0.9, 1), ("b", 1.0, 0.1, 1)], work_conserving=False) == \
        pytest.approx({"a": 1.0, "b": 5.0})


def test_two_thread_job_runs_at_half_speed_on_the_core_left():
    # b (1 thread) takes one core; a (2 threads) gets the other: half its profiled speed,
    # then both cores once b is done at 1 s: a did 0.5, 0.5 left at full speed
    done = _run(2, FULL, [("a", 1.0, 1, 2), ("b", 1.0, 1, 1)])
    assert done == pytest.approx({"a": 1.5, "b": 1.0})


def _random_chain_finish_times(kind: str, load: Trace) -> list[float]:
    env = simpy.Environment()
    proc = (SharedProcessor(env, load) if kind == "shared"
            else MultiCoreProcessor(env, load, 1))
    out: list[float] = []
    rng = np.random.default_rng(3)
    for i in range(40):
        proc.set_weight(f"o{i % 4}", float(rng.uniform(0.1, 1.0)))

    def chain(owner: str, left: list[float]) -> None:
        if left:
            w = left.pop()
            proc.submit(Job(owner, w, lambda j: (out.append(env.now), chain(owner, left))))

    for k in range(4):
        chain(f"o{k}", list(rng.uniform(0.01, 0.5, size=10)))
    env.run()
    return sorted(out)


def test_one_core_multicore_equals_shared_processor_on_random_jobs():
    load = Trace([0.0, 0.7, 1.9, 3.3], [1.0, 0.4, 0.8, 0.6])
    multi = _random_chain_finish_times("multi", load)
    assert len(multi) == 40
    assert multi == pytest.approx(_random_chain_finish_times("shared", load), rel=1e-9)


def _scenario(tmp_path, cores: int | None, bg=0.0):
    device = {"name": "dev", "memory_mb": 1000, "storage_read_mbps": 1e9, "background_load": bg}
    if cores is not None:
        device["cores"] = cores
    return write_world(tmp_path, {
        "duration_s": 2, "device": device,
        "apps": [{"name": n, "family": "one", "fps": 5} for n in ("a", "b", "c")],
        "events": launch("a", "b", "c")}, {"one": ONE})


def test_three_apps_on_two_cores_frame_times(tmp_path):
    # 100 ms each at 2/3 of a core -> 150 ms; every 200 ms a new frame
    res = simulate(_scenario(tmp_path, 2), FixedScheduler(
        {n: ("v0", 1 / 3) for n in "abc"}))
    assert frames(res, "a")[:3] == [(0.0, 0.15), (0.2, 0.35), (0.4, 0.55)]
    # device seconds stay full-device seconds: 10 frames x 0.1 s x 1 core / 2 cores
    assert res.work_done["a"] == pytest.approx(0.5)


def test_default_and_explicit_one_core_are_bit_identical(tmp_path):
    sched = {n: ("v0", s) for n, s in zip("abc", (0.5, 0.3, 0.2))}
    out = []
    for cores in (None, 1):
        path = _scenario(tmp_path, cores, bg={"kind": "step", "steps": [[0, 0], [0.7, 0.5]]})
        res = simulate(path, FixedScheduler(sched))
        out.append((json.dumps(compute_metrics(res), sort_keys=True),
                    [list(res.apps[n].record.frames.rows()) for n in "abc"]))
    assert out[0] == out[1]


def test_profile_measured_with_more_threads_than_cores_is_refused(tmp_path):
    prof = ONE.model_copy(update={"device": ONE.device.model_copy(update={"threads": 2})})
    path = write_world(tmp_path, {
        "apps": [{"name": "a", "family": "one", "fps": 5}], "events": launch("a")},
        {"one": prof})
    with pytest.raises(ScenarioError, match=r"device.cores: .* 2 threads.*cores >= 2"):
        load_inputs(path)
