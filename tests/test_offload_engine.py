"""Link, server, early exits and failures, against numbers computed by hand (offloadkit.py)."""

from __future__ import annotations

import pytest
import simpy
from enginekit import FixedScheduler, simulate
from offloadkit import write_offload_world

from sim.engine.link import Link
from sim.engine.processor import Job
from sim.schedulers.base import AppPlan
from sim.traces import Trace


def _rows(res, app="a"):
    return list(res.apps[app].record.frames.rows())


def _ms(row) -> float:
    return round((row.finish_s - row.arrival_s) * 1000.0, 3)  # the first load takes 1 ns


# -- the link alone ------------------------------------------------------------------------

def _run_link(bandwidth: Trace, jobs: list[tuple[float, str, float]]) -> dict[str, float]:
    env = simpy.Environment()
    link = Link(env, bandwidth, [], rtt_ms=0.0)
    done: dict[str, float] = {}

    def start(owner: str, nbytes: float):
        link.submit(Job(owner, nbytes, lambda j: done.__setitem__(j.owner, env.now)))

    for t, owner, nbytes in jobs:
        env.process(_later(env, t, start, owner, nbytes))
    env.run()
    return done


def _later(env, t, fn, *args):
    yield env.timeout(t)
    fn(*args)


def test_a_transfer_across_a_bandwidth_step_takes_the_integral_time():
    # 8 Mbit/s (1e6 B/s) for 1 s sends 1e6 bytes; the other 0.5e6 at 4 Mbit/s take 1 s more
    bw = Trace.step([[0, 8.0], [1.0, 4.0]])
    assert _run_link(bw, [(0.0, "a", 1.5e6)]) == {"a": pytest.approx(2.0, abs=1e-12)}


def test_two_concurrent_transfers_share_the_link_equally():
    bw = Trace.constant(8.0)
    assert _run_link(bw, [(0.0, "a", 1e6), (0.0, "b", 1e6)]) == {
        "a": pytest.approx(2.0), "b": pytest.approx(2.0)}
    # a alone for 0.5 s (0.5e6 B); then halves: b's 0.25e6 B take 0.5 s, a's last 0.25e6 B
    # run alone from t = 1.0
    got = _run_link(bw, [(0.0, "a", 1e6), (0.5, "b", 0.25e6)])
    assert got == {"b": pytest.approx(1.0), "a": pytest.approx(1.25)}


def test_an_outage_is_zero_bandwidth():
    env = simpy.Environment()
    link = Link(env, Trace.constant(8.0), [(1.0, 2.0)], rtt_ms=0.0)
    done = []
    link.submit(Job("a", 1.5e6, lambda j: done.append(env.now)))
    env.run()
    assert done == [pytest.approx(2.5)]
    assert not link.radio_up(1.5) and link.radio_up(2.0)


# -- frames through device, link and server ------------------------------------------------

def test_exit_before_the_split_sends_nothing(tmp_path):
    path = write_offload_world(tmp_path, {"duration_s": 20})
    res = simulate(path, FixedScheduler({"a": ("full", 1.0, "s1", 0.5)}))
    rows = _rows(res)
    assert len(rows) == 20
    early = [r for r in rows if r.exit == "e0"]
    sent = [r for r in rows if r.offloaded]
    assert early and sent and len(early) + len(sent) == 20
    # sample 0 leaves at e0 after 6 ms on the device and is right
    assert all(_ms(r) == 6.0 and r.correct and not r.offloaded for r in early)
    # sample 1: 6 ms prefix + 1 ms encode, 2000 B at 1e6 B/s, 5 ms up, 0.5 + 2 ms on the
    # server, 5 ms back
    assert all(_ms(r) == 21.5 and r.exit == "final" and r.correct for r in sent)
    assert res.apps["a"].record.sent_bytes == 2000 * len(sent)


def test_split_without_exits_and_cloud_only_and_device_only(tmp_path):
    path = write_offload_world(tmp_path, {"duration_s": 10})
    res = simulate(path, FixedScheduler({"a": ("full", 1.0, "s1", None)}))
    # prefix without the e0 head (5 ms) + encode, 1000 or 2000 B, round trip, server 2.5 ms
    assert {_ms(r) for r in _rows(res)} <= {19.5, 20.5}
    res = simulate(path, FixedScheduler({"a": ("full", 1.0, "input", None)}))
    # the raw input (3000 B): 3 ms, 5 up, the whole model on the server (3 ms), 5 back
    assert {_ms(r) for r in _rows(res)} == {16.0}
    res = simulate(path, FixedScheduler({"a": ("full", 1.0, None, None)}))
    assert {_ms(r) for r in _rows(res)} == {10.0}
    res = simulate(path, FixedScheduler({"a": ("full", 1.0, None, 0.5)}))
    assert {(_ms(r), r.exit) for r in _rows(res)} <= {(6.0, "e0"), (12.0, "final")}


def test_upload_bytes_is_what_cloud_only_sends(tmp_path):
    path = write_offload_world(tmp_path, {
        "duration_s": 3, "apps": [{"name": "a", "family": "p", "fps": 1, "upload_bytes": 9000}]})
    res = simulate(path, FixedScheduler({"a": ("full", 1.0, "input", None)}))
    assert {_ms(r) for r in _rows(res)} == {22.0}  # 9 ms + 5 + 3 + 5
    assert res.apps["a"].record.sent_bytes == 27000


