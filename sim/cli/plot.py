"""``mvsched plot DIR``: the paper-style figures of a run, comparison, emulation or sweep.

Building the parser does not import matplotlib (every ``mvsched`` command builds it), so
the kinds are listed here; a test keeps them equal to :data:`sim.present.plots.KINDS`.
"""

from __future__ import annotations

import argparse
import sys
import textwrap
from typing import Any

__all__ = ["KIND_HELP", "add_subcommand", "cmd_plot"]

EXIT_USER_ERROR = 2
FORMATS = ("png", "pdf")
KIND_HELP = {
    "timeline": "each app's variant, share and decisions over time, above the device load, "
                "bandwidth and server load (timeline.csv, scenario.yaml)",
    "cdf": "frame latency CDF, one line per scheduler (frames.csv)",
    "bars": "overall metrics and energy, one bar per scheduler (metrics.json)",
    "fidelity": "relative error per app of frame rate and latency, with the goals "
                "(fidelity.csv)",
    "sweep": "metrics against a swept field, one line per scheduler (and per --hue value) "
             "(sweep.csv)",
    "accuracy_vs_fps": "NestDNN: accuracy vs frame rate, one point per alpha (sweep.csv)",
    "throughput_latency_vs_bandwidth": "SPINN: frame rate and latency vs bandwidth (sweep.csv)",
    "accuracy_exit_rate_vs_threshold": "SPINN: accuracy and early-exit rate vs exit threshold "
                                       "(sweep.csv)",
    "accuracy_vs_budget": "AdaptiveNet, once-for-all: accuracy vs latency budget (sweep.csv)",
}


def cmd_plot(args: argparse.Namespace) -> int:
    """Draw, print the files written, and say which fitting kinds were left out and why."""
    from sim.present.plots import PlotError, applicable, draw

    try:
        width: str | float | None = args.width
        if width is not None and width not in ("single", "double"):
            try:
                width = float(width)
            except ValueError:
                raise PlotError(f"--width: expected single, double or inches, got "
                                f"{args.width[:40]!r}") from None
        paths = draw(args.dir, args.kind or None, tuple(args.formats or FORMATS),
                     style=args.style, width=width, x=args.x, hue=args.hue, ys=args.y)
        chosen = args.kind or args.x or args.hue or args.y
        skipped = {} if chosen else {k: w for k, w in applicable(args.dir).items() if w}
    except PlotError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    from pathlib import Path

    from sim.results.layout import describe

    print(f"read {args.dir}: {describe(Path(args.dir))}", file=sys.stderr)
    for kind, why in skipped.items():
        print(f"skipped {kind}: {why}", file=sys.stderr)
    for p in paths:
        print(p)
    return 0


def add_subcommand(subparsers: Any) -> argparse.ArgumentParser:
    """Add ``plot`` to the ``mvsched`` subcommands (``subparsers`` from add_subparsers)."""
    kinds = "\n".join(f"  {k}\n" + textwrap.fill(h, 78, initial_indent=" " * 6,
                                                   subsequent_indent=" " * 6)
                      for k, h in KIND_HELP.items())
    p = subparsers.add_parser(
        "plot", help="paper-style figures (PNG and PDF) of a results folder",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Draw the figures a results folder supports into DIR/plots/ and print "
                    "the files written.",
        epilog=f"kinds:\n{kinds}")
    p.add_argument("dir", metavar="DIR",
                   help="a run folder (metrics.json), a comparison folder (one subfolder per "
                        "scheduler), an emulation folder (fidelity.csv) or a sweep folder "
                        "(sweep.csv)")
    p.add_argument("--kind", action="append", choices=list(KIND_HELP), metavar="K",
                   help="figure to draw (repeatable; default: every kind the folder supports, "
                        "naming those it cannot draw on stderr); K is one of the kinds below")
    p.add_argument("--format", action="append", choices=FORMATS, dest="formats",
                   help="file format (repeatable; default: both png and pdf)")
    p.add_argument("--width", default=None,
                   help="figure width: single (3.5 in, one paper column), double (7.16 in) or "
                        "inches (default: the screen size)")
    p.add_argument("--style", action="append", default=None,
                   help="a matplotlib style file or name layered over ours (repeatable; the "
                        "last wins); PDFs embed TrueType (Type 42) fonts unless it says else")
    p.add_argument("--x", metavar="FIELD",
                   help="sweep folder: the swept field on the x axis (a column of sweep.csv, "
                        "e.g. network.bandwidth_mbps; a trace is labelled by its file name)")
    p.add_argument("--hue", metavar="FIELD",
                   help="sweep folder: a second swept field, one line per value (default: the "
                        "one other field that varies)")
    p.add_argument("--y", action="append", metavar="METRIC",
                   help="sweep folder: a metric to plot (repeatable; default: the headline "
                        "metrics), e.g. accuracy_in_time")
    p.set_defaults(func=cmd_plot)
    return p
