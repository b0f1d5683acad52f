"""Nothing is accepted and ignored: every leaf field of the scenario schema changes what a run
writes, or is in the documented list of descriptive fields.

The leaves are enumerated from the pydantic models themselves, so a field added without a
case here fails the coverage test. Each case changes one field of a small world and runs a
scheduler that reads it; some output file (metrics, timeline, frames) must differ.
"""

from __future__ import annotations

import copy
import json
import typing
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from offloadkit import device_profile, server_profile
from pydantic import BaseModel
from synthetic import make_profile

from sim.config.scenario import Scenario
from sim.profile import Interference, LatencyStats, save_profile
from sim.runner import run_scenario

DESCRIPTIVE = {
    "name": "the scenario's name, copied into the results",
    "schedulers.label": "the folder name of one scheduler's results",
}
"""Fields that describe rather than change a run (documented in scenarios/README.md)."""

CO_RUN = Interference(co_runners=(1, 2), slowdown=(1.3, 1.6), after_idle=1.1, variant="d0",
                      co_runner="d0", method="hand-written for a test")
NESTED = make_profile("n", [("d0", 2_000_000, 6.0, 0.55), ("d1", 6_000_000, 14.0, 0.7),
                            ("d2", 12_000_000, 30.0, 0.8)],
                      independents=[("i2", 12_000_000, 30.0, 0.8)], interference=CO_RUN)
NESTED = NESTED.model_copy(update={"variants": tuple(  # a measured spread: engine.latency
    v.model_copy(update={"latency_ms": LatencyStats(median=v.latency_ms.median,
                                                    p10=0.8 * v.latency_ms.median,
                                                    p90=1.5 * v.latency_ms.median)})
    for v in NESTED.variants)})
SLOWER = make_profile("n", [("d0", 2_000_000, 9.0, 0.55), ("d1", 6_000_000, 21.0, 0.7),
                            ("d2", 12_000_000, 45.0, 0.8)],
                      independents=[("i2", 12_000_000, 45.0, 0.8)], interference=CO_RUN)
OTHER = make_profile("m", [("d0", 1_000_000, 4.0, 0.5), ("d1", 3_000_000, 9.0, 0.75)],
                     interference=CO_RUN)


def _leaves(model: type[BaseModel], prefix: str = "") -> list[str]:
    out = []
    for name, field in model.model_fields.items():
        sub = None
        for t in (field.annotation, *typing.get_args(field.annotation)):
            for u in (t, *typing.get_args(t)):
                if isinstance(u, type) and issubclass(u, BaseModel) \
                        and not u.__name__.endswith("TraceSpec"):
                    sub = u
        out += _leaves(sub, f"{prefix}{name}.") if sub is not None else [f"{prefix}{name}"]
    return out


def _device_world() -> dict[str, Any]:
    return {
        "name": "fields", "seed": 1, "duration_s": 20, "profiles_dir": "profiles",
        "schedulers": [{"name": "nestdnn-mintotal"}],
        "device": {"name": "dev", "memory_mb": 30, "storage_read_mbps": 100,
                   "power": {"idle_w": 0.5, "busy_w": 3.0},
                   "background_load": {"kind": "step", "steps": [[0, 0.0], [10, 0.6]]}},
        "apps": [{"name": "a", "family": "n", "fps": 30, "latency_goal_ms": 40},
                 {"name": "b", "family": "n", "fps": 15},
                 {"name": "c", "family": "m", "fps": 10}],
        "events": [{"t": 0, "action": "launch", "app": "a"},
                   {"t": 0, "action": "launch", "app": "c"},
                   {"t": 2, "action": "launch", "app": "b"},
                   {"t": 5, "action": "priority", "app": "b", "value": 3},
                   {"t": 8, "action": "goal", "app": "a", "value": 12},
                   {"t": 15, "action": "exit", "app": "c"}],
        "monitor": {"decision_period_s": 30},
    }


