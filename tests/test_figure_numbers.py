"""Every figure kind drawn from every folder kind the tool writes (run, compare, compare
--seeds, sweep, emulation), its plotted numbers read back from the figure's own data and
compared with the table the folder holds: a figure can never show other numbers than the
files beside it."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from figurekit import quick_and_closed  # noqa: F401 (autouse fixture)
from matplotlib.figure import Figure
from offloadkit import write_offload_world

from sim.cli import main
from sim.present import plots
from sim.present.plots import comparison, fidelity_bars, sweep, timelines
from sim.present.plots.figure import METRIC_LABELS

SCHEDULERS = ("cloud-only", "device-only", "spinn")


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("world")
    return write_offload_world(tmp, {
        "duration_s": 4, "metrics": {"frames_csv": True},
        "schedulers": [{"name": s} for s in SCHEDULERS],
        "device": {"name": "dev", "memory_mb": 1000, "storage_read_mbps": 1e9,
                   "background_load": {"kind": "step", "steps": [[0, 0.0], [2, 0.5]]}},
        "network": {"bandwidth_mbps": {"kind": "step", "steps": [[0, 8.0], [2, 2.0]]},
                    "rtt_ms": 10},
        "server": {"name": "srv", "load": 0.2},
        "apps": [{"name": "a", "family": "p", "fps": 20}],
        "events": [{"t": 0, "action": "launch", "app": "a"}],
    })


@pytest.fixture(scope="module")
def folders(world: Path, tmp_path_factory) -> dict[str, Path]:
    """One folder of every kind, written by the commands themselves."""
    tmp = tmp_path_factory.mktemp("folders")
    assert main(["compare", str(world), "--out", str(tmp / "compare"), "--quiet",
                 "--no-plots"]) == 0
    assert main(["compare", str(world), "--seeds", "2", "--out", str(tmp / "seeds"),
                 "--quiet", "--no-plots"]) == 0
    sweep_file = world.parent / "bw.sweep.yaml"
    sweep_file.write_text(f"scenario: {world.name}\nseeds: 2\n"
                          "grid:\n  network.bandwidth_mbps: [1, 4, 16]\n")
    assert main(["sweep", str(sweep_file), "--out", str(tmp / "sweep"), "--quiet"]) == 0
    run = Path(shutil.copytree(tmp / "compare" / "spinn", tmp / "run"))
    emulation = Path(shutil.copytree(run, tmp / "emulation"))
    with (emulation / "fidelity.csv").open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["app", "err_fps", "err_latency_ms_mean", "err_latency_ms_p95"])
        w.writerow(["a", 0.04, -0.12, 0.31])
    return {"run": run, "compare": tmp / "compare", "seeds": tmp / "seeds",
            "sweep": tmp / "sweep", "emulation": emulation}


@pytest.fixture
def drawn(monkeypatch) -> dict[str, Figure]:
    """name -> figure, for every figure any plot module saves."""
    figures: dict[str, Figure] = {}
    for module in (comparison, fidelity_bars, sweep, timelines):
        real = module.save_figure

        def keep(fig, out, name, fmt, _real=real):
            figures[name] = fig
            return _real(fig, out, name, fmt)

        monkeypatch.setattr(module, "save_figure", keep)
    return figures


def _copy(folder: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(folder, tmp_path / folder.name))


def _overall(run: Path) -> dict[str, float]:
    return json.loads((run / "metrics.json").read_text())["overall"]


def _check_bars(fig: Figure, values: dict[str, dict[str, float]]) -> int:
    """Every bar equals the table's value for its scheduler and metric; returns how many."""
    by_label = {v: k for k, v in METRIC_LABELS.items()}
    checked = 0
    for ax in fig.axes:
        if not ax.get_visible() or not ax.patches:
            continue
        key = by_label.get(ax.get_ylabel()) or ax.get_ylabel().split(" (")[0]
        labels = [t.get_text() for t in ax.get_xticklabels()]
        for label, patch in zip(labels, ax.patches):
            want = values[label][key]
            assert patch.get_height() == pytest.approx(0.0 if want is None else want), \
                (label, key)
            checked += 1
    return checked


