"""Figures of real run folders and of hand-written fidelity and sweep tables: every kind
renders something (not a blank canvas), and missing inputs are named in the error."""

from __future__ import annotations

import argparse
import csv
import shutil
from pathlib import Path

import matplotlib.image as mpimg
import pytest
from figurekit import quick_and_closed  # noqa: F401 (autouse fixture)
from offloadkit import write_offload_world

from sim.cli import plot as plot_cli
from sim.cli.plot import KIND_HELP, add_subcommand
from sim.present import plots
from sim.present.plots import (
    PlotError,
    accuracy_exit_rate_vs_threshold,
    accuracy_vs_budget,
    accuracy_vs_fps,
    applicable,
    draw,
    scheduler_colors,
    throughput_latency_vs_bandwidth,
)
from sim.runner import run_scenario

SCHEDULERS = ("cloud-only", "device-only", "spinn")
BANDWIDTH = "network.bandwidth_mbps.value"


@pytest.fixture(scope="module")
def compare_dir(tmp_path_factory) -> Path:
    """Three schedulers, 8 simulated seconds, a bandwidth drop, an outage, a server down."""
    tmp = tmp_path_factory.mktemp("world")
    path = write_offload_world(tmp, {
        "duration_s": 8, "metrics": {"frames_csv": True},
        "schedulers": [{"name": s} for s in SCHEDULERS],
        "device": {"name": "dev", "memory_mb": 1000, "storage_read_mbps": 1e9,
                   "background_load": {"kind": "step", "steps": [[0, 0.0], [3, 0.5]]}},
        "network": {"bandwidth_mbps": {"kind": "step", "steps": [[0, 8.0], [4, 2.0]]},
                    "rtt_ms": 10, "outages": [[6, 6.5]]},
        "server": {"name": "srv", "load": 0.2, "down": [[7, 7.5]]},
        "apps": [{"name": "a", "family": "p", "fps": 30}, {"name": "b", "family": "p", "fps": 10}],
        "events": [{"t": 0, "action": "launch", "app": "a"},
                   {"t": 2, "action": "launch", "app": "b"}],
    })
    run_scenario(path, out=tmp / "out")
    return tmp / "out"


@pytest.fixture
def compare_copy(compare_dir, tmp_path) -> Path:
    return Path(shutil.copytree(compare_dir, tmp_path / "out"))


def assert_drawn(path: Path) -> None:
    """A figure with content: a blank canvas has (almost) no pixel variance."""
    img = mpimg.imread(path)
    assert img.ndim == 3 and min(img.shape[:2]) > 100
    assert float(img[..., :3].var()) > 1e-3, f"{path} looks blank"


