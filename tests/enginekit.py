"""Helpers for engine tests: tiny scenarios written to a temp folder, fixed schedulers."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from sim.config.inputs import load_inputs
from sim.engine.world import EngineResult, Simulation
from sim.profile import Profile, save_profile
from sim.schedulers.base import AppPlan, Plan, Scheduler, SystemView


class FixedScheduler(Scheduler):
    """Gives each app a fixed (variant, share); apps it does not know are paused."""

    name = "fixed-test"

    def __init__(self, table: dict[str, tuple[str, float]] | Callable[[SystemView], Plan]):
        self.table = table

    def decide(self, view: SystemView) -> Plan:
        if callable(self.table):
            return self.table(view)
        return Plan({a.name: AppPlan(*self.table[a.name]) for a in view.apps
                     if a.name in self.table})


def write_world(tmp: Path, scenario: dict[str, Any], profiles: dict[str, Profile],
                device: str = "dev") -> Path:
    """Write profiles under tmp/profiles/<device>/ and the scenario YAML; return its path."""
    for fam, prof in profiles.items():
        save_profile(prof, tmp / "profiles" / device / f"{fam}.json")
    sc = {"name": "t", "duration_s": 10, "profiles_dir": "profiles",
          "schedulers": [{"name": "agnostic"}],
          "device": {"name": device, "memory_mb": 1000, "storage_read_mbps": 1e9}}
    sc.update(scenario)
    path = tmp / "scenario.yaml"
    path.write_text(yaml.safe_dump(sc))
    return path


def simulate(path: Path, scheduler: Scheduler) -> EngineResult:
    return Simulation(load_inputs(path), scheduler).run()


def frames(res: EngineResult, app: str) -> list[tuple[float, float]]:
    rec = res.apps[app].record
    return [(round(f.arrival_s, 9), round(f.finish_s, 9)) for f in rec.frames.rows()]
