"""Pluggable schedulers, registered by name: the interface (base.py), the plan contract every
plan is held to (contract.py), the checks a plug-in runs (checks.py), declared parameter
constraints (constraints.py), shared allocation helpers (allocation.py), and the built-ins,
one module or package each in builtin/."""

from sim.schedulers.base import AppPlan, AppView, Plan, Scheduler, SpinnGoals, SystemView
from sim.schedulers.registry import (
    SchedulerError,
    create_scheduler,
    get_scheduler,
    list_scheduler_problems,
    list_schedulers,
    register_scheduler,
)

__all__ = [
    "AppPlan",
    "AppView",
    "Plan",
    "Scheduler",
    "SchedulerError",
    "SpinnGoals",
    "SystemView",
    "create_scheduler",
    "get_scheduler",
    "list_scheduler_problems",
    "list_schedulers",
    "register_scheduler",
]
