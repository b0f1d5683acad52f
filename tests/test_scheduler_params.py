"""Scheduler parameters are discoverable: each is documented, the README table is the
generated one, a typo names the valid parameters, a value its declared constraint refuses is
one line naming scheduler, parameter, value and what is allowed, and metrics.json records
what was used."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import pytest
from enginekit import write_world
from synthetic import make_profile

from sim.cli import main
from sim.schedulers.constraints import Interval, Options, allowed, violation
from sim.schedulers.param_table import markdown_table
from sim.schedulers.params import describe, resolved_params
from sim.schedulers.registry import SchedulerError, create_scheduler, get_scheduler, list_schedulers

README = Path(__file__).resolve().parents[1] / "scenarios" / "README.md"


@pytest.mark.parametrize("name", list_schedulers())
def test_every_parameter_has_a_doc(name):
    for p in describe(get_scheduler(name)):
        assert p.doc, f"{name}: parameter {p.name!r} has no entry in param_docs"
    assert set(get_scheduler(name).param_docs) <= {p.name for p in describe(get_scheduler(name))}


def test_readme_table_is_the_generated_one():
    text = README.read_text()
    found = re.search(r"<!-- scheduler-params:start -->\n(.*?)<!-- scheduler-params:end -->",
                      text, flags=re.S)
    assert found and found.group(1) == markdown_table(), (
        "scenarios/README.md is stale: paste python -m sim.schedulers.param_table")


def test_typo_names_the_close_match_and_the_valid_parameters():
    with pytest.raises(SchedulerError) as e:
        create_scheduler("nestdnn-mintotal", alhpa=2)
    assert str(e.value) == (
        "scheduler 'nestdnn-mintotal': unknown parameter 'alhpa' (did you mean 'alpha'?); its "
        "parameters: alpha, solver, share_step, beta, horizon_s, observed_latency "
        "(mvsched schedulers -v)")


def test_resolved_params_overlay_defaults():
    got = resolved_params(get_scheduler("spinn"), {"tolerance": 0.1})
    assert got["tolerance"] == 0.1 and got["offload"] is True
    assert isinstance(got["thresholds"], list)


def test_metrics_record_the_parameters_used(tmp_path):
    prof = make_profile("n", [("d0", 1000, 5.0, 0.6), ("d1", 2000, 9.0, 0.7)])
    path = write_world(tmp_path, {
        "duration_s": 1, "schedulers": [{"name": "nestdnn-mintotal", "params": {"alpha": 0.5}}],
        "apps": [{"name": "a", "family": "n", "fps": 10}],
        "events": [{"t": 0, "action": "launch", "app": "a"}]}, {"n": prof})
    assert main(["run", str(path), "--quiet", "--out", str(tmp_path / "o")]) == 0
    m = json.loads((tmp_path / "o" / "nestdnn-mintotal" / "metrics.json").read_text())
    assert m["scheduler_name"] == "nestdnn-mintotal"
    assert m["params"] == {"alpha": 0.5, "solver": "exact", "share_step": 0.05, "beta": 0.0,
                           "horizon_s": 10.0, "observed_latency": False}


def test_schedulers_verbose_lists_parameters(capsys):
    assert main(["schedulers", "-v"]) == 0
    out = capsys.readouterr().out
    assert ("    alpha (float, default 1.0; must be in (0, 1,000,000]): weight of a latency "
            "violation") in out
    assert "    solver (str, default 'exact'; must be one of 'exact', 'greedy', 'ilp'): " in out
    assert "    threshold (float | None, default None; must be null or in [0, 1]): " in out
    assert "    observed_latency (bool, default False): true: " in out


@pytest.mark.parametrize("name", list_schedulers())
def test_declared_constraints_name_parameters_and_accept_the_defaults(name):
    cls = get_scheduler(name)
    params = {p.name: p for p in describe(cls)}
    assert set(cls.param_constraints) <= set(params)
    for key, declaration in cls.param_constraints.items():
        assert violation({key: declaration}, {key: params[key].default}) is None, key
        assert params[key].allowed == allowed(declaration)


@pytest.mark.parametrize(("name", "params", "message"), [
    ("nestdnn-mintotal", {"solver": "simplex"},
     "scheduler 'nestdnn-mintotal': solver must be one of 'exact', 'greedy', 'ilp', got 'simplex'"),
    ("nestdnn-minmax", {"alpha": 0.0},
     "scheduler 'nestdnn-minmax': alpha must be in (0, 1,000,000], got 0.0"),
    ("nestdnn-minmax", {"share_step": 0.0001},
     "scheduler 'nestdnn-minmax': share_step must be in [0.005, 1], got 0.0001"),
    ("device-only", {"threshold": 1.5},
     "scheduler 'device-only': threshold must be null or in [0, 1], got 1.5"),
    ("neurosurgeon", {"objective": "accuracy"},
     "scheduler 'neurosurgeon': objective must be one of 'energy_mj', 'latency_ms', got "
     "'accuracy'"),
    ("agnostic", {"model": ""},
     "scheduler 'agnostic': model must be one of 'fastest', 'largest', 'smallest' or a variant "
     "id (a non-empty string), got ''"),
    ("adaptivenet", {"monitor_period_s": 1e300},
     "scheduler 'adaptivenet': monitor_period_s must be in [0.001, 2,592,000] s, got 1e+300"),
])
def test_a_value_its_constraint_refuses_is_one_line(name, params, message):
    with pytest.raises(SchedulerError) as info:
        create_scheduler(name, **params)
    assert str(info.value) == message


def test_the_type_is_checked_before_the_constraint():
    with pytest.raises(SchedulerError) as info:
        create_scheduler("device-only", threshold="high")
    assert "parameter threshold" in str(info.value) and "got 'high'" in str(info.value)
    with pytest.raises(SchedulerError) as info:
        create_scheduler("adaptivenet", monitor_period_s=10**400)
    assert str(info.value).endswith("(got 100000000000... (401 characters))")


def test_the_contract_checks_refuse_parameters_their_constraints_refuse():
    from sim.schedulers.checks import SchedulerCheckError, check_scheduler

    with pytest.raises(SchedulerCheckError, match="^scheduler 'nestdnn-minmax': cannot be "
                       "created with {'share_step': 0.0}: share_step must be in "):
        check_scheduler("nestdnn-minmax", share_step=0.0)


def test_constraints():
    assert str(Interval(0, 1, closed="right")) == "(0, 1]"
    assert str(Interval(None, 5, closed="neither", unit="s")) == "(-inf, 5) s"
    assert str(Interval(1e-3, None)) == "[0.001, inf)"
    right = Interval(0, 1, closed="right")
    assert right.accepts(1) and right.accepts(0.5) and not right.accepts(0)
    left = Interval(0, 1, closed="left")
    assert left.accepts(0) and not left.accepts(1)
    for bad in (True, "0.5", math.nan, math.inf, None, [0.5]):
        assert not Interval(None, None).accepts(bad), bad
    opts = Options({"b", "a"})
    assert opts.accepts("a") and not opts.accepts("c") and not opts.accepts(["a"])
    assert opts.describe() == "one of 'a', 'b'"
    assert Options({1}).accepts(1) and not Options({1}).accepts(True)
    assert allowed([None, Interval(0, 1), Options({"auto"})]) == "null, in [0, 1] or 'auto'"
    assert violation({"x": [None, Interval(0, 1)]}, {"x": None, "y": 5}) is None
    with pytest.raises(ValueError, match="closed"):
        Interval(0, 1, closed="open")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="empty interval"):
        Interval(2, 1)
    with pytest.raises(TypeError, match="not a parameter constraint"):
        allowed([(0, 1)])  # type: ignore[list-item]
