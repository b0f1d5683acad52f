"""``mvsched`` command line: a thin layer over :mod:`sim.runner` and friends.

User errors (bad scenario, profile, trace, scheduler name, data path) print one line naming
the file, the field and what was expected, and exit with code 2 — never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sim.atomic import write_text_atomic
from sim.table import format_table

__all__ = ["format_table", "main"]

EXIT_USER_ERROR = 2
TABLE_KEYS = ("accuracy", "worst_app_accuracy", "fps", "latency_ms_mean", "latency_ms_p95",
              "dropped", "deadline_misses", "energy_j", "switches", "switch_s")
OFFLOAD_KEYS = ("failed", "offloaded", "early_exits", "fallbacks", "sent_mb", "server_s")
"""shown when some run of the table has any of them"""
SET_HELP = ("change a scenario field by its path before validation, e.g. "
            "--set device.memory_mb=20 --set apps[0].fps=15 (repeatable; values are YAML)")


def _summary_rows(results) -> list[dict[str, Any]]:
    rows = []
    for r in results:
        row = {"scheduler": r.label, **r.metrics["overall"]}
        walls = r.engine.decision_wall_s
        if walls:
            import numpy as np

            row["decision_ms_median"] = float(np.median(walls) * 1000.0)
        rows.append(row)
    return rows


def _table_keys(rows: list[dict[str, Any]]) -> tuple[str, ...]:
    extra = tuple(k for k in OFFLOAD_KEYS if any(r.get(k) for r in rows))
    late = any(r.get("accuracy_in_time") != r.get("accuracy") for r in rows)
    first = ("accuracy", "accuracy_in_time") if late else ("accuracy",)
    return (*first, *TABLE_KEYS[1:], *extra)


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("mvsched")
    except PackageNotFoundError:
        return "unknown (not installed)"


def _default_out(scenario: str) -> Path:
    return Path("runs") / Path(scenario).stem


# -- commands -----------------------------------------------------------------------------
def cmd_run(args: argparse.Namespace) -> int:
    from sim.runner import run_scenario

    out = Path(args.out) if args.out else _default_out(args.scenario)
    results = run_scenario(args.scenario, args.scheduler or None, args.seed, out,
                           progress=not args.quiet, overrides=args.set or ())
    rows = _summary_rows(results)
    print(format_table(rows, ("scheduler", *_table_keys(rows), "decision_ms_median")))
    print(f"results: {out}/<scheduler>/metrics.json")
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    from sim.compare import compare, write_comparison

    out = Path(args.out) if args.out else _default_out(args.scenario)
    sets = list(args.set or [])
    if not args.no_plots:
        sets.append("metrics.frames_csv=true")  # the latency CDF needs every frame
    comp = compare(args.scenario, args.seeds, args.seed, out, sets, progress=not args.quiet)
    rows = comp.summary or comp.rows
    keys = ("scheduler", *_table_keys(rows), "decisions", "refused_plans", "decision_ms_median")
    write_comparison(out / "comparison.csv", comp, keys[1:])
    if comp.summary:
        print(f"mean over seeds {comp.seeds[0]}..{comp.seeds[-1]}:")
        print(format_table(rows, keys))
        print("95% confidence interval half-widths:")
        print(format_table([{"scheduler": r["scheduler"],
                             **{k: r.get(f"{k}_ci95") for k in keys[1:]}} for r in rows], keys))
    else:
        print(format_table(rows, keys))
    print(f"comparison: {out / 'comparison.csv'}")
    if not args.no_plots:
        from sim.plots import draw

        paths = draw(comp.run_dirs[0], fmt=("png", "pdf"))
        print(f"plots: {len(paths)} files in {comp.run_dirs[0] / 'plots'}")
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    from sim.inputs import load_inputs
    from sim.profile import load_profile
    from sim.runner import create_schedulers

    bad = 0
    for f in args.files:
        try:
            if Path(f).is_dir():
                raise ValueError(f"{f}: is a folder; give scenario (.yaml) and profile (.json) "
                                 f"files, e.g. {Path(f) / '*.yaml'}")
            if Path(f).suffix.lower() in (".yaml", ".yml"):
                inp = load_inputs(f)
                create_schedulers(inp)
                sc = inp.scenario
                print(f"ok: {f}: scenario {sc.name!r}, {len(sc.apps)} apps, "
                      f"{len(inp.events)} events, {len(sc.schedulers)} schedulers")
            else:
                p = load_profile(f)
                print(f"ok: {f}: profile {p.family!r} ({p.kind}) on {p.device.name!r}, "
                      f"{len(p.variants)} variants, {p.provenance.type}")
        except ValueError as exc:
            print(f"error: {exc}", file=sys.stderr)
            bad += 1
    return EXIT_USER_ERROR if bad else 0


def cmd_schedulers(args: argparse.Namespace) -> int:
    from sim.schedulers.params import describe
    from sim.schedulers.registry import get_scheduler, list_scheduler_problems, list_schedulers

    for name in list_schedulers():
        cls = get_scheduler(name)
        doc = (cls.__doc__ or "").strip().splitlines()
        print(f"{name:22s} {doc[0] if doc else ''}")
        if args.verbose:
            for p in describe(cls):
                print(f"    {p.name} ({p.type}, default {p.default!r}): {p.doc}")
    for problem in list_scheduler_problems():
        print(f"warning: {problem}", file=sys.stderr)
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    from sim.bench import run_bench

    report = run_bench(quick=args.quick, scenario=args.scenario)
    if args.json:
        write_text_atomic(args.json, json.dumps(report, indent=1) + "\n")
    return 0


# -- parser -------------------------------------------------------------------------------
def _optional(parser_adders: list[tuple[str, str]], sub: argparse._SubParsersAction) -> None:
    """Add subcommands that live in optional modules (models needs torch)."""
    for module, func in parser_adders:
        try:
            mod = importlib.import_module(module)
        except ImportError as exc:
            missing = getattr(exc, "name", "") or ""
            if missing.split(".")[0] in ("torch", "lz4", "sklearn", "models") or module.startswith(missing):
                continue
            raise
        getattr(mod, func)(sub)


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="mvsched", description=__doc__.splitlines()[0])
    ap.add_argument("--version", action="version", version=f"mvsched {_version()}")
    sub = ap.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("run", help="run a scenario under its schedulers (or --scheduler ...)")
    p.add_argument("scenario")
    p.add_argument("--scheduler", action="append", help="scheduler name or label (repeatable)")
    p.add_argument("--seed", type=int, help="override the scenario's seed")
    p.add_argument("--out", help="output folder (default runs/<scenario>)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--set", action="append", metavar="PATH=VALUE", help=SET_HELP)
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("compare", help="every listed scheduler on one or more seeds; "
                                       "comparison.csv with means and 95%% intervals; plots")
    p.add_argument("scenario")
    p.add_argument("--seed", type=int, help="first seed (default: the scenario's)")
    p.add_argument("--seeds", type=int, default=1,
                   help="number of consecutive seeds to run (default 1)")
    p.add_argument("--out", help="output folder (default runs/<scenario>)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--set", action="append", metavar="PATH=VALUE", help=SET_HELP)
    p.add_argument("--no-plots", action="store_true",
                   help="skip the standard plots (timeline, latency CDF, bars)")
    p.set_defaults(func=cmd_compare)

    p = sub.add_parser("validate", help="check scenario (.yaml) and profile (.json) files")
    p.add_argument("files", nargs="+")
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("schedulers", help="list registered schedulers")
    p.add_argument("-v", "--verbose", action="store_true",
                   help="also each scheduler's parameters: type, default and meaning")
    p.set_defaults(func=cmd_schedulers)

    p = sub.add_parser("bench", help="simulator and scheduler speed benchmarks")
    p.add_argument("--quick", action="store_true", help="fewer repeats (seconds)")
    p.add_argument("--json", help="also write the results to this JSON file")
    p.add_argument("--scenario", default=None, help="scenario for frames/s (default: shipped)")
    p.set_defaults(func=cmd_bench)

    from sim.plot_cli import add_subcommand as add_plot
    from sim.report_cli import add_subcommand as add_report
    from sim.sweep_cli import add_subcommand as add_sweep

    add_plot(sub)
    add_sweep(sub)
    add_report(sub)
    _optional([("sim.importers", "add_subcommand"), ("models.cli", "add_subcommands")], sub)
    return ap


def main(argv: Sequence[str] | None = None) -> int:
    from sim.engine.world import PlanError

    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except PlanError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except ValueError as exc:  # every user-input error class derives from ValueError
        if os.environ.get("MVSCHED_DEBUG"):
            raise
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print("interrupted (files already written are complete)", file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into head or similar, which stopped reading
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
