"""``mvsched sweep`` results you can trust: a run file records the profiles and traces it read
(by content) and the mvsched version, so an edited input recomputes exactly the runs that read
it and ``sweep.csv`` never mixes old and new results; one sweep at a time writes to a folder
(a stale lock is taken over); a sweep killed with ``kill -9`` leaves no process behind, and
its half-written temp files are removed by the next one."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from enginekit import write_world
from inline_executor import Inline
from synthetic import make_profile

import sim.results.sweep.execute
import sim.results.sweep.trust
from sim.cli import main
from sim.profile import save_profile
from sim.results.sweep import SweepError, aggregate, load_sweep, run_sweep
from sim.results.sweep.lock import LOCK_NAME, SweepLocked


def profile(family: str, small_ms: float = 5.0):
    return make_profile(family, [("small", 1000, small_ms, 0.6), ("big", 2000, 20.0, 0.8)])


@pytest.fixture
def world(tmp_path, monkeypatch):
    """Families p and q (one profile file each) as a grid axis; background load from a CSV
    trace. Paths in messages are shown relative to the working folder: the world's."""
    write_world(tmp_path, {
        "duration_s": 2, "seed": 5,
        "schedulers": [{"name": "agnostic", "label": "small", "params": {"model": "smallest"}},
                       {"name": "agnostic", "label": "big", "params": {"model": "largest"}}],
        "apps": [{"name": "a", "family": "p", "fps": 20}],
        "events": [{"t": 0, "action": "launch", "app": "a"}],
        "device": {"name": "dev", "memory_mb": 1000, "storage_read_mbps": 1e9,
                   "background_load": {"kind": "csv", "path": "traces/load.csv"}},
    }, {"p": profile("p"), "q": profile("q")})
    (tmp_path / "traces").mkdir()
    (tmp_path / "traces/load.csv").write_text("t_s,value\n0,0.0\n")
    (tmp_path / "sweep.yaml").write_text(yaml.safe_dump(
        {"scenario": "scenario.yaml", "seeds": 2, "grid": {"apps[0].family": ["p", "q"]}}))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def counting(monkeypatch) -> list[str]:
    calls: list[str] = []
    real = sim.results.sweep.execute.run_one

    def run_one(task):
        calls.append(task.key)
        return real(task)

    monkeypatch.setattr(sim.results.sweep.execute, "run_one", run_one)
    return calls


def stamps(out: Path) -> dict[str, int]:
    return {p.name: p.stat().st_mtime_ns for p in (out / "runs").glob("*.json")}


def keys_of(path: Path, family: str) -> set[str]:
    return {t.key for t in load_sweep(path).tasks() if t.grid["apps[0].family"] == family}


# -- fingerprints ---------------------------------------------------------------------------
def test_an_edited_profile_recomputes_the_runs_that_read_it_and_only_those(world, monkeypatch):
    path, out = world / "sweep.yaml", world / "out"
    first = run_sweep(path, out, executor=Inline())
    before = stamps(out)
    save_profile(profile("p", small_ms=7.0), world / "profiles/dev/p.json")

    calls, notes = counting(monkeypatch), []
    res = run_sweep(path, out, executor=Inline(), on_notice=notes.append)
    assert notes == ["4 runs recomputed: inputs changed (profiles/dev/p.json)"]
    assert sorted(calls) == sorted(keys_of(path, "p"))
    assert (res.runs, res.skipped, res.recomputed) == (8, 4, 4)
    after = stamps(out)
    assert {k for k in before if after[k] != before[k]} == {f"{k}.json" for k in calls}

    rows = {(r["apps[0].family"], r["scheduler"]): r for r in res.rows}
    old = {(r["apps[0].family"], r["scheduler"]): r for r in first.rows}
    assert rows["p", "small"]["latency_ms_mean_mean"] == 7.0
    assert old["p", "small"]["latency_ms_mean_mean"] == 5.0
    assert rows["q", "small"] == old["q", "small"]
    fresh = run_sweep(path, world / "fresh", executor=Inline())
    assert res.csv.read_bytes() == fresh.csv.read_bytes()

    calls.clear()
    again = run_sweep(path, out, executor=Inline(), on_notice=notes.append)
    assert calls == [] and again.recomputed == 0 and len(notes) == 1


