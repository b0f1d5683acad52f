"""``mvsched report DIR``: one Markdown or self-contained HTML page describing a results folder.

Building the parser imports neither matplotlib nor :mod:`sim.present.report` (every ``mvsched``
command builds it); the command imports them when it runs.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

__all__ = ["add_subcommand", "cmd_report"]

EXIT_USER_ERROR = 2
FORMATS = ("md", "html")


def cmd_report(args: argparse.Namespace) -> int:
    """Write the page and print where; a folder it cannot describe is one line on stderr."""
    from sim.present.report import ReportError, write_report

    try:
        path = write_report(args.dir, args.format, args.out)
    except ReportError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    from pathlib import Path

    from sim.results.layout import describe

    print(f"read {args.dir}: {describe(Path(args.dir))}", file=sys.stderr)
    print(path)
    return 0


def add_subcommand(subparsers: Any) -> argparse.ArgumentParser:
    """Add ``report`` to the ``mvsched`` subcommands (``subparsers`` from add_subparsers)."""
    p = subparsers.add_parser(
        "report", help="one page (Markdown or self-contained HTML) describing a results folder",
        description="Describe a results folder in one page: its tables, its figures (drawn "
                    "into the folder's plots/ first), the resolved scenario, and in a last, "
                    "machine-dependent section the software versions and the wall-clock "
                    "decision times.")
    p.add_argument("dir", metavar="DIR",
                   help="a comparison folder (comparison.csv, from mvsched compare), a run "
                        "folder (metrics.json), an emulation folder (fidelity.csv and "
                        "emulation.json) or a sweep folder (sweep.csv)")
    p.add_argument("--format", choices=FORMATS, default="md",
                   help="md: Markdown linking the PNG figures; html: one file with the "
                        "figures embedded (default: md)")
    p.add_argument("--out", metavar="FILE",
                   help="where to write the page (default: DIR/report.md or DIR/report.html)")
    p.set_defaults(func=cmd_report)
    return p
