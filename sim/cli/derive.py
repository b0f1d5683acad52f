"""``mvsched derive PROFILE --speedup X --device NAME [--out DIR] [--force]``: a profile for
a machine ``X`` times as fast as the measured one (:mod:`sim.profile.derive`), written to
``DIR/NAME/FAMILY.json`` with a ``derived`` provenance that says how."""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

from sim.common.paths import name_problem
from sim.profile import ProfileError, load_profile, save_profile
from sim.profile.derive import derive_speedup

__all__ = ["add_subcommand", "run_derive"]


def run_derive(args: argparse.Namespace) -> int:
    """Handler of ``mvsched derive``: 0 when written, 2 on a bad profile, option or an
    existing output without ``--force`` (one-line error, nothing written)."""
    src = Path(args.profile)
    problem = name_problem(args.device)
    if problem:
        print(f"mvsched derive: error: --device: {problem}", file=sys.stderr)
        return 2
    out = Path(args.out) / args.device / src.name
    if out.exists() and not args.force:
        print(f"mvsched derive: error: {out} exists; pass --force to overwrite it",
              file=sys.stderr)
        return 2
    command = "mvsched derive " + shlex.join(
        [str(src), "--speedup", f"{args.speedup:g}", "--device", args.device, "--out",
         str(args.out)])
    try:
        derived = derive_speedup(load_profile(src), args.speedup, args.device,
                                 source=str(src), command=command)
        save_profile(derived, out)
    except ProfileError as exc:
        print(f"mvsched derive: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"mvsched derive: error: {exc.filename or out}: cannot write ({exc.strerror})",
              file=sys.stderr)
        return 2
    print(out)
    return 0


def add_subcommand(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add ``derive``; its handler is ``args.func`` (:func:`run_derive`)."""
    parser = subparsers.add_parser(
        "derive", help="a profile for a faster or slower machine, derived from a measured one",
        description="Divide every compute time of a measured profile by a speed-up and write "
                    "it for another machine name, marked derived (weights' load times, sizes, "
                    "bytes and accuracies are kept).")
    parser.add_argument("profile", help="the measured or published profile (.json)")
    parser.add_argument("--speedup", type=float, required=True,
                        help="how many times faster the derived machine computes (0.5: twice "
                             "as slow)")
    parser.add_argument("--device", required=True, metavar="NAME",
                        help="the derived machine's name (its profile folder)")
    parser.add_argument("--out", default="profiles", metavar="DIR",
                        help="profiles folder; the profile goes to DIR/NAME/<same file name>")
    parser.add_argument("--force", action="store_true", help="overwrite an existing file")
    parser.set_defaults(func=run_derive)
    return parser