def _offload_world() -> dict[str, Any]:
    return {
        "name": "fields", "seed": 1, "duration_s": 12, "profiles_dir": "profiles",
        "schedulers": [{"name": "spinn"}],
        "device": {"name": "dev", "memory_mb": 30, "storage_read_mbps": 100,
                   "power": {"idle_w": 0.5, "busy_w": 3.0, "radio_j_per_byte": 1e-6,
                             "radio_tx_w": 1.0},
                   "background_load": 0.5},
        "server": {"name": "srv", "load": 0.2, "down": [[6, 7]]},
        "network": {"bandwidth_mbps": {"kind": "step", "steps": [[0, 8.0], [4, 2.0]]},
                    "rtt_ms": 10, "outages": [[9, 10]], "timeout_factor": 2.0},
        "apps": [{"name": "a", "family": "p", "fps": 60,
                  "spinn": {"constraints": [["latency_ms", "<=", 40]],
                            "objectives": [["throughput_fps", "max"], ["accuracy", "max"]]}},
                 {"name": "b", "family": "p", "fps": 30}],
        "events": [{"t": 0, "action": "launch", "app": "a"},
                   {"t": 0, "action": "launch", "app": "b"}],
    }


def _random_world() -> dict[str, Any]:
    w = _device_world()
    w["events"] = []
    w["schedulers"] = [{"name": "agnostic"}]
    w["duration_s"] = 60
    w["random_workload"] = {"pool": ["a", "b", "c"], "min_concurrent": 1, "max_concurrent": 2,
                            "mean_on_s": 10, "mean_off_s": 5}
    return w


def _set(path: str, value: Any) -> Callable[[dict], None]:
    def edit(w: dict) -> None:
        *parents, last = path.split(".")
        node = w
        for key in parents:
            node = node[int(key)] if key.isdigit() else node[key]
        node[int(last) if last.isdigit() else last] = value
    return edit


def _rename_app(w: dict) -> None:
    w["apps"][0]["name"] = "z"
    for e in w["events"]:
        if e["app"] == "a":
            e["app"] = "z"


CASES: dict[str, tuple[Callable[[], dict], Callable[[dict], None]]] = {
    "seed": (_device_world, _set("seed", 2)),
    "duration_s": (_device_world, _set("duration_s", 25)),
    "profiles_dir": (_device_world, _set("profiles_dir", "profiles-slow")),
    "schedulers.name": (_device_world, _set("schedulers.0.name", "agnostic")),
    "schedulers.params": (_device_world, _set("schedulers.0.params", {"alpha": 0.01})),
    "device.name": (_device_world, _set("device.name", "dev-slow")),
    "device.memory_mb": (_device_world, _set("device.memory_mb", 12)),
    "device.storage_read_mbps": (_device_world, _set("device.storage_read_mbps", 5)),
    "device.cores": (_device_world, _set("device.cores", 2)),
    "device.power.idle_w": (_device_world, _set("device.power.idle_w", 1.0)),
    "device.power.busy_w": (_device_world, _set("device.power.busy_w", 4.0)),
    "device.power.radio_j_per_byte": (_offload_world, _set("device.power.radio_j_per_byte", 1e-5)),
    "device.power.radio_tx_w": (_offload_world, _set("device.power.radio_tx_w", 2.0)),
    "device.background_load": (_device_world, _set("device.background_load", 0.3)),
    "server.name": (_offload_world, _set("server.name", "srv-slow")),
    "server.load": (_offload_world, _set("server.load", 0.7)),
    "server.down": (_offload_world, _set("server.down", [[2, 5]])),
    "network.bandwidth_mbps": (_offload_world, _set("network.bandwidth_mbps", 1.0)),
    "network.rtt_ms": (_offload_world, _set("network.rtt_ms", 30)),
    "network.outages": (_offload_world, _set("network.outages", [[1, 3]])),
    "network.timeout_factor": (_offload_world, _set("network.timeout_factor", 6.0)),
    "apps.name": (_device_world, _rename_app),
    "apps.family": (_device_world, _set("apps.2.family", "n")),
    "apps.fps": (_device_world, _set("apps.0.fps", 20)),
    "apps.latency_goal_ms": (_device_world, _set("apps.1.latency_goal_ms", 10)),
    "apps.accuracy_floor": (_device_world, _set("apps.1.accuracy_floor", 0.75)),
    "apps.priority": (_device_world, _set("apps.0.priority", 4)),
    "apps.spinn.constraints": (_offload_world, _set("apps.0.spinn.constraints",
                                                    [["latency_ms", "<=", 12]])),
    "apps.spinn.objectives": (_offload_world, _set("apps.0.spinn.objectives",
                                                   [["server_ms", "min"]])),
    "apps.upload_bytes": (_offload_world, lambda w: (_set("schedulers.0.name", "cloud-only")(w),
                                                     _set("apps.0.upload_bytes", 9000)(w))),
    "events.t": (_device_world, _set("events.2.t", 4)),
    "events.action": (_device_world, _set("events.5.action", "launch")),
    "events.app": (_device_world, _set("events.4.app", "b")),
    "events.value": (_device_world, _set("events.3.value", 0.5)),
    "random_workload.pool": (_random_world, _set("random_workload.pool", ["a", "b"])),
    "random_workload.min_concurrent": (_random_world, _set("random_workload.min_concurrent", 2)),
    "random_workload.max_concurrent": (_random_world, _set("random_workload.max_concurrent", 3)),
    "random_workload.mean_on_s": (_random_world, _set("random_workload.mean_on_s", 3)),
    "random_workload.mean_off_s": (_random_world, _set("random_workload.mean_off_s", 20)),
    "monitor.period_s": (_device_world, _set("monitor.period_s", 0.3)),
    "monitor.ewma": (_device_world, _set("monitor.ewma", 0.05)),
    "monitor.drift_threshold": (_device_world, _set("monitor.drift_threshold", 0.9)),
    "monitor.decision_period_s": (_device_world, _set("monitor.decision_period_s", 3)),
    "monitor.latency_drift": (_device_world, lambda w: (
        _set("monitor.latency_drift", True)(w), _set("monitor.drift_threshold", 0.02)(w))),
    "monitor.oracle": (_device_world, _set("monitor.oracle", True)),
    "engine.queue_length": (_device_world, lambda w: (_set("engine", {"queue_length": 3})(w),
                                                      _set("device.background_load", 0.9)(w))),
    "engine.work_conserving": (_device_world, _set("engine", {"work_conserving": False})),
    "engine.pipelined": (_offload_world, _set("engine", {"pipelined": False})),
    "engine.interference": (_device_world, _set("engine", {"interference": True})),
    "engine.latency": (_device_world, _set("engine", {"latency": "measured"})),
    "metrics.timing": (_device_world, _set("metrics", {"timing": True})),
    "metrics.frames_csv": (_device_world, _set("metrics", {"frames_csv": True})),
}


