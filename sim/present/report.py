"""``mvsched report DIR``: one page that describes a results folder, so a comparison, run,
emulation or sweep can be read, archived or sent without the folder beside it.

The page is built as a list of blocks (headings, text, tables, figures, code) and rendered
as Markdown (figures as links relative to the page) or as one self-contained HTML file
(figures as base64 data URIs). Everything above the last section is reproducible from the
folder; versions and wall-clock decision times go to that last, machine-dependent section.
"""

from __future__ import annotations

import base64
import csv
import html
import json
import math
import os
import platform
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any
from urllib.parse import quote

import yaml

from sim.atomic import remove_leftovers, write_text_atomic
from sim.messages import OneLineError

__all__ = ["EXPECTED", "FORMATS", "Block", "Code", "Figure", "Heading", "Items", "ReportError",
           "Table", "Text", "build_page", "folder_kind", "render", "versions", "write_report"]

FORMATS = ("md", "html")
EXPECTED = {
    "comparison": "a comparison folder (comparison.csv from mvsched compare, or one run "
                  "folder per scheduler from mvsched run)",
    "sweep": "a sweep folder (sweep.csv)",
    "emulation": "an emulation folder (fidelity.csv and emulation.json)",
    "run": "a run folder (metrics.json)",
}
PACKAGES = ("mvsched", "numpy", "simpy", "scipy", "matplotlib")
TIMING = "decision_ms"
"""columns starting with it are wall-clock times: machine-dependent, kept out of the tables"""
LABELS = ("scheduler", "app")
CSS = ("body{font-family:sans-serif;max-width:75em;margin:2em auto;padding:0 1em}"
       "table{border-collapse:collapse;margin:1em 0;font-size:0.9em}"
       "th,td{border:1px solid #ccc;padding:0.2em 0.5em;text-align:right}"
       "th:first-child,td:first-child{text-align:left}img{max-width:100%}"
       "pre{background:#f6f6f6;padding:1em;overflow:auto}")


class ReportError(OneLineError):
    """A folder the report cannot describe; the message names it and what was expected."""


@dataclass(frozen=True)
class Heading:
    """A section title; level 1 is the page's."""

    text: str
    level: int = 2


@dataclass(frozen=True)
class Text:
    text: str


@dataclass(frozen=True)
class Items:
    items: tuple[str, ...]


@dataclass(frozen=True)
class Table:
    """Cells already formatted; the renderer only escapes them."""

    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class Figure:
    """A PNG on disk: linked from Markdown, embedded in HTML."""

    alt: str
    path: Path


@dataclass(frozen=True)
class Code:
    text: str
    lang: str = "yaml"


Block = Heading | Text | Items | Table | Figure | Code


# -- reading ------------------------------------------------------------------------------
def folder_kind(folder: str | os.PathLike[str]) -> str:
    """Which of :data:`EXPECTED` the folder is; a comparison or sweep may hold runs too, so
    the files naming the wider kind are looked for first."""
    path = Path(folder)
    if not path.is_dir():
        raise ReportError(f"{path}: not a folder; expected " + "; or ".join(EXPECTED.values()))
    for kind, name in (("comparison", "comparison.csv"), ("sweep", "sweep.csv"),
                       ("emulation", "fidelity.csv"), ("run", "metrics.json")):
        if (path / name).is_file():
            return kind
    if _runs(path):
        return "comparison"
    raise ReportError(f"{path}: not a results folder; expected "
                      + "; or ".join(EXPECTED.values()))


