"""``mvsched report``: a real two-seed comparison and hand-written fidelity and sweep folders
become one page holding their numbers, figures, scenario and versions; the HTML page
needs no other file; a folder of no known kind is one line naming it."""

from __future__ import annotations

import argparse
import base64
import csv
import json
import platform
import re
import shutil
from importlib.metadata import version
from pathlib import Path
from urllib.parse import unquote

import pytest
from enginekit import write_world
from figurekit import quick_and_closed  # noqa: F401 (autouse fixture)
from synthetic import make_profile

from sim.cli import main
from sim.cli.report import add_subcommand
from sim.present.report import ReportError, build_page, folder_kind, render, write_report

LABELS = ("small", "big")
SEEDS = (5, 6)
FIGURE = re.compile(r"!\[[^\]]*\]\(([^)]+)\)")


@pytest.fixture(scope="module")
def compare_dir(tmp_path_factory) -> Path:
    """Two labelled agnostic runs (smallest and largest model) on seeds 5 and 6, no plots."""
    tmp = tmp_path_factory.mktemp("world")
    prof = make_profile("p", [("small", 1000, 5.0, 0.6), ("big", 2000, 20.0, 0.8)])
    path = write_world(tmp, {
        "name": "report-demo", "duration_s": 2, "seed": SEEDS[0],
        "metrics": {"frames_csv": True},
        "schedulers": [{"name": "agnostic", "label": "small", "params": {"model": "smallest"}},
                       {"name": "agnostic", "label": "big", "params": {"model": "largest"}}],
        "apps": [{"name": "a", "family": "p", "fps": 20}],
        "events": [{"t": 0, "action": "launch", "app": "a"}],
    }, {"p": prof})
    out = tmp / "out"
    assert main(["compare", str(path), "--seeds", "2", "--out", str(out), "--quiet",
                 "--no-plots"]) == 0
    return out


@pytest.fixture
def compare_copy(compare_dir, tmp_path) -> Path:
    return Path(shutil.copytree(compare_dir, tmp_path / "out"))