def _write_profiles(root: Path) -> None:
    for folder, profs in {"profiles/dev": [NESTED, OTHER], "profiles/dev-slow": [SLOWER, OTHER],
                          "profiles-slow/dev": [SLOWER, OTHER]}.items():
        for p in profs:
            save_profile(p, root / folder / f"{p.family}.json")
    save_profile(device_profile(), root / "profiles" / "dev" / "p.json")
    save_profile(server_profile(), root / "profiles" / "srv" / "p.json")
    raw = server_profile().model_dump(mode="json")  # a server ten times slower
    for entry in (*raw["variants"], *raw["progressive"]["splits"]):
        key = "latency_ms" if "latency_ms" in entry else "server_ms"
        if key == "latency_ms":
            entry[key]["median"] *= 10
        else:
            entry[key] *= 10
    (root / "profiles" / "srv-slow").mkdir(parents=True, exist_ok=True)
    (root / "profiles" / "srv-slow" / "p.json").write_text(json.dumps(raw))


def _outputs(root: Path, world: dict) -> dict[str, bytes]:
    root.mkdir(parents=True, exist_ok=True)
    _write_profiles(root)
    path = root / "scenario.yaml"
    path.write_text(yaml.safe_dump(world))
    out = root / "out"
    run_scenario(path, out=out)
    return {str(f.relative_to(out)): f.read_bytes() for f in sorted(out.rglob("*"))
            if f.is_file() and f.name not in ("timing.json", "scenario.yaml")}


def test_every_leaf_field_has_a_case_or_is_descriptive():
    leaves = set(_leaves(Scenario))
    assert leaves == set(CASES) | set(DESCRIPTIVE), (
        f"no case for {sorted(leaves - set(CASES) - set(DESCRIPTIVE))}; "
        f"stale cases {sorted(set(CASES) | set(DESCRIPTIVE) - leaves)}")


def test_descriptive_fields_are_documented():
    text = (Path(__file__).parent.parent / "scenarios" / "README.md").read_text()
    for field in DESCRIPTIVE:
        assert f"`{field}`" in text


@pytest.mark.parametrize("leaf", sorted(CASES))
def test_changing_a_field_changes_the_run(tmp_path, leaf):
    make, edit = CASES[leaf]
    base = make()
    changed = copy.deepcopy(base)
    edit(changed)
    assert changed != base
    before = _outputs(tmp_path / "base", base)
    after = _outputs(tmp_path / "changed", changed)
    assert before != after, f"changing {leaf} changed nothing the run wrote"
