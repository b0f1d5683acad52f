"""``mvsched sweep SWEEP.yaml --out DIR``: the command line of :mod:`sim.results.sweep`.

Errors are :class:`sim.results.sweep.SweepError` (a ValueError), which ``mvsched`` prints as one line
with exit code 2.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

__all__ = ["add_subcommand", "cmd_sweep"]


def cmd_sweep(args: argparse.Namespace) -> int:
    """Run what is missing, write sweep.csv, and say how much was already done."""
    from sim.results.sweep import run_sweep

    res = run_sweep(args.sweep, args.out, executor=args.executor, address=args.address,
                    workers=args.workers, progress=not args.quiet,
                    on_notice=lambda line: print(line, file=sys.stderr, flush=True))
    print(f"{res.runs} runs ({res.skipped} already done), sweep.csv: {res.csv}")
    return 0


def add_subcommand(subparsers: Any) -> argparse.ArgumentParser:
    """Add ``sweep`` to the ``mvsched`` subcommands (``subparsers`` from add_subparsers)."""
    p = subparsers.add_parser(
        "sweep", help="a scenario over a grid of values, scheduler parameters and seeds, in "
                      "parallel and resumable; sweep.csv with means and 95%% intervals",
        description="Run every (grid point, scheduler, parameter point, seed) of a sweep file "
                    "whose result DIR/runs/<key>.json is missing, then write DIR/sweep.csv "
                    "and the resolved DIR/sweep.yaml. A re-run resumes an interrupted sweep "
                    "and recomputes the runs whose profiles or traces changed since. One "
                    "sweep at a time writes to DIR.")
    p.add_argument("sweep", metavar="SWEEP.yaml",
                   help="sweep file: scenario, seeds, schedulers, grid, params")
    p.add_argument("--out", required=True, metavar="DIR",
                   help="results folder (runs/, sweep.csv, sweep.yaml); reused to resume")
    p.add_argument("--executor", choices=("local", "dask"), default="local",
                   help="local: a process pool on this machine (default); dask: a dask "
                        "distributed cluster (pip install 'mvsched[dist]')")
    p.add_argument("--address", metavar="ADDR",
                   help="dask scheduler address, e.g. tcp://host:8786 (default: start a "
                        "local cluster); needs --executor dask. Its workers need no shared "
                        "filesystem: each task carries the files its runs read")
    p.add_argument("--workers", type=int, metavar="N",
                   help="worker processes (default: one per CPU; ignored with --address)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_sweep)
    return p
