"""Sweep figures read back from the drawn figure's own data: one line per scheduler and per
device (never joined across devices), categorical x for traces labelled by file name, the
paper wrappers' headline metric, and ``mvsched plot --x --hue --y``."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from figurekit import quick_and_closed  # noqa: F401 (autouse fixture)
from matplotlib.figure import Figure

from sim.cli import main
from sim.present.plots import PlotError, accuracy_vs_budget, throughput_latency_vs_bandwidth
from sim.present.plots import sweep as sweep_figures

DEVICES = ("note10", "pixel2")
BUDGETS = (10, 20, 40)


@pytest.fixture
def drawn(monkeypatch) -> list[Figure]:
    """Every figure the sweep module saves, kept for reading its plotted data."""
    figures: list[Figure] = []
    real = sweep_figures.save_figure

    def keep(fig: Figure, *args, **kwargs):
        figures.append(fig)
        return real(fig, *args, **kwargs)

    monkeypatch.setattr(sweep_figures, "save_figure", keep)
    return figures


def budget_rows() -> list[dict[str, object]]:
    rows = []
    for s, sched in enumerate(("ofa-static", "largest-subnet")):
        for d, dev in enumerate(DEVICES):
            for b in BUDGETS:
                rows.append({"scheduler": sched, "device.name": dev,
                             "apps[0].latency_goal_ms": b, "seeds": 3,
                             "accuracy_mean": 0.7 + 0.01 * d, "accuracy_ci95": 0.0,
                             "accuracy_in_time_mean": round(0.1 * s + 0.01 * d + b / 1000, 6),
                             "accuracy_in_time_ci95": 0.002})
    return rows


def lines_by_label(fig: Figure) -> dict[str, tuple[list[float], list[float]]]:
    ax = fig.axes[0]
    return {ln.get_label(): (list(ln.get_xdata()), list(ln.get_ydata())) for ln in ax.lines
            if not ln.get_label().startswith("_")}


def test_budget_figure_draws_one_line_per_scheduler_and_device_with_in_time_accuracy(
        tmp_path: Path, drawn: list[Figure]) -> None:
    rows = budget_rows()
    accuracy_vs_budget(rows, tmp_path, fmt=("png",))
    (fig,) = drawn
    assert fig.axes[0].get_ylabel().startswith("accuracy in time")
    lines = lines_by_label(fig)
    assert len(lines) == 4
    for r in rows:
        xs, ys = lines[f"{r['scheduler']}, {r['device.name']}"]
        assert ys[xs.index(r["apps[0].latency_goal_ms"])] == pytest.approx(
            r["accuracy_in_time_mean"])
    for xs, _ in lines.values():  # each line holds one device's budgets, once each
        assert sorted(xs) == list(BUDGETS)


def trace_rows() -> list[dict[str, object]]:
    rows = []
    for i, name in enumerate(("norway_bus_22", "norway_car_6")):
        cell = json.dumps({"kind": "csv", "loop": True, "path": f"../traces/{name}"})
        for sched, fps in (("spinn", 26.0 + i), ("device-only", 16.7)):
            rows.append({"scheduler": sched, "network.bandwidth_mbps": cell, "seeds": 3,
                         "fps_mean": fps, "fps_ci95": 0.3, "latency_ms_mean_mean": 30.0 + i,
                         "latency_ms_mean_ci95": 1.0})
    return rows


def test_a_trace_sweep_is_categorical_and_labelled_by_file_name(
        tmp_path: Path, drawn: list[Figure]) -> None:
    throughput_latency_vs_bandwidth(trace_rows(), tmp_path, fmt=("png",))
    (fig,) = drawn
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["norway_bus_22", "norway_car_6"]
    assert ax.get_xlabel() == "bandwidth trace"
    plotted = {}
    for container in ax.containers:  # errorbar: (line, caps, bars)
        line = container.lines[0]
        plotted[container.get_label()] = sorted(zip(line.get_xdata(), line.get_ydata()))
    assert [y for _, y in plotted["spinn"]] == [26.0, 27.0]
    assert [y for _, y in plotted["device-only"]] == [16.7, 16.7]
    assert all(abs(x - round(x)) < 0.5 for pts in plotted.values() for x, _ in pts)


def write_sweep(folder: Path, rows: list[dict[str, object]]) -> Path:
    folder.mkdir()
    with (folder / "sweep.csv").open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return folder


def test_cli_x_hue_y_draw_the_sweep_figure_and_refuse_unknown_fields(
        tmp_path: Path, drawn: list[Figure], capsys) -> None:
    folder = write_sweep(tmp_path / "sw", budget_rows())
    assert main(["plot", str(folder), "--x", "apps[0].latency_goal_ms", "--hue", "device.name",
                 "--y", "accuracy_in_time", "--format", "png"]) == 0
    assert capsys.readouterr().out.strip().endswith("sweep.png")
    (fig,) = drawn
    assert len(fig.axes[0].lines) >= 4 and fig.axes[0].get_ylabel().startswith("accuracy in")
    assert main(["plot", str(folder), "--x", "budget"]) == 2
    assert "--x 'budget' is no column" in capsys.readouterr().err
    assert main(["plot", str(folder), "--x", "device.name", "--y", "nope"]) == 2
    assert "--y 'nope' is no metric" in capsys.readouterr().err


def test_two_varying_fields_without_hue_ask_for_the_axes(tmp_path: Path) -> None:
    rows = [{**r, "network.rtt_ms": i % 2} for i, r in enumerate(budget_rows())]
    with pytest.raises(PlotError, match="--x FIELD --hue FIELD"):
        sweep_figures.SWEEP_SPECS["accuracy_vs_budget"](rows)


def test_x_on_a_folder_that_is_no_sweep_is_refused(tmp_path: Path, capsys) -> None:
    (tmp_path / "run").mkdir()
    assert main(["plot", str(tmp_path / "run"), "--x", "device.name"]) == 2
    assert "is not a sweep folder" in capsys.readouterr().err
