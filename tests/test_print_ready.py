"""Output a paper can use: PDFs with no Type 3 font and column-sized figures, plain progress
lines in a log file, and result tables whose columns and number formats do not change with
the data."""

from __future__ import annotations

import csv
import re
import shutil
import subprocess
from pathlib import Path

import matplotlib
import pytest
import yaml
from enginekit import write_world
from figurekit import quick_and_closed  # noqa: F401  (autouse fixture)
from inline_executor import Inline
from synthetic import make_profile

from sim.cli import main
from sim.present import plots
from sim.present.plots.style import DOUBLE_COLUMN_IN, SINGLE_COLUMN_IN
from sim.present.table import format_results, format_value
from sim.results.compare import COLUMNS, ci95, compare
from sim.results.sweep import run_sweep
from sim.runner import run_scenario


@pytest.fixture
def world(tmp_path):
    """One app; "small" and "big" run one model each, right with probability 0.6 and 0.8."""
    prof = make_profile("p", [("small", 1000, 5.0, 0.6), ("big", 2000, 20.0, 0.8)])
    return write_world(tmp_path, {
        "duration_s": 2, "seed": 5,
        "schedulers": [{"name": "agnostic", "label": "small", "params": {"model": "smallest"}},
                       {"name": "agnostic", "label": "big", "params": {"model": "largest"}}],
        "apps": [{"name": "a", "family": "p", "fps": 20}],
        "events": [{"t": 0, "action": "launch", "app": "a"}],
        "metrics": {"frames_csv": True},
    }, {"p": prof})


@pytest.fixture
def compared(world, tmp_path) -> Path:
    out = tmp_path / "cmp"
    compare(world, out=out)
    return out


# -- fonts and sizes ------------------------------------------------------------------------
def font_kinds(pdf: Path) -> set[str]:
    """The font types of a PDF: pdffonts' type column when installed, else the /Subtype of
    every font dictionary (matplotlib writes them uncompressed)."""
    if shutil.which("pdffonts"):
        lines = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True,
                               check=True).stdout.splitlines()[2:]
        return {" ".join(re.split(r"\s{2,}", ln.strip())[1].split()[:2]) for ln in lines
                if ln.strip()} or {"none"}
    data = pdf.read_bytes()
    kinds = set(re.findall(rb"/Subtype\s*/(Type3|TrueType|Type0|Type1|CIDFontType2)", data))
    return {k.decode() for k in kinds} or {"none"}


def has_type3(pdf: Path) -> bool:
    return any("Type 3" in k or k == "Type3" for k in font_kinds(pdf))


def page_inches(pdf: Path) -> tuple[float, float]:
    box = re.search(rb"/MediaBox\s*\[\s*0\s+0\s+([\d.]+)\s+([\d.]+)\s*\]", pdf.read_bytes())
    assert box, pdf
    return float(box[1]) / 72, float(box[2]) / 72


def test_every_pdf_drawn_has_no_type3_font(compared):
    pdfs = [p for p in plots.draw(compared, fmt=("pdf",)) if p.suffix == ".pdf"]
    assert {p.stem for p in pdfs} >= {"cdf", "bars"}
    for pdf in pdfs:
        kinds = font_kinds(pdf)
        assert not has_type3(pdf), (pdf, kinds)
        assert kinds & {"TrueType", "Type0", "CIDFontType2", "CID TrueType"}, (pdf, kinds)


def test_the_style_does_not_leak_into_the_callers_settings(compared):
    before = (matplotlib.rcParams["pdf.fonttype"], matplotlib.rcParams["font.size"])
    plots.draw(compared, ["bars"], fmt=("pdf",), width="single")
    assert (matplotlib.rcParams["pdf.fonttype"], matplotlib.rcParams["font.size"]) == before


@pytest.mark.parametrize(("width", "inches"), [("single", SINGLE_COLUMN_IN),
                                               ("double", DOUBLE_COLUMN_IN), (5.0, 5.0)])