def write_csv(path: Path, rows: list[dict[str, object]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    return path


def bandwidth_rows() -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    for k, sched in enumerate(("spinn", "neurosurgeon")):
        for bw in (1.0, 2.0, 4.0, 8.0):
            rows.append({"scheduler": sched, BANDWIDTH: bw, "seeds": 3,
                         "fps_mean": 10 + bw + k, "fps_ci95": 0.5,
                         "latency_ms_mean_mean": 80 / bw + 10 * k, "latency_ms_mean_ci95": "",
                         "accuracy_mean": 0.8 - 0.01 * k, "accuracy_ci95": 0.01})
    return rows


def test_compare_folder_draws_timelines_cdf_and_bars(compare_copy):
    paths = draw(compare_copy, fmt=("png",))
    names = sorted(p.name for p in paths)
    assert names == sorted(["cdf.png", "bars.png", *(f"timeline-{s}.png" for s in SCHEDULERS)])
    for p in paths:
        assert p.parent == compare_copy / "plots"
        assert_drawn(p)
    assert not list((compare_copy / "plots").glob(".*.tmp"))


def test_png_and_pdf_by_default(tmp_path):
    paths = throughput_latency_vs_bandwidth(bandwidth_rows(), tmp_path)
    assert [p.name for p in paths] == ["throughput_latency_vs_bandwidth.png",
                                       "throughput_latency_vs_bandwidth.pdf"]
    assert paths[1].read_bytes().startswith(b"%PDF")
    assert_drawn(paths[0])


def test_run_folder_timeline_with_network_and_server(compare_copy):
    run = compare_copy / "spinn"
    [png] = draw(run, kinds=["timeline"], fmt=("png",))
    assert png == run / "plots" / "timeline.png"
    assert_drawn(png)
    assert set(applicable(run)) == {"timeline", "cdf", "bars"}


def test_colours_follow_the_sorted_labels():
    colors = scheduler_colors(["spinn", "cloud-only", "device-only", "spinn"])
    assert colors == scheduler_colors(SCHEDULERS)
    assert list(colors) == sorted(SCHEDULERS)
    assert len(set(colors.values())) == 3


def test_cdf_without_frames_csv_names_the_folder_and_the_setting(compare_copy):
    (compare_copy / "device-only" / "frames.csv").unlink()
    with pytest.raises(PlotError, match=r"device-only has no frames\.csv.*frames_csv: true"):
        draw(compare_copy, kinds=["cdf"], fmt=("png",))
    why = applicable(compare_copy)["cdf"]
    assert why is not None and "frames.csv" in why
    assert applicable(compare_copy)["bars"] is None


def test_fidelity_bars(tmp_path):
    row = {"app": "a", "sim_fps": 30, "emu_fps": 28, "err_fps": -0.0667,
           "sim_latency_ms_mean": 20, "emu_latency_ms_mean": 24, "err_latency_ms_mean": 0.2,
           "sim_latency_ms_p95": 30, "emu_latency_ms_p95": 33, "err_latency_ms_p95": 0.1,
           "sim_dropped": 0, "emu_dropped": 2, "err_dropped": ""}
    rows = [row, {**row, "app": "b", "err_fps": 0.02, "err_latency_ms_p95": ""},
            {**row, "app": "(all)", "err_fps": -0.03}]
    write_csv(tmp_path / "emu" / "fidelity.csv", rows)
    assert applicable(tmp_path / "emu") == {"fidelity": None}
    [png] = draw(tmp_path / "emu", fmt=("png",))
    assert png.name == "fidelity.png"
    assert_drawn(png)


def test_fidelity_missing_column(tmp_path):
    write_csv(tmp_path / "emu" / "fidelity.csv", [{"app": "a", "err_fps": 0.1,
                                                   "err_latency_ms_mean": 0.1}])
    with pytest.raises(PlotError, match=r"no column 'err_latency_ms_p95'; columns present"):
        draw(tmp_path / "emu", kinds=["fidelity"], fmt=("png",))


def test_sweep_folder_draws_the_curves_its_columns_allow(tmp_path):
    write_csv(tmp_path / "sw" / "sweep.csv", bandwidth_rows())
    fits = applicable(tmp_path / "sw")
    assert fits["sweep"] is None and fits["throughput_latency_vs_bandwidth"] is None
    assert "alpha" in (fits["accuracy_vs_fps"] or "")
    assert "threshold" in (fits["accuracy_exit_rate_vs_threshold"] or "")
    paths = draw(tmp_path / "sw", fmt=("png",))
    assert [p.name for p in paths] == ["sweep.png", "throughput_latency_vs_bandwidth.png"]
    for p in paths:
        assert_drawn(p)


def test_accuracy_vs_fps_one_point_per_alpha_and_a_baseline_marker(tmp_path):
    rows = [{"scheduler": "nestdnn-mintotal", "schedulers.0.params.alpha": a,
             "fps_mean": 10 + 20 * a, "fps_ci95": 0.4, "accuracy_mean": 0.9 - 0.2 * a,
             "accuracy_ci95": 0.01} for a in (0.0, 0.25, 0.5, 1.0)]
    rows.append({"scheduler": "agnostic", "schedulers.0.params.alpha": "", "fps_mean": 12,
                 "fps_ci95": 0.3, "accuracy_mean": 0.8, "accuracy_ci95": 0.02})
    [png] = accuracy_vs_fps(rows, tmp_path, baseline=["agnostic"], fmt=("png",))
    assert png.name == "accuracy_vs_fps.png"
    assert_drawn(png)


def test_threshold_and_budget_curves(tmp_path):
    rows = [{"scheduler": "spinn", "apps.0.spinn.threshold": t, "accuracy_mean": 0.7 + 0.2 * t,
             "accuracy_ci95": 0.01, "early_exit_rate_mean": 1 - t, "early_exit_rate_ci95": 0.02}
            for t in (0.2, 0.5, 0.8)]
    [png] = accuracy_exit_rate_vs_threshold(rows, tmp_path, fmt=("png",))
    assert_drawn(png)
    rows = [{"scheduler": s, "apps.0.latency_goal_ms": b, "accuracy_mean": 0.6 + b / 1000 + k / 50,
             "accuracy_ci95": 0.01} for k, s in enumerate(("adaptivenet", "ofa-static"))
            for b in (50, 100, 200)]
    [png] = accuracy_vs_budget(rows, tmp_path, fmt=("png",))
    assert png.name == "accuracy_vs_budget.png"
    assert_drawn(png)


def test_wrappers_name_the_missing_column(tmp_path):
    rows = [{k: v for k, v in r.items() if not k.startswith("latency")} for r in bandwidth_rows()]
    with pytest.raises(PlotError, match=r"no column 'latency_ms_mean_mean'; columns present: \["):
        throughput_latency_vs_bandwidth(rows, tmp_path, fmt=("png",))
    with pytest.raises(PlotError, match=r"'budget' or 'latency_goal'.*parameter columns: \['network"):
        accuracy_vs_budget(rows, tmp_path, fmt=("png",))
    with pytest.raises(PlotError, match=r"no column 'early_exit_rate_mean'"):
        accuracy_exit_rate_vs_threshold(rows, tmp_path, x=BANDWIDTH, fmt=("png",))


def test_a_kind_that_does_not_fit_the_folder(tmp_path):
    write_csv(tmp_path / "sw" / "sweep.csv", bandwidth_rows())
    with pytest.raises(PlotError, match="timeline: .* is not a run or comparison folder"):
        draw(tmp_path / "sw", kinds=["timeline"])
    with pytest.raises(PlotError, match="accuracy_vs_fps: .*alpha"):
        draw(tmp_path / "sw", kinds=["accuracy_vs_fps"])
    (tmp_path / "empty").mkdir()
    with pytest.raises(PlotError, match="nothing to plot"):
        draw(tmp_path / "empty")


def _cli(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="mvsched")
    add_subcommand(ap.add_subparsers(dest="command", required=True))
    args = ap.parse_args(argv)
    return int(args.func(args))


def test_cli_prints_the_files_and_reports_errors(compare_copy, capsys):
    assert _cli(["plot", str(compare_copy), "--kind", "bars", "--format", "png"]) == 0
    assert capsys.readouterr().out.strip() == str(compare_copy / "plots" / "bars.png")
    (compare_copy / "spinn" / "frames.csv").unlink()
    assert _cli(["plot", str(compare_copy), "--kind", "cdf", "--format", "png"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: cdf: ") and "frames.csv" in err


def test_cli_lists_every_kind_without_importing_matplotlib():
    assert tuple(KIND_HELP) == plots.KINDS
    assert plot_cli.FORMATS == plots.FORMATS