def test_an_edited_trace_or_another_mvsched_recomputes_every_run(world, monkeypatch, capsys):
    path, out = world / "sweep.yaml", world / "out"
    run_sweep(path, out, executor=Inline())
    (world / "traces/load.csv").write_text("t_s,value\n0,0.5\n")
    assert main(["sweep", str(path), "--out", str(out), "--workers", "1", "--quiet"]) == 0
    assert capsys.readouterr().err == "8 runs recomputed: inputs changed (traces/load.csv)\n"

    now = sim.results.sweep.trust.tool_version()
    monkeypatch.setattr(sim.results.sweep.trust, "tool_version", lambda: "9.9")
    notes: list[str] = []
    run_sweep(path, out, executor=Inline(), on_notice=notes.append)
    assert notes == [f"8 runs recomputed: inputs changed (mvsched {now} -> 9.9)"]


def test_sweep_csv_is_made_only_of_runs_from_the_current_inputs(world):
    path, out = world / "sweep.yaml", world / "out"
    run_sweep(path, out, executor=Inline())
    save_profile(profile("q", small_ms=9.0), world / "profiles/dev/q.json")
    with pytest.raises(SweepError) as exc:
        aggregate(load_sweep(path), out)
    msg = str(exc.value)
    assert "computed from other inputs than this sweep's (changed: profiles/dev/q.json)" in msg
    assert msg.startswith(str(out / "runs"))

    # a run file of another sweep (another scenario) in the folder is never aggregated
    rec = json.loads(next((out / "runs").glob("*.json")).read_text())
    victim = out / "runs" / f"{rec['key']}.json"
    victim.write_text(json.dumps({**rec, "scenario_sha256": "0" * 64}))
    with pytest.raises(SweepError, match="computed from another version of"):
        aggregate(load_sweep(path), out)


def test_run_files_from_before_fingerprints_are_recomputed(world):
    path, out = world / "sweep.yaml", world / "out"
    run_sweep(path, out, executor=Inline())
    for f in (out / "runs").glob("*.json"):
        rec = json.loads(f.read_text())
        f.write_text(json.dumps({k: v for k, v in rec.items()
                                 if k not in ("inputs", "fingerprint")}))
    notes: list[str] = []
    res = run_sweep(path, out, executor=Inline(), on_notice=notes.append)
    assert res.recomputed == 8
    assert notes == ["8 runs recomputed: inputs changed (no input fingerprint in the run file)"]


# -- one sweep at a time --------------------------------------------------------------------
def test_a_second_sweep_into_a_busy_folder_is_refused_in_one_line(world, capsys):
    """Two different sweeps started together: the second is refused, exit 2, while the first
    finishes with only its own runs."""
    other = world / "other.yaml"
    other.write_text(yaml.safe_dump({"scenario": "scenario.yaml", "seeds": [11]}))
    out, refused = world / "out", []

    def start_the_other(record):
        if not refused:
            refused.append(main(["sweep", str(other), "--out", str(out), "--quiet"]))

    res = run_sweep(world / "sweep.yaml", out, executor=Inline(), on_result=start_the_other)
    err = capsys.readouterr().err
    assert refused == [2]
    assert err == (f"error: {out}: another sweep (pid {os.getpid()}) is writing to this "
                   f"folder; wait for it to finish or use another --out (its lock: "
                   f"{out / LOCK_NAME})\n")
    assert {p.stem for p in (out / "runs").glob("*.json")} == \
        {t.key for t in load_sweep(world / "sweep.yaml").tasks()}
    assert res.runs == 8 and not (out / LOCK_NAME).exists()