def _check_cdf(fig: Figure, runs: dict[str, Path]) -> None:
    lines = {ln.get_label().split(" (")[0]: ln for ln in fig.axes[0].lines}
    assert set(lines) == set(runs)
    for label, run in runs.items():
        with (run / "frames.csv").open() as fh:
            lat = sorted(float(r["latency_ms"]) for r in csv.DictReader(fh)
                         if r.get("status", "done") == "done")
        assert np.allclose(lines[label].get_xdata(), lat)
        assert lines[label].get_ydata()[-1] == pytest.approx(1.0)


def _check_timeline(fig: Figure, run: Path) -> None:
    with (run / "timeline.csv").open() as fh:
        times = [float(r["t_s"]) for r in csv.DictReader(fh) if r["app"] == "a"]
    step = fig.axes[0].lines[0]
    assert np.allclose(step.get_xdata()[: len(times)], times)


def _check_sweep_lines(fig: Figure, rows: list[dict[str, str]], x: str) -> int:
    """Each plotted point equals sweep.csv's mean at that x for that scheduler."""
    checked = 0
    for ax in fig.axes:
        if not ax.get_visible():
            continue
        key = {**{v: k for k, v in METRIC_LABELS.items()},
               "throughput (fps)": "fps"}.get(ax.get_ylabel())
        if key is None:
            continue
        for line in ax.lines:
            label = line.get_label()
            if label.startswith("_"):
                continue
            for xv, yv in zip(line.get_xdata(), line.get_ydata()):
                row = next(r for r in rows if r["scheduler"] == label and float(r[x]) == xv)
                assert yv == pytest.approx(float(row[f"{key}_mean"])), (label, key, xv)
                checked += 1
    return checked


def test_run_folder(folders, tmp_path, drawn) -> None:
    run = _copy(folders["run"], tmp_path)
    plots.draw(run, fmt=("png",))
    assert set(drawn) == {"timeline", "cdf", "bars"}
    _check_timeline(drawn["timeline"], run)
    _check_cdf(drawn["cdf"], {"spinn": run})
    assert _check_bars(drawn["bars"], {"spinn": _overall(run)}) >= 6


def test_compare_folder(folders, tmp_path, drawn) -> None:
    folder = _copy(folders["compare"], tmp_path)
    plots.draw(folder, fmt=("png",))
    runs = {s: folder / s for s in SCHEDULERS}
    assert {"cdf", "bars"} <= set(drawn) and len(drawn) == 2 + len(SCHEDULERS)
    _check_cdf(drawn["cdf"], runs)
    assert _check_bars(drawn["bars"], {s: _overall(r) for s, r in runs.items()}) >= 18
    _check_timeline(drawn["timeline-spinn"], runs["spinn"])


def test_compare_seeds_folder(folders, tmp_path, drawn) -> None:
    folder = _copy(folders["seeds"], tmp_path)
    plots.draw(folder, fmt=("png",))
    assert set(drawn) == {"bars"}
    with (folder / "comparison.csv").open() as fh:
        means = {r["scheduler"]: {k: float(v) if v else None for k, v in r.items()
                                  if k not in ("scheduler", "seed", "seeds")}
                 for r in csv.DictReader(fh) if r["seed"] == "mean"}
    assert _check_bars(drawn["bars"], means) >= 18


def test_sweep_folder(folders, tmp_path, drawn) -> None:
    folder = _copy(folders["sweep"], tmp_path)
    plots.draw(folder, fmt=("png",))
    assert {"sweep", "throughput_latency_vs_bandwidth"} <= set(drawn)
    with (folder / "sweep.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    x = "network.bandwidth_mbps"
    assert _check_sweep_lines(drawn["sweep"], rows, x) >= 3 * 3 * 4
    assert _check_sweep_lines(drawn["throughput_latency_vs_bandwidth"], rows, x) >= 3 * 3 * 2


def test_emulation_folder(folders, tmp_path, drawn) -> None:
    folder = _copy(folders["emulation"], tmp_path)
    plots.draw(folder, kinds=["fidelity"], fmt=("png",))
    heights = [ax.patches[0].get_height() for ax in drawn["fidelity"].axes]
    assert heights == pytest.approx([4.0, -12.0, 31.0])
