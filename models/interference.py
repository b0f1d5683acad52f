"""Co-run interference: how much slower a family's model runs while other models time-share
its cores, measured into the profile (``Profile.interference``).

On one core, processor sharing gives each of ``n`` busy models ``1/n`` of the core, but the
models also evict each other's weights and activations from the caches at every switch, so
each inference costs more CPU time than alone. This measures that cost the way AdaptiveNet's
artifact does (the model alone, then with k = 1, 2, 4 co-running processes): the target
process and ``k`` co-runner processes, all pinned to the profile's cores, run the family's
largest descendant (not an independent baseline) back to back; the factor is the target's median CPU time per inference with
``k`` co-runners over its median alone just before and after (the co-runners stay loaded
and only pause, so the timings alternate within seconds). ``after_idle`` is the same for an
inference that follows a 20 ms sleep, as an app's does when it waits for its next camera
frame: the caches have gone cold. The engine applies it when ``engine.interference``
is on (see :mod:`sim.engine.multicore`). Each variant is also measured on its own
(``per_variant``): cold caches and context switches cost about the same extra time per
inference whatever the model, so a small model loses more, relative to its run time, than a
large one; the extra time is pooled over the variants (the median) to tame timing noise.

    python -m models.interference profiles/cpu-1t/nestdnn-vgg.json [--seconds 3] [--variants all]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import sys
import time
from pathlib import Path
from typing import Any

__all__ = ["measure_interference", "main"]

CO_RUNNERS = (1, 2, 4)


def _build(profile_path: str, variant: str, threads: int, cpus: list[int]) -> tuple[Any, Any]:
    os.sched_setaffinity(0, cpus)
    import torch

    from models.emulate.family_args import family_kwargs
    from models.registry import create_family
    from sim.profile import load_profile

    torch.set_num_threads(threads)
    prof = load_profile(profile_path)
    fam = create_family(prof.family, **family_kwargs(prof))
    module = fam.emulation_module(prof, variant, None)
    x = torch.randn((1, *prof.task.input_shape), generator=torch.Generator().manual_seed(0))
    return module, x


def _co_runner(profile_path: str, variant: str, threads: int, cpus: list[int],
               ready: Any, run: Any, stop: Any) -> None:
    """Runs the model back to back while ``run`` is set, sleeps otherwise."""
    import torch

    module, x = _build(profile_path, variant, threads, cpus)
    with torch.inference_mode():
        module(x)
        ready.set()
        while not stop.is_set():
            if run.wait(0.05):
                module(x)


def _cpu_per_inference(module: Any, x: Any, seconds: float) -> float:
    costs = []
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        c = time.process_time()
        module(x)
        costs.append(time.process_time() - c)
    costs.sort()
    return costs[len(costs) // 2]


def _target(profile_path: str, variant: str, threads: int, cpus: list[int], seconds: float,
            co_runners: tuple[int, ...], runs: list[Any], results: Any) -> None:
    """Alone, with k co-runners, alone, ...: each factor is over the mean of the two alone
    timings around it, so a drift in the machine's speed cancels."""
    import torch

    module, x = _build(profile_path, variant, threads, cpus)
    with torch.inference_mode():
        for _ in range(10):
            module(x)
        alone = [_cpu_per_inference(module, x, seconds)]
        for i, k in enumerate(co_runners):
            for r in runs[:k]:
                r.set()
            time.sleep(0.2)
            busy = _cpu_per_inference(module, x, seconds)
            for r in runs[:k]:
                r.clear()
            time.sleep(0.2)
            alone.append(_cpu_per_inference(module, x, seconds))
            results[i] = busy / ((alone[-2] + alone[-1]) / 2.0)
        idle = []
        for _ in range(max(20, int(seconds / 0.03))):
            time.sleep(0.02)
            c = time.process_time()
            module(x)
            idle.append(time.process_time() - c)
        idle.sort()
        results[len(co_runners)] = idle[len(idle) // 2] / (sum(alone) / len(alone))
    results[len(co_runners) + 1] = sum(alone) / len(alone)


def _measure(profile_path: str, variant: str, threads: int, cpus: list[int], seconds: float,
             co_runners: tuple[int, ...]) -> tuple[list[float], float, float]:
    ctx = mp.get_context("spawn")
    stop = ctx.Event()
    n = max(co_runners)
    readies = [ctx.Event() for _ in range(n)]
    runs = [ctx.Event() for _ in range(n)]
    results = ctx.Array("d", len(co_runners) + 2)
    others = [ctx.Process(target=_co_runner,
                          args=(profile_path, variant, threads, cpus, ready, run, stop),
                          daemon=True) for ready, run in zip(readies, runs)]
    target = ctx.Process(target=_target, args=(profile_path, variant, threads, cpus, seconds,
                                               co_runners, runs, results), daemon=True)
    started = time.monotonic()
    try:
        for p in others:
            p.start()
        for r, p in zip(readies, others):
            while not r.wait(0.5):
                if not p.is_alive() or time.monotonic() - started > 300:
                    raise RuntimeError(f"a co-running process running {variant} did not start")
        target.start()
        target.join(seconds * (2 * len(co_runners) + 2) + 300)
    finally:
        stop.set()
        for r in runs:
            r.set()
        for p in [*others, target]:
            if p.pid is None:
                continue  # never started
            p.join(5)
            if p.is_alive():
                p.kill()
    values = list(results)
    if min(values) <= 0.0:
        raise RuntimeError(f"interference measurement of {variant} failed")
    return values[:-2], values[-2], values[-1]


def measure_interference(profile_path: str | os.PathLike[str], seconds: float = 3.0,
                         co_runners: tuple[int, ...] = CO_RUNNERS,
                         variants: list[str] | None = None,
                         progress: Any = None) -> Any:
    """The :class:`sim.profile.Interference` of a profile's family on this machine: the
    family's largest descendant gives the default factors, and each variant in ``variants``
    (every variant when None, none when empty) its own."""
    from sim.profile import Interference, VariantInterference, load_profile

    prof = load_profile(profile_path)
    threads = prof.device.threads or 1
    allowed = sorted(os.sched_getaffinity(0))
    if threads > len(allowed):
        raise ValueError(f"{profile_path}: measured with {threads} threads, this process "
                         f"may use {len(allowed)} cores")
    cpus = allowed[:threads]
    ids = [v.id for v in prof.variants]
    unknown = sorted(set(variants or ()) - set(ids))
    if unknown:
        raise ValueError(f"{profile_path}: --variants: no variant {unknown}; known: {ids}")
    runnable = [v for v in prof.variants if not v.independent] or list(prof.variants)
    largest = max(runnable, key=lambda v: v.latency_ms.median).id  # the family's own largest
    todo = [largest, *[v for v in (ids if variants is None else variants) if v != largest]]
    found: dict[str, tuple[list[float], float, float]] = {}
    for vid in todo:
        found[vid] = _measure(str(profile_path), vid, threads, cpus, seconds, co_runners)
        if progress is not None:
            progress(vid, found[vid])
    extra_ms, idle_ms = pooled_extra_ms(found)
    profiled = {v.id: v.latency_ms.median for v in prof.variants}

    def own(vid: str) -> Any:
        return VariantInterference(
            slowdown=tuple(round(max(1.0, 1.0 + e / profiled[vid]), 4) for e in extra_ms),
            after_idle=round(max(1.0, 1.0 + idle_ms / profiled[vid]), 4))

    top = own(largest)
    raw = {vid: {"slowdown": [round(f, 4) for f in r], "after_idle": round(i, 4),
                 "alone_ms": round(a * 1000.0, 4)} for vid, (r, i, a) in found.items()}
    return Interference(
        co_runners=co_runners, slowdown=top.slowdown, after_idle=top.after_idle,
        variant=largest, co_runner=f"the same variant, {threads} thread(s) each",
        per_variant={vid: own(vid) for vid in found if variants is None or vid in variants},
        method=(f"each variant's median CPU time per inference over {seconds:g} s with k "
                f"co-running processes (the same variant) on cores {cpus}, over the mean of "
                f"the same alone just before and after, and after a 20 ms sleep over back to "
                f"back; the extra time per inference, (factor - 1) x alone, is pooled as the "
                f"median over the {len(found)} variants timed (extra ms at k = "
                f"{dict(zip(co_runners, [round(e, 4) for e in extra_ms]))}, after idle "
                f"{idle_ms:.4f}), and each variant's factor is 1 + extra / its profiled "
                f"median; raw per-variant timings: {raw}"))


def pooled_extra_ms(found: dict[str, tuple[list[float], float, float]]
                    ) -> tuple[list[float], float]:
    """The extra CPU milliseconds per inference at each co-runner count, and after a sleep:
    the median over variants of (factor - 1) x alone time. Cold caches and context switches
    cost about the same time whatever the model, so pooling over variants tames the noise of
    timing each one on a shared machine (a single factor can be off by 30%)."""
    def median(xs: list[float]) -> float:
        xs = sorted(xs)
        n = len(xs)
        return xs[n // 2] if n % 2 else (xs[n // 2 - 1] + xs[n // 2]) / 2.0

    n_k = len(next(iter(found.values()))[0])
    extra = [max(0.0, median([(r[j] - 1.0) * a * 1000.0 for r, _, a in found.values()]))
             for j in range(n_k)]
    idle = max(0.0, median([(i - 1.0) * a * 1000.0 for _, i, a in found.values()]))
    return extra, idle


def main(argv: list[str] | None = None) -> int:
    from sim.profile import ProfileError, load_profile, save_profile

    ap = argparse.ArgumentParser(prog="python -m models.interference", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("profiles", nargs="+", type=Path)
    ap.add_argument("--seconds", type=float, default=3.0, help="timing per co-runner count")
    ap.add_argument("--variants", default="all",
                    help="variants measured on their own: 'all' (default), 'none' (the "
                         "family's largest only), or comma-separated ids")
    args = ap.parse_args(argv)
    if args.seconds <= 0:
        ap.error(f"--seconds must be > 0, got {args.seconds:g}")
    chosen = (None if args.variants == "all" else [] if args.variants == "none"
              else [v.strip() for v in args.variants.split(",") if v.strip()])
    for path in args.profiles:
        def report(vid: str, got: tuple[list[float], float, float], path: Path = path) -> None:
            print(f"{path}: {vid}: slowdown {[round(f, 3) for f in got[0]]}, after idle "
                  f"{got[1]:.3f} ({got[2] * 1000:.3f} ms alone)", flush=True)
        try:
            found = measure_interference(path, args.seconds, variants=chosen, progress=report)
        except (ProfileError, ValueError, RuntimeError) as e:
            print(f"error: {e}", file=sys.stderr)
            return 2
        prof = load_profile(path).model_copy(update={"interference": found})
        save_profile(prof, path)
        print(f"{path}: slowdown {dict(zip(found.co_runners, found.slowdown))}, after idle "
              f"{found.after_idle} ({found.variant}); {len(found.per_variant)} variants "
              f"measured on their own")
    return 0


if __name__ == "__main__":
    sys.exit(main())
