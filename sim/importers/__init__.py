"""Importers: published third-party measurements -> profile files (``provenance: published``).

Each importer reads a folder of source files and writes validated profiles with
:func:`sim.profile.save_profile`; it never invents numbers. ``mvsched import NAME --src DIR
--out profiles/`` runs one (see :func:`add_subcommand`).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

from sim.importers.adaptivenet import import_adaptivenet
from sim.importers.ofa import import_ofa
from sim.importers.source import ImportDataError
from sim.profile import ProfileError

__all__ = ["IMPORTERS", "ImportDataError", "add_subcommand", "import_adaptivenet", "import_ofa",
           "run_import"]

Importer = Callable[..., list[Path]]
IMPORTERS: dict[str, Importer] = {"adaptivenet": import_adaptivenet, "ofa": import_ofa}
"""Importer name -> ``fn(src_dir, out_dir, notes=None) -> written paths``."""


def run_import(args: argparse.Namespace) -> int:
    """Handler of ``mvsched import``: 0 on success, 2 on bad source data (one-line error)."""
    notes: list[str] = []
    try:
        written = IMPORTERS[args.source](Path(args.src), Path(args.out), notes=notes)
    except (ImportDataError, ProfileError) as exc:
        print(f"mvsched import: error: {exc}", file=sys.stderr)
        return 2
    for line in notes:
        print(f"note: {line}", file=sys.stderr)
    for path in written:
        print(path)
    print(f"{len(written)} profile(s) written by the {args.source} importer", file=sys.stderr)
    return 0


def add_subcommand(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add ``import {adaptivenet,ofa} --src DIR --out DIR``; its handler is ``args.func``
    (:func:`run_import`) and returns the exit code."""
    parser = subparsers.add_parser(
        "import", help="write profiles from published measurements",
        description="Convert published third-party measurements into profile files.",
    )
    parser.add_argument("source", choices=sorted(IMPORTERS), help="which publication's data")
    parser.add_argument("--src", required=True, metavar="DIR", help="folder of source files")
    parser.add_argument("--out", default="profiles", metavar="DIR",
                        help="profiles folder; writes DIR/<device>/<family>.json")
    parser.set_defaults(func=run_import)
    return parser
