"""mvsched simulator: torch-free. Profiles + scenario in, metrics out.

The scheduler plug-in interface is importable from here as from :mod:`sim.schedulers`
(``from sim import Scheduler, register_scheduler, Plan, AppPlan, SystemView, AppView``); it
loads on first use, so ``import sim.<module>`` stays as light as that module.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sim.schedulers import (
        AppPlan,
        AppView,
        Plan,
        Scheduler,
        SpinnGoals,
        SystemView,
        register_scheduler,
    )

__all__ = ["AppPlan", "AppView", "Plan", "Scheduler", "SpinnGoals", "SystemView",
           "register_scheduler"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        return getattr(importlib.import_module("sim.schedulers"), name)
    raise AttributeError(f"module 'sim' has no attribute {name!r}")
