"""``mvsched train`` and ``mvsched profile``: thin argparse layer over models.profiler.

``add_subcommands`` plugs both into the main ``mvsched`` parser; ``python -m models.cli`` runs
them on their own. User errors are ``ValueError`` subclasses with one-line messages.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

from models.profiler import profile_family, train_family

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


def _cmd_train(args: argparse.Namespace) -> int:
    out = train_family(args.family, args.scale, args.data, args.out, args.seed, args.threads,
                       progress=not args.quiet)
    print(f"trained {args.family} ({args.scale}) into {out}")
    return 0


def _cmd_profile(args: argparse.Namespace) -> int:
    path = profile_family(args.family, args.device, args.threads, args.scale, args.data,
                          args.out, args.checkpoints, args.seed, args.warmup, args.repeats,
                          progress=not args.quiet, accelerator=args.accelerator)
    print(f"wrote {path}")
    return 0


def add_subcommands(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add ``train`` and ``profile``; each sets ``func(args) -> int`` on the namespace."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--family", required=True, help="model family (see list_families)")
    common.add_argument("--scale", default="tiny", help="tiny | standard (default tiny)")
    common.add_argument("--data", default="digits-wild",
                        help="digits | digits-wild | cifar10:PATH | cifar100:PATH | imagefolder:PATH "
                             "(default digits-wild, as the shipped profiles; see models/data.py)")
    common.add_argument("--seed", type=_int_at_least(0), default=0)
    common.add_argument("--quiet", action="store_true", help="no progress bars")

    tr = subparsers.add_parser("train", parents=[common], help="train a model family")
    tr.add_argument("--out", type=Path, default=None,
                    help="checkpoint folder (default checkpoints/<family>-<scale>-s<seed>-<data>)")
    tr.add_argument("--threads", type=_int_at_least(1), default=None, help="torch threads")
    tr.set_defaults(func=_cmd_train)

    pr = subparsers.add_parser("profile", parents=[common],
                               help="measure a trained family into a profile file")
    pr.add_argument("--device", required=True, help="device name written into the profile")
    pr.add_argument("--threads", type=_int_at_least(1), default=1)
    pr.add_argument("--accelerator", choices=("cpu", "cuda"), default="cpu",
                    help="where inference runs (cuda timing synchronises the GPU)")
    pr.add_argument("--warmup", type=_int_at_least(0), default=10)
    pr.add_argument("--repeats", type=_int_at_least(1), default=50)
    pr.add_argument("--checkpoints", type=Path, default=None,
                    help="checkpoint folder (default checkpoints/<family>-<scale>-s<seed>-<data>)")
    pr.add_argument("--out", type=Path, required=True, help="profile JSON to write")
    pr.set_defaults(func=_cmd_profile)


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
