"""AdaptiveNet's re-search when nothing fits: the wait is counted from the first decision
that found nothing fitting, also when that decision is at t = 0.0 (a launch at the start of
a run once never re-searched: 0.0 was read as "not yet")."""

from __future__ import annotations

import dataclasses

import pytest
from enginekit import simulate, write_world
from synthetic import elastified_profile, view_of_kind

from sim.schedulers.base import AppPlan
from sim.schedulers.builtin.adaptivenet import AdaptiveNet


def _decisions(t0: float, times: list[float], research_after_s: float = 3.0):
    """(time, variant, note, wake_at_s) of each decision for one app whose goal (1 ms) no
    subnet meets (the fastest, pool-00, takes 10 ms), launched at ``t0``."""
    base = view_of_kind("elastified", 1)
    app = dataclasses.replace(base.apps[0], latency_goal_ms=1.0)
    sched = AdaptiveNet(research_after_s=research_after_s, monitor_period_s=10.0)
    current: AppPlan | None = None
    out = []
    for t in [t0, *times]:
        view = dataclasses.replace(base, time_s=t,
                                   apps=(dataclasses.replace(app, current=current),))
        plan = sched.decide(view)
        current = plan.apps[app.name]
        out.append((t, current.variant, plan.notes.get(app.name), plan.wake_at_s))
    return out


@pytest.mark.parametrize("t0", [0.0, 0.001, 7.25])
def test_nothing_fits_from_launch_re_searches_after_exactly_research_after_s(t0):
    got = _decisions(t0, [t0 + 2.999, t0 + 3.0, t0 + 3.5])
    # at launch: wake at the re-search instant (3 s), before the monitor period (10 s)
    assert got[0] == (t0, "pool-00", None, t0 + 3.0)
    assert got[1] == (t0 + 2.999, "pool-00", None, t0 + 3.0)
    # at exactly research_after_s: the search starts (40 s, the profile's measured time)
    t, variant, note, wake = got[2]
    assert (t, variant, wake) == (t0 + 3.0, "pool-00", t0 + 3.0 + 10.0)
    assert note == "nothing fits for 3.0 s (x1.00): re-search for 40.0 s"
    # searching: the subnet is kept, the search ends at t0 + 43
    assert got[3] == (t0 + 3.5, "pool-00", None, t0 + 3.5 + 10.0)


def test_research_after_zero_re_searches_at_once_at_t0():
    got = _decisions(0.0, [])
    assert got[0][2] is None  # research_after_s = 3 s
    assert _decisions(0.0, [], research_after_s=0.0)[0][2] == (
        "nothing fits for 0.0 s (x1.00): re-search for 40.0 s")


def test_a_run_launched_at_zero_re_searches_at_research_after_s(tmp_path):
    path = write_world(tmp_path, {
        "duration_s": 8, "schedulers": [{"name": "adaptivenet"}],
        "apps": [{"name": "a", "family": "e", "fps": 10, "latency_goal_ms": 1.0}],
        "events": [{"t": 0, "action": "launch", "app": "a"}]}, {"e": elastified_profile("e")})
    res = simulate(path, AdaptiveNet(research_after_s=3.0, monitor_period_s=10.0))
    rows = [(d.t_s, d.variant, d.reason) for d in res.timeline]
    assert rows == [
        (0.0, "", "launch"),
        (0.0, "pool-00", "launch a"),
        (3.0, "pool-00", "scheduler wake-up; nothing fits for 3.0 s (x1.00): re-search for "
                         "40.0 s"),
    ]
