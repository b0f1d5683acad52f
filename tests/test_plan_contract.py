"""One plan contract (sim.schedulers.contract): the engine and the public checks hold a plan to
the same rules, so a plug-in that passes the checks is never stopped by the engine; and the
checks leave out the views a scheduler declares it cannot run, as validation would."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import ClassVar

import pytest
from enginekit import FixedScheduler, write_world

from sim.config.inputs import load_inputs
from sim.engine.world import PlanError, Simulation
from sim.schedulers import contract
from sim.schedulers.base import AppPlan, Plan, Scheduler, SystemView
from sim.schedulers.check_views import _progressive
from sim.schedulers.checks import SchedulerCheckError, check_plan, check_scheduler

APPS = {"apps": [{"name": "a", "family": "pp", "fps": 10}, {"name": "b", "family": "pp", "fps": 10}],
        "events": [{"t": 0, "action": "launch", "app": "a"},
                   {"t": 0, "action": "launch", "app": "b"}],
        "duration_s": 1}
SERVER = {"server": {"name": "dev"}, "network": {"bandwidth_mbps": 10}}

BAD: list[tuple[str, Callable[[], Plan]]] = [
    ("ghost", lambda: Plan({"ghost": AppPlan("full", 0.5)})),
    ("not an AppPlan", lambda: Plan({"a": {"variant": "full"}})),  # type: ignore[dict-item]
    ("variant", lambda: Plan({"a": AppPlan("no-such", 0.5)})),
    ("share 0", lambda: Plan({"a": AppPlan("full", 0.0)})),
    ("share nan", lambda: Plan({"a": AppPlan("full", math.nan)})),
    ("share text", lambda: Plan({"a": AppPlan("full", "0.5")})),  # type: ignore[arg-type]
    ("share bool", lambda: Plan({"a": AppPlan("full", True)})),
    ("share over", lambda: Plan({"a": AppPlan("full", 1 + 2e-6)})),
    ("sum", lambda: Plan({"a": AppPlan("full", 0.5 + 2e-6), "b": AppPlan("full", 0.5)})),
    ("threshold", lambda: Plan({"a": AppPlan("full", 0.5, None, 1.5)})),
    ("threshold text", lambda: Plan({"a": AppPlan("full", 0.5, None, "high")})),  # type: ignore[arg-type]
    ("split", lambda: Plan({"a": AppPlan("full", 0.5, "no-such-split")})),
    ("cloud threshold", lambda: Plan({"a": AppPlan("full", 0.5, "input", 0.5)})),
    ("notes", lambda: Plan({"a": AppPlan("full", 0.5)}, notes={"ghost": "x"})),
    ("wake past", lambda: Plan({"a": AppPlan("full", 0.5)}, wake_at_s=-1.0)),
    ("wake inf", lambda: Plan({"a": AppPlan("full", 0.5)}, wake_at_s=math.inf)),
    ("wake nan", lambda: Plan({"a": AppPlan("full", 0.5)}, wake_at_s=math.nan)),
]
NO_SERVER_BAD: list[tuple[str, Callable[[], Plan]]] = [
    ("split without server", lambda: Plan({"a": AppPlan("full", 0.5, "s1")})),
    ("cloud without server", lambda: Plan({"a": AppPlan("full", 0.5, "input")})),
]
GOOD: list[tuple[str, Callable[[], Plan]]] = [
    ("split and threshold", lambda: Plan({"a": AppPlan("full", 0.5, "s1", 0.5),
                                          "b": AppPlan("full", 0.5, "input")})),
    ("share rounding", lambda: Plan({"a": AppPlan("full", 1 + 1e-7)})),
    ("sum rounding", lambda: Plan({"a": AppPlan("full", 0.5 + 5e-7), "b": AppPlan("full", 0.5)})),
    ("one paused", lambda: Plan({"b": AppPlan("full", 1.0)}, notes={"a": "paused"})),
]


def _world(tmp_path, server: bool, memory_mb: float = 1000):
    scenario = {**APPS, **(SERVER if server else {}),
                "device": {"name": "dev", "memory_mb": memory_mb, "storage_read_mbps": 1e9}}
    return load_inputs(write_world(tmp_path, scenario, {"pp": _progressive("pp")}))


def _engine_and_checks(inputs, make: Callable[[], Plan]) -> tuple[str | None, str | None, int]:
    """(the engine's error, the checks' error on the engine's own view, plans refused)."""
    seen: dict[str, str | None] = {}

    def decide(view: SystemView) -> Plan:
        try:
            check_plan(make(), view)
            seen["checks"] = None
        except SchedulerCheckError as exc:
            seen["checks"] = str(exc)
        return make()

    try:
        res = Simulation(inputs, FixedScheduler(decide)).run()
    except PlanError as exc:
        return str(exc), seen["checks"], 0
    return None, seen["checks"], res.refused


@pytest.mark.parametrize(("server", "label", "make"),
                         [(True, *b) for b in BAD] + [(False, *b) for b in NO_SERVER_BAD],
                         ids=[b[0] for b in BAD + NO_SERVER_BAD])
def test_the_engine_stops_a_bad_plan_with_the_checks_message(tmp_path, server, label, make):
    engine, checks, _ = _engine_and_checks(_world(tmp_path, server), make)
    assert checks is not None, label
    assert engine == f"scheduler 'fixed-test' at t=0.000s: {checks}"
    assert "\n" not in engine


@pytest.mark.parametrize(("label", "make"), GOOD, ids=[g[0] for g in GOOD])
def test_a_plan_the_checks_accept_the_engine_runs(tmp_path, label, make):
    assert _engine_and_checks(_world(tmp_path, True), make) == (None, None, 0)


def test_over_the_budget_the_engine_refuses_and_the_checks_fail(tmp_path):
    # each app's model takes 20 MB: both do not fit 30 MB
    engine, checks, refused = _engine_and_checks(
        _world(tmp_path, True, memory_mb=30),
        lambda: Plan({"a": AppPlan("full", 0.5), "b": AppPlan("full", 0.5)}))
    assert engine is None and refused == 1
    assert checks == "plan needs 40000000 bytes > budget 30000000"


def test_one_tolerance():
    assert contract.SHARE_TOLERANCE == 1e-6
    import sim.schedulers.checks as checks
    assert not hasattr(checks, "SHARE_SLACK") and not hasattr(checks, "SUM_SLACK")


class _CloudOnlyKind(Scheduler):
    """Offloads; runs progressive profiles only."""

    kinds: ClassVar[frozenset[str] | None] = frozenset({"progressive"})
    needs_server: ClassVar[bool] = True

    def decide(self, view):
        return Plan({a.name: AppPlan(a.profile.variants[0].id, 1 / len(view.apps), "input")
                     for a in view.apps})


class _NeedsServerAnyKind(Scheduler):
    """Offloads by design but declares no kinds: the multi-capacity views have no server."""

    needs_server: ClassVar[bool] = True

    def decide(self, view):
        raise AssertionError("never asked: no view has a server")


class _Misfit(Scheduler):
    """Declares, through misfit, that it cannot run apps with more than one variant."""

    def misfit(self, profiles):
        return next((f"app {n!r} has several variants" for n, p in profiles.items()
                     if len(p.variants) > 1), None)

    def decide(self, view):
        raise AssertionError("never asked")


class _BadMisfit(Scheduler):
    """Its misfit answers a number."""

    def misfit(self, profiles):
        return 3

    def decide(self, view):
        return Plan({})


def test_the_checks_run_misfit():
    assert check_scheduler(_CloudOnlyKind)
    with pytest.raises(SchedulerCheckError) as info:
        check_scheduler(_NeedsServerAnyKind)
    assert str(info.value).startswith(
        "scheduler '_NeedsServerAnyKind': it cannot run any of the synthetic views (view "
        "'one-app': scheduler '_NeedsServerAnyKind' offloads: the scenario needs 'server' and 'network')")
    with pytest.raises(SchedulerCheckError, match="it cannot run any of the synthetic views.*"
                                                  "has several variants"):
        check_scheduler(_Misfit)
    with pytest.raises(SchedulerCheckError, match="view 'one-app': misfit returned int, not "
                                                  "None or a str"):
        check_scheduler(_BadMisfit)

