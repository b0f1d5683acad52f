"""Correctness round 3 (engine side): accuracy of variants without outcomes, server
slowdown learnt from timeouts, radio time of cancelled transfers, the goal at arrival and
float ties at large times. Expected numbers are worked out by hand in each test."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from synthetic import make_profile

from sim.profile import Outcomes, load_profile
from sim.profile.routes import build_route, ranked_bits

ROOT = Path(__file__).resolve().parents[1]


def test_search_candidate_accuracy_is_its_top1_not_all_correct() -> None:
    prof = load_profile(ROOT / "profiles/cpu-1t/adaptivenet-resnet.json")
    assert prof.outcomes is not None and prof.pool is not None and prof.pool.search is not None
    n = prof.outcomes.samples
    for cand in prof.pool.search.candidates:
        assert cand.id not in prof.outcomes.correct
        route = build_route(prof, cand.id, None, None)
        # exactly round(top1 * n) of the n eval samples are right (cand-004: 1533 of 2250)
        assert sum(route.correct) == round(cand.val_top1 * n)
    cand4 = next(c for c in prof.pool.search.candidates if c.id == "cand-004")
    assert sum(build_route(prof, cand4.id, None, None).correct) == 1533


def test_ranked_bits_prefer_samples_the_measured_variants_answer() -> None:
    # ease per sample: a=1100, b=1000 -> (2, 1, 0, 0); a 50% variant gets samples 0 and 1
    prof = make_profile("f", [("a", 10, 1.0, 0.5), ("b", 20, 2.0, 0.25), ("c", 30, 3.0, 0.5)],
                        outcomes=Outcomes(samples=4, correct={"a": "1100", "b": "1000"}))
    assert ranked_bits(prof, "c", 0.5).tolist() == [True, True, False, False]
    assert ranked_bits(prof, "c", 0.25).tolist() == [True, False, False, False]
    assert ranked_bits(prof, "c", 1.0).all() and not ranked_bits(prof, "c", 0.0).any()
    route = build_route(prof, "c", None, None)
    assert route.correct == (True, True, False, False)
    # a variant with its own outcomes keeps them
    assert build_route(prof, "b", None, None).correct == (True, False, False, False)
    # deterministic: the same key gives the same tie-break
    assert np.array_equal(ranked_bits(prof, "x", 0.75), ranked_bits(prof, "x", 0.75))


# -- the server-slowdown trap ---------------------------------------------------------------
def _trap_world(tmp: Path, **scenario: object) -> Path:
    from offloadkit import write_offload_world
    base: dict[str, object] = {
        "duration_s": 6,
        # the server's load steps from 0 to 0.8 at t = 1 s: the whole model takes 15 ms there
        "server": {"name": "srv", "load": {"kind": "step", "steps": [[0, 0.0], [1, 0.8]]}},
        "network": {"bandwidth_mbps": 8.0, "rtt_ms": 2.0},
        "apps": [{"name": "a", "family": "p", "fps": 10}],
    }
    base.update(scenario)
    return write_offload_world(tmp, base)


def _cloud_only(view):  # type: ignore[no-untyped-def]
    from sim.schedulers.base import AppPlan, Plan
    return Plan({a.name: AppPlan("full", 1.0, "input", None, local_fallback=False)
                 for a in view.apps})


def test_a_timeout_lifts_the_server_estimate_so_answers_come_back(tmp_path: Path) -> None:
    from enginekit import FixedScheduler

    from sim.config.inputs import load_inputs
    from sim.engine.world import Simulation
    path = _trap_world(tmp_path)
    sim = Simulation(load_inputs(path), FixedScheduler(_cloud_only))
    seen: list[float] = []
    orig = sim.monitors.observe_server_timeout

    def spy(waited: float, scale: float) -> None:
        orig(waited, scale)
        seen.append(sim.monitors.server_slowdown)

    sim.monitors.observe_server_timeout = spy  # type: ignore[method-assign]
    res = sim.run()
    rec = res.apps["a"].record
    # Before t = 1 each frame takes 3 ms up + 1 ms + 3 ms server + 1 ms down = 8 ms. The frame
    # of t = 1.0 is predicted 3 + 2 + 3 = 8 ms, so its deadline is 16 ms; the server needs
    # 15 ms from 1.004, so at 1.016 it has waited 1.016 - 1.003 - 0.002 = 11 ms for 3 ms of
    # profiled work: the slowdown is at least 11/3.
    assert rec.timeouts == 1
    assert seen == [pytest.approx(11 / 3, rel=1e-9)]
    done = [(round(f.arrival_s, 9), round(f.finish_s - f.arrival_s, 6))
            for f in rec.frames.rows()]
    assert done[:10] == [(round(0.1 * k, 9), 0.008) for k in range(10)]
    # with 11/3 the deadline is 2 x (3 + 2 + 11) = 32 ms > 20 ms: every later frame is answered
    late = [d for d in done if d[0] >= 2.05]
    assert late == [(round(0.1 * k, 9), 0.02) for k in range(21, 60)]


def test_a_probe_keeps_the_server_estimate_fresh_while_nothing_is_offloaded(
        tmp_path: Path) -> None:
    from enginekit import FixedScheduler

    from sim.config.inputs import load_inputs
    from sim.engine.world import Simulation
    path = _trap_world(tmp_path, duration_s=30)
    device_only = FixedScheduler({"a": ("full", 1.0)})
    sim = Simulation(load_inputs(path), device_only)
    sim.run()
    # probes once a second from t = 1: est_k = 5 - 4 * 0.7^k after k probes at load 0.8
    assert sim.monitors.server_slowdown == pytest.approx(5 - 4 * 0.7 ** 29, rel=1e-12)
    assert sim.monitors.server_capacity == pytest.approx(0.2, rel=1e-3)


def test_a_transfer_cut_by_its_timeout_charges_the_radio_for_what_it_sent(
        tmp_path: Path) -> None:
    from enginekit import FixedScheduler, simulate

    from sim.results.metrics import compute_metrics
    # 8 Mbit/s (1e6 B/s) until t = 1, then 0.8 Mbit/s; the estimate is still 8 at t = 1.0
    path = _trap_world(tmp_path, duration_s=1.05, server={"name": "srv"},
                       network={"bandwidth_mbps": {"kind": "step", "steps": [[0, 8.0], [1, 0.8]]},
                                "rtt_ms": 2.0},
                       device={"name": "dev", "memory_mb": 1000, "storage_read_mbps": 1e9,
                               "power": {"idle_w": 0.0, "busy_w": 0.0, "radio_tx_w": 2.0,
                                         "radio_j_per_byte": 1e-6}})
    res = simulate(path, FixedScheduler(_cloud_only))
    rec = res.apps["a"].record
    # frames 0.0 .. 0.9: 3000 bytes in 3 ms each. The frame of t = 1.0 is predicted
    # 3 + 2 + 3 = 8 ms (deadline 16 ms) but sends at 1e5 B/s: at 1.016 it has sent 1600 bytes
    # in 16 ms, and the transfer is cancelled.
    assert rec.timeouts == 1
    assert rec.radio_s == pytest.approx(10 * 0.003 + 0.016, rel=1e-9)
    assert rec.sent_bytes == pytest.approx(10 * 3000 + 1600, rel=1e-9)
    assert res.link_busy_s == pytest.approx(rec.radio_s, rel=1e-9)
    m = compute_metrics(res)
    # radio energy: 2 W x 0.046 s + 1e-6 J/B x 31,600 B = 0.092 + 0.0316 J
    assert m["apps"]["a"]["radio_energy_j"] == pytest.approx(0.1236, rel=1e-6)
    assert m["overall"]["radio_s"] == pytest.approx(m["apps"]["a"]["radio_s"], rel=1e-6)


def test_each_frame_keeps_the_goal_in_force_when_it_arrived(tmp_path: Path) -> None:
    from enginekit import FixedScheduler, simulate, write_world
    prof = make_profile("f", [("v", 1000, 50.0, 0.5)])
    path = write_world(tmp_path, {
        "duration_s": 1.5,
        "apps": [{"name": "a", "family": "f", "fps": 10, "latency_goal_ms": 100}],
        "events": [{"t": 0, "action": "launch", "app": "a"},
                   {"t": 1.02, "action": "goal", "app": "a", "value": 30},
                   {"t": 1.2, "action": "goal", "app": "a", "value": 20}],
    }, {"f": prof})
    res = simulate(path, FixedScheduler({"a": ("v", 1.0)}))
    goals = {round(f.arrival_s, 6): f.goal_ms for f in res.apps["a"].record.frames.rows()}
    # the frame of t = 1.0 runs 1.0 .. 1.05, across the change at 1.02: it keeps 100 ms; the
    # frame of t = 1.2 arrives at the instant of the second change and gets it
    assert goals[1.0] == 100 and goals[1.1] == 30 and goals[1.2] == 20 and goals[1.4] == 20


@pytest.mark.parametrize("fps,work_ms", [(10, 100.0), (30, 1000 / 30), (30, 50.0), (7, 1000 / 7)])
def test_ties_fall_the_same_way_at_any_time_scale(tmp_path: Path, fps: float,
                                                   work_ms: float) -> None:
    """Device time equal to the frame period: every completion ties with an arrival, and the
    last one with the exit. Shifted by 20,000 s or 10^6 s the run must be the same run."""
    from enginekit import FixedScheduler, simulate, write_world
    prof = make_profile("f", [("v", 1000, work_ms, 0.5)])
    runs = []
    for i, launch in enumerate((0.0, 0.1, 20_000.0, 1_000_000.0)):
        folder = tmp_path / str(i)
        folder.mkdir()
        path = write_world(folder, {
            "duration_s": launch + 4,
            "apps": [{"name": "a", "family": "f", "fps": fps}],
            "events": [{"t": launch, "action": "launch", "app": "a"},
                       {"t": launch + 3, "action": "exit", "app": "a"}]}, {"f": prof})
        rec = simulate(path, FixedScheduler({"a": ("v", 1.0)})).apps["a"].record
        arrival = rec.frames.column("arrival_s")
        runs.append(([round(a - launch, 6) for a in arrival], rec.dropped, rec.arrived))
    assert all(r == runs[0] for r in runs[1:]), runs
    done, dropped, arrived = runs[0]
    assert arrived == len(done) + dropped
    if work_ms * fps == pytest.approx(1000):
        # every frame runs; the last finishes exactly as the app exits and counts, and the
        # one arriving then is not the app's (it runs from its launch up to its exit)
        assert done == [pytest.approx(k / fps, abs=1e-6) for k in range(3 * fps)]
        assert dropped == 0


def test_forget_from_uncounts_lost_frames_at_or_after_the_end() -> None:
    from sim.engine.records import AppRecord, LostRun
    rec = AppRecord("a")
    rec.arrived = 9
    rec.drop(0.1, 0.1, 3)           # 0.1, 0.2, 0.3
    rec.drop(0.7, 0.1, 4)           # 0.7, 0.8, 0.9, 1.0
    rec.drop(1.0, 0.0, 1, "failed")
    rec.drop(1.2, 0.0, 1)
    rec.forget_from(1.0 - 1e-11)
    assert list(rec.lost.rows()) == [
        LostRun(first_s=0.1, spacing_s=0.1, frames=3, why="dropped"),
        LostRun(first_s=0.7, spacing_s=0.1, frames=3, why="dropped")]
    assert (rec.dropped, rec.failed, rec.arrived) == (6, 0, 6)


def test_an_exit_and_a_launch_at_one_instant_count_the_frame_there_once(
        tmp_path: Path) -> None:
    from enginekit import FixedScheduler, simulate, write_world
    prof = make_profile("f", [("v", 1000, 400.0, 0.5)])
    for i, t in enumerate((1.0, 20_000.0)):
        folder = tmp_path / str(i)
        folder.mkdir()
        path = write_world(folder, {
            "duration_s": t + 2.3,
            "apps": [{"name": "a", "family": "f", "fps": 1}],
            "events": [{"t": t - 1, "action": "launch", "app": "a"},
                       {"t": t, "action": "exit", "app": "a"},
                       {"t": t, "action": "launch", "app": "a"}]}, {"f": prof})
        rec = simulate(path, FixedScheduler({"a": ("v", 1.0)})).apps["a"].record
        done = [round(a - t, 6) for a in rec.frames.column("arrival_s")]
        lost = [round(f.arrival_s - t, 6) for f in rec.lost_frames()]
        # frames at t-1, t, t+1, t+2 (400 ms each; the end at t+2.3 cuts the last: dropped)
        assert done == [-1.0, 0.0, 1.0] and lost == [2.0]
        assert rec.arrived == 4


def test_a_tiny_share_never_lets_the_device_do_more_than_it_can(tmp_path: Path) -> None:
    """App a alone at share 1e-17 for 5 s (virtual time races ahead at cap / W), then b at
    share 1: b's jobs must still take their time. 40 ms frames at 30 fps saturate the core."""
    from enginekit import FixedScheduler, simulate, write_world
    prof = make_profile("f", [("v", 1000, 40.0, 0.5)])
    path = write_world(tmp_path, {
        "duration_s": 60,
        "apps": [{"name": "a", "family": "f", "fps": 30}, {"name": "b", "family": "f", "fps": 30}],
        "events": [{"t": 0, "action": "launch", "app": "a"},
                   {"t": 5, "action": "launch", "app": "b"}]}, {"f": prof})
    res = simulate(path, FixedScheduler({"a": ("v", 1e-17), "b": ("v", 1.0)}))
    assert sum(res.work_done.values()) <= 60.0 + 1e-9
    assert res.work_done["a"] == pytest.approx(5.0, abs=1e-6)   # 125 frames by t = 5 s
    assert len(res.apps["b"].record.frames) == 1375  # 55 s / 40 ms


