"""The scheduler contract (sim/schedulers/base.py), checked for every registered scheduler by
the public suite :mod:`sim.schedulers.checks` (what each check requires is in its docstring).

Parametrised over ``list_schedulers()``, so a scheduler is tested the moment it registers.
A scheduler that handles only some profile kinds declares them in ``kinds``; its views come
from ``sim.schedulers.check_views.view_of_kind`` (add a builder there for a new kind). The
checks are themselves tested here: a deliberately broken scheduler fails with the message
that names its fault.
"""

from __future__ import annotations

import dataclasses
from typing import ClassVar

import numpy as np
import pytest
from synthetic import KINDS as TEST_KINDS
from synthetic import random_view, view_of_kind

from sim.schedulers import (
    AppPlan,
    Plan,
    Scheduler,
    SchedulerError,
    SystemView,
    check_views,
    create_scheduler,
    list_schedulers,
)
from sim.schedulers.checks import (
    SchedulerCheckError,
    check_plan,
    check_scheduler,
    contract_views,
    main,
)


@pytest.mark.parametrize("name", list_schedulers())
def test_decide_honours_the_contract(name):
    labels = check_scheduler(name)
    assert len(labels) >= 3


@pytest.mark.parametrize("name", list_schedulers())
def test_bad_parameters_are_scheduler_errors(name):
    with pytest.raises(SchedulerError, match=name):
        create_scheduler(name, no_such_parameter=1)


def test_unknown_name_lists_known_ones():
    with pytest.raises(SchedulerError) as info:
        create_scheduler("no-such-scheduler")
    for known in list_schedulers():
        assert known in str(info.value)


@pytest.mark.parametrize(
    ("name", "params"),
    [
        ("nestdnn-mintotal", {"solver": "simplex"}),
        ("nestdnn-minmax", {"share_step": 0.0}),
        ("nestdnn-minmax", {"alpha": -1.0}),
        ("agnostic", {"model": ""}),
    ],
)
def test_bad_parameter_values(name, params):
    with pytest.raises(SchedulerError, match=name):
        create_scheduler(name, **params)


def _ample(view: SystemView) -> SystemView:
    largest = sum(max(v.weight_bytes + v.peak_activation_bytes for v in a.profile.variants)
                  for a in view.apps)
    return dataclasses.replace(view, memory_budget_bytes=largest)


def test_the_checker_rejects_bad_plans():
    view = _ample(random_view(np.random.default_rng(1), 2))
    a, b = (x.name for x in view.apps)
    small = {x.name: x.profile.variants[0].id for x in view.apps}
    good = Plan({a: AppPlan(small[a], 0.5), b: AppPlan(small[b], 0.5)})
    check_plan(good, view)
    bad_plans = [
        (Plan({a: AppPlan(small[a], 0.7), b: AppPlan(small[b], 0.7)}), "shares sum to 1.4 > 1"),
        (Plan({a: AppPlan(small[a], 0.0)}), f"app {a!r}: share 0.0 outside (0, 1]"),
        (Plan({"ghost": AppPlan(small[a], 0.5)}), "not running: ['ghost']"),
        (Plan({a: AppPlan("no-such-variant", 0.5)}),
         f"app {a!r}: unknown variant 'no-such-variant'; its variants: ['d0', "),
        ({a: AppPlan(small[a], 0.5)}, "decide returned dict, not a Plan"),
    ]
    for plan, message in bad_plans:
        with pytest.raises(SchedulerCheckError) as info:
            check_plan(plan, view)
        assert message in str(info.value)
    with pytest.raises(SchedulerCheckError, match="bytes > budget 1$"):
        check_plan(good, dataclasses.replace(view, memory_budget_bytes=1))


class _Greedy(Scheduler):
    """Gives every app its largest variant and the whole device."""

    def decide(self, view):
        return Plan({a.name: AppPlan(a.profile.variants[-1].id, 1.0) for a in view.apps})


class _Idle(Scheduler):
    """Runs nothing."""

    def decide(self, view):
        return Plan({})


class _Forgetful(Scheduler):
    """Its plan changes from call to call."""

    def __init__(self):
        self._calls = 0

    def decide(self, view):
        self._calls += 1
        a = view.apps[0]
        return Plan({a.name: AppPlan(a.profile.variants[self._calls % 2].id, 0.5)})


class _Crashing(Scheduler):
    """A bug inside decide."""

    def decide(self, view):
        return {}["missing"]


class _Picky(Scheduler):
    """Declares a kind the checks cannot build."""

    kinds: ClassVar[frozenset[str] | None] = frozenset({"hologram"})

    def decide(self, view):
        return Plan({})


@pytest.mark.parametrize(("cls", "message"), [
    (_Greedy, "scheduler '_Greedy': view 'six-apps': shares sum to 6 > 1"),
    (_Idle, "scheduler '_Idle': view 'one-app': nothing runs although memory is ample"),
    (_Forgetful, "scheduler '_Forgetful': view 'one-app': not deterministic"),
    (_Crashing, "scheduler '_Crashing': view 'one-app': decide raised KeyError: 'missing'"),
    (_Picky, "scheduler '_Picky': no synthetic views of kinds ['hologram']"),
])
def test_a_broken_scheduler_fails_the_checks_with_its_fault(cls, message):
    with pytest.raises(SchedulerCheckError) as info:
        check_scheduler(cls)
    assert str(info.value).startswith(message), str(info.value)


def test_the_module_runs_from_the_shell(capsys):
    assert main(["agnostic", "spinn"]) == 0
    out = capsys.readouterr().out
    assert "ok   agnostic (5 views)" in out and "ok   spinn" in out
    assert main(["no-such-scheduler"]) == 1
    assert "FAIL unknown scheduler 'no-such-scheduler'" in capsys.readouterr().err


@pytest.mark.parametrize("kind", check_views.KINDS)
def test_views_of_every_kind(kind):
    for build in (check_views.view_of_kind, view_of_kind):
        view = build(kind)
        assert view.apps and all(a.profile.kind == kind for a in view.apps)
        with pytest.raises(ValueError, match="unknown profile kind"):
            build("no-such-kind")
    assert set(TEST_KINDS) == set(check_views.KINDS)
    assert len(contract_views(frozenset({kind}))) == 3 or kind == "multi_capacity"
