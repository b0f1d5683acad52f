"""Regenerate every shipped measured profile: ``python -m models.regenerate``.

For each family: train at the standard scale on ``digits-wild`` with all cores (seeded and
resumable: finished stages are kept in ``checkpoints/``), then measure it on one thread
(``cpu-1t``) and on two (``cpu-2t``) into ``profiles/<device>/<family>.json``. Prints the
seconds each step took and writes them to ``profiles/regeneration.json``. Measure on a quiet
machine: other processes inflate latencies.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from models.profiler import profile_family, train_family
from models.registry import list_families
from sim.common.atomic import write_text_atomic

__all__ = ["DEVICES", "FAMILIES", "main", "regenerate"]

FAMILIES = ("nestdnn-vgg", "nestdnn-resnet", "spinn-resnet", "spinn-vgg", "adaptivenet-resnet",
            "ofa-mbv3")
DEVICES = (("cpu-1t", 1), ("cpu-2t", 2))
DATA = "digits-wild"


def regenerate(families: tuple[str, ...] = FAMILIES, devices: tuple[tuple[str, int], ...] = DEVICES,
               data: str = DATA, profiles: Path = Path("profiles"), train_threads: int = 2,
               progress: bool = True) -> dict[str, dict[str, float]]:
    """Train and measure; returns seconds per family and step."""
    unknown = sorted(set(families) - set(list_families()))
    if unknown:
        raise ValueError(f"unknown families {unknown}; known: {list_families()}")
    seconds: dict[str, dict[str, float]] = {}
    for fam in families:
        t0 = time.perf_counter()
        train_family(fam, "standard", data, threads=train_threads, progress=progress)
        steps = {"train": time.perf_counter() - t0}
        print(f"{fam}: trained in {steps['train']:.0f} s", flush=True)
        for device, threads in devices:
            t0 = time.perf_counter()
            profile_family(fam, device, threads, "standard", data,
                           profiles / device / f"{fam}.json", ckpt_dir=None, seed=0, warmup=10,
                           repeats=50, progress=progress)
            steps[device] = time.perf_counter() - t0
            print(f"{fam}: measured on {device} in {steps[device]:.0f} s", flush=True)
        seconds[fam] = steps
    total = sum(sum(s.values()) for s in seconds.values())
    print(f"total {total:.0f} s ({total / 60:.1f} min)")
    return seconds


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m models.regenerate", description=__doc__)
    ap.add_argument("--family", action="append", help="only this family (repeatable)")
    ap.add_argument("--quiet", action="store_true", help="no progress bars")
    args = ap.parse_args(argv)
    try:
        seconds = regenerate(tuple(args.family or FAMILIES), progress=not args.quiet)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    path = Path("profiles") / "regeneration.json"
    old = json.loads(path.read_text()) if path.exists() else {}
    write_text_atomic(path, json.dumps({**old, **seconds}, indent=1, sort_keys=True) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