def write_csv(path: Path, rows: list[dict[str, object]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    return path


def table_line(text: str, first: str) -> str:
    """The first table row whose first cell is ``first``."""
    return next(ln for ln in text.splitlines() if ln.startswith(f"| {first} |"))


def g4(value: str) -> str:
    return f"{float(value):.4g}"


def test_markdown_holds_each_schedulers_mean_and_interval(compare_copy, capsys):
    path = write_report(compare_copy)
    assert path == compare_copy / "report.md"
    text = path.read_text()
    summary = [r for r in csv.DictReader((compare_copy / "comparison.csv").open())
               if r["seed"] == "mean"]
    assert [r["scheduler"] for r in summary] == list(LABELS)
    for row in summary:
        line = table_line(text, row["scheduler"])
        for key in ("accuracy", "fps", "latency_ms_mean", "energy_j"):
            assert f"| {g4(row[key])} ± {g4(row[key + '_ci95'])} |" in line, key
    header = table_line(text, "scheduler")
    assert "accuracy" in header and "decision_ms" not in header
    assert "seeds 5, 6" in text


def test_markdown_names_scenario_per_app_tables_and_versions(compare_copy):
    text = write_report(compare_copy).read_text()
    assert text.startswith("# mvsched report: report-demo\n")
    for label in LABELS:
        per_app = next(csv.DictReader((compare_copy / "seed-5" / label / "per_app.csv").open()))
        section = text.split(f"### {label} (seed-5/{label}/per_app.csv)\n", 1)[1]
        assert table_line(section, "a").startswith(f"| a | {g4(per_app['accuracy'])} |")
    assert "```yaml\nname: report-demo\n" in text
    machine = text.index("## Machine-dependent (not reproducible)")
    assert machine > text.index("## Scenario") > text.index("## Plots")
    tail = text[machine:]
    for name, got in (("mvsched", version("mvsched")), ("numpy", version("numpy")),
                      ("simpy", version("simpy")), ("scipy", version("scipy")),
                      ("matplotlib", version("matplotlib")),
                      ("python", platform.python_version()), ("platform", platform.platform())):
        assert f"| {name} | {got} |" in tail
    for seed in SEEDS:
        for label in LABELS:
            timing = json.loads((compare_copy / f"seed-{seed}" / label / "timing.json").read_text())
            assert f"| {label} | {seed} | {timing['decisions']} | " \
                   f"{g4(timing['decision_ms_median'])} |" in tail


def test_markdown_links_figures_that_exist(compare_copy, tmp_path):
    for out in (None, tmp_path / "elsewhere" / "page.md"):
        path = write_report(compare_copy, out=out)
        links = FIGURE.findall(path.read_text())
        assert sorted(Path(unquote(link)).name for link in links) == sorted(
            ["bars.png", "cdf.png", *(f"timeline-{lab}.png" for lab in LABELS)])
        for link in links:
            assert not Path(unquote(link)).is_absolute()
            assert (path.parent / unquote(link)).is_file(), link
    assert (compare_copy / "seed-5" / "plots" / "cdf.png").is_file()


def test_html_embeds_every_figure_and_points_nowhere_else(compare_copy):
    path = write_report(compare_copy, "html")
    assert path == compare_copy / "report.html"
    text = path.read_text()
    assert text.startswith("<!DOCTYPE html>")
    sources = re.findall(r'src="([^"]*)"', text)
    assert len(sources) == 2 + len(LABELS)
    assert all(s.startswith("data:image/png;base64,") for s in sources)
    assert base64.b64decode(sources[0].split(",", 1)[1]).startswith(b"\x89PNG\r\n\x1a\n")
    assert re.findall(r"href=", text) == []
    assert "<td>small</td>" in text and "report-demo" in text


def test_run_folder_and_missing_frames_are_noted(compare_copy):
    run = compare_copy / "seed-6" / "big"
    (run / "frames.csv").unlink()
    assert folder_kind(run) == "run"
    text = write_report(run).read_text()
    metrics = json.loads((run / "metrics.json").read_text())["overall"]
    assert f"| accuracy | {metrics['accuracy']:.4g} |" in text
    assert "Not drawn:" in text
    [note] = [ln for ln in text.splitlines() if ln.startswith("- cdf: ")]
    assert "frames.csv" in note
    assert FIGURE.findall(text) == ["plots/timeline.png", "plots/bars.png"]


def fidelity_rows() -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    for app, err in (("cam|1\nleft", 0.05), ("<b>door</b>", -0.2)):
        row: dict[str, object] = {"app": app}
        for key in ("fps", "latency_ms_mean", "latency_ms_p95", "dropped"):
            row |= {f"sim_{key}": 10.0, f"emu_{key}": 10.0 * (1 + err), f"err_{key}": err}
        rows.append(row)
    return rows


def test_fidelity_folder_renders_its_table_escaped(tmp_path):
    folder = tmp_path / "emu"
    write_csv(folder / "fidelity.csv", fidelity_rows())
    (folder / "emulation.json").write_text(json.dumps(
        {"weights": "trained checkpoints", "cores": 2, "machine_speed": {"geomean_ratio": 1.25}}))
    assert folder_kind(folder) == "emulation"
    text = write_report(folder).read_text()
    assert "| cam\\|1<br>left | 10 | 10.5 | 0.05 |" in text
    assert "| <b>door</b> | 10 | 8 | -0.2 |" in text
    assert "| machine_speed_geomean_ratio | 1.25 |" in text
    assert FIGURE.findall(text) == ["plots/fidelity.png"]
    page = write_report(folder, "html").read_text()
    assert "<td>&lt;b&gt;door&lt;/b&gt;</td>" in page and "<b>door" not in page
    assert "<td>cam|1\nleft</td>" in page


def sweep_rows() -> list[dict[str, object]]:
    return [{"scheduler": sched, "network.bandwidth_mbps": bw, "seeds": 3,
             "fps_mean": 10 + bw + k, "fps_ci95": 0.5, "latency_ms_mean_mean": 80 / bw,
             "latency_ms_mean_ci95": 1.0, "accuracy_mean": 0.8 - 0.01 * k,
             "accuracy_ci95": "", "decision_ms_median_mean": 0.1, "decision_ms_median_ci95": 0.01}
            for k, sched in enumerate(("spinn", "neurosurgeon")) for bw in (1.0, 2.0, 4.0)]


def test_sweep_folder_renders_its_table_and_names_figures_left_out(tmp_path):
    folder = tmp_path / "sw"
    write_csv(folder / "sweep.csv", sweep_rows())
    (folder / "sweep.yaml").write_text("scenario: spinn.yaml\nseeds: 3\n"
                                       "grid:\n  network.bandwidth_mbps: [1, 2, 4]\n")
    assert folder_kind(folder) == "sweep"
    text = write_report(folder).read_text()
    assert text.startswith("# mvsched report: spinn\n")
    assert ("| scheduler | network.bandwidth_mbps | seeds | fps | latency_ms_mean | accuracy |"
            in text.splitlines())
    assert "| spinn | 2 | 3 | 12 ± 0.5 | 40 ± 1 | 0.8 |" in text
    assert "| neurosurgeon | 4 | 3 | 15 ± 0.5 | 20 ± 1 | 0.79 |" in text
    assert "```yaml\nscenario: spinn.yaml\n" in text
    assert {"plots/sweep.png", "plots/throughput_latency_vs_bandwidth.png"} <= set(
        FIGURE.findall(text))
    assert any(ln.startswith("- accuracy_vs_fps: ") for ln in text.splitlines())
    machine = text[text.index("## Machine-dependent"):]
    assert "| spinn | 1 | 3 | 0.1 | 0.01 |" in machine


def test_a_folder_of_no_known_kind_is_one_line_naming_it(tmp_path):
    with pytest.raises(ReportError) as err:
        write_report(tmp_path)
    message = str(err.value)
    assert "\n" not in message and str(tmp_path) in message
    assert "comparison.csv" in message and "metrics.json" in message and "sweep.csv" in message
    with pytest.raises(ReportError, match="not a folder"):
        folder_kind(tmp_path / "missing")
    with pytest.raises(ReportError, match="format 'pdf'"):
        write_report(tmp_path, "pdf")
    assert isinstance(err.value, ValueError)
    assert list(tmp_path.iterdir()) == []


def test_the_page_is_replaced_atomically(tmp_path):
    folder = tmp_path / "emu"
    write_csv(folder / "fidelity.csv", fidelity_rows())
    first = write_report(folder)
    inode = first.stat().st_ino
    (folder / "emulation.json").write_text(json.dumps({"cores": 3}))
    second = write_report(folder)
    assert second == first and "| cores | 3 |" in second.read_text()
    assert second.stat().st_ino != inode
    assert [p.name for p in folder.iterdir() if p.name.startswith(".")] == []


def test_markdown_cells_and_code_fences_escape_their_content():
    from sim.present.report import Code, Table

    text = render([Table(("a|b", "c"), (("x\\|y", "1\n2"),)), Code("```\nx\n")], "md")
    assert "| a\\|b | c |" in text and "| x\\\\\\|y | 1<br>2 |" in text
    assert "````yaml\n```\nx\n````" in text


def test_cli_prints_the_page_and_reports_errors(tmp_path, capsys):
    parser = argparse.ArgumentParser(prog="mvsched")
    sub = parser.add_subparsers(dest="command", required=True)
    report = add_subcommand(sub)
    assert all(a.help for a in report._actions)
    folder = tmp_path / "emu"
    write_csv(folder / "fidelity.csv", fidelity_rows())
    out = tmp_path / "page.html"
    args = parser.parse_args(["report", str(folder), "--format", "html", "--out", str(out)])
    assert args.func(args) == 0
    assert capsys.readouterr().out.strip() == str(out)
    assert out.read_text().startswith("<!DOCTYPE html>")
    args = parser.parse_args(["report", str(tmp_path / "missing")])
    assert args.func(args) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1


def test_a_folder_of_runs_without_comparison_csv_is_a_comparison(compare_copy):
    blocks = build_page(compare_copy / "seed-5")
    names = [b.path.name for b in blocks if hasattr(b, "path")]
    assert sorted(names) == sorted(["bars.png", "cdf.png", "timeline-small.png",
                                    "timeline-big.png"])
    assert all((compare_copy / "seed-5" / "plots" / n).is_file() for n in names)
    assert folder_kind(compare_copy / "seed-5") == "comparison"
    text = render(blocks, "md", compare_copy / "seed-5")
    metrics = json.loads((compare_copy / "seed-5" / "small" / "metrics.json").read_text())
    assert table_line(text, "small").startswith(
        f"| small | 5 | {metrics['overall']['accuracy']:.4g} |")


def test_a_wide_html_table_scrolls_in_its_own_box_instead_of_being_cut():
    from sim.present.report import Table

    columns = tuple(f"metric_{i}" for i in range(60))
    page = render([Table(columns, (tuple("1" for _ in columns),))], "html")
    assert '<div class="wide"><table>' in page and "</table></div>" in page
    assert ".wide{overflow-x:auto" in page
