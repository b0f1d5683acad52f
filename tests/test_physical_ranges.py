"""Numbers outside their physical range (sim.config.limits.RANGES, sim.traces.MAX_VALUE,
the schedulers' declared param_constraints) are one line naming the field and the range, at
validation: each crash case below once was a traceback (IndexError, OverflowError,
MemoryError, PulpError) or a hang. The bounds themselves are accepted and run, and
scenarios/README.md lists every range the code holds."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from enginekit import write_world
from synthetic import elastified_profile, make_profile, progressive_profile

from sim.cli import main
from sim.config.limits import RANGES, Range
from sim.config.scenario import ScenarioError, load_scenario
from sim.schedulers.constraints import Interval
from sim.schedulers.registry import get_scheduler, list_schedulers

ROOT = Path(__file__).resolve().parent.parent
PROF = make_profile("n", [("d0", 1_000_000, 5.0, 0.6), ("d1", 2_000_000, 9.0, 0.7)])
PROG = progressive_profile(20, np.random.default_rng(0), "pp")
PROFILES = {"n": PROF, "pp": PROG, "e": elastified_profile("e")}
GOOD = {"duration_s": 2, "apps": [{"name": "a", "family": "n", "fps": 10}],
        "events": [{"t": 0, "action": "launch", "app": "a"}]}
OFFLOAD = {"duration_s": 2, "apps": [{"name": "a", "family": "pp", "fps": 10}],
           "events": [{"t": 0, "action": "launch", "app": "a"}],
           "schedulers": [{"name": "spinn"}], "server": {"name": "dev"},
           "network": {"bandwidth_mbps": 10}}
DEV = {"name": "dev", "memory_mb": 1000, "storage_read_mbps": 1e9}
GOAL = "[0.01, 3,600,000] ms"
TOO_BIG = "must be at most 100,000 (100 Gbit/s in Mbit/s; loads are below 1)"


def _goal_event(value):
    return {"events": [{"t": 0, "action": "launch", "app": "a"},
                       {"t": 1, "action": "goal", "app": "a", "value": value}]}


CRASHES = [  # (id, base, edit, the exact message after "error: FILE: ")
    ("goal-subnormal-exact-dp",  # IndexError in nestdnn_exact._min_max_level
     GOOD, {"apps": [{"name": "a", "family": "n", "fps": 10, "latency_goal_ms": 1e-310}],
            "schedulers": [{"name": "nestdnn-minmax"}]},
     f"apps[0].latency_goal_ms: must be in {GOAL} (got 1e-310)"),
    ("goal-tiny-ilp",  # PulpError / "ILP solver returned Infeasible"
     GOOD, {"apps": [{"name": "a", "family": "n", "fps": 10, "latency_goal_ms": 1e-30}],
            "schedulers": [{"name": "nestdnn-minmax", "params": {"solver": "ilp"}}]},
     f"apps[0].latency_goal_ms: must be in {GOAL} (got 1e-30)"),
    ("bandwidth-1e305",  # OverflowError converting to bytes/s
     OFFLOAD, {"network": {"bandwidth_mbps": 1e305}},
     f"network.bandwidth_mbps.constant.value: {TOO_BIG}, got 1e+305"),
    ("bandwidth-step-1e6", OFFLOAD, {"network": {"bandwidth_mbps": {
        "kind": "step", "steps": [[0, 10], [1, 1e6]]}}},
     f"network.bandwidth_mbps.step.steps: point 1: value {TOO_BIG}, got 1e+06"),
    ("power-1e308",  # OverflowError in the energy sums
     GOOD, {"device": {**DEV, "power": {"idle_w": 1e308, "busy_w": 1e308}}},
     "device.power.idle_w: must be in [0, 10,000] W (got 1e+308) [+1 more]"),
    ("share-step-1e-4",  # MemoryError (931 GiB)
     GOOD, {"schedulers": [{"name": "nestdnn-minmax", "params": {"share_step": 1e-4}}]},
     "schedulers[0]: scheduler 'nestdnn-minmax': share_step must be in [0.005, 1], got 0.0001"),
    ("monitor-period-1e-300",  # hang
     GOOD, {"monitor": {"period_s": 1e-300}},
     "monitor.period_s: must be in [0.001, 2,592,000] s (got 1e-300)"),
    ("adaptivenet-monitor-period-1e-300",  # hang
     GOOD, {"apps": [{"name": "a", "family": "e", "fps": 10}],
            "schedulers": [{"name": "adaptivenet", "params": {"monitor_period_s": 1e-300}}]},
     "schedulers[0]: scheduler 'adaptivenet': monitor_period_s must be in [0.001, 2,592,000] "
     "s, got 1e-300"),
    ("goal-event-0", GOOD, _goal_event(0),
     f"events[1]: value: a latency goal must be in {GOAL} (got 0.0)"),
    ("goal-event-subnormal", GOOD, _goal_event(1e-320),
     f"events[1]: value: a latency goal must be in {GOAL} (got 1e-320)"),
    ("upload-bytes-huge",  # OverflowError: int too large to convert to float
     OFFLOAD, {"apps": [{"name": "a", "family": "pp", "fps": 10, "upload_bytes": 10**400}]},
     "apps[0].upload_bytes: must be in [1, 1e+10] bytes (got 100000000000... (401 digits))"),
    ("monitor-samples", GOOD, {"duration_s": 2_000_000, "monitor": {"period_s": 0.01}},
     "monitor.period_s: duration_s 2e+06 s / 0.01 s gives ~2e+08 monitor samples, over "
     "10,000,000"),
    ("periodic-decisions", GOOD, {"duration_s": 1_000_000, "monitor": {"decision_period_s": 1}},
     "monitor.decision_period_s: duration_s 1e+06 s / 1 s gives ~1e+06 periodic decisions, "
     "over 100,000"),
    ("fps-tiny-default-goal", GOOD, {"apps": [{"name": "a", "family": "n", "fps": 1e-4}]},
     "apps[0]: fps 0.0001 gives a default latency_goal_ms (1000/fps) of 1e+07 ms, outside "
     f"{GOAL}; give latency_goal_ms"),
]


@pytest.mark.parametrize(("base", "edit", "message"), [c[1:] for c in CRASHES],
                         ids=[c[0] for c in CRASHES])
def test_a_crash_case_is_one_line_naming_field_and_range(tmp_path, capsys, base, edit, message):
    path = write_world(tmp_path, {**base, **edit}, PROFILES)
    assert main(["validate", str(path)]) == 2
    assert capsys.readouterr().err == f"error: {path}: {message}\n"
    out = tmp_path / "out"
    assert main(["run", str(path), "--quiet", "--out", str(out)]) == 2
    assert capsys.readouterr().err == f"error: {path}: {message}\n"
    assert not out.exists()


def test_a_trace_file_over_the_ceiling_names_file_and_line(tmp_path, capsys):
    (tmp_path / "bw.csv").write_text("t_s,value\n0,10\n1,1e305\n")
    path = write_world(tmp_path, {**OFFLOAD, "network": {
        "bandwidth_mbps": {"kind": "csv", "path": "bw.csv"}}}, PROFILES)
    assert main(["validate", str(path)]) == 2
    assert capsys.readouterr().err == (f"error: {path}: network.bandwidth_mbps: "
                                       f"{tmp_path / 'bw.csv'} line 3: value {TOO_BIG}, "
                                       "got 1e+305\n")
    (tmp_path / "bw.csv").write_text("t_s,value\n0,10\n1,20\n")
    scaled = write_world(tmp_path, {**OFFLOAD, "network": {
        "bandwidth_mbps": {"kind": "csv", "path": "bw.csv", "scale": 1e304}}}, PROFILES)
    assert main(["validate", str(scaled)]) == 2
    assert capsys.readouterr().err == (f"error: {scaled}: network.bandwidth_mbps: "
                                       f"{tmp_path / 'bw.csv'}: scale 1e+304 makes values up "
                                       f"to 2e+305; a value {TOO_BIG}\n")


# --- every range of RANGES: its bounds pass, just beyond them is refused, naming it ---------
def _set(key: str, value: float) -> tuple[dict, dict]:
    """(base, edit) putting ``value`` into the field ``key`` of RANGES."""
    app = {"name": "a", "family": "pp", "fps": 10}
    if key.startswith("device.power."):
        return GOOD, {"device": {**DEV, "power": {"idle_w": 0, "busy_w": 1e4,
                                                  key.split(".")[-1]: value}}}
    if key.startswith("device."):
        return GOOD, {"device": {**DEV, key.split(".")[-1]: value}}
    if key.startswith("network."):
        return OFFLOAD, {"network": {"bandwidth_mbps": 10, key.split(".")[-1]: value}}
    if key == "apps[].spinn.constraints[].value":
        return OFFLOAD, {"apps": [{**app, "spinn": {"constraints": [["latency_ms", "<=",
                                                                      value]]}}]}
    if key.startswith("apps[]."):
        field = key.split(".")[-1]
        extra = {"latency_goal_ms": 100} if field == "fps" else {}
        return OFFLOAD, {"apps": [{**app, **extra, field: value}]}
    if key.startswith("events[].value"):
        action = key.split()[-1].rstrip(")")
        return GOOD, {"events": [{"t": 0, "action": "launch", "app": "a"},
                                 {"t": 1, "action": action, "app": "a", "value": value}]}
    if key.startswith("random_workload."):
        return GOOD, {"events": [], "random_workload": {
            "pool": ["a"], "min_concurrent": 1, "max_concurrent": 1, key.split(".")[-1]: value}}
    section, field = key.split(".")
    return GOOD, {section: {field: value}}


def _outside(r: Range) -> list[float]:
    below = r.lo if r.open_lo else (r.lo / 2 if r.lo > 0 else -1.0)
    return [below, r.hi * 2]


@pytest.mark.parametrize("key", sorted(RANGES))
def test_each_range_holds_its_bounds_and_refuses_beyond(tmp_path, key):
    r = RANGES[key]
    kind = int if "queue_length" in key or "upload_bytes" in key else float
    for value in ([r.hi] if r.open_lo else [r.lo, r.hi]):
        base, edit = _set(key, kind(value))
        load_scenario(write_world(tmp_path, {**base, **edit}, PROFILES))
    for value in map(kind, _outside(r)):
        base, edit = _set(key, value)
        with pytest.raises(ScenarioError) as info:
            load_scenario(write_world(tmp_path, {**base, **edit}, PROFILES))
        text = str(info.value)
        if key.startswith("random_workload."):  # pydantic's own bounds (sim.config.workload)
            assert f"{key}: Input should be" in text, text
            continue
        assert str(r) in text and f"(got {value!r})" in text, text
        field = key.split(" ")[0].replace("[]", "[0]").replace("constraints[0].value",
                                                                "constraints[0][2]")
        assert field.split(".")[0].split("[")[0] in text, text


@pytest.mark.parametrize(("name", "params"), [
    ("nestdnn-mintotal", {"share_step": 0.004}), ("nestdnn-mintotal", {"alpha": 0}),
    ("nestdnn-minmax", {"alpha": 2e6}), ("nestdnn-minmax", {"beta": 1e300}),
    ("nestdnn-minmax", {"horizon_s": 1e-300}), ("adaptivenet", {"epsilon_ms": 1e300}),
    ("adaptivenet", {"research_after_s": 1e10}), ("adaptivenet", {"monitor_period_s": 1e-4}),
    ("adaptivenet", {"monitor_period_s": True}),
])
def test_scheduler_parameters_outside_their_range(tmp_path, capsys, name, params):
    family = "e" if name == "adaptivenet" else "n"
    path = write_world(tmp_path, {**GOOD, "apps": [{"name": "a", "family": family, "fps": 10}],
                                  "schedulers": [{"name": name, "params": params}]}, PROFILES)
    assert main(["validate", str(path)]) == 2
    [(key, value)] = params.items()
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    if value is True:  # the type check comes first
        assert f"parameter {key}: input should be a valid number" in err, err
        return
    assert err == (f"error: {path}: schedulers[0]: scheduler {name!r}: {key} must be in "
                   f"{get_scheduler(name).param_constraints[key]}, got {value!r}\n")


@pytest.mark.filterwarnings("ignore::sim.config.plausibility.PlausibilityWarning")
def test_the_bounds_run(tmp_path):
    from sim.runner import run_scenario

    edge = {**OFFLOAD, "schedulers": [{"name": "spinn"}, {"name": "neurosurgeon"}],
            "device": {**DEV, "storage_read_mbps": 1e-3,
                       "power": {"idle_w": 1e4, "busy_w": 1e4, "radio_j_per_byte": 1e-3,
                                 "radio_tx_w": 1e4}},
            "network": {"bandwidth_mbps": 1e5, "rtt_ms": 6e5, "timeout_factor": 1000},
            "apps": [{"name": "a", "family": "pp", "fps": 1000, "latency_goal_ms": 0.01,
                      "priority": 1e-6, "upload_bytes": 10**10},
                     {"name": "b", "family": "pp", "fps": 1e-6, "latency_goal_ms": 3.6e6,
                      "priority": 1e6}],
            "events": [{"t": 0, "action": "launch", "app": "a"},
                       {"t": 0, "action": "launch", "app": "b"},
                       {"t": 1, "action": "goal", "app": "a", "value": 3.6e6},
                       {"t": 1, "action": "priority", "app": "b", "value": 1e-6}],
            "monitor": {"period_s": 1e-3, "decision_period_s": 1e-3, "drift_threshold": 1000},
            "engine": {"queue_length": 1_000_000}}
    for res in run_scenario(write_world(tmp_path, edge, PROFILES)):
        overall = res.metrics["overall"]
        assert overall["frames"] > 0 and np.isfinite(overall["energy_j"])
    nest = {**GOOD, "apps": [{"name": "a", "family": "n", "fps": 10, "latency_goal_ms": 0.01}],
            "schedulers": [{"name": "nestdnn-minmax", "label": f"{s}",
                            "params": {"solver": s, "share_step": 0.005, "alpha": 1e6,
                                       "beta": 1e6, "horizon_s": 1e-3}}
                           for s in ("exact", "greedy", "ilp")]}
    plans = {res.label: [(d.variant, d.share) for d in res.engine.timeline if d.variant]
             for res in run_scenario(write_world(tmp_path, nest, PROFILES))}
    assert plans["exact"] == plans["greedy"] == plans["ilp"] != []


def _readme_ranges() -> str:
    text = (ROOT / "scenarios" / "README.md").read_text(encoding="utf-8")
    m = re.search(r"<!-- ranges:start -->\n(.*?)<!-- ranges:end -->", text, re.S)
    assert m, "scenarios/README.md has no ranges table"
    return m.group(1)


@pytest.mark.parametrize("key", sorted(RANGES))
def test_the_readme_lists_each_range(key):
    rows = [row for row in _readme_ranges().splitlines()
            if re.sub(r" \(.*", "", key).split(".")[-1].replace("[]", "") in row]
    assert any(str(RANGES[key]) in row for row in rows), (key, str(RANGES[key]), rows)


def test_the_readme_lists_the_scheduler_parameter_ranges():
    text = _readme_ranges()
    share_step = get_scheduler("nestdnn-mintotal").param_constraints["share_step"]
    assert f"`share_step` {share_step}" in text
    table = (ROOT / "scenarios" / "README.md").read_text(encoding="utf-8")
    ranges = {(name, key): r for name in list_schedulers()
              for key, r in get_scheduler(name).param_constraints.items()
              if isinstance(r, Interval)}
    assert len(ranges) >= 11
    for (name, key), r in ranges.items():
        assert re.search(rf"\| `{name}` \| `{key}` \|[^\n]*{re.escape(str(r))}", table), key


def test_an_empty_label_is_refused_not_read_as_none(tmp_path, capsys):
    # "" was falsy, so the run went silently under the scheduler's name
    path = write_world(tmp_path, {**GOOD, "schedulers": [{"name": "agnostic", "label": ""}]},
                       PROFILES)
    assert main(["validate", str(path)]) == 2
    assert capsys.readouterr().err == (
        f"error: {path}: schedulers[0]: label '' becomes a file or folder name: use 1-100 "
        "letters, digits and '._+-', starting with a letter or digit\n")
