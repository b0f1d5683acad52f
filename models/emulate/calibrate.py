"""How fast this machine runs the profiled models today, timed just before an emulation.

A shared or throttled machine can run the same model 10-25% slower (or faster) than on the
day it was profiled; the simulator cannot know that, so a fidelity error of that size says
nothing about the model of sharing. This times every variant the run uses, alone and back to
back on the device's first core, in a child process, and reports today's median over the
profiled one, so that ``fidelity.csv`` can be read against it.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import time
from typing import Any

__all__ = ["machine_speed"]


def _time_variants(jobs: list[tuple[str, str, str, int]], cpu: int, seconds: float,
                   results: Any) -> None:
    os.sched_setaffinity(0, [cpu])
    import torch

    from models.emulate.family_args import family_kwargs
    from models.registry import create_family
    from sim.profile import load_profile

    with torch.inference_mode():
        for i, (path, family, variant, threads) in enumerate(jobs):
            torch.set_num_threads(threads)
            prof = load_profile(path)
            module = create_family(family, **family_kwargs(prof)).emulation_module(
                prof, variant, None)
            x = torch.randn((1, *prof.task.input_shape),
                            generator=torch.Generator().manual_seed(0))
            for _ in range(5):
                module(x)
            costs: list[float] = []
            end = time.monotonic() + seconds
            while time.monotonic() < end or len(costs) < 5:
                c = time.process_time()
                module(x)
                costs.append(time.process_time() - c)
            costs.sort()
            results[i] = costs[len(costs) // 2]


def machine_speed(jobs: list[tuple[str, str, str, int, float]], cpu: int,
                  seconds: float = 0.4) -> dict[str, Any]:
    """``jobs``: (profile path, family, variant, threads, profiled median ms). Returns each
    ``family/variant``'s today-over-profiled ratio and their geometric mean."""
    ctx = mp.get_context("spawn")
    results = ctx.Array("d", len(jobs))
    p = ctx.Process(target=_time_variants, daemon=True,
                    args=([j[:4] for j in jobs], cpu, seconds, results))
    p.start()
    try:
        p.join(60.0 + len(jobs) * (seconds + 5.0))
    finally:
        if p.is_alive():
            p.kill()
            p.join()
    rows = {}
    for (_, family, variant, _, profiled_ms), s in zip(jobs, list(results)):
        if s > 0.0:
            rows[f"{family}/{variant}"] = {"profiled_ms": round(profiled_ms, 4),
                                           "today_ms": round(s * 1000.0, 4),
                                           "ratio": round(s * 1000.0 / profiled_ms, 4)}
    ratios = [r["ratio"] for r in rows.values()]
    mean = float(round(_geomean(ratios), 4)) if ratios else None
    return {"variants": rows, "geomean_ratio": mean,
            "method": f"median CPU time of back-to-back inferences over {seconds:g} s, alone "
                      f"on core {cpu}, just before the run, over the profile's median"}


def _geomean(xs: list[float]) -> float:
    import math

    return math.exp(sum(math.log(x) for x in xs) / len(xs))
