"""The scheduler contract (:mod:`sim.schedulers.contract`) as checks a plug-in author can run:
``check_scheduler("my-name")`` (or the class) in their own tests, or
``python -m sim.schedulers.checks my-name`` from a shell. The project's own contract tests
run the same checks over every registered scheduler.

The scheduler is created with the parameters given (which its ``param_constraints`` must
accept; its defaults when none are given) and asked to decide on synthetic views
(for multi-capacity profiles: one app, six apps with ample memory, six with a random budget,
tight memory, low capacity; for a scheduler that declares ``kinds``: each kind ample, tight
and at low capacity), then on the ample views with extreme values
(:data:`sim.schedulers.check_views.EXTREMES`: priorities from 5e-324 to 1e308 mixed, fps
from 1e-6 to 1e6, latency goals from 1e-310 to 1e308 ms). Every view the scheduler declares it
cannot run (:func:`sim.schedulers.contract.scheduler_misfit`: a kind it does not run, its own
``misfit``, an offloading scheduler without a server) is left out, as validation would refuse
such a scenario; ``misfit`` must answer None or a string, and at least one view must be left.
Every plan must keep the plan contract, :mod:`sim.schedulers.contract` (the rules the engine
holds every plan to), memory within the budget included (the engine would refuse the plan).
The same view must give the same plan, from the same instance and from a fresh one;
``decide`` must leave the view untouched; and with ample memory something must run. A
``stateful`` scheduler gets a fresh instance per view, and replaying the same views must give
the same plans.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from pydantic import BaseModel

from sim.common.plugins import exception_line
from sim.schedulers import contract
from sim.schedulers.base import Plan, Scheduler, SystemView
from sim.schedulers.check_views import KINDS, extreme_views, synthetic_view, view_of_kind
from sim.schedulers.constraints import violation
from sim.schedulers.registry import SchedulerError, get_scheduler, list_schedulers

__all__ = ["SchedulerCheckError", "check_plan", "check_scheduler", "contract_views",
           "extreme_contract_views", "main"]


class SchedulerCheckError(AssertionError):
    """A scheduler broke its contract; the message names the scheduler, the view and what."""


def _with_memory(view: SystemView, pick: Any, factor: float = 1.0) -> SystemView:
    total = sum(pick(contract.memory_bytes(v) for v in a.profile.variants) for a in view.apps)
    return dataclasses.replace(view, memory_budget_bytes=int(total * factor))


def contract_views(kinds: frozenset[str] | None = None) -> dict[str, SystemView]:
    """The labelled views a scheduler declaring ``kinds`` is checked on."""
    if kinds is None or "multi_capacity" in kinds:
        six = synthetic_view(np.random.default_rng(2), 6)
        return {
            "one-app": _with_memory(synthetic_view(np.random.default_rng(1), 1), max),
            "six-apps": _with_memory(six, max),
            "random-budget": six,
            "tight-memory": _with_memory(six, min, 1.2),
            "low-capacity": dataclasses.replace(six, capacity=0.15),
        }
    wanted = sorted(set(kinds) & set(KINDS))
    if not wanted:
        raise SchedulerCheckError(f"no synthetic views of kinds {sorted(kinds)}; the checks "
                                  f"build {', '.join(KINDS)}")
    base = {kind: _with_memory(view_of_kind(kind), max) for kind in wanted}
    return {**base,
            **{f"{k}-tight": _with_memory(v, min, 1.2) for k, v in base.items()},
            **{f"{k}-low-capacity": dataclasses.replace(v, capacity=0.15)
               for k, v in base.items()}}


def extreme_contract_views(kinds: frozenset[str] | None = None) -> dict[str, SystemView]:
    """The ample views of :func:`contract_views` with extreme values
    (:func:`sim.schedulers.check_views.extreme_views`)."""
    if kinds is None or "multi_capacity" in kinds:
        return extreme_views(contract_views(kinds)["six-apps"])
    views = contract_views(kinds)
    return {f"{kind}-{label}": v
            for kind in sorted(set(kinds) & set(KINDS))
            for label, v in extreme_views(views[kind]).items()}


def check_plan(plan: object, view: SystemView) -> None:
    """SchedulerCheckError unless ``plan`` keeps the plan contract for ``view``
    (:func:`sim.schedulers.contract.check_plan`) and fits its memory budget."""
    try:
        need = contract.check_plan(plan, view)
    except contract.PlanContractError as exc:
        raise SchedulerCheckError(str(exc)) from exc.__cause__
    if not contract.fits_memory(need, view.memory_budget_bytes):
        raise SchedulerCheckError(contract.over_budget(need, view.memory_budget_bytes))


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


def _decide(sched: Scheduler, view: SystemView) -> Plan:
    try:
        return sched.decide(view)
    except Exception as exc:  # the scheduler's own bug: name it, keep its traceback chained
        raise SchedulerCheckError(f"decide raised {exception_line(exc)}") from exc


def _check_views(cls: type[Scheduler], make: Any, views: dict[str, SystemView]) -> None:
    sched = make()
    for label, view in views.items():
        try:
            if cls.stateful:
                sched = make()
            snapshot = _fingerprint(view)
            plan = _decide(sched, view)
            check_plan(plan, view)
            if _fingerprint(view) != snapshot:
                raise SchedulerCheckError("decide mutated the view")
            if dict(_decide(sched, view).apps) != dict(plan.apps):
                raise SchedulerCheckError("not deterministic: the same view gave another plan")
            if dict(_decide(make(), view).apps) != dict(plan.apps):
                raise SchedulerCheckError("depends on past calls: a fresh instance decided "
                                          "otherwise")
            ample = (label in ("one-app", "six-apps") or label in (cls.kinds or ())
                     or "extreme-" in label)
            if ample and not plan.apps:
                raise SchedulerCheckError("nothing runs although memory is ample")
        except SchedulerCheckError as exc:
            raise SchedulerCheckError(f"view {label!r}: {exc}") from exc.__cause__
    if cls.stateful:
        runs = [[dict(_decide(s, v).apps) for v in views.values()] for s in (make(), make())]
        if runs[0] != runs[1]:
            raise SchedulerCheckError("stateful: the same views in the same order gave other "
                                      "plans")


def _runnable(sched: Scheduler, views: dict[str, SystemView],
              required: bool = False) -> dict[str, SystemView]:
    """The views ``sched`` does not declare it cannot run
    (:func:`sim.schedulers.contract.view_misfit`); SchedulerCheckError when its ``misfit``
    raises or answers something else than None or a string, or (``required``) when no view
    is left."""
    left, why = {}, None
    for label, view in views.items():
        try:
            answer = sched.misfit({a.name: a.profile for a in view.apps})
        except Exception as exc:  # the scheduler's own bug
            raise SchedulerCheckError(f"view {label!r}: misfit raised "
                                      f"{exception_line(exc)}") from exc
        if answer is not None and not isinstance(answer, str):
            raise SchedulerCheckError(f"view {label!r}: misfit returned "
                                      f"{type(answer).__name__}, not None or a str")
        problem = contract.view_misfit(sched, view)
        if problem is None:
            left[label] = view
        else:
            why = why or f"view {label!r}: {problem}"
    if required and not left:
        raise SchedulerCheckError(f"it cannot run any of the synthetic views ({why})")
    return left


def check_scheduler(scheduler: str | type[Scheduler], **params: Any) -> list[str]:
    """Run every contract check on a registered name or a class (created with ``params``);
    the labels of the views checked (those of extreme values last, ``extreme-`` in their
    label), or SchedulerCheckError naming the scheduler, the view
    and the broken rule."""
    cls = get_scheduler(scheduler) if isinstance(scheduler, str) else scheduler
    name = scheduler if isinstance(scheduler, str) else (cls.name or cls.__qualname__)
    if not (isinstance(cls, type) and issubclass(cls, Scheduler)):
        raise SchedulerCheckError(f"{name}: not a Scheduler subclass")

    refused = violation(getattr(cls, "param_constraints", {}), params)
    if refused:
        raise SchedulerCheckError(f"scheduler {name!r}: cannot be created with {params}: "
                                  f"{refused}")

    def make() -> Scheduler:
        try:
            return cls(**params)
        except Exception as exc:
            raise SchedulerCheckError(f"cannot be created with {params or 'its defaults'}: "
                                      f"{exception_line(exc)}") from exc

    try:
        views = _runnable(make(), contract_views(cls.kinds), required=True)
        _check_views(cls, make, views)
        extremes = _runnable(make(), extreme_contract_views(cls.kinds))
        _check_views(cls, make, extremes)
    except SchedulerCheckError as exc:
        raise SchedulerCheckError(f"scheduler {name!r}: {exc}") from exc.__cause__
    return [*views, *extremes]


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m sim.schedulers.checks [NAME ...]``: exit 1 when a check fails."""
    ap = argparse.ArgumentParser(prog="python -m sim.schedulers.checks",
                                 description="Run the scheduler contract checks.")
    ap.add_argument("names", nargs="*", help="registered scheduler names (default: all)")
    args = ap.parse_args(argv)
    failed = 0
    for name in args.names or list_schedulers():
        try:
            labels = check_scheduler(name)
        except (SchedulerCheckError, SchedulerError) as exc:
            print(f"FAIL {exc}", file=sys.stderr)
            failed += 1
        else:
            extreme = sum("extreme-" in label for label in labels)
            print(f"ok   {name} ({len(labels) - extreme} views) and {extreme} views of "
                  "extreme values")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
