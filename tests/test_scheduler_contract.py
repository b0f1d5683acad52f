"""The scheduler contract (sim/schedulers/base.py), checked for every registered scheduler.

Parametrised over ``list_schedulers()``, so a scheduler is tested the moment it registers.
Each is created with its default parameters and asked to decide on several synthetic views
(one app, six apps with ample memory, six with a random budget, tight memory, low
capacity); the plan must name only running apps, use
variants of their profiles, give shares in (0, 1] summing to at most 1, fit the memory budget
(``weight_bytes + peak_activation_bytes`` of each chosen variant), be the same for the same
view, and leave the view untouched.

Convention: a scheduler that handles only some profile kinds declares them in ``kinds``
(``sim.schedulers.base.Scheduler``), e.g. ``frozenset({"progressive"})``; unless that
includes ``multi_capacity``, its views are built with ``synthetic.view_of_kind`` for each
kind (KINDS lists the kinds it can build; add a builder there for a new one). A
``stateful`` scheduler is checked with a fresh instance per view, and replaying the same
views must give the same plans.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

import numpy as np
import pytest
from pydantic import BaseModel
from synthetic import KINDS, random_view, view_of_kind

from sim.schedulers import (
    AppPlan,
    Plan,
    SchedulerError,
    SystemView,
    create_scheduler,
    list_schedulers,
)


def _tight(view: SystemView) -> SystemView:
    """Memory for little more than every app's smallest model."""
    smallest = sum(
        min(v.weight_bytes + v.peak_activation_bytes for v in a.profile.variants) for a in view.apps
    )
    return dataclasses.replace(view, memory_budget_bytes=int(smallest * 1.2))


def _ample(view: SystemView) -> SystemView:
    """Memory for every app's largest variant."""
    largest = sum(
        max(v.weight_bytes + v.peak_activation_bytes for v in a.profile.variants) for a in view.apps
    )
    return dataclasses.replace(view, memory_budget_bytes=largest)


def _views(kinds: frozenset[str] | None) -> dict[str, SystemView]:
    wanted = set() if kinds is None or "multi_capacity" in kinds else set(kinds) & set(KINDS)
    if kinds is not None and not wanted and "multi_capacity" not in kinds:
        raise AssertionError(f"tests/synthetic.py cannot build views of kinds {sorted(kinds)}")
    if wanted:
        base = {kind: _ample(view_of_kind(kind)) for kind in sorted(wanted)}
        return {
            **base,
            **{f"{k}-tight": _tight(v) for k, v in base.items()},
            **{f"{k}-low-capacity": dataclasses.replace(v, capacity=0.15) for k, v in base.items()},
        }
    six = random_view(np.random.default_rng(2), 6)
    return {
        "one-app": _ample(random_view(np.random.default_rng(1), 1)),
        "six-apps": _ample(six),
        "random-budget": six,
        "tight-memory": _tight(six),
        "low-capacity": dataclasses.replace(six, capacity=0.15),
    }


def _fingerprint(obj: object) -> object:
    """A deep, comparable copy of a view's content (mapping proxies cannot be deep-copied)."""
    if isinstance(obj, BaseModel):
        return obj.model_dump_json()
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return tuple((f.name, _fingerprint(getattr(obj, f.name))) for f in dataclasses.fields(obj))
    if isinstance(obj, Mapping):
        return tuple(sorted((repr(k), _fingerprint(v)) for k, v in obj.items()))
    if isinstance(obj, (list, tuple)):
        return tuple(_fingerprint(v) for v in obj)
    return repr(obj)


def _check_plan(plan: Plan, view: SystemView) -> None:
    assert isinstance(plan, Plan)
    names = {a.name for a in view.apps}
    assert set(plan.apps) <= names, f"plan names unknown apps {set(plan.apps) - names}"
    used = 0
    for name, ap in plan.apps.items():
        variant = view.app(name).profile.variant(ap.variant)  # KeyError if unknown
        used += variant.weight_bytes + variant.peak_activation_bytes
        assert 0 < ap.share <= 1, f"{name}: share {ap.share} outside (0, 1]"
    assert sum(ap.share for ap in plan.apps.values()) <= 1 + 1e-9
    assert used <= view.memory_budget_bytes, f"plan needs {used} bytes > budget"


@pytest.mark.parametrize("name", list_schedulers())
def test_decide_honours_the_contract(name):
    sched = create_scheduler(name)
    cls = type(sched)
    views = _views(cls.kinds)
    for label, view in views.items():
        if cls.stateful:
            sched = create_scheduler(name)
        snapshot = _fingerprint(view)
        plan = sched.decide(view)
        _check_plan(plan, view)
        assert _fingerprint(view) == snapshot, f"{label}: decide mutated the view"
        assert dict(sched.decide(view).apps) == dict(plan.apps), f"{label}: not deterministic"
        fresh = create_scheduler(name).decide(view)
        assert dict(fresh.apps) == dict(plan.apps), f"{label}: depends on past calls"
        if label in ("one-app", "six-apps") or (cls.kinds and label in cls.kinds):
            assert plan.apps, f"{label}: nothing runs although memory is ample"
    if cls.stateful:  # the same history gives the same plans
        runs = [[dict(s.decide(v).apps) for v in views.values()]
                for s in (create_scheduler(name), create_scheduler(name))]
        assert runs[0] == runs[1], "same views, other plans"


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


def test_the_checker_rejects_bad_plans():
    view = _ample(random_view(np.random.default_rng(1), 2))
    a, b = (x.name for x in view.apps)
    small = {x.name: x.profile.variants[0].id for x in view.apps}
    good = Plan({a: AppPlan(small[a], 0.5), b: AppPlan(small[b], 0.5)})
    _check_plan(good, view)
    bad_plans = [
        Plan({a: AppPlan(small[a], 0.7), b: AppPlan(small[b], 0.7)}),  # over capacity
        Plan({a: AppPlan(small[a], 0.0)}),  # zero share
        Plan({"ghost": AppPlan(small[a], 0.5)}),  # unknown app
        Plan({a: AppPlan("no-such-variant", 0.5)}),  # unknown variant
    ]
    for plan in bad_plans:
        with pytest.raises((AssertionError, KeyError)):
            _check_plan(plan, view)
    with pytest.raises(AssertionError):
        _check_plan(good, dataclasses.replace(view, memory_budget_bytes=1))


@pytest.mark.parametrize("kind", KINDS)
def test_views_of_every_kind(kind):
    view = view_of_kind(kind)
    assert view.apps and all(a.profile.kind == kind for a in view.apps)
    with pytest.raises(ValueError, match="unknown profile kind"):
        view_of_kind("no-such-kind")
