"""``mvsched import NAME --src DIR [--device D ...] [--out DIR] [--force] [--units s|ms]``:
the command line of :mod:`sim.importers` (published measurements into profile files)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from sim.importers import IMPORTERS, UNIT_OPTION, ImportDataError
from sim.profile import ProfileError

__all__ = ["add_subcommand", "run_import"]



def _options(args: argparse.Namespace) -> dict[str, Any]:
    """Keyword arguments of the importer from the command line; ImportDataError for an
    option the chosen importer does not take."""
    options: dict[str, Any] = {"devices": args.device or None, "force": args.force}
    if args.units is not None:
        if args.source not in UNIT_OPTION:
            raise ImportDataError(f"--units: the {args.source} source states its units (ms); "
                                  f"the option is for {', '.join(sorted(UNIT_OPTION))}")
        options["units"] = args.units
    return options


def run_import(args: argparse.Namespace) -> int:
    """Handler of ``mvsched import``: 0 on success, 2 on bad source data, a bad option or a
    refusal to overwrite (one-line error, nothing written)."""
    notes: list[str] = []
    try:
        written = IMPORTERS[args.source](Path(args.src), Path(args.out), notes=notes,
                                         **_options(args))
    except (ImportDataError, ProfileError) as exc:
        print(f"mvsched import: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"mvsched import: error: {exc.filename or args.out}: cannot write "
              f"({exc.strerror})", file=sys.stderr)
        return 2
    for line in notes:
        print(f"note: {line}", file=sys.stderr)
    for path in written:
        print(path)
    print(f"{len(written)} profile(s) written by the {args.source} importer", file=sys.stderr)
    return 0


def add_subcommand(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add ``import {adaptivenet,ofa} --src DIR [--device D ...] [--out DIR] [--force]
    [--units s|ms]``; its handler is ``args.func`` (:func:`run_import`) and returns the
    exit code."""
    parser = subparsers.add_parser(
        "import", help="write profiles from published measurements",
        description="Convert published third-party measurements into profile files.",
    )
    parser.add_argument("source", choices=sorted(IMPORTERS), help="which publication's data")
    parser.add_argument("--src", required=True, metavar="DIR", help="folder of source files")
    parser.add_argument("--out", default="profiles", metavar="DIR",
                        help="profiles folder; each profile goes to DIR/DEVICE/FAMILY.json")
    parser.add_argument("--device", action="extend", nargs="+", metavar="NAME",
                        help="import only these source devices (source key or profile device "
                             "name; repeatable; default: every device in the source)")
    parser.add_argument("--force", action="store_true",
                        help="overwrite existing profile files (default: refuse, write nothing)")
    parser.add_argument("--units", choices=("s", "ms"),
                        help="adaptivenet: unit of a source that states none (the artifact's "
                             "own layout); default: inferred from magnitude, with a note")
    parser.set_defaults(func=run_import)
    return parser
