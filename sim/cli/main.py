"""``mvsched`` command line: a thin layer over :mod:`sim.runner` and friends; commands of
other packages (``models``: train, profile, emulate) come through the ``mvsched.commands``
entry point group (:mod:`sim.cli.plugin_commands`), so the simulator never imports them.

``run`` and ``compare`` end with one ``warning:`` line (on stderr) per thing that went
wrong in a run (plans refused for memory, an app never served; metrics.json "warnings"),
naming the scheduler; a text already printed (an input's plausibility warning) is not
printed again.

User errors (bad scenario, profile, trace, scheduler name, data path) print one line naming
the file, the field and what was expected, and exit with code 2 — never a traceback; so
does an output folder that cannot be written (read-only, full disk), naming it and the cause.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from sim.cli.plugin_commands import CommandProblem, add_plugin_commands
from sim.common.atomic import write_text_atomic
from sim.present.table import format_results, format_table

__all__ = ["format_table", "main"]

EXIT_USER_ERROR = 2
DESCRIPTION = ("Multi-tenant mobile DNN scheduler simulator: replay measured model profiles "
               "under NestDNN, SPINN, AdaptiveNet, once-for-all and baseline schedulers.")
TABLE_KEYS = ("accuracy", "worst_app_accuracy", "fps", "latency_ms_mean", "latency_ms_p95",
              "dropped", "deadline_misses", "energy_j", "switches", "switch_s")
OFFLOAD_KEYS = ("failed", "offloaded", "early_exits", "fallbacks", "sent_mb", "server_s")
"""shown when some run of the table has any of them"""
REFUSED_KEY = "refused_plans"
"""shown by ``run`` when some run of the table had a plan refused (``compare`` always)"""
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
    lost = any(r.get("accuracy_arrived") != r.get("accuracy_in_time") for r in rows)
    first = ("accuracy", *(("accuracy_in_time",) if late else ()),
             *(("accuracy_arrived",) if lost else ()))
    refused = (REFUSED_KEY,) if any(r.get(REFUSED_KEY) for r in rows) else ()
    return (*first, *TABLE_KEYS[1:], *extra, *refused)


_shown: set[str] = set()
"""warning texts printed by this command so far (each is printed once)"""


def _warn(text: str) -> None:
    if text not in _shown:
        _shown.add(text)
        print(f"warning: {text}", file=sys.stderr)


def _run_warnings(label: str, warnings_: Sequence[str]) -> None:
    """One line per warning of a run's metrics.json, naming the run; those already printed
    (the inputs' plausibility warnings, shared by every run) are skipped."""
    for w in warnings_:
        if w not in _shown:
            _warn(f"{label}: {w}")


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
    print(format_results(rows, ("scheduler", *_table_keys(rows), "decision_ms_median")))
    print(f"results: {out} (metrics.json in one folder per scheduler)")
    for r in results:
        _run_warnings(r.label, r.metrics["warnings"])
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    from sim.results.compare import compare

    out = Path(args.out) if args.out else _default_out(args.scenario)
    sets = list(args.set or [])
    if not args.no_plots:
        sets.append("metrics.frames_csv=true")  # the latency CDF needs every frame

    def columns(comp: Any) -> tuple[str, ...]:
        """The metrics of comparison.csv and of the table printed."""
        keys = _table_keys(comp.summary or comp.rows)
        return (*(k for k in keys if k != REFUSED_KEY), "decisions", REFUSED_KEY,
                "decision_ms_median")

    comp = compare(args.scenario, args.seeds, args.seed, out, sets, progress=not args.quiet,
                   columns=columns)
    rows, keys = comp.summary or comp.rows, ("scheduler", *columns(comp))
    if comp.summary:
        print(f"mean over seeds {comp.seeds[0]}..{comp.seeds[-1]}:")
        print(format_results(rows, keys))
        print("\n95% confidence interval half-widths:")
        print(format_results([{"scheduler": r["scheduler"],
                               **{k: r.get(f"{k}_ci95") for k in keys[1:]}} for r in rows], keys))
    else:
        print(format_results(rows, keys))
    print(f"comparison: {out / 'comparison.csv'}")
    if not args.no_plots:
        from sim.present.plots import draw

        paths = draw(comp.run_dirs[0], fmt=("png", "pdf"))
        print(f"plots: {len(paths)} files in {comp.run_dirs[0] / 'plots'}")
        if len(comp.seeds) > 1:  # the means over the seeds, with their 95% intervals
            paths = draw(out, ["bars"], fmt=("png", "pdf"))
            print(f"plots: {len(paths)} files (means, 95% intervals) in {out / 'plots'}")
    _compare_warnings(comp)
    return 0


def _compare_warnings(comp: Any) -> None:
    """The run warnings of every metrics.json of a comparison, naming the scheduler and,
    when there are several seeds, the seeds that gave each text."""
    from sim.results import layout

    found: dict[tuple[str, str], list[int]] = {}
    for r in comp.rows:
        label, seed = r["scheduler"], r["seed"]
        path = comp.run_dirs[comp.seeds.index(seed)] / label / layout.METRICS
        try:
            texts = json.loads(path.read_text()).get("warnings", [])
        except (OSError, ValueError):
            continue
        for w in texts:
            if w not in _shown:
                found.setdefault((label, w), []).append(seed)
    for (label, w), seeds in found.items():
        if len(comp.seeds) > 1:
            which = (f"all {len(seeds)} seeds" if len(seeds) == len(comp.seeds) else
                     f"seed {seeds[0]}" if len(seeds) == 1 else
                     f"seeds {', '.join(map(str, seeds))}")
            label = f"{label} ({which})"
        _warn(f"{label}: {w}")


def cmd_validate(args: argparse.Namespace) -> int:
    from sim.config.inputs import load_inputs
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
                must = f"; must be {p.allowed}" if p.allowed else ""
                print(f"    {p.name} ({p.type}, default {p.default!r}{must}): {p.doc}")
    for problem in list_scheduler_problems():
        print(f"warning: {problem}", file=sys.stderr)
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    from sim.bench import run_bench

    report = run_bench(quick=args.quick, scenario=args.scenario, table=format_table)
    if args.json:
        write_text_atomic(args.json, json.dumps(report, indent=1) + "\n")
    return 0


# -- parser -------------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    """The whole ``mvsched`` parser, plug-in commands included."""
    return _build()[0]


def _build() -> tuple[argparse.ArgumentParser, argparse._SubParsersAction, list[CommandProblem]]:  # type: ignore[type-arg]
    ap = argparse.ArgumentParser(prog="mvsched", description=DESCRIPTION)
    ap.add_argument("--version", action="version", version=f"mvsched {_version()}")
    sub = ap.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("run", help="run a scenario under its schedulers (or --scheduler ...)")
    p.add_argument("scenario", help="scenario file (.yaml)")
    p.add_argument("--scheduler", action="append", help="scheduler name or label (repeatable)")
    p.add_argument("--seed", type=int, help="override the scenario's seed")
    p.add_argument("--out", help="output folder (default: runs/ and the scenario file's name)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--set", action="append", metavar="PATH=VALUE", help=SET_HELP)
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("compare", help="every listed scheduler on one or more seeds; "
                                       "comparison.csv with means and 95%% intervals; plots")
    p.add_argument("scenario", help="scenario file (.yaml)")
    p.add_argument("--seed", type=int, help="first seed (default: the scenario's)")
    p.add_argument("--seeds", type=int, default=1,
                   help="number of consecutive seeds to run (default 1)")
    p.add_argument("--out", help="output folder (default: runs/ and the scenario file's name)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--set", action="append", metavar="PATH=VALUE", help=SET_HELP)
    p.add_argument("--no-plots", action="store_true",
                   help="skip the standard plots (timeline, latency CDF, bars)")
    p.set_defaults(func=cmd_compare)

    p = sub.add_parser("validate", help="check scenario (.yaml) and profile (.json) files")
    p.add_argument("files", nargs="+", help="scenario (.yaml) or profile (.json) files")
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

    from sim.cli.derive import add_subcommand as add_derive
    from sim.cli.importers import add_subcommand as add_import
    from sim.cli.plot import add_subcommand as add_plot
    from sim.cli.report import add_subcommand as add_report
    from sim.cli.sweep import add_subcommand as add_sweep

    add_plot(sub)
    add_sweep(sub)
    add_report(sub)
    add_import(sub)
    add_derive(sub)
    return ap, sub, add_plugin_commands(sub)


def _plugin_check(argv: Sequence[str], commands: Sequence[str],
                  problems: list[CommandProblem]) -> int | None:
    """Exit code 2 when the command asked for is missing and a command plug-in failed (the
    command may be one of its); otherwise a warning per broken plug-in, and None."""
    command = next((a for a in argv if not a.startswith("-")), None)
    if problems and command is not None and command not in commands:
        causes = "; ".join(p.line + (f" (pip install 'mvsched[{p.extra}]')" if p.extra else "")
                           for p in problems)
        print(f"error: unknown command {command!r}; a command plug-in failed to load: {causes}",
              file=sys.stderr)
        return EXIT_USER_ERROR
    for p in problems:
        if p.extra is None:  # a missing optional extra is quiet until its command is asked for
            print(f"warning: {p.line}", file=sys.stderr)
    return None


@contextlib.contextmanager
def _one_line_warnings() -> Iterator[None]:
    """Plausibility warnings as ``warning: file: field: ...`` lines, each text once."""
    from sim.config.plausibility import PlausibilityWarning

    _shown.clear()
    with warnings.catch_warnings():
        warnings.simplefilter("once", PlausibilityWarning)
        shown = warnings.showwarning

        def show(message: Warning | str, category: type[Warning], *rest: Any,
                 **kw: Any) -> None:
            if issubclass(category, PlausibilityWarning):
                _warn(str(message))
            else:
                shown(message, category, *rest, **kw)

        warnings.showwarning = show
        yield


def main(argv: Sequence[str] | None = None) -> int:
    from sim.engine.world import PlanError

    argv = sys.argv[1:] if argv is None else list(argv)
    parser, sub, problems = _build()
    refused = _plugin_check(argv, list(sub.choices), problems)
    if refused is not None:
        return refused
    args = parser.parse_args(argv)
    try:
        with _one_line_warnings():
            return int(args.func(args) or 0)
    except PlanError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except ValueError as exc:  # every user-input error class derives from ValueError
        if os.environ.get("MVSCHED_DEBUG"):
            raise
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    except RecursionError:  # a reader without its own check met an absurdly nested input
        if os.environ.get("MVSCHED_DEBUG"):
            raise
        print("error: an input is nested too deeply to read (check the files and --set "
              "values given)", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print("interrupted (files already written are complete)", file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into head or similar, which stopped reading
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except OSError as exc:  # a full disk, a read-only folder: the file and the cause
        if os.environ.get("MVSCHED_DEBUG"):
            raise
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"error: {where}{exc.strerror or exc}", file=sys.stderr)
        return EXIT_USER_ERROR

