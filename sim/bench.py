"""``mvsched bench``: how much the simulator adds over bare SimPy, and how fast schedulers decide.

Wall-clock figures of this machine; printed and optionally saved as JSON, never asserted in
tests (speed is measured here, not tested).
"""

from __future__ import annotations

import platform
import time
from pathlib import Path
from typing import Any

import numpy as np
import simpy

__all__ = ["bench_simpy_timeouts", "bench_simulator", "run_bench"]

DEFAULT_SCENARIO = Path(__file__).resolve().parent.parent / "scenarios" / "default.yaml"


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


def bench_simulator(scenario: Path, scheduler: str = "agnostic", repeats: int = 3) -> dict[str, Any]:
    """The simulator on a scenario: processed frames per second of wall time (best of repeats)."""
    from sim.engine.world import Simulation
    from sim.inputs import load_inputs
    from sim.runner import create_schedulers

    inputs = load_inputs(scenario)
    best, processed, arrived = float("inf"), 0, 0
    for _ in range(repeats):
        [(spec, sched)] = create_schedulers(inputs, [scheduler])
        sim = Simulation(inputs, sched, spec.key)
        t0 = time.perf_counter()
        res = sim.run()
        best = min(best, time.perf_counter() - t0)
        processed = sum(len(a.record.finish) for a in res.apps.values())
        arrived = sum(a.record.arrived for a in res.apps.values())
    return {"scenario": str(scenario.name), "scheduler": scheduler, "seconds": best,
            "frames_processed": processed, "frames_arrived": arrived,
            "processed_frames_per_s": processed / best,
            "us_per_processed_frame": best / max(processed, 1) * 1e6,
            "us_per_arrived_frame": best / max(arrived, 1) * 1e6}


def _print_table(rows: list[dict[str, Any]], keys: list[str]) -> None:
    from sim.cli import format_table

    print(format_table(rows, keys))


def run_bench(quick: bool = False, scenario: str | None = None) -> dict[str, Any]:
    """Run every benchmark, print readable tables, return everything as a dict."""
    from sim.bench_decisions import bench_decisions

    scen = Path(scenario) if scenario else DEFAULT_SCENARIO
    simpy_row = bench_simpy_timeouts(50_000 if quick else 300_000, 2 if quick else 5)
    sim_row = bench_simulator(scen, repeats=1 if quick else 3)
    ratio = sim_row["us_per_processed_frame"] / simpy_row["us_per_timeout"]
    print(f"bare SimPy: {simpy_row['timeouts_per_s']:,.0f} timeouts/s "
          f"({simpy_row['us_per_timeout']:.2f} us each)")
    print(f"simulator ({sim_row['scenario']}, {sim_row['scheduler']}): "
          f"{sim_row['processed_frames_per_s']:,.0f} processed frames/s "
          f"({sim_row['us_per_processed_frame']:.2f} us per processed frame, "
          f"{sim_row['us_per_arrived_frame']:.2f} us per camera frame)")
    print(f"cost ratio: one processed frame = {ratio:.1f} bare SimPy timeouts (goal <= 8)")
    rows = bench_decisions(quick=quick)
    print()
    keys = [k for k in rows[0] if k not in ("trials",)] if rows else []
    _print_table(rows, keys)
    return {
        "machine": {"python": platform.python_version(), "processor": platform.processor()
                    or platform.machine(), "numpy": np.__version__, "simpy": simpy.__version__},
        "simpy": simpy_row, "simulator": sim_row, "frame_cost_ratio": ratio, "decisions": rows,
    }
