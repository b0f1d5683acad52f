"""The scheduler contract, in one place: what a :class:`~sim.schedulers.base.Plan` must be for
the view it answers (:func:`check_plan`), and whether a scheduler as configured can run a
scenario's apps at all (:func:`scheduler_misfit`).

Every place that checks a plan calls this module and nothing else: the engine
(:mod:`sim.engine.world`) before it applies a plan, the public checks a plug-in author runs
(:mod:`sim.schedulers.checks`) on synthetic views, and the runner (:mod:`sim.runner`) and the
checks before anything is decided. So a plug-in that passes the checks is never refused by
the engine for a rule the checks did not hold.

A plan for a view:

1. is a :class:`Plan` and names only apps of ``view.apps`` (the running ones), each with an
   :class:`AppPlan`;
2. gives each app the ``variant`` id of one of its profile's variants;
3. gives each a ``share`` that is a real number (not a bool) in (0, 1], and the shares sum to
   at most 1, both with :data:`SHARE_TOLERANCE` to spare for rounding (the sum is exact,
   ``math.fsum``);
4. gives a ``split`` only to an app that has a server (``AppView.server_profile``), whether a
   split point or :data:`sim.profile.routes.CLOUD` (cloud only); and ``split`` with ``threshold`` make a
   route (:func:`sim.profile.routes.build_route`: both null for a profile without exits or split
   points, a threshold in [0, 1], a known split, no threshold with cloud only, ...);
5. writes ``notes`` only for running apps;
6. asks ``wake_at_s`` for nothing or a finite time not before the view's;
7. fits memory: the chosen variants' ``weight_bytes + peak_activation_bytes``
   (:func:`memory_bytes`), summed, are at most ``view.memory_budget_bytes``.

Rules 1-6 broken: :class:`PlanContractError` naming the app and what is wrong; the engine
stops the run with it (``PlanError``), the checks fail. Rule 7 is apart (:func:`fits_memory`):
the engine refuses such a plan, counts it and keeps the previous one, where the checks call
it a broken contract.

A scheduler can run a scenario's apps (:func:`scheduler_misfit`) when each app's profile is
of a kind it declares (``Scheduler.kinds``), its own :meth:`Scheduler.misfit` finds nothing,
and, when it offloads by design (``needs_server``), there is a server with a profile of every
app's family.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Sequence
from typing import NamedTuple

from sim.common.plugins import exception_line
from sim.profile import Profile, Variant
from sim.profile.routes import CLOUD, Route, RouteError, build_route
from sim.schedulers.base import AppPlan, AppView, Plan, Scheduler, SystemView

__all__ = ["SHARE_TOLERANCE", "AppSetup", "PlanContractError", "check_plan", "fits_memory",
           "memory_bytes", "over_budget", "scheduler_misfit", "view_misfit", "view_route"]

SHARE_TOLERANCE = 1e-6
"""How far above 1 a share, and the sum of a plan's shares, may be (rounding): shares computed
as ratios and scaled to sum to 1 land within a few 1e-16 of it."""

_SHOWN_VARIANTS = 8


class PlanContractError(ValueError):
    """A plan breaks the contract; the message names the app (where one is at fault) and the
    rule."""


RouteOf = Callable[[AppView, AppPlan], Route]
"""How a plan entry's route is built: :func:`view_route`, or the engine's own cache."""


def view_route(app: AppView, entry: AppPlan) -> Route:
    """The route of one plan entry from what the view gives of the app."""
    return build_route(app.profile, entry.variant, entry.split, entry.threshold,
                       app.server_profile, app.upload_bytes)


def memory_bytes(variant: Variant) -> int:
    """What a chosen variant counts against the memory budget: ``weight_bytes +
    peak_activation_bytes`` (ProfileError when the profile gives no weight size)."""
    return variant.known_weight_bytes() + variant.peak_activation_bytes


def fits_memory(need_bytes: int, budget_bytes: int) -> bool:
    """Rule 7: a plan needing ``need_bytes`` fits a budget of ``budget_bytes``."""
    return need_bytes <= budget_bytes


def over_budget(need_bytes: int, budget_bytes: int) -> str:
    """The message of a plan that breaks rule 7."""
    return f"plan needs {need_bytes} bytes > budget {budget_bytes}"


def _real(x: object) -> bool:
    return isinstance(x, numbers.Real) and not isinstance(x, bool)


def _variant(app: AppView, entry: AppPlan) -> Variant:
    try:
        return app.profile.variant(entry.variant)
    except (KeyError, TypeError):
        known = [v.id for v in app.profile.variants]
        shown = known if len(known) <= _SHOWN_VARIANTS else [*known[:_SHOWN_VARIANTS], "..."]
        raise PlanContractError(f"app {app.name!r}: unknown variant {entry.variant!r}; its "
                                f"variants: {shown}") from None


def check_plan(plan: object, view: SystemView, route: RouteOf = view_route) -> int:
    """Rules 1-6 of the module docstring for ``plan`` answering ``view``; the plan's memory
    need in bytes (rule 7 is the caller's: :func:`fits_memory`). ``route`` builds a plan
    entry's route (the engine passes its cache). PlanContractError naming what is wrong."""
    if not isinstance(plan, Plan):
        raise PlanContractError(f"decide returned {type(plan).__name__}, not a Plan")
    running = {a.name: a for a in view.apps}
    ghosts = sorted(set(plan.apps) - set(running), key=repr)
    if ghosts:
        raise PlanContractError(f"plan names apps that are not running: {ghosts}")
    need = 0
    for name, entry in plan.apps.items():
        if not isinstance(entry, AppPlan):
            raise PlanContractError(f"app {name!r}: {type(entry).__name__}, not an AppPlan")
        app = running[name]
        variant = _variant(app, entry)
        share = entry.share
        if not (_real(share) and 0 < share <= 1 + SHARE_TOLERANCE):
            raise PlanContractError(f"app {name!r}: share {share!r} outside (0, 1]")
        if entry.split is not None and app.server_profile is None:
            what = " (cloud only)" if entry.split == CLOUD else ""
            raise PlanContractError(f"app {name!r}: split {entry.split!r}{what} but the app has "
                                    "no server (no server, or none with its profile)")
        try:
            route(app, entry)
        except (RouteError, KeyError, TypeError, ValueError) as exc:
            raise PlanContractError(f"app {name!r}: split {entry.split!r}, threshold "
                                    f"{entry.threshold!r}: {exception_line(exc)}") from exc
        need += memory_bytes(variant)
    total = math.fsum(float(entry.share) for entry in plan.apps.values())
    if total > 1 + SHARE_TOLERANCE:
        raise PlanContractError(f"shares sum to {total:.10g} > 1")
    unknown = sorted(set(plan.notes) - set(running), key=repr)
    if unknown:
        raise PlanContractError(f"notes name apps that are not running: {unknown}")
    wake = plan.wake_at_s
    if wake is not None and not (_real(wake) and view.time_s <= wake < math.inf):
        raise PlanContractError(f"wake_at_s {wake!r} is not a finite time >= the view's "
                                f"{view.time_s}")
    return need


class AppSetup(NamedTuple):
    """One app of a scenario as :func:`scheduler_misfit` sees it."""

    name: str
    family: str
    """the scenario's family name of its profile"""
    profile: Profile
    server_profile: Profile | None
    """its family measured on the server (None: no server, or none with this family)"""


def scheduler_misfit(sched: Scheduler, apps: Sequence[AppSetup],
                     server: str | None) -> str | None:
    """Why ``sched`` cannot run these apps (in scenario order) with ``server`` (its name, None
    when the scenario has no server and network), or None when it can."""
    kinds = type(sched).kinds
    name = sched.name or type(sched).__qualname__  # a class checked before it registers
    for i, app in enumerate(apps):
        kind = app.profile.kind
        if kinds is not None and kind not in kinds:
            return (f"scheduler {name!r} cannot run apps[{i}] {app.name!r}: its profile "
                    f"{app.family!r} is of kind {kind!r}; {name} runs {sorted(kinds)}")
    problem = sched.misfit({app.name: app.profile for app in apps})
    if problem:
        return f"scheduler {name!r}: {problem}"
    if type(sched).needs_server:
        if server is None:
            return f"scheduler {name!r} offloads: the scenario needs 'server' and 'network'"
        for i, app in enumerate(apps):
            if app.server_profile is None:
                return (f"scheduler {name!r} offloads apps[{i}] {app.name!r}, but server "
                        f"{server!r} has no profile {app.family!r}")
    return None


def view_misfit(sched: Scheduler, view: SystemView) -> str | None:
    """:func:`scheduler_misfit` for the apps of a view; it has a server when an app has a
    server profile or the view a round trip to one."""
    has_server = view.rtt_ms is not None or any(a.server_profile is not None for a in view.apps)
    return scheduler_misfit(
        sched, [AppSetup(a.name, a.family, a.profile, a.server_profile) for a in view.apps],
        "the view's server" if has_server else None)