def test_a_frame_during_an_outage_finishes_on_the_device(tmp_path):
    path = write_offload_world(tmp_path, {
        "duration_s": 5, "network": {"bandwidth_mbps": 8.0, "rtt_ms": 10.0,
                                     "outages": [[0, 100]]}})
    res = simulate(path, FixedScheduler({"a": ("full", 1.0, "s1", None)}))
    rows = _rows(res)
    # 6 ms to the split (with encoding), then the rest of the model (10 - 5 ms) locally
    assert [(_ms(r), r.fallback, r.offloaded) for r in rows] == [(11.0, True, False)] * 5
    assert res.apps["a"].record.sent_bytes == 0
    # a cloud-only system has no model on the device: its frames are lost
    cloud = simulate(path, FixedScheduler(
        lambda v: _plan(v, AppPlan("full", 1.0, "input", None, local_fallback=False))))
    assert _rows(cloud) == [] and cloud.apps["a"].record.failed == 5


def _told(entry: tuple) -> tuple[FixedScheduler, list[str]]:
    """A fixed plan that also records why it was asked."""
    reasons: list[str] = []

    def decide(view):
        reasons.append(view.reason)
        return _plan(view, AppPlan(*entry))

    return FixedScheduler(decide), reasons


def test_an_unanswered_frame_times_out_and_finishes_on_the_device(tmp_path):
    path = write_offload_world(tmp_path, {"duration_s": 4, "server": {"name": "srv",
                                                                      "down": [[0.5, 100]]}})
    sched, reasons = _told(("full", 1.0, "s1", None))
    rows = _rows(simulate(path, sched))
    assert rows[0].offloaded
    # at t=1: predicted 1 or 2 ms transfer + 10 ms round trip + 2.5 ms server; no answer by
    # twice that after sending at 6 ms; then 5 ms locally
    assert _ms(rows[1]) in (6 + 27 + 5, 6 + 29 + 5) and rows[1].fallback
    # told of the timeout, the device sends nothing more until a probe gets an answer
    assert [(_ms(r), r.fallback) for r in rows[2:]] == [(11.0, True)] * 2
    assert [r for r in reasons if r.startswith("timeout")] == ["timeout (a)"]


def test_the_link_coming_back_is_noticed_by_a_probe(tmp_path):
    path = write_offload_world(tmp_path, {
        "duration_s": 6, "network": {"bandwidth_mbps": 8.0, "rtt_ms": 10.0,
                                     "outages": [[0.5, 2.5]]}})
    sched, reasons = _told(("full", 1.0, "s1", None))
    kinds = [(round(r.arrival_s), r.offloaded, r.fallback) for r in _rows(simulate(path, sched))]
    assert kinds[0] == (0, True, False)
    assert kinds[1:3] == [(1, False, True), (2, False, True)]  # radio down: local at once
    assert all(off for _, off, _ in kinds[3:])  # the probe at t=3 found the link again
    assert reasons == ["launch a", "link lost", "link restored"]


def test_pipelining_overlaps_device_and_link(tmp_path):
    slow = {"bandwidth_mbps": 0.8, "rtt_ms": 10.0}  # 0.1e6 B/s: 10 or 20 ms per frame
    fast_cam = [{"name": "a", "family": "p", "fps": 100}]
    runs = {}
    for flag in (True, False):
        path = write_offload_world(tmp_path / str(flag), {
            "duration_s": 2, "network": slow, "apps": fast_cam,
            "engine": {"pipelined": flag}})
        runs[flag] = simulate(path, FixedScheduler({"a": ("full", 1.0, "s1", None)}))
    piped, serial = (_rows(runs[f]) for f in (True, False))
    assert len(piped) > 1.3 * len(serial)
    # serial: a frame is taken only once the previous one has its answer
    assert all(b.arrival_s > a.finish_s - 0.01 - 1e-9 for a, b in zip(serial, serial[1:]))
    assert any(b.arrival_s < a.finish_s - 0.01 for a, b in zip(piped, piped[1:]))


def test_radio_and_server_time_and_energy(tmp_path):
    path = write_offload_world(tmp_path, {
        "duration_s": 10,
        "device": {"name": "dev", "memory_mb": 100, "storage_read_mbps": 1e9,
                   "power": {"idle_w": 0.0, "busy_w": 2.0, "radio_j_per_byte": 1e-6,
                             "radio_tx_w": 1.0}}})
    res = simulate(path, FixedScheduler({"a": ("full", 1.0, "input", None)}))
    from sim.results.metrics import compute_metrics

    m = compute_metrics(res)["apps"]["a"]
    assert m["offloaded"] == 10 and m["sent_mb"] == pytest.approx(0.03)
    assert m["radio_s"] == pytest.approx(0.03)  # 3 ms per frame
    assert m["server_s"] == pytest.approx(0.03)
    assert m["device_s"] == pytest.approx(0.0)
    assert m["radio_energy_j"] == pytest.approx(30000 * 1e-6 + 0.03 * 1.0)
    assert m["energy_j"] == pytest.approx(m["radio_energy_j"])


def _plan(view, entry: AppPlan):
    from sim.schedulers.base import Plan

    return Plan({a.name: entry for a in view.apps})
