"""A ``compare --seeds`` folder is plottable: bars of the mean over the seeds with the 95%
interval as error bars, the plotted numbers read back from the figure equal to
comparison.csv's mean rows."""

from __future__ import annotations

import csv
from pathlib import Path

import matplotlib.axes
import pytest
from enginekit import write_world
from figurekit import quick_and_closed  # noqa: F401  (autouse fixture)
from synthetic import make_profile

from sim.cli import main
from sim.present import plots


@pytest.fixture
def seeded(tmp_path: Path) -> Path:
    prof = make_profile("p", [("small", 1000, 5.0, 0.6), ("big", 2000, 20.0, 0.8)])
    scen = write_world(tmp_path, {
        "duration_s": 2, "seed": 5,
        "schedulers": [{"name": "agnostic", "label": "small", "params": {"model": "smallest"}},
                       {"name": "agnostic", "label": "big", "params": {"model": "largest"}}],
        "apps": [{"name": "a", "family": "p", "fps": 20}],
        "events": [{"t": 0, "action": "launch", "app": "a"}]}, {"p": prof})
    out = tmp_path / "cmp"
    assert main(["compare", str(scen), "--seeds", "3", "--out", str(out), "--quiet"]) == 0
    assert (out / "plots" / "bars.png").is_file()  # compare draws the means itself
    return out


def test_a_seeds_folder_draws_means_with_intervals(seeded: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    drawn: list[tuple[list[float], list[float]]] = []
    real = matplotlib.axes.Axes.bar

    def spy(self, x, height, *args, yerr=None, **kwargs):  # type: ignore[no-untyped-def]
        drawn.append((list(height), list(yerr)))
        return real(self, x, height, *args, yerr=yerr, **kwargs)

    monkeypatch.setattr(matplotlib.axes.Axes, "bar", spy)
    assert plots.draw(seeded, ["bars"], fmt=("png",)) == [seeded / "plots" / "bars.png"]
    with open(seeded / "comparison.csv", newline="") as f:
        rows = [r for r in csv.DictReader(f) if r["seed"] == "mean"]
    labels = [r["scheduler"] for r in rows]
    assert labels == ["small", "big"]
    # the first panel is accuracy: means and half-widths exactly as the table has them
    heights, errs = drawn[0]
    assert heights == [float(r["accuracy"]) for r in rows]
    assert errs == [float(r["accuracy_ci95"]) for r in rows]
    assert any(e > 0 for e in errs)  # three seeds of a random draw do differ


def test_per_run_figures_of_a_seeds_folder_name_the_seed_folder(seeded: Path) -> None:
    fits = plots.applicable(seeded)
    assert fits["bars"] is None
    assert "seed-N" in (fits["timeline"] or "") and "seed-N" in (fits["cdf"] or "")
    assert plots.applicable(seeded / "seed-5")["bars"] is None