def test_figures_fit_a_column_or_the_page(compared, width, inches):
    for pdf in plots.draw(compared, ["cdf", "bars"], fmt=("pdf",), width=width):
        w, h = page_inches(pdf)
        assert w == pytest.approx(inches, abs=0.02) and h > 1
        assert not has_type3(pdf)


def test_a_users_style_is_layered_over_ours(compared, tmp_path):
    # the user's setting wins where both set a key: pdf.fonttype 3 brings Type 3 back
    (pdf,) = plots.draw(compared, ["cdf"], fmt=("pdf",), style={"pdf.fonttype": 3})
    assert has_type3(pdf)
    sheet = tmp_path / "paper.mplstyle"
    sheet.write_text("pdf.fonttype: 3\nfont.family: serif\n")
    with plots.figure_style(sheet, width="single"):
        (pdf,) = plots.cdf(compared, tmp_path / "figs", fmt=("pdf",))
    assert has_type3(pdf) and page_inches(pdf)[0] == pytest.approx(SINGLE_COLUMN_IN, abs=0.02)
    (pdf,) = plots.draw(compared, ["cdf"], fmt=("pdf",), style={"font.family": "serif"})
    assert not has_type3(pdf)  # a style that leaves the font type alone keeps ours


@pytest.mark.parametrize(("style", "width", "message"), [
    ("nosuch/paper.mplstyle", None, "no such style file"),
    ("no-such-style-name", None, "style"),
    (None, "triple", "width: 'triple'"),
    (None, -1, "width: -1"),
])
def test_a_bad_style_or_width_is_a_plot_error(compared, style, width, message):
    with pytest.raises(plots.PlotError, match=re.escape(message)):
        plots.draw(compared, ["bars"], fmt=("pdf",), style=style, width=width)


def test_the_plot_command_takes_a_width_and_a_style(compared, tmp_path, capsys):
    from sim.cli import main
    sheet = tmp_path / "paper.mplstyle"
    sheet.write_text("font.family: serif\n")
    assert main(["plot", str(compared), "--kind", "bars", "--format", "pdf", "--width",
                 "double", "--style", str(sheet)]) == 0
    pdf = compared / "plots" / "bars.pdf"
    assert page_inches(pdf)[0] == pytest.approx(DOUBLE_COLUMN_IN, abs=0.02)
    assert not has_type3(pdf)
    capsys.readouterr()
    assert main(["plot", str(compared), "--width", "9x"]) == 2
    assert capsys.readouterr().err.strip() == \
        "error: --width: expected single, double or inches, got '9x'"


# -- progress -----------------------------------------------------------------------------
def assert_plain(err: str, lines: list[str]) -> None:
    assert "\r" not in err and "\x1b[" not in err, repr(err)
    for line in lines:
        assert re.search(re.escape(line) + r" done \(2 simulated s in \d+\.\d s\)$", err,
                         re.M), (line, err)


def test_run_progress_off_a_terminal_is_a_plain_line_per_run(world, capsys):
    run_scenario(world, progress=True)
    err = capsys.readouterr().err
    assert_plain(err, ["run 1/2: small", "run 2/2: big"])
    assert err.count("\n") == 2


def test_compare_progress_numbers_runs_over_every_seed(world, capsys, tmp_path):
    compare(world, seeds=2, out=tmp_path / "c", progress=True)
    err = capsys.readouterr().err
    assert_plain(err, ["run 1/4: small (seed 5)", "run 2/4: big (seed 5)",
                       "run 3/4: small (seed 6)", "run 4/4: big (seed 6)"])


def test_sweep_progress_off_a_terminal_is_a_plain_line_per_run(world, capsys):
    sweep = world.parent / "sweep.yaml"
    sweep.write_text(yaml.safe_dump({"scenario": "scenario.yaml", "seeds": 1,
                                     "grid": {"apps[0].fps": [10, 20]}}))
    run_sweep(sweep, world.parent / "out", executor=Inline(), progress=True)
    err = capsys.readouterr().err
    assert "\r" not in err and "\x1b[" not in err
    assert len(re.findall(r"^run [1-4]/4: (small|big) seed 5 \(apps\[0\]\.fps=(10|20)\) done "
                          r"\(\d+\.\d s since the start\)$", err, re.M)) == 4