def test_a_lock_held_by_a_live_process_refuses_without_writing(world):
    out = world / "out"
    out.mkdir()
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        (out / LOCK_NAME).write_text(f"{sleeper.pid}\n")
        with pytest.raises(SweepLocked, match=rf"^{out}: another sweep \(pid {sleeper.pid}\)"):
            run_sweep(world / "sweep.yaml", out, executor=Inline())
        assert sorted(p.name for p in out.iterdir()) == [LOCK_NAME]
        (out / LOCK_NAME).write_text("1234 elsewhere.example\n")  # can't tell: refused
        with pytest.raises(SweepLocked, match=r"\(pid 1234 on elsewhere.example\)"):
            run_sweep(world / "sweep.yaml", out, executor=Inline())
    finally:
        sleeper.kill()
        sleeper.wait()


def test_a_stale_lock_is_taken_over(world):
    out = world / "out"
    out.mkdir()
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    (out / LOCK_NAME).write_text(f"{gone.pid}\n")
    res = run_sweep(world / "sweep.yaml", out, executor=Inline())
    assert res.computed == 8 and not (out / LOCK_NAME).exists()

    (out / LOCK_NAME).write_text("")  # a lock its writer never filled, long ago
    os.utime(out / LOCK_NAME, (time.time() - 60, time.time() - 60))
    assert run_sweep(world / "sweep.yaml", out, executor=Inline()).skipped == 8


# -- kill -9 --------------------------------------------------------------------------------
def test_temp_files_of_a_killed_sweep_are_removed_at_the_next_start(world):
    out = world / "out"
    (out / "runs").mkdir(parents=True)
    debris = [out / "runs/.0123456789abcdef.json.k2j3h4_q.tmp", out / ".sweep.csv.x8y9ab01.tmp"]
    for p in debris:
        p.write_text("{half")
    mine = [out / "runs/notes.txt", out / "runs/.my.tmp"]
    for p in mine:
        p.write_text("mine")
    run_sweep(world / "sweep.yaml", out, executor=Inline())
    assert not any(p.exists() for p in debris)
    assert all(p.read_text() == "mine" for p in mine)


def _children(pid: int) -> dict[int, str]:
    """Descendants of ``pid`` (from /proc) -> their start time, to tell a reused pid."""
    parent: dict[int, int] = {}
    start: dict[int, str] = {}
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                fields = (d / "stat").read_text().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue
            parent[int(d.name)], start[int(d.name)] = int(fields[1]), fields[19]
    found, todo = {}, [pid]
    while todo:
        p = todo.pop()
        for c, pp in parent.items():
            if pp == p and c not in found:
                found[c] = start[c]
                todo.append(c)
    return found


def _running(pid: int, started: str) -> bool:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return False
    return fields[19] == started and fields[0] != "Z"


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads processes from /proc")
def test_a_killed_local_sweep_leaves_no_process_behind(world):
    sc = yaml.safe_load((world / "scenario.yaml").read_text())
    (world / "scenario.yaml").write_text(yaml.safe_dump({**sc, "duration_s": 600}))
    (world / "long.yaml").write_text(yaml.safe_dump({"scenario": "scenario.yaml", "seeds": 200}))
    out = world / "out"
    sweep = subprocess.Popen(
        [sys.executable, "-c", "import sys; from sim.cli import main; sys.exit(main())",
         "sweep", str(world / "long.yaml"), "--out", str(out), "--workers", "2", "--quiet"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 120
        while not list(out.glob("runs/*.json")):
            assert sweep.poll() is None, sweep.stderr.read().decode()
            assert time.monotonic() < deadline, "no run file after 120 s"
            time.sleep(0.05)
        children = _children(sweep.pid)
        sweep.kill()
        sweep.wait()
    finally:
        if sweep.poll() is None:
            sweep.kill()
            sweep.wait()
    assert len(children) >= 2  # the two workers (and multiprocessing's resource tracker)
    deadline = time.monotonic() + 10
    while (left := [c for c, t in children.items() if _running(c, t)]) and \
            time.monotonic() < deadline:
        time.sleep(0.1)
    assert left == [], f"still running 10 s after the sweep was killed: {left}"
    assert (out / LOCK_NAME).exists()  # the next sweep takes it over
