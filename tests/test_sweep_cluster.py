"""``mvsched sweep`` on a cluster without a shared filesystem: each task carries the files its
runs read, so workers in another folder, with none of the inputs on their disk, give the bytes
of a local run; runs go to workers in batches of one grid point, and a run that fails in a batch
loses none of the others."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
import yaml
from enginekit import write_world
from inline_executor import Inline
from synthetic import make_profile

import sim.results.sweep.execute
from sim.results.sweep import SweepError, load_sweep, run_sweep
from sim.results.sweep.batches import MAX_RUNS_PER_TASK, batches


@pytest.fixture
def world(tmp_path):
    """A profile and a CSV load trace under inputs/, a 2 s scenario and a sweep of 2 grid
    points x 2 schedulers x 2 seeds over it."""
    inputs = tmp_path / "inputs"
    prof = make_profile("p", [("small", 1000, 5.0, 0.6), ("big", 2000, 20.0, 0.8)])
    write_world(inputs, {
        "duration_s": 2, "seed": 5,
        "schedulers": [{"name": "agnostic", "label": "small", "params": {"model": "smallest"}},
                       {"name": "agnostic", "label": "big", "params": {"model": "largest"}}],
        "apps": [{"name": "a", "family": "p", "fps": 20}],
        "events": [{"t": 0, "action": "launch", "app": "a"}],
        "device": {"name": "dev", "memory_mb": 1000, "storage_read_mbps": 1e9,
                   "background_load": {"kind": "csv", "path": "traces/load.csv"}},
    }, {"p": prof})
    (inputs / "traces").mkdir()
    (inputs / "traces/load.csv").write_text("t_s,value\n0,0.0\n1,0.5\n")
    (inputs / "sweep.yaml").write_text(yaml.safe_dump(
        {"scenario": "scenario.yaml", "seeds": 2, "grid": {"apps[0].fps": [10, 20]}}))
    return tmp_path


def same_results(a: Path, b: Path) -> None:
    assert (a / "sweep.csv").read_bytes() == (b / "sweep.csv").read_bytes()
    names = sorted(p.name for p in (a / "runs").iterdir())
    assert names == sorted(p.name for p in (b / "runs").iterdir()) and len(names) == 8
    for name in names:
        assert (a / "runs" / name).read_bytes() == (b / "runs" / name).read_bytes()


def test_workers_elsewhere_without_the_inputs_give_the_local_bytes(world):
    distributed = pytest.importorskip("distributed")
    sweep = world / "inputs/sweep.yaml"
    local = run_sweep(sweep, world / "local", executor="local", workers=1)
    sw = load_sweep(sweep)
    shipped = set().union(*(files.keys() for files in sw.files.values()))
    assert shipped == {str(world / "inputs" / f) for f in
                       ("scenario.yaml", "profiles/dev/p.json", "traces/load.csv")}
    shutil.rmtree(world / "inputs")  # read when loaded; on no disk from here on
    elsewhere = world / "elsewhere"
    elsewhere.mkdir()
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        client.run(os.chdir, str(elsewhere))
        assert set(client.run(os.getcwd).values()) == {str(elsewhere)}
        assert not any(client.run(os.path.exists, str(sw.scenario)).values())
        res = run_sweep(sw, world / "cluster", executor="dask",
                        address=cluster.scheduler_address)
    assert (res.runs, res.skipped) == (8, 0)
    assert res.rows == local.rows
    same_results(world / "local", world / "cluster")


def test_runs_go_in_batches_of_one_grid_point_that_leave_every_worker_several(world):
    tasks = load_sweep(world / "inputs/sweep.yaml").tasks()
    assert [len(b.tasks) for b in batches(tasks, 1)] == [2, 2, 2, 2]  # 8 runs: 4 per worker
    assert [len(b.tasks) for b in batches(tasks, 2)] == [1] * 8
    many = tasks * 40  # 320 runs, 160 per grid point
    sizes = [len(b.tasks) for b in batches(many, 1)]
    assert sizes == [MAX_RUNS_PER_TASK] * 20
    odd = [t for t in many if t.grid["apps[0].fps"] == 10][:17] + \
        [t for t in many if t.grid["apps[0].fps"] == 20][:17]
    assert [len(b.tasks) for b in batches(odd, 1)] == [6, 6, 5, 6, 6, 5]  # parts about equal
    for b in batches(many, 3):
        assert {t.grid["apps[0].fps"] for t in b.tasks} == {int(b.overrides[0].split("=")[1])}
    assert sorted(t.key for b in batches(many, 3) for t in b.tasks) == sorted(t.key for t in many)


def test_a_failing_run_loses_none_of_its_batch(world, monkeypatch):
    sweep = world / "inputs/sweep.yaml"
    first = batches(load_sweep(sweep).tasks(), 1)[0].tasks
    bad, mate = first[0].key, first[1].key
    real = sim.results.sweep.execute.run_one

    def failing(task):
        if task.key == bad:
            raise ValueError("the engine gave up")
        return real(task)

    monkeypatch.setattr(sim.results.sweep.execute, "run_one", failing)
    with pytest.raises(SweepError, match=rf"run {bad} \(.*\): the engine gave up$"):
        run_sweep(sweep, world / "out", executor=Inline(), workers=1)
    written = {p.stem for p in (world / "out/runs").iterdir()}
    assert mate in written and bad not in written

    monkeypatch.setattr(sim.results.sweep.execute, "run_one", real)
    res = run_sweep(sweep, world / "out", executor=Inline(), workers=1)
    assert (res.runs, res.skipped) == (8, len(written))


def test_another_error_is_raised_as_it_was_with_the_workers_trace(world, monkeypatch):
    def broken(task):
        raise ZeroDivisionError("in the scheduler")

    monkeypatch.setattr(sim.results.sweep.execute, "run_one", broken)
    with pytest.raises(ZeroDivisionError, match="in the scheduler") as exc:
        run_sweep(world / "inputs/sweep.yaml", world / "out", executor=Inline(), workers=1)
    assert "in broken" in str(exc.value.__cause__)
