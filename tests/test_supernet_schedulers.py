"""AdaptiveNet's pool switching and re-search, and OFA's fixed deployment, in the engine.

Profile (tests/synthetic.elastified_profile): pool-00 10 ms (0.6), pool-01 20 ms (0.75),
pool-02 30 ms (0.85), original 40 ms (0.9); one more searched subnet, cand-000, 6 ms by the
table (0.5); one search takes 40 s. Goal 45 ms, one app alone at 10 fps, so the observed
ratio is 1 / (1 - load).
"""

from __future__ import annotations

from enginekit import simulate, write_world
from synthetic import elastified_profile

from sim.config.inputs import load_inputs
from sim.runner import create_schedulers
from sim.schedulers import create_scheduler

LOAD = {"kind": "step", "steps": [[0, 0.0], [10, 0.5], [20, 0.0], [30, 0.8]]}


def _world(tmp_path, events=()):
    return write_world(tmp_path, {
        "duration_s": 90,
        "device": {"name": "dev", "memory_mb": 1000, "storage_read_mbps": 1e9,
                   "background_load": LOAD},
        "apps": [{"name": "a", "family": "efam", "fps": 10, "latency_goal_ms": 45}],
        "events": [{"t": 0, "action": "launch", "app": "a"}, *events],
    }, {"efam": elastified_profile()})


def _changes(res):
    """(time, variant, reason) each time the app's variant changes."""
    out, last = [], None
    for d in res.timeline:
        if d.app == "a" and d.variant and d.variant != last:
            out.append((d.t_s, d.variant, d.reason))
            last = d.variant
    return out


def test_adaptivenet_steps_down_with_load_back_up_when_it_clears_and_re_searches(tmp_path):
    res = simulate(_world(tmp_path), create_scheduler("adaptivenet"))
    got = _changes(res)
    assert [v for _, v, _ in got] == ["original", "pool-01", "original", "pool-00", "cand-000"]
    t = [round(x) for x, _, _ in got]
    assert t[0] == 0 and 10 <= t[1] <= 12 and 20 <= t[2] <= 22 and 30 <= t[3] <= 32
    # nothing fits from ~t=31: after 5 s a 40 s search, then the searched candidate
    assert 75 <= t[4] <= 79
    reasons = " ".join(d.reason for d in res.timeline)
    assert "re-search for 40.0 s" in reasons and "re-search done" in reasons
    # switching among subnets of one supernet loads only the blocks not resident:
    # original -> pool-01 loads b1:c1 and b2:c1 (2 + 2 MB); pool-01 -> original b1:c0,
    # b2:c0 (8 MB); original -> pool-00 6 MB; pool-00 -> cand-000 b1:c0 (4 MB)
    rec = res.apps["a"].record
    assert rec.switches == 4 and rec.loaded_bytes == 14_000_000 + 4_000_000 + 8_000_000 \
        + 6_000_000 + 4_000_000


def test_ofa_static_never_changes(tmp_path):
    goal = [{"t": 50, "action": "goal", "app": "a", "value": 15.0}]
    res = simulate(_world(tmp_path, goal), create_scheduler("ofa-static"))
    assert [v for _, v, _ in _changes(res)] == ["original"]
    assert res.apps["a"].record.switches == 0


def test_adaptivenet_meets_the_goal_more_often_than_ofa_static(tmp_path):
    from sim.results.metrics import compute_metrics

    path = _world(tmp_path)
    adaptive = compute_metrics(simulate(path, create_scheduler("adaptivenet")))["overall"]
    static = compute_metrics(simulate(path, create_scheduler("ofa-static")))["overall"]
    def late(m):
        return m["deadline_misses"] / m["processed"]

    # under 0.8 load nothing of the pool fits for the 45 s until the search ends
    assert late(adaptive) < late(static) - 0.1
    assert adaptive["processed"] > 1.4 * static["processed"]
    assert adaptive["accuracy"] > 0.6


def test_schedulers_refuse_profiles_they_cannot_run(tmp_path):
    inputs = load_inputs(_world(tmp_path))
    for name in ("spinn", "neurosurgeon", "device-only", "cloud-only"):
        try:
            create_schedulers(inputs, [name])
        except ValueError as exc:
            assert f"scheduler {name!r} cannot run apps[0] 'a'" in str(exc)
            assert "'elastified'" in str(exc)
        else:
            raise AssertionError(f"{name} accepted an elastified profile")
