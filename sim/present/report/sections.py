"""The sections of a report page, read from a results folder: comparison or run tables,
figures, the scenario, and the machine-dependent last section."""

from __future__ import annotations

import csv
import math
import os
import platform
from collections.abc import Mapping, Sequence
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import yaml

from sim.present.report.blocks import (
    EXPECTED,
    LABELS,
    PACKAGES,
    TIMING,
    Block,
    Code,
    Figure,
    Heading,
    Items,
    ReportError,
    Table,
    Text,
)
from sim.results import layout


# -- reading ------------------------------------------------------------------------------
def folder_kind(folder: str | os.PathLike[str]) -> str:
    """Which of :data:`EXPECTED` the folder is (:func:`sim.results.layout.folder_kind`)."""
    path = Path(folder)
    if not path.is_dir():
        raise ReportError(f"{path}: not a folder; expected " + "; or ".join(EXPECTED.values()))
    kind = layout.folder_kind(path)
    if kind is None:
        raise ReportError(f"{path}: not a results folder; expected "
                          + "; or ".join(EXPECTED.values()))
    return kind


def _runs(folder: Path) -> list[Path]:
    """The folder when it is a run, else its run subfolders in the scenario's order."""
    return list(layout.runs(folder, ReportError).values())


def _read_csv(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    try:
        with path.open(newline="") as fh:
            reader = csv.DictReader(fh)
            return list(reader.fieldnames or []), list(reader)
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise ReportError(f"{path}: cannot read: {exc}") from None


def _plot_dir(folder: Path, kind: str) -> Path:
    """Where ``mvsched compare`` draws: the first seed's folder when there are several."""
    seeds = layout.seed_folders(folder) if kind == "comparison" else []
    return seeds[0] if seeds else folder


def _scenario_name(folder: Path, kind: str) -> str:
    """From the first run's metrics.json, else the folder's scenario or sweep file."""
    runs = _runs(_plot_dir(folder, kind)) if kind != "sweep" else []
    if runs:
        return str(layout.read_json(runs[0] / layout.METRICS, ReportError).get("scenario") or folder.name)
    name = _yaml(folder / layout.SCENARIO).get("name")
    swept = _yaml(folder / layout.SWEEP_YAML).get("scenario")
    if name or swept:
        return str(name or Path(str(swept)).stem)
    return folder.resolve().name


def _yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(_text(path))
    except yaml.YAMLError:
        return {}
    return data if isinstance(data, dict) else {}


def _text(path: Path) -> str:
    try:
        return path.read_text()
    except (OSError, UnicodeDecodeError):
        return ""


# -- cells and tables ---------------------------------------------------------------------
def _number(x: float) -> str:
    return f"{x:.0f}" if math.isfinite(x) and abs(x) >= 1e5 else f"{x:.4g}"


def _cell(value: Any) -> str:
    """A value as the tables show it: four significant digits, '-' for a missing one."""
    if value is None or value in ("", "None", "null"):
        return "-"
    if isinstance(value, str):
        for parse in (int, float):
            try:
                return _cell(parse(value))
            except ValueError:
                pass
        return value
    if isinstance(value, float):
        return _number(value)
    return str(value)


def _with_ci(mean: Any, ci: Any) -> str:
    spread = _cell(ci)
    return _cell(mean) if spread == "-" else f"{_cell(mean)} ± {spread}"


def _filled(rows: Sequence[Mapping[str, Any]], column: str) -> bool:
    return any(_cell(r.get(column)) != "-" for r in rows)


def _cells(row: Mapping[str, Any], columns: Sequence[str]) -> tuple[str, ...]:
    """Labels as they are (a label '1e3' stays one), numbers formatted."""
    return tuple(str(row.get(c, "")) if c in LABELS else _cell(row.get(c)) for c in columns)


def _table(rows: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> Table:
    """The columns some row fills, timings left out."""
    keep = [c for c in columns if not c.startswith(TIMING) and _filled(rows, c)]
    return Table(tuple(keep), tuple(_cells(r, keep) for r in rows))


def _stat_table(rows: Sequence[Mapping[str, Any]], first: Sequence[str],
                stats: Sequence[tuple[str, str, str]]) -> Table:
    """``first`` columns, then one ``mean ± ci95`` column per (name, mean, ci95) triple."""
    stats = [s for s in stats if not s[0].startswith(TIMING) and _filled(rows, s[1])]
    return Table((*first, *(s[0] for s in stats)), tuple(
        (*_cells(r, first), *(_with_ci(r.get(m), r.get(ci)) for _, m, ci in stats)) for r in rows))


def _vertical(values: Mapping[str, Any], what: str) -> Table:
    items = [(k, v) for k, v in values.items()
             if not k.startswith(TIMING) and not isinstance(v, (dict, list))]
    return Table((what, "value"), tuple((k, _cell(v)) for k, v in items))


# -- sections -----------------------------------------------------------------------------
def _comparison(folder: Path) -> list[Block]:
    """comparison.csv: its summary rows when it has several seeds, else its rows; a folder
    without one (``mvsched run``): each run's overall metrics."""
    path = folder / layout.COMPARISON
    if not path.is_file():
        rows: list[dict[str, Any]] = [
            {"scheduler": layout.run_label(run, ReportError), "seed": layout.read_json(run / layout.METRICS, ReportError).get("seed"),
             **(layout.read_json(run / layout.METRICS, ReportError).get("overall") or {})} for run in _runs(folder)]
        keys = list(dict.fromkeys(k for r in rows for k in r))
        return [Heading("Comparison"), Text("One run per scheduler; source: metrics.json."),
                _table(rows, keys), *_per_app(folder, folder)]
    fields, rows = _read_csv(path)
    if "scheduler" not in fields:
        raise ReportError(f"{path}: no column 'scheduler'; columns present: {fields}")
    summary = [r for r in rows if r.get("seed") == "mean"]
    keys = [f for f in fields if f not in ("scheduler", "seed", "seeds")
            and not f.endswith("_ci95")]
    if summary:
        seeds = sorted({r["seed"] for r in rows if r.get("seed") != "mean"}, key=_seed_key)
        note = (f"Mean ± half-width of the 95% Student's t interval over seeds "
                f"{', '.join(seeds)}.")
        table = _stat_table(summary, ["scheduler", "seeds"], [(k, k, f"{k}_ci95") for k in keys])
    else:
        note = "One seed."
        table = _table(rows, ["scheduler", "seed", *keys])
    return [Heading("Comparison"), Text(note + " Source: comparison.csv."), table,
            *_per_app(_plot_dir(folder, "comparison"), folder)]


def _seed_key(seed: str) -> tuple[int, str]:
    return (int(seed), "") if seed.isdigit() else (1 << 62, seed)


def _per_app(where: Path, folder: Path) -> list[Block]:
    """One table per run from its per_app.csv (a several-seed comparison: the first seed)."""
    blocks: list[Block] = [Heading("Per app")]
    for run in _runs(where):
        path = run / layout.PER_APP
        if not path.is_file():
            blocks.append(Text(f"{relative_path(run, folder)}: no per_app.csv."))
            continue
        fields, rows = _read_csv(path)
        blocks += [Heading(f"{layout.run_label(run, ReportError)} ({relative_path(path, folder)})", 3), _table(rows, fields)]
    return blocks if len(blocks) > 1 else []


def _run(folder: Path) -> list[Block]:
    overall = layout.read_json(folder / layout.METRICS, ReportError).get("overall") or {}
    return [Heading("Overall"), Text(f"Scheduler {layout.run_label(folder, ReportError)}; source: metrics.json."),
            _vertical(overall, "metric"), *_per_app(folder, folder)]


def _emulation(folder: Path) -> list[Block]:
    fields, rows = _read_csv(folder / layout.FIDELITY)
    blocks: list[Block] = [
        Heading("Fidelity"),
        Text("Simulated (sim_) against emulated (emu_) per app; err_ is (emulated - simulated) "
             "/ simulated. The emulated figures were measured on the machine that ran them."),
        _table(rows, fields), Heading("Emulation")]
    info = folder / layout.EMULATION
    if info.is_file():
        data = layout.read_json(info, ReportError)
        speed = data.get("machine_speed") or {}
        flat = {**data, "machine_speed_geomean_ratio": speed.get("geomean_ratio")}
        blocks.append(_vertical(flat, "setting"))
    else:
        blocks.append(Text("No emulation.json."))
    return blocks + (_run(folder) if (folder / layout.METRICS).is_file() else [])


def _sweep(folder: Path) -> list[Block]:
    fields, rows = _read_csv(folder / layout.SWEEP_CSV)
    if "scheduler" not in fields:
        raise ReportError(f"{folder / 'sweep.csv'}: no column 'scheduler'; "
                          f"columns present: {fields}")
    params = [f for f in fields if f != "scheduler" and not f.endswith(("_mean", "_ci95"))]
    stats = [(f[:-5], f, f"{f[:-5]}_ci95") for f in fields if f.endswith("_mean")]
    return [Heading("Sweep"),
            Text("Mean ± half-width of the 95% interval over the seeds, per scheduler and "
                 "parameter value. Source: sweep.csv."),
            _stat_table(rows, ["scheduler", *params], stats)]


SECTIONS = {"comparison": _comparison, "run": _run, "emulation": _emulation, "sweep": _sweep}


def _plots(where: Path, folder: Path) -> list[Block]:
    """Draw every figure that fits (PNG); the ones that cannot be drawn are listed with why."""
    from sim.present.plots import PlotError, applicable, draw

    head: list[Block] = [Heading("Plots")]
    if where != folder:
        head.append(Text(f"Drawn from {relative_path(where, folder)}."))
    try:
        fits = applicable(where)
    except PlotError as exc:
        return head + [Text(f"No plots: {exc}")]
    blocks: list[Block] = []
    skipped = [f"{kind}: {why}" for kind, why in fits.items() if why is not None]
    for kind in (k for k, why in fits.items() if why is None):
        try:
            blocks += [Figure(p.stem, p) for p in draw(where, [kind], ("png",))]
        except PlotError as exc:
            skipped.append(f"{kind}: {exc}")
    if skipped:
        blocks += [Text("Not drawn:"), Items(tuple(skipped))]
    return head + (blocks or [Text("No plots fit the folder.")])


def _scenario(where: Path, folder: Path, kind: str) -> list[Block]:
    blocks: list[Block] = [Heading("Scenario")]
    runs = _runs(where) if kind != "sweep" else []
    sources = [runs[0] / layout.SCENARIO] if runs else [folder / layout.SWEEP_YAML,
                                                        folder / layout.SCENARIO]
    for path in (p for p in sources if p.is_file()):
        what = "The sweep" if path.name == layout.SWEEP_YAML else "The resolved scenario"
        blocks += [Text(f"{what}, from {relative_path(path, folder)}:"), Code(_text(path))]
    return blocks if len(blocks) > 1 else blocks + [Text("No scenario.yaml in the folder.")]


def versions() -> dict[str, str]:
    """The software that wrote the report and the platform it ran on."""
    found = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = "not installed"
    return {"mvsched": found.pop("mvsched"), **found, "platform": platform.platform()}


def _timing_rows(folder: Path, kind: str) -> tuple[list[dict[str, Any]], list[str]]:
    """Per run, its timing.json; for a sweep, the timing columns of sweep.csv."""
    if kind == "sweep":
        fields, table = _read_csv(folder / layout.SWEEP_CSV)
        cols = [f for f in fields if f.startswith(TIMING)]
        params = [f for f in fields if f not in cols and not f.endswith(("_mean", "_ci95"))]
        return (list(table), [*params, *cols]) if cols else ([], [])
    rows: list[dict[str, Any]] = []
    for where in (layout.seed_folders(folder) if kind == "comparison" else []) or [folder]:
        for run in _runs(where):
            if (run / layout.TIMING).is_file():
                seed = layout.read_json(run / layout.METRICS, ReportError).get("seed")
                rows.append({**layout.read_json(run / layout.TIMING, ReportError), "scheduler": layout.run_label(run, ReportError),
                             "seed": seed})
    return rows, ["scheduler", "seed", "decisions", "decision_ms_median", "decision_ms_p95"]


def _machine(folder: Path, kind: str) -> list[Block]:
    rows, columns = _timing_rows(folder, kind)
    timing: list[Block] = [Text("No wall-clock decision times in the folder.")]
    if rows:
        timing = [Table(tuple(columns), tuple(_cells(r, columns) for r in rows))]
    return [Heading("Machine-dependent (not reproducible)"),
            Text("These depend on the machine and the moment, not on the scenario and seed: "
                 "the same folder gives other values elsewhere."),
            Heading("Versions", 3), _vertical(versions(), "software"),
            Heading("Wall-clock decision times", 3),
            Text("Scheduler decision times measured while simulating (timing.json)."), *timing]


def relative_path(path: Path, base: Path) -> str:
    try:
        return Path(os.path.relpath(path, base)).as_posix()
    except ValueError:
        return path.as_posix()


def build_page(folder: str | os.PathLike[str]) -> list[Block]:
    """Every block of the report of ``folder``; drawing its figures into ``plots/``."""
    path = Path(folder)
    kind = folder_kind(path)
    where = _plot_dir(path, kind)
    name = _scenario_name(path, kind)
    return [Heading(f"mvsched report: {name}", 1),
            Text(f"Scenario {name}; folder {path.resolve().name}, {EXPECTED[kind]}."),
            *SECTIONS[kind](path), *_plots(where, path), *_scenario(where, path, kind),
            *_machine(path, kind)]