def _read_csv(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    try:
        with path.open(newline="") as fh:
            reader = csv.DictReader(fh)
            return list(reader.fieldnames or []), list(reader)
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise ReportError(f"{path}: cannot read: {exc}") from None


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ReportError(f"{path}: cannot read: {exc}") from None
    return data if isinstance(data, dict) else {}


def _seed_dirs(folder: Path) -> list[Path]:
    """``seed-<s>/`` folders of a several-seed comparison, in seed order."""
    found = [d for d in folder.glob("seed-*") if d.is_dir() and re.fullmatch(r"seed-\d+", d.name)]
    return sorted(found, key=lambda d: int(d.name[5:]))


def _runs(folder: Path) -> list[Path]:
    """The folder when it is a run, else its subfolders holding a metrics.json, in the order
    of the scenario's schedulers (folder names after, sorted)."""
    if (folder / "metrics.json").is_file():
        return [folder]
    runs = sorted(d for d in folder.iterdir() if d.is_dir() and (d / "metrics.json").is_file())
    order = {lab: i for i, lab in enumerate(_scenario_labels(runs[0]))} if runs else {}
    return sorted(runs, key=lambda d: order.get(_label(d), len(order)))


def _scenario_labels(run: Path) -> list[str]:
    listed = _yaml(run / "scenario.yaml").get("schedulers")
    return [str(s.get("label") or s.get("name")) for s in listed or [] if isinstance(s, dict)]


def _plot_dir(folder: Path, kind: str) -> Path:
    """Where ``mvsched compare`` draws: the first seed's folder when there are several."""
    seeds = _seed_dirs(folder) if kind == "comparison" else []
    return seeds[0] if seeds else folder


def _label(run: Path) -> str:
    return str(_read_json(run / "metrics.json").get("scheduler") or run.name)


def _scenario_name(folder: Path, kind: str) -> str:
    """From the first run's metrics.json, else the folder's scenario or sweep file."""
    runs = _runs(_plot_dir(folder, kind)) if kind != "sweep" else []
    if runs:
        return str(_read_json(runs[0] / "metrics.json").get("scenario") or folder.name)
    name = _yaml(folder / "scenario.yaml").get("name")
    swept = _yaml(folder / "sweep.yaml").get("scenario")
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
    path = folder / "comparison.csv"
    if not path.is_file():
        rows: list[dict[str, Any]] = [
            {"scheduler": _label(run), "seed": _read_json(run / "metrics.json").get("seed"),
             **(_read_json(run / "metrics.json").get("overall") or {})} for run in _runs(folder)]
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
        path = run / "per_app.csv"
        if not path.is_file():
            blocks.append(Text(f"{_rel(run, folder)}: no per_app.csv."))
            continue
        fields, rows = _read_csv(path)
        blocks += [Heading(f"{_label(run)} ({_rel(path, folder)})", 3), _table(rows, fields)]
    return blocks if len(blocks) > 1 else []


def _run(folder: Path) -> list[Block]:
    overall = _read_json(folder / "metrics.json").get("overall") or {}
    return [Heading("Overall"), Text(f"Scheduler {_label(folder)}; source: metrics.json."),
            _vertical(overall, "metric"), *_per_app(folder, folder)]


def _emulation(folder: Path) -> list[Block]:
    fields, rows = _read_csv(folder / "fidelity.csv")
    blocks: list[Block] = [
        Heading("Fidelity"),
        Text("Simulated (sim_) against emulated (emu_) per app; err_ is (emulated - simulated) "
             "/ simulated. The emulated figures were measured on the machine that ran them."),
        _table(rows, fields), Heading("Emulation")]
    info = folder / "emulation.json"
    if info.is_file():
        data = _read_json(info)
        speed = data.get("machine_speed") or {}
        flat = {**data, "machine_speed_geomean_ratio": speed.get("geomean_ratio")}
        blocks.append(_vertical(flat, "setting"))
    else:
        blocks.append(Text("No emulation.json."))
    return blocks + (_run(folder) if (folder / "metrics.json").is_file() else [])


def _sweep(folder: Path) -> list[Block]:
    fields, rows = _read_csv(folder / "sweep.csv")
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
        head.append(Text(f"Drawn from {_rel(where, folder)}."))
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
    sources = [runs[0] / "scenario.yaml"] if runs else [folder / "sweep.yaml",
                                                        folder / "scenario.yaml"]
    for path in (p for p in sources if p.is_file()):
        what = "The sweep" if path.name == "sweep.yaml" else "The resolved scenario"
        blocks += [Text(f"{what}, from {_rel(path, folder)}:"), Code(_text(path))]
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
        fields, table = _read_csv(folder / "sweep.csv")
        cols = [f for f in fields if f.startswith(TIMING)]
        params = [f for f in fields if f not in cols and not f.endswith(("_mean", "_ci95"))]
        return (list(table), [*params, *cols]) if cols else ([], [])
    rows: list[dict[str, Any]] = []
    for where in (_seed_dirs(folder) if kind == "comparison" else []) or [folder]:
        for run in _runs(where):
            if (run / "timing.json").is_file():
                seed = _read_json(run / "metrics.json").get("seed")
                rows.append({**_read_json(run / "timing.json"), "scheduler": _label(run),
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


def _rel(path: Path, base: Path) -> str:
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


# -- rendering ----------------------------------------------------------------------------
def _md_cell(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\r\n", "\n") \
        .replace("\r", "\n").replace("\n", "<br>")


def _md_inline(text: str) -> str:
    return " ".join(text.split())


def _fence(text: str) -> str:
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    return "`" * max(3, longest + 1)


def _md_block(block: Block, base: Path) -> str:
    if isinstance(block, Heading):
        return "#" * block.level + " " + _md_inline(block.text)
    if isinstance(block, Text):
        return _md_inline(block.text)
    if isinstance(block, Items):
        return "\n".join(f"- {_md_inline(i)}" for i in block.items)
    if isinstance(block, Table):
        lines = [block.header, tuple("---" for _ in block.header), *block.rows]
        return "\n".join("| " + " | ".join(_md_cell(c) for c in row) + " |" for row in lines)
    if isinstance(block, Figure):
        alt = re.sub(r"([\[\]\\])", r"\\\1", _md_inline(block.alt))
        return f"![{alt}]({quote(_rel(block.path, base))})"
    fence = _fence(block.text)
    return f"{fence}{block.lang}\n{block.text.rstrip()}\n{fence}"


def _data_uri(path: Path) -> str:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ReportError(f"{path}: cannot embed: {exc}") from None
    return "data:image/png;base64," + base64.b64encode(data).decode("ascii")


def _html_block(block: Block) -> str:
    e = html.escape
    if isinstance(block, Heading):
        return f"<h{block.level}>{e(block.text)}</h{block.level}>"
    if isinstance(block, Text):
        return f"<p>{e(block.text)}</p>"
    if isinstance(block, Items):
        return "<ul>" + "".join(f"<li>{e(i)}</li>" for i in block.items) + "</ul>"
    if isinstance(block, Table):
        head = "".join(f"<th>{e(c)}</th>" for c in block.header)
        body = "".join("<tr>" + "".join(f"<td>{e(c)}</td>" for c in row) + "</tr>"
                       for row in block.rows)
        return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
    if isinstance(block, Figure):
        return (f'<figure><img alt="{e(block.alt)}" src="{_data_uri(block.path)}">'
                f"<figcaption>{e(block.alt)}</figcaption></figure>")
    return f'<pre><code class="language-{e(block.lang)}">{e(block.text)}</code></pre>'


def render(blocks: Iterable[Block], fmt: str = "md", base: str | os.PathLike[str] = ".") -> str:
    """The page as Markdown (figure links relative to ``base``, the page's folder) or as
    HTML with every figure embedded."""
    blocks = list(blocks)
    if fmt == "md":
        return "\n\n".join(_md_block(b, Path(base)) for b in blocks) + "\n"
    if fmt != "html":
        raise ReportError(f"format {fmt!r}: choose from {list(FORMATS)}")
    title = next((b.text for b in blocks if isinstance(b, Heading)), "mvsched report")
    body = "\n".join(_html_block(b) for b in blocks)
    return (f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f"<title>{html.escape(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n"
            f"{body}\n</body>\n</html>\n")


def write_report(folder: str | os.PathLike[str], fmt: str = "md",
                 out: str | os.PathLike[str] | None = None) -> Path:
    """Write the report of ``folder`` (default ``<folder>/report.<fmt>``) atomically; its
    figures go to ``<folder>/plots/`` only (:func:`sim.present.plots.draw`), and a link at the
    page's place is replaced, not followed."""
    if fmt not in FORMATS:
        raise ReportError(f"format {fmt!r}: choose from {list(FORMATS)}")
    target = Path(out) if out is not None else Path(folder) / f"report.{fmt}"
    if target.is_dir() and not target.is_symlink():
        raise ReportError(f"{target}: is a folder; give the page's file name")
    page = build_page(folder)
    remove_leftovers(target.parent, target.name)
    try:
        return write_text_atomic(target, render(page, fmt, target.parent))
    except OSError as exc:
        raise ReportError(f"{target.parent}: cannot write ({exc.strerror or exc})") from None
