"""Scheduler registry: names, errors that list the known ones, third-party entry points."""

from __future__ import annotations

import pytest

import sim.schedulers.registry as registry
from sim.schedulers import Plan, Scheduler, SchedulerError, create_scheduler, list_schedulers


def test_builtins_registered():
    assert {"agnostic", "nestdnn-mintotal", "nestdnn-minmax"} <= set(list_schedulers())


def test_unknown_name_lists_known():
    with pytest.raises(SchedulerError, match="known: .*agnostic"):
        create_scheduler("nope")


def test_entry_point_plugin_registers(monkeypatch):
    class Plugin(Scheduler):
        """A third-party scheduler."""

        def __init__(self, knob: int = 1):
            self.knob = knob

        def decide(self, view):
            return Plan({})

    class FakeEP:
        name = "third-party"

        def load(self):
            return Plugin

    monkeypatch.setattr(registry, "_ENTRY_POINTS_LOADED", False)
    monkeypatch.setattr(registry, "entry_points", lambda group: [FakeEP()])
    monkeypatch.setitem(registry._REGISTRY, "placeholder", Plugin)  # restored afterwards
    try:
        assert "third-party" in list_schedulers()
        s = create_scheduler("third-party", knob=3)
        assert s.knob == 3 and s.params() == {"knob": 3}
    finally:
        registry._REGISTRY.pop("third-party", None)
