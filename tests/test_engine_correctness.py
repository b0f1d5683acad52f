"""Engine cases an exact reference found wrong once; each has its hand-computed answer."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from types import MappingProxyType

import pytest
import yaml
from enginekit import FixedScheduler, frames, simulate, write_world
from pydantic import BaseModel, ValidationError
from synthetic import make_app, make_profile, make_view

from sim.common.frozen import FrozenDict
from sim.config.scenario import ScenarioError, load_scenario
from sim.results.metrics import compute_metrics
from sim.runner import run_scenario
from sim.schedulers.base import AppPlan, Plan, Scheduler, SystemView
from sim.schedulers.builtin.nestdnn.exact import solve_exact, solve_ilp
from sim.schedulers.builtin.nestdnn.problem import build_problem, evaluate, is_feasible


def _launch(*apps):
    return [{"t": 0, "action": "launch", "app": a} for a in apps]


def test_a_24_hour_run_finishes_with_jobs_in_flight_at_large_times(tmp_path):
    # 23.7 ms jobs at 1 fps; the load step at t = 50000.01 s lands inside a job, where
    # now + remaining / rate rounds down (the run used to spin there forever)
    prof = make_profile("p", [("v0", 0, 23.7, 0.5)])
    path = write_world(tmp_path, {
        "duration_s": 86400, "apps": [{"name": "a", "family": "p", "fps": 1}],
        "monitor": {"decision_period_s": None, "period_s": 3600},
        "device": {"name": "dev", "memory_mb": 10, "storage_read_mbps": 1e9,
                   "background_load": {"kind": "step",
                                       "steps": [[0, 0.0], [50000.01, 0.5], [50000.03, 0.0]]}},
        "events": _launch("a")}, {"p": prof})
    res = simulate(path, FixedScheduler({"a": ("v0", 1.0)}))
    got = frames(res, "a")
    assert len(got) == 86400
    # 10 ms at full speed, 20 ms at half (10 ms of work), 3.7 ms at full again
    assert got[50000] == (50000.0, pytest.approx(50000.0337, abs=1e-6))


def test_deadline_misses_use_the_goal_in_force_when_the_frame_arrived(tmp_path):
    prof = make_profile("p", [("v0", 0, 50.0, 0.5)])
    path = write_world(tmp_path, {
        "duration_s": 10,
        "apps": [{"name": "a", "family": "p", "fps": 1, "latency_goal_ms": 100}],
        "events": [*_launch("a"), {"t": 5, "action": "goal", "app": "a", "value": 20}]},
        {"p": prof})
    res = simulate(path, FixedScheduler({"a": ("v0", 1.0)}))
    assert compute_metrics(res)["apps"]["a"]["deadline_misses"] == 5  # frames 5..9 only


def test_app_order_does_not_change_any_app(tmp_path):
    prof = make_profile("p", [("v0", 0, 5.0, 0.5)])
    bits = "".join("1" if (k * 7) % 3 else "0" for k in range(50))
    from sim.profile import Outcomes

    prof = prof.model_copy(update={"outcomes": Outcomes(samples=50, correct={"v0": bits})})
    apps = [{"name": n, "family": "p", "fps": 10} for n in ("a", "b", "c")]
    metrics = []
    for order in (apps, apps[::-1]):
        path = write_world(tmp_path / str(len(metrics)), {
            "duration_s": 30, "apps": order, "events": _launch("a", "b", "c")}, {"p": prof})
        res = simulate(path, FixedScheduler({n: ("v0", 1 / 3) for n in "abc"}))
        metrics.append(compute_metrics(res)["apps"])
    assert metrics[0] == metrics[1]


def test_a_frame_that_completes_at_its_apps_exit_counts_as_processed(tmp_path):
    prof = make_profile("p", [("v0", 0, 500.0, 0.5)])
    path = write_world(tmp_path, {
        "duration_s": 2, "apps": [{"name": "a", "family": "p", "fps": 1}],
        "events": [*_launch("a"), {"t": 0.5, "action": "exit", "app": "a"}]}, {"p": prof})
    res = simulate(path, FixedScheduler({"a": ("v0", 1.0)}))
    rec = res.apps["a"].record
    assert frames(res, "a") == [(0.0, 0.5)] and rec.dropped == 0 and rec.arrived == 1


def test_ilp_solves_an_instance_with_byte_counts_cbc_called_infeasible():
    # the only memory-feasible plan fills the 1.7 TB budget exactly
    a0 = make_profile("f0", [("d0", 334_424_513_885, 40.0, 0.6), ("d1", 403_991_624_776, 80.0, 0.8)])
    a1 = make_profile("f1", [("d0", 1_363_354_492_451, 30.0, 0.7),
                             ("d1", 2_907_415_245_489, 90.0, 0.9)])
    view = make_view([make_app("a0", a0, latency_goal_ms=100), make_app("a1", a1, latency_goal_ms=60)],
                     memory_budget_bytes=334_424_513_885 + 1_363_354_492_451, capacity=0.855)
    problem = build_problem(view)
    for objective in ("mintotal", "minmax"):
        got = solve_ilp(problem, objective)
        assert is_feasible(problem, got)
        assert evaluate(problem, got) == pytest.approx(evaluate(problem, solve_exact(problem, objective)))


@pytest.mark.parametrize(("change", "words"), [
    ({"schedulers": [{"name": "agnostic", "label": "../x"}]}, "becomes a file or folder name"),
    ({"schedulers": [{"name": "agnostic", "label": "a" * 101}]}, "becomes a file or folder name"),
    ({"duration_s": float("inf")}, "duration_s"),
    ({"duration_s": 1e300}, "duration_s"),
    ({"network": {"bandwidth_mbps": 5}}, "network is given without server"),
])
def test_bad_scenarios_are_refused(tmp_path, change, words):
    path = write_world(tmp_path, {"apps": [{"name": "a", "family": "p", "fps": 1}],
                                  "events": _launch("a"), **change},
                       {"p": make_profile("p", [("v0", 0, 5.0, 0.5)])})
    with pytest.raises(ScenarioError, match=words):
        load_scenario(path)


def test_labels_never_leave_the_output_folder(tmp_path):
    path = write_world(tmp_path, {"apps": [{"name": "a", "family": "p", "fps": 1}],
                                  "events": _launch("a"),
                                  "schedulers": [{"name": "agnostic", "label": "ok.label-1"}]},
                       {"p": make_profile("p", [("v0", 0, 5.0, 0.5)])})
    run_scenario(path, out=tmp_path / "out")
    assert (tmp_path / "out" / "ok.label-1" / "metrics.json").exists()
    raw = yaml.safe_load(path.read_text())
    raw["schedulers"][0]["label"] = "../escape"
    path.write_text(yaml.safe_dump(raw))
    with pytest.raises(ScenarioError):
        run_scenario(path, out=tmp_path / "out")
    assert not (tmp_path / "escape").exists()


# -- the view is read-only all the way down -------------------------------------------------

def _mutations(obj, seen, path="view"):
    """Try to change every container and object reachable from ``obj``; yield what worked."""
    if id(obj) in seen or isinstance(obj, (str, bytes, int, float, bool, type(None))):
        return
    seen.add(id(obj))
    if isinstance(obj, (list, set, dict)) and not isinstance(obj, FrozenDict):
        yield f"{path}: a mutable {type(obj).__name__}"
        return
    if isinstance(obj, (FrozenDict, MappingProxyType)):
        try:
            obj["__x"] = 1  # type: ignore[index]
            yield f"{path}: item assignment worked"
        except TypeError:
            pass
        for k, v in obj.items():
            yield from _mutations(v, seen, f"{path}[{k!r}]")
        return
    if isinstance(obj, tuple):
        for i, v in enumerate(obj):
            yield from _mutations(v, seen, f"{path}[{i}]")
        return
    if isinstance(obj, BaseModel):
        names = list(type(obj).model_fields)
    elif dataclasses.is_dataclass(obj):
        names = [f.name for f in dataclasses.fields(obj)]
    else:
        yield f"{path}: unexpected {type(obj).__name__}"
        return
    for name in names:
        value = getattr(obj, name)
        try:
            setattr(obj, name, value)
            yield f"{path}.{name}: attribute assignment worked"
        except (AttributeError, TypeError, ValidationError, dataclasses.FrozenInstanceError):
            pass
        yield from _mutations(value, seen, f"{path}.{name}")


class _Probe(Scheduler):
    name = "probe"

    def __init__(self) -> None:
        self.found: list[str] = []

    def decide(self, view: SystemView) -> Plan:
        self.found += list(_mutations(view, set()))
        return Plan({a.name: AppPlan(a.profile.variants[0].id, 1.0 / len(view.apps))
                     for a in view.apps})


def test_the_view_and_its_profiles_cannot_be_changed(tmp_path):
    from offloadkit import write_offload_world

    path = write_offload_world(tmp_path, {"duration_s": 3})
    probe = _Probe()
    simulate(path, probe)
    assert probe.found == []
    assert isinstance(FrozenDict({"a": 1}), Mapping)
