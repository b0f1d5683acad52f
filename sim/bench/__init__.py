"""``mvsched bench``: how much the simulator adds over bare SimPy, and how fast schedulers decide.

Wall-clock figures of this machine; printed and optionally saved as JSON, never asserted in
tests (speed is measured here, not tested).
"""

from __future__ import annotations

import copy
import platform
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import simpy

__all__ = ["bench_simpy_timeouts", "bench_simulator", "events_processed", "run_bench"]

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"
ENGINE_RUNS = (("default.yaml", "agnostic"), ("spinn_bandwidth.yaml", "spinn"),
               ("spinn_multiapp.yaml", "spinn"), ("spinn_bandwidth.yaml", "cloud-only"))
"""Engine cost per processed frame is measured on these shipped scenarios."""
DECISION_RUNS = (("spinn_bandwidth.yaml", "spinn"), ("paper/spinn_published.yaml", "spinn"),
                 ("spinn_multiapp.yaml", "spinn"), ("spinn_multiapp.yaml", "neurosurgeon"),
                 ("adaptivenet_load.yaml", "adaptivenet"))
"""Decision times of the offloading and supernet schedulers, on the real views of a run."""


def bench_simpy_timeouts(n: int = 200_000, repeats: int = 3) -> dict[str, float]:
    """Bare SimPy: one process yielding ``n`` timeouts; best of ``repeats``."""

    def proc(env: simpy.Environment):
        for _ in range(n):
            yield env.timeout(1.0)

    best = float("inf")
    for _ in range(repeats):
        env = simpy.Environment()
        env.process(proc(env))
        t0 = time.perf_counter()
        env.run()
        best = min(best, time.perf_counter() - t0)
    return {"timeouts": n, "seconds": best, "timeouts_per_s": n / best, "us_per_timeout": best / n * 1e6}


def events_processed(env: simpy.Environment) -> int:
    """SimPy events ``env`` has processed: every event scheduled (SimPy numbers them from 0,
    stale ones included) less those still queued. Read after the run, so the count costs the
    timed run nothing (wrapping ``env.step`` would); a copy of SimPy's id counter is read, so
    reading does not use up an id."""
    return next(copy.copy(env._eid)) - len(env._queue)  # type: ignore[attr-defined]


def bench_simulator(scenario: Path, scheduler: str = "agnostic", repeats: int = 3) -> dict[str, Any]:
    """The simulator on a scenario: processed frames per second of wall time (best of repeats)."""
    from sim.config.inputs import load_inputs
    from sim.engine.world import Simulation
    from sim.runner import create_schedulers

    inputs = load_inputs(scenario)
    best, processed, arrived, events = float("inf"), 0, 0, 0
    for _ in range(repeats):
        [(spec, sched)] = create_schedulers(inputs, [scheduler])
        sim = Simulation(inputs, sched, spec.key)
        t0 = time.perf_counter()
        res = sim.run()
        best = min(best, time.perf_counter() - t0)
        events = events_processed(sim.env)
        processed = sum(len(a.record.frames) for a in res.apps.values())
        arrived = sum(a.record.arrived for a in res.apps.values())
    return {"scenario": str(scenario.name), "scheduler": scheduler, "seconds": best,
            "frames_processed": processed, "frames_arrived": arrived,
            "processed_frames_per_s": processed / best, "events": events,
            "events_per_processed_frame": events / max(processed, 1),
            "us_per_processed_frame": best / max(processed, 1) * 1e6,
            "us_per_arrived_frame": best / max(arrived, 1) * 1e6}


