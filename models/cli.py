"""``mvsched train``, ``profile`` and ``emulate``: a thin argparse layer over models.profiler
and models.emulate, imported by each command when it runs (they import torch, which every
other ``mvsched`` command must not pay for at start-up).

``add_subcommands`` plugs them into the main ``mvsched`` parser; ``python -m models.cli`` runs
them on their own. User errors are ``ValueError`` subclasses with one-line messages.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

__all__ = ["add_subcommands", "main"]


def _int_at_least(minimum: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            v = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
        if v < minimum:
            raise argparse.ArgumentTypeError(f"expected an integer >= {minimum}, got {v}")
        return v

    return parse


def _safe_name(text: str) -> str:
    """A name written into profiles and used for folders (``profiles/<device>/``)."""
    from sim.common.paths import name_problem

    problem = name_problem(text)
    if problem:
        raise argparse.ArgumentTypeError(f"{text[:40]!r} {problem}")
    return text


def _cmd_train(args: argparse.Namespace) -> int:
    from models.profiler import train_family  # torch: only for the commands that need it

    out = train_family(args.family, args.scale, args.data, args.out, args.seed, args.threads,
                       progress=not args.quiet)
    print(f"trained {args.family} ({args.scale}) into {out}")
    return 0


def _cmd_profile(args: argparse.Namespace) -> int:
    from models.profiler import profile_family

    path = profile_family(args.family, args.device, args.threads, args.scale, args.data,
                          args.out, args.checkpoints, args.seed, args.warmup, args.repeats,
                          progress=not args.quiet, accelerator=args.accelerator)
    print(f"wrote {path}")
    return 0


def _cmd_emulate(args: argparse.Namespace) -> int:
    from models.emulate import emulate
    from sim.present.table import format_table

    res = emulate(args.source, args.scheduler, args.out, args.checkpoints,
                  progress=not args.quiet)
    print(f"weights: {res.emulated['emulation']['weights']}")
    keys = ["app"] + [f"{p}_{k}" for k in ("fps", "latency_ms_mean", "latency_ms_p95",
                                           "dropped") for p in ("sim", "emu", "err")]
    print(format_table(res.fidelity, keys))
    speed = res.emulated["emulation"]["machine_speed"]
    if speed and speed["geomean_ratio"]:
        print(f"machine speed: the variants ran alone in {speed['geomean_ratio']:.3f}x their "
              f"profiled time just before the run (geometric mean over "
              f"{len(speed['variants'])}; the simulation assumes 1; see emulation.json)")
    if res.interrupted:
        print("interrupted: the figures cover the time emulated so far")
    print(f"results: {res.out_dir}/fidelity.csv (simulated run in {res.out_dir}/simulated)")
    return 130 if res.interrupted else 0


def add_subcommands(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add ``train``, ``profile`` and ``emulate``; each sets ``func(args) -> int`` on the namespace."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--family", required=True, type=_safe_name,
                        help="model family (see list_families)")
    common.add_argument("--scale", default="tiny", help="tiny | standard (default tiny)")
    common.add_argument("--data", default="digits-wild",
                        help="digits | digits-wild | cifar10:PATH | cifar100:PATH | imagefolder:PATH, "
                             "each optionally @SIZE, e.g. digits-wild@64 "
                             "(default digits-wild, as the shipped profiles; see models/data.py)")
    common.add_argument("--seed", type=_int_at_least(0), default=0,
                        help="seed of training and measurement (default 0)")
    common.add_argument("--quiet", action="store_true", help="no progress bars")

    tr = subparsers.add_parser("train", parents=[common], help="train a model family")
    tr.add_argument("--out", type=Path, default=None,
                    help="checkpoint folder (default checkpoints/FAMILY-SCALE-sSEED-DATA)")
    tr.add_argument("--threads", type=_int_at_least(1), default=None, help="torch threads")
    tr.set_defaults(func=_cmd_train)

    pr = subparsers.add_parser("profile", parents=[common],
                               help="measure a trained family into a profile file")
    pr.add_argument("--device", required=True, type=_safe_name,
                    help="device name written into the profile (letters, digits, '._+-')")
    pr.add_argument("--threads", type=_int_at_least(1), default=1,
                    help="torch threads while timing (default 1)")
    pr.add_argument("--accelerator", choices=("cpu", "cuda"), default="cpu",
                    help="where inference runs (cuda timing synchronises the GPU)")
    pr.add_argument("--warmup", type=_int_at_least(0), default=10,
                    help="untimed runs before timing each network (default 10)")
    pr.add_argument("--repeats", type=_int_at_least(1), default=50,
                    help="timed runs per network; medians and percentiles (default 50)")
    pr.add_argument("--checkpoints", type=Path, default=None,
                    help="checkpoint folder (default checkpoints/FAMILY-SCALE-sSEED-DATA)")
    pr.add_argument("--out", type=Path, required=True, help="profile JSON to write")
    pr.set_defaults(func=_cmd_profile)

    em = subparsers.add_parser(
        "emulate", help="execute a simulated run for real (one process per app) and report "
                        "simulated vs emulated figures in fidelity.csv")
    em.add_argument("source", help="a scenario YAML, or a run folder written by mvsched run")
    em.add_argument("--scheduler", default=None,
                    help="scheduler name or label to emulate (default: the scenario's first)")
    em.add_argument("--out", type=Path, default=None,
                    help="output folder (default runs/SCENARIO/emulate-SCHEDULER, or "
                         "RUN_DIR/emulated)")
    em.add_argument("--checkpoints", type=Path, default=None,
                    help="folder holding a checkpoint folder per FAMILY (default: the training "
                         "defaults under checkpoints/); without them weights are fresh and "
                         "accuracy is not reported")
    em.add_argument("--quiet", action="store_true", help="no progress bar")
    em.set_defaults(func=_cmd_emulate)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m models.cli")
    add_subcommands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
