"""A run that went wrong says so: plans refused for memory (every one or some) and apps that
were launched but never served are metrics.json "warnings", printed by ``run`` and
``compare`` as one ``warning:`` line each, and the refused-plans column shows in the
printed table whenever some run had a plan refused."""

from __future__ import annotations

import json

import pytest
from enginekit import write_world
from synthetic import make_profile

from sim.cli import main
from sim.schedulers.base import AppPlan, Plan, Scheduler, SystemView
from sim.schedulers.registry import SCHEDULERS, register_scheduler

PROF = make_profile("n", [("d0", 1_000_000, 5.0, 0.6), ("d1", 2_000_000, 9.0, 0.7)])
BLIND = "memory-blind-test"


class MemoryBlind(Scheduler):
    """Every app runs its largest model on an equal share; the memory budget is ignored."""

    def decide(self, view: SystemView) -> Plan:
        return Plan({a.name: AppPlan(a.profile.variants[-1].id, 1.0 / len(view.apps))
                     for a in view.apps})


@pytest.fixture
def blind():
    SCHEDULERS.load()
    register_scheduler(BLIND)(MemoryBlind)
    yield BLIND
    SCHEDULERS.classes.pop(BLIND, None)


def _world(tmp_path, schedulers, memory_mb, b_at=None, period=None):
    apps = [{"name": "a", "family": "n", "fps": 10, "priority": 2}]
    events = [{"t": 0, "action": "launch", "app": "a"}]
    if b_at is not None:
        apps.append({"name": "b", "family": "n", "fps": 10})
        events.append({"t": b_at, "action": "launch", "app": "b"})
    scen = {"duration_s": 2, "schedulers": [{"name": s} for s in schedulers],
            "device": {"name": "dev", "memory_mb": memory_mb, "storage_read_mbps": 1e9},
            "apps": apps, "events": events}
    if period is not None:
        scen["monitor"] = {"decision_period_s": period}
    return write_world(tmp_path, scen, {"n": PROF})


def _run(tmp_path, capsys, path, *extra):
    assert main(["run", str(path), "--quiet", "--out", str(tmp_path / "out"), *extra]) == 0
    return capsys.readouterr()


def _warnings(tmp_path, label):
    return json.loads((tmp_path / "out" / label / "metrics.json").read_text())["warnings"]


def _header(table: str) -> list[str]:
    return table.splitlines()[0].split()


def test_every_plan_refused_is_a_warning_and_the_app_never_served_another(
        tmp_path, capsys, blind):
    path = _world(tmp_path, [blind], 1.0, period=0.5)
    out = _run(tmp_path, capsys, path)
    metrics = json.loads((tmp_path / "out" / blind / "metrics.json").read_text())
    n = metrics["overall"]["decisions"]
    assert n > 1 and metrics["overall"]["refused_plans"] == n
    assert metrics["overall"]["processed"] == 0
    expected = [
        f"every plan was refused ({n} of {n}): the plans need up to 2.0 MB, more than "
        "device.memory_mb (1 MB); no app ran",
        "app 'a' was launched for 2.0 s and never served (no plan giving it a model was "
        "accepted; see the refused plans)",
    ]
    assert metrics["warnings"] == expected
    assert out.err == "".join(f"warning: {blind}: {w}\n" for w in expected)
    assert "refused" in _header(out.out) and "refused = refused_plans" in out.out


def test_some_plans_refused_names_the_count_and_the_column_shows(tmp_path, capsys, blind):
    # a's largest model fits 3 MB alone; once b is launched the two need 4 MB
    path = _world(tmp_path, [blind, "agnostic"], 3.0, b_at=1.0)
    out = _run(tmp_path, capsys, path)
    refused = ("1 of 2 plans were refused (memory): they needed up to 4.0 MB, more than "
               "device.memory_mb (3 MB); each time the previous plan stayed in force")
    starved = ("app 'b' was launched for 1.0 s and never served (no plan giving it a model "
               "was accepted; see the refused plans)")
    assert _warnings(tmp_path, blind) == [refused, starved]
    paused = ("app 'b' was launched for 1.0 s and never served (paused: launch b; memory: the "
              "smallest models of higher-priority apps fill the 3.0 MB budget)")
    assert _warnings(tmp_path, "agnostic") == [paused]
    lines = out.err.splitlines()
    assert lines == [f"warning: {blind}: {refused}", f"warning: {blind}: {starved}",
                     f"warning: agnostic: {paused}"]
    header = _header(out.out)
    assert "refused" in header
    rows = {ln.split()[0]: ln.split() for ln in out.out.splitlines()[2:4]}
    col = header.index("refused")
    assert rows[blind][col] == "1" and rows["agnostic"][col] == "0"


def test_compare_prints_each_warning_once_with_its_seeds_and_the_column(tmp_path, capsys,
                                                                        blind):
    path = _world(tmp_path, [blind, "agnostic"], 3.0, b_at=1.0)
    assert main(["compare", str(path), "--quiet", "--no-plots", "--seeds", "2",
                 "--out", str(tmp_path / "cmp")]) == 0
    out = capsys.readouterr()
    lines = out.err.splitlines()
    assert len(lines) == 3 and len(set(lines)) == 3
    assert lines[0].startswith(f"warning: {blind} (all 2 seeds): 1 of 2 plans were refused")
    assert lines[1].startswith(f"warning: {blind} (all 2 seeds): app 'b' was launched")
    assert lines[2].startswith("warning: agnostic (all 2 seeds): app 'b' was launched for 1.0 "
                               "s and never served (paused: ")
    assert out.out.startswith("mean over seeds 0..1:\n")
    headers = [ln.split() for ln in out.out.splitlines() if ln.startswith("scheduler")]
    assert any("refused" in h for h in headers)  # in the table, wherever the width puts it
    for seed in (0, 1):
        m = json.loads((tmp_path / "cmp" / f"seed-{seed}" / blind / "metrics.json").read_text())
        assert m["overall"]["refused_plans"] == 1 and len(m["warnings"]) == 2


def test_an_app_paused_for_memory_the_whole_run_is_never_served(tmp_path, capsys):
    path = _world(tmp_path, ["agnostic"], 1.5, b_at=0.0)
    out = _run(tmp_path, capsys, path, "--set", "schedulers[0].params.model=smallest")
    line = ("app 'b' was launched for 2.0 s and never served (paused: launch a; launch b; "
            "memory: the smallest models of higher-priority apps fill the 1.5 MB budget)")
    assert _warnings(tmp_path, "agnostic") == [line]
    assert out.err == f"warning: agnostic: {line}\n"
    assert "refused" not in _header(out.out)  # no plan refused: no column


def test_a_run_that_went_well_has_no_warning_and_no_refused_column(tmp_path, capsys):
    path = _world(tmp_path, ["agnostic"], 100.0, b_at=1.0)
    out = _run(tmp_path, capsys, path)
    assert _warnings(tmp_path, "agnostic") == []
    assert out.err == "" and "refused" not in out.out