def test_a_loop_after_a_huge_last_time_is_a_trace_error() -> None:
    from sim.traces import Trace, TraceError
    with pytest.raises(TraceError, match=r"^loop: the last time 1e\+300 s is too large"):
        Trace([0.0, 0.5, 1.0, 1e300], [5.0, 4.0, 3.0, 2.0]).looped(10.0)


def test_water_fill_never_allots_more_than_the_capacity() -> None:
    from sim.engine.multicore import water_fill
    demand = {"a": 1.0, "b": 1.0, "c": 1.0, "d": 1.0}
    weight = {"a": 0.75, "b": 0.25, "c": 7.5e-18, "d": 1e-100}
    alloc = water_fill(2.0, demand, weight)
    # tiny weights once cancelled the remaining weight to 0, and 0 <= 0 gave c and d a core
    assert alloc == {"a": 1.0, "b": 1.0, "c": 0.0, "d": 0.0}
    assert water_fill(1.0, {"x": 1.0, "y": 1.0}, {"x": 5e-324, "y": 5e-324}) == \
        {"x": 0.5, "y": 0.5}


@pytest.mark.parametrize("case", sorted(p.name for p in
                                        (ROOT / "tests/data/fuzz_regressions").glob("*.yaml")))
def test_fuzz_findings_stay_fixed(case: str) -> None:
    """Generated cases the fuzz kit once flagged (device time over the run's duration on two
    cores with tiny shares; a frame finishing a float step before its arrival), re-run under
    its plan source with every invariant checked."""
    import fuzzkit

    from sim.config.inputs import load_inputs
    fuzzkit.check_run(load_inputs(ROOT / "tests/data/fuzz_regressions" / case))