def bench_run_decisions(scenario: Path, scheduler: str, cold: bool = True) -> dict[str, Any]:
    """Wall time of every decision of one simulated run, per running app: median, p90,
    p99 and max, and the first (which builds the tables derived from the profiles, so it is
    often the max). ``cold``: the caches of what is derived from profiles are emptied first
    (:func:`sim.profile.shared_cache.clear_derived`), so the first decision works it all out
    as in a fresh process; else it reuses what earlier runs of this process built."""
    from sim.config.inputs import load_inputs
    from sim.engine.world import Simulation
    from sim.profile.shared_cache import clear_derived
    from sim.runner import create_schedulers

    inputs = load_inputs(scenario)
    [(spec, sched)] = create_schedulers(inputs, [scheduler])
    if cold:
        clear_derived()
    res = Simulation(inputs, sched, spec.key).run()
    per_app = [w * 1000.0 / len(a) for w, a in zip(res.decision_wall_s, res.decision_apps) if a]
    return {"scenario": scenario.name, "scheduler": scheduler, "decisions": len(per_app),
            "median_ms_per_app": float(np.median(per_app)),
            "p90_ms_per_app": float(np.percentile(per_app, 90)),
            "p99_ms_per_app": float(np.percentile(per_app, 99)),
            "max_ms_per_app": float(np.max(per_app)),
            "first_ms_per_app": float(per_app[0]),
            "max_apps": max(len(a) for a in res.decision_apps)}


Table = Callable[[list[dict[str, Any]], Sequence[str]], str]
"""How rows print as a table (the command line passes ``sim.present.table.format_table``)."""


def _rows_text(rows: list[dict[str, Any]], keys: Sequence[str]) -> str:
    return "\n".join(", ".join(f"{k}={row.get(k)}" for k in keys) for row in rows)


def run_bench(quick: bool = False, scenario: str | None = None,
              table: Table = _rows_text) -> dict[str, Any]:
    """Run every benchmark, print readable tables (drawn by ``table``; by default one line
    per row), return everything as a dict."""

    def _print_table(rows: list[dict[str, Any]], keys: list[str]) -> None:
        print(table(rows, keys))

    from sim.bench.decisions import bench_decisions

    runs = [(Path(scenario), "agnostic")] if scenario else [(SCENARIOS / f, s) for f, s in ENGINE_RUNS]
    # bare SimPy and each run alternate, best of each kept, so a drift in the machine's
    # speed hits both alike
    simpy_row = bench_simpy_timeouts(50_000, 1)
    engine_rows = [bench_simulator(path, scheduler=sched, repeats=1) for path, sched in runs]
    for _ in range(1 if quick else 4):
        again = bench_simpy_timeouts(50_000 if quick else 300_000, 1)
        simpy_row = min(simpy_row, again, key=lambda r: r["us_per_timeout"])
        for i, (path, sched) in enumerate(runs):
            row = bench_simulator(path, scheduler=sched, repeats=1)
            if row["seconds"] < engine_rows[i]["seconds"]:
                engine_rows[i] = row
    bare = simpy_row["us_per_timeout"]
    print(f"bare SimPy: {simpy_row['timeouts_per_s']:,.0f} timeouts/s ({bare:.2f} us each)")
    for row in engine_rows:
        row["x_bare_timeout"] = row["us_per_processed_frame"] / bare
    print("engine cost per processed frame (goal <= 8 bare SimPy timeouts on default.yaml):")
    _print_table(engine_rows, ["scenario", "scheduler", "frames_processed",
                               "events_per_processed_frame", "us_per_processed_frame",
                               "x_bare_timeout"])
    sim_row = engine_rows[0]
    decision_rows = [] if scenario else [bench_run_decisions(SCENARIOS / f, s)
                                         for f, s in DECISION_RUNS]
    if decision_rows:
        print()
        print("decisions on the runs' own views (goal <= 1 ms per app per decision; the "
              "first, from emptied caches, <= 5 ms):")
        _print_table(decision_rows, ["scenario", "scheduler", "decisions", "max_apps",
                                     "median_ms_per_app", "p90_ms_per_app",
                                     "p99_ms_per_app", "max_ms_per_app", "first_ms_per_app"])
    rows = bench_decisions(quick=quick)
    print()
    print("NestDNN solvers on synthetic instances:")
    keys = [k for k in rows[0] if k not in ("trials",)] if rows else []
    _print_table(rows, keys)
    return {
        "machine": {"python": platform.python_version(), "processor": platform.processor()
                    or platform.machine(), "numpy": np.__version__, "simpy": simpy.__version__},
        "simpy": simpy_row, "simulator": sim_row, "engine": engine_rows,
        "frame_cost_ratio": sim_row["x_bare_timeout"], "scheduler_decisions": decision_rows,
        "decisions": rows,
    }
