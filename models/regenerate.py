"""Regenerate every shipped measured profile: ``python -m models.regenerate``.

For each target (:data:`TARGETS`: a family and its data, ``digits-wild`` unless it says
otherwise): train at the standard scale with all cores (seeded and resumable: finished
stages are kept in ``checkpoints/``), then measure it on one thread (``cpu-1t``) and on two
(``cpu-2t``) into ``profiles/<device>/<file>.json``. Prints the
seconds each step took and writes them to ``profiles/regeneration.json``. Measure on a quiet
machine: other processes inflate latencies.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from models.profiler import profile_family, train_family
from models.registry import list_families
from sim.common.atomic import write_text_atomic

__all__ = ["DEVICES", "FAMILIES", "TARGETS", "Target", "main", "regenerate"]

DEVICES = (("cpu-1t", 1), ("cpu-2t", 2))
DATA = "digits-wild"


@dataclass(frozen=True)
class Target:
    """One shipped profile: a family trained and measured on one data set, saved as
    ``profiles/<device>/<file>.json``."""

    family: str
    data: str = DATA
    file: str = ""
    """profile file name without .json (default: the family's name)"""

    @property
    def name(self) -> str:
        return self.file or self.family


TARGETS = (
    Target("nestdnn-vgg"), Target("nestdnn-resnet"), Target("spinn-resnet"), Target("spinn-vgg"),
    # the same early-exit ResNet at 64 px: device work worth splitting (see profiles/README.md)
    Target("spinn-resnet", "digits-wild@64", "spinn-resnet-64px"),
    Target("adaptivenet-resnet"), Target("ofa-mbv3"),
)
FAMILIES = tuple(t.name for t in TARGETS)
"""the names ``--family`` takes: each target's profile file name"""


def regenerate(families: tuple[str, ...] = FAMILIES, devices: tuple[tuple[str, int], ...] = DEVICES,
               profiles: Path = Path("profiles"), train_threads: int = 2,
               progress: bool = True) -> dict[str, dict[str, float]]:
    """Train and measure the targets named in ``families``; returns seconds per target
    and step."""
    unknown = sorted(set(families) - set(FAMILIES))
    if unknown:
        raise ValueError(f"unknown families {unknown}; known: {list(FAMILIES)}")
    missing = sorted({t.family for t in TARGETS} - set(list_families()))
    if missing:
        raise ValueError(f"families {missing} are not registered")
    seconds: dict[str, dict[str, float]] = {}
    for target in (t for t in TARGETS if t.name in families):
        name, fam, data = target.name, target.family, target.data
        t0 = time.perf_counter()
        train_family(fam, "standard", data, threads=train_threads, progress=progress)
        steps = {"train": time.perf_counter() - t0}
        print(f"{name}: trained in {steps['train']:.0f} s", flush=True)
        for device, threads in devices:
            t0 = time.perf_counter()
            profile_family(fam, device, threads, "standard", data,
                           profiles / device / f"{name}.json", ckpt_dir=None, seed=0, warmup=10,
                           repeats=50, progress=progress)
            steps[device] = time.perf_counter() - t0
            print(f"{name}: measured on {device} in {steps[device]:.0f} s", flush=True)
        seconds[name] = steps
    total = sum(sum(s.values()) for s in seconds.values())
    print(f"total {total:.0f} s ({total / 60:.1f} min)")
    return seconds


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m models.regenerate", description=__doc__)
    ap.add_argument("--family", action="append",
                    help=f"only this profile (repeatable): one of {', '.join(FAMILIES)}")
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
