"""Pluggable schedulers: one module each, registered by name (see base.py for the contract)."""

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
