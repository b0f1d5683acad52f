"""mvsched simulator: torch-free. Profiles + scenario in, metrics out.

The public API, importable from here (``from sim import run_scenario, Scheduler, Plan``):

- running: :func:`run_scenario` (one scenario, every scheduler it lists), :func:`compare`
  (several seeds, with intervals), :func:`run_sweep` / :func:`load_sweep`;
- inputs: :func:`load_scenario`, :class:`Scenario`, :func:`load_profile`, :class:`Profile`,
  :class:`Trace`;
- schedulers: :class:`Scheduler`, :class:`Plan`, :class:`AppPlan`, :class:`SystemView`,
  :class:`AppView`, :class:`SpinnGoals`, :func:`register_scheduler`,
  :func:`create_scheduler`, :func:`list_schedulers` and :func:`check_scheduler` (the
  contract checks a plug-in author runs).

Each name loads its module on first use, so ``import sim.<module>`` stays as light as that
module. The packages name the architecture:

- :mod:`sim.common`: messages, safe input reading, atomic writes, frozen containers, plug-ins;
- :mod:`sim.config`: the scenario file, its limits, overrides and random workloads;
- :mod:`sim.profile` and :mod:`sim.traces`: measured networks and time series;
- :mod:`sim.engine`: the SimPy world (device, link, server, apps, monitors, records);
- :mod:`sim.schedulers`: the contract, registry and parameters; ``builtin/`` one each;
- :mod:`sim.results`: the results folder, metrics, comparisons and sweeps;
- :mod:`sim.present`: tables, figures and reports of results already written;
- :mod:`sim.importers`: published measurements into profiles;
- :mod:`sim.cli` and :mod:`sim.bench`: the ``mvsched`` command line and benchmarks.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sim.config.scenario import Scenario, load_scenario
    from sim.profile import Profile, load_profile
    from sim.results.compare import compare
    from sim.results.sweep import load_sweep, run_sweep
    from sim.runner import RunResult, run_scenario
    from sim.schedulers import (
        AppPlan,
        AppView,
        Plan,
        Scheduler,
        SpinnGoals,
        SystemView,
        create_scheduler,
        list_schedulers,
        register_scheduler,
    )
    from sim.schedulers.checks import check_scheduler
    from sim.traces import Trace

_HOME = {
    "run_scenario": "sim.runner", "RunResult": "sim.runner",
    "compare": "sim.results.compare",
    "run_sweep": "sim.results.sweep", "load_sweep": "sim.results.sweep",
    "load_scenario": "sim.config.scenario", "Scenario": "sim.config.scenario",
    "load_profile": "sim.profile", "Profile": "sim.profile",
    "Trace": "sim.traces",
    "check_scheduler": "sim.schedulers.checks",
    **{name: "sim.schedulers" for name in (
        "AppPlan", "AppView", "Plan", "Scheduler", "SpinnGoals", "SystemView",
        "create_scheduler", "list_schedulers", "register_scheduler")},
}
"""public name -> the module that defines it"""

__all__ = [
    "AppPlan", "AppView", "Plan", "Profile", "RunResult", "Scenario", "Scheduler", "SpinnGoals",
    "SystemView", "Trace", "check_scheduler", "compare", "create_scheduler", "list_schedulers",
    "load_profile", "load_scenario", "load_sweep", "register_scheduler", "run_scenario",
    "run_sweep",
]


def __getattr__(name: str) -> Any:
    if name in _HOME:
        return getattr(importlib.import_module(_HOME[name]), name)
    raise AttributeError(f"module 'sim' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