def test_quiet_prints_no_progress(world, capsys):
    run_scenario(world, progress=False)
    assert capsys.readouterr().err == ""


# -- stable tables ------------------------------------------------------------------------
def header(path: Path) -> list[str]:
    with path.open(newline="") as fh:
        return next(csv.reader(fh))


def test_comparison_columns_do_not_depend_on_the_results(world, tmp_path, capsys):
    # no deadline is missed: accuracy_in_time equals accuracy, yet keeps its column
    heads = []
    for i, extra in enumerate(([], ["--set", "apps[0].fps=200"])):
        out = tmp_path / f"c{i}"
        assert main(["compare", str(world), "--out", str(out), "--quiet", "--no-plots",
                     *extra]) == 0
        heads.append(header(out / "comparison.csv"))
    assert heads[0] == heads[1]
    assert heads[0][:2] == ["scheduler", "seed"]
    assert heads[0][2:2 + len(COLUMNS)] == list(COLUMNS)
    assert "accuracy_in_time" in heads[0]
    out = tmp_path / "seeds"
    assert main(["compare", str(world), "--seeds", "2", "--out", str(out), "--quiet",
                 "--no-plots"]) == 0
    assert header(out / "comparison.csv")[3:3 + 2 * len(COLUMNS)] == [
        c for k in COLUMNS for c in (k, f"{k}_ci95")]
    capsys.readouterr()


def test_sweep_columns_do_not_depend_on_the_results(world):
    sweep = world.parent / "sweep.yaml"
    sweep.write_text(yaml.safe_dump({"scenario": "scenario.yaml", "seeds": 1,
                                     "grid": {"apps[0].fps": [10]}}))
    res = run_sweep(sweep, world.parent / "out", executor=Inline())
    got = header(res.csv)
    metrics = [c[: -len("_mean")] for c in got if c.endswith("_mean")]
    assert metrics == [k for k in COLUMNS if k != "decision_ms_median"]
    assert "accuracy_in_time_mean" in got


def test_a_noise_level_interval_is_zero():
    x = 0.1 + 0.2  # 0.30000000000000004
    assert ci95([x, 0.3, 0.3]) == 0.0
    assert ci95([1000.0 + 1e-10, 1000.0, 1000.0]) == 0.0
    assert ci95([0.0, 0.0]) == 0.0
    assert ci95([1.0, 2.0, 3.0]) > 1  # a real spread is kept
    assert ci95([1.0, 1.0 + 1e-6]) > 0


def test_deterministic_seeds_give_a_zero_interval(world, tmp_path):
    comp = compare(world, seeds=3, out=tmp_path / "d")
    for row in comp.summary:  # every frame takes the model's latency: no spread
        assert row["latency_ms_mean_ci95"] == 0.0 and row["frames_ci95"] == 0.0
    rows = list(csv.DictReader((tmp_path / "d" / "comparison.csv").open()))
    assert {r["latency_ms_mean_ci95"] for r in rows if r["seed"] == "mean"} == {"0.0"}


def test_counts_print_as_whole_numbers():
    rows = [{"scheduler": "nestdnn", "frames": 37150.0, "processed": 37149.666666666664,
             "dropped": 2.5, "switches": 3.0, "decisions": 12, "accuracy": 0.8123456,
             "latency_ms_mean": 2.466e-15}]
    text = format_results(rows, ("scheduler", "frames", "processed", "dropped", "switches",
                                 "decisions", "accuracy"))
    assert "e+" not in text and "37150" in text and "37150" in text.split("\n")[2]
    assert format_value(37150.0, "frames") == "37150"
    assert format_value(37149.6, "processed") == "37150"
    assert format_value(2.5, "dropped") == "2.5" and format_value(3.0, "switches") == "3"
    assert format_value(0.0, "frames") == "0" and format_value(0.8123456, "accuracy") == "0.8123"
    assert format_value(None, "frames") == "-"
