"""Built-in schedulers never make a plan the engine refuses, whatever the priorities, frame
rates and goals: priority shares no longer overflow (1e308 + 1e308 = inf gave shares of 0.0)
or vanish (1e-300 beside 1), NestDNN's costs no longer overflow on a subnormal goal, and the
public contract checks (sim.schedulers.checks) run every built-in over such views and
check plans as the engine does."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from synthetic import make_app, make_profile, make_view, view_of_kind

from sim.schedulers import AppPlan, Plan, list_schedulers
from sim.schedulers.allocation import MIN_SHARE, priority_shares
from sim.schedulers.check_views import EXTREMES
from sim.schedulers.checks import SchedulerCheckError, check_plan, check_scheduler
from sim.schedulers.registry import create_scheduler

PROF = make_profile("n", [("d0", 1_000_000, 5.0, 0.6), ("d1", 2_000_000, 9.0, 0.7)])


def _shares(*priorities: float) -> list[float]:
    apps = [make_app(f"a{i}", PROF, priority=p) for i, p in enumerate(priorities)]
    got = priority_shares(apps)
    return [got[f"a{i}"] for i in range(len(priorities))]


@pytest.mark.parametrize(("priorities", "expected"), [
    ((1.0,), [1.0]),
    ((1.0, 3.0), [0.25, 0.75]),
    ((1e308, 1e308), [0.5, 0.5]),  # the sum overflowed to inf: shares 0.0
    ((5e-324, 5e-324, 5e-324), [1 / 3, 1 / 3, 1 / 3]),
    ((1e-300, 1.0), [1e-6, 1 - 1e-6]),  # floored at a millionth
    ((1e-6, 1e6), [1e-6, 1 - 1e-6]),  # the scenario's range: a ratio of 1e12
    ((1e308, 1e-300, 1.0, 5e-324, 1e6, 1e-6), [1 - 5e-6] + [1e-6] * 5),
])
def test_priority_shares_are_exact_positive_and_sum_to_one(priorities, expected):
    got = _shares(*priorities)
    assert got == pytest.approx(expected, rel=1e-12, abs=0)
    assert all(0 < s <= 1 for s in got)
    assert abs(math.fsum(got) - 1) <= 1e-9


def test_the_share_floor_leaves_room_for_every_app():
    got = _shares(1.0, *[1e-300] * 999)  # the most apps a scenario holds
    assert got[1:] == [MIN_SHARE] * 999 and got[0] == pytest.approx(1 - 999e-6, rel=1e-12)
    many = priority_shares([make_app(f"a{i}", PROF, priority=1e-300 if i else 1.0)
                            for i in range(2_000_000)])
    assert min(many.values()) == 0.5 / 2_000_000 and math.fsum(many.values()) <= 1 + 1e-9


def test_a_priority_that_is_no_number_is_named():
    with pytest.raises(ValueError, match="app 'a1': priority must be a positive finite "
                                         "number, got inf"):
        _shares(1.0, math.inf)


def test_neurosurgeon_with_huge_priorities_gives_equal_shares():
    base = view_of_kind("progressive", 3)
    view = dataclasses.replace(base, apps=tuple(dataclasses.replace(a, priority=1e308)
                                                for a in base.apps))
    plan = create_scheduler("neurosurgeon").decide(view)
    assert [plan.apps[a.name].share for a in view.apps] == [1 / 3] * 3  # was 0.0 each
    assert plan.apps == create_scheduler("neurosurgeon").decide(base).apps


@pytest.mark.parametrize("solver", ["exact", "greedy", "ilp"])
@pytest.mark.parametrize("name", ["nestdnn-mintotal", "nestdnn-minmax"])
def test_nestdnn_plans_a_subnormal_goal_and_ignores_a_common_priority_factor(name, solver):
    sched = create_scheduler(name, solver=solver, share_step=0.25)
    # no option meets 1e-310 ms: every cost is capped alike, the earliest option (smallest
    # model, fewest units) wins, and the unused units go to it (the exact solver raised
    # IndexError: the costs were inf)
    plan = sched.decide(make_view([make_app("a", PROF, latency_goal_ms=1e-310)]))
    assert dict(plan.apps) == {"a": AppPlan("d0", 1.0)}
    two = [make_app("a", PROF, latency_goal_ms=20.0), make_app("b", PROF, latency_goal_ms=8.0)]
    plain = sched.decide(make_view(two))
    for factor in (1e308, 5e-324):
        scaled = [dataclasses.replace(a, priority=factor) for a in two]
        assert sched.decide(make_view(scaled)).apps == plain.apps


@pytest.mark.parametrize("name", list_schedulers())
def test_the_contract_checks_cover_extreme_values(name):
    labels = check_scheduler(name)
    extreme = [label for label in labels if "extreme-" in label]
    assert len(extreme) % len(EXTREMES) == 0 and extreme
    assert {label.split("extreme-")[1] for label in extreme} == set(EXTREMES)


@pytest.mark.parametrize("solver", ["greedy", "ilp"])
def test_every_nestdnn_solver_passes_the_extreme_views(solver):
    for name in ("nestdnn-mintotal", "nestdnn-minmax"):
        assert check_scheduler(name, solver=solver)


def test_the_checker_refuses_what_the_engine_refuses():
    view = view_of_kind("progressive", 2)
    a, b = (x.name for x in view.apps)
    ok = Plan({a: AppPlan("full", 0.5, "s1", 0.5), b: AppPlan("full", 0.5)})
    check_plan(ok, view)
    check_plan(Plan({a: AppPlan("full", 1 + 1e-7)}), view)  # rounding, as the engine allows
    check_plan(Plan({a: AppPlan("full", 0.5 + 5e-7), b: AppPlan("full", 0.5)}), view)
    no_server = dataclasses.replace(view, apps=tuple(dataclasses.replace(x, server_profile=None)
                                                     for x in view.apps))
    bad = [
        (Plan({a: AppPlan("full", math.nan)}), view, f"app {a!r}: share nan outside (0, 1]"),
        (Plan({a: AppPlan("full", "0.5")}), view,  # type: ignore[arg-type]
         f"app {a!r}: share '0.5' outside (0, 1]"),
        (Plan({a: AppPlan("full", True)}), view, f"app {a!r}: share True outside (0, 1]"),
        (Plan({a: AppPlan("full", 1 + 2e-6)}), view, f"app {a!r}: share 1.000002 outside (0, 1]"),
        (Plan({a: AppPlan("full", 0.5 + 2e-6), b: AppPlan("full", 0.5)}), view,
         "shares sum to 1.000002 > 1"),
        (Plan({a: {"variant": "full"}}), view, f"app {a!r}: dict, not an AppPlan"),  # type: ignore[dict-item]
        (Plan({a: AppPlan("full", 0.5, "s1")}), no_server,
         f"app {a!r}: split 's1' but the app has no server"),
        (Plan({a: AppPlan("full", 0.5, "input")}), no_server,
         f"app {a!r}: split 'input' (cloud only) but the app has no server"),
        (Plan({a: AppPlan("full", 0.5, None, 1.5)}), view,
         f"app {a!r}: split None, threshold 1.5: RouteError: threshold 1.5 not in [0, 1]"),
        (Plan({a: AppPlan("full", 0.5, "no-such-split")}), view,
         f"app {a!r}: split 'no-such-split', threshold None: RouteError: "),
        (Plan({a: AppPlan("full", 0.5)}, notes={"ghost": "x"}), view,
         "notes name apps that are not running: ['ghost']"),
        (Plan({a: AppPlan("full", 0.5)}, wake_at_s=-1.0), view,
         "wake_at_s -1.0 is not a finite time >= the view's 0.0"),
        (Plan({a: AppPlan("full", 0.5)}, wake_at_s=math.inf), view,
         "wake_at_s inf is not a finite time >= the view's 0.0"),
    ]
    for plan, v, message in bad:
        with pytest.raises(SchedulerCheckError) as info:
            check_plan(plan, v)
        assert str(info.value).startswith(message), (message, str(info.value))


def test_devices_seconds_stay_within_duration_at_the_priority_range(tmp_path):
    from enginekit import write_world
    from synthetic import elastified_profile

    from sim.runner import run_scenario

    path = write_world(tmp_path, {
        "duration_s": 20, "schedulers": [{"name": "ofa-static"}, {"name": "adaptivenet"}],
        "apps": [{"name": "a", "family": "e", "fps": 30, "latency_goal_ms": 100,
                  "priority": 1e-6},
                 {"name": "b", "family": "e", "fps": 30, "latency_goal_ms": 100,
                  "priority": 1e6}],
        "events": [{"t": 0, "action": "launch", "app": "a"},
                   {"t": 0, "action": "launch", "app": "b"}]}, {"e": elastified_profile("e")})
    for res in run_scenario(path):
        device_s = res.metrics["overall"]["device_s"]
        assert device_s <= 20.0 * (1 + 1e-9), (res.label, device_s)
        assert {r.share for r in res.engine.timeline if r.app == "a" and r.variant} == {1e-6}
        assert np.isfinite(res.metrics["overall"]["energy_j"])
