"""Results you can trust: plot and report write nothing outside the folder they are given
(hostile labels, links); a run or comparison replaces its folder whole, so nothing of an
earlier run is read beside it, and never replaces a folder it did not write; an output
folder that cannot be written is one line, exit 2, and no half-written run."""

from __future__ import annotations

import errno
import json
import os
import shutil
from pathlib import Path

import pytest
from enginekit import write_world
from figurekit import quick_and_closed  # noqa: F401 (autouse fixture)
from synthetic import make_profile

import sim.common.atomic
import sim.present.plots
from sim.cli import main
from sim.present.plots import PlotError, timeline
from sim.results.folder import MARKER

PROF = make_profile("p", [("small", 1000, 5.0, 0.6), ("big", 2000, 20.0, 0.8)])
BOTH = [{"name": "agnostic", "label": "small", "params": {"model": "smallest"}},
        {"name": "agnostic", "label": "big", "params": {"model": "largest"}}]


def world(tmp: Path, schedulers=BOTH, frames: bool = True) -> Path:
    return write_world(tmp, {
        "name": "safety", "duration_s": 2, "metrics": {"frames_csv": frames},
        "schedulers": schedulers, "apps": [{"name": "a", "family": "p", "fps": 20}],
        "events": [{"t": 0, "action": "launch", "app": "a"}]}, {"p": PROF})


def files(root: Path) -> set[Path]:
    return {p for p in root.rglob("*")}


def one_error_line(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "\n" not in err and "Traceback" not in err, err
    return err


@pytest.fixture
def compared(tmp_path) -> Path:
    """tmp/a/b/c/out: a one-seed comparison of two labels, no plots."""
    out = tmp_path / "a" / "b" / "c" / "out"
    assert main(["compare", str(world(tmp_path)), "--out", str(out), "--quiet",
                 "--no-plots"]) == 0
    return out


# -- plot and report write only under their folder ---------------------------------------
@pytest.mark.parametrize("label", ["../../x", "../../../../x", "/tmp/x", "a/b"])
def test_a_hostile_label_makes_no_file_outside(compared, tmp_path, capsys, label):
    metrics = compared / "big" / "metrics.json"
    metrics.write_text(json.dumps({**json.loads(metrics.read_text()), "scheduler": label}))
    outside = files(tmp_path) - files(compared)
    assert main(["plot", str(compared), "--format", "png"]) == 0
    err = capsys.readouterr().err
    assert "skipped timeline" in err and "scheduler label" in err
    assert main(["report", str(compared)]) == 0
    assert "a comparison of 2 schedulers" in capsys.readouterr().err  # says what it read
    assert files(tmp_path) - files(compared) == outside
    assert not Path("/tmp/x.png").exists()
    assert {p.name for p in (compared / "plots").iterdir()} == {"cdf.png", "bars.png"}
    assert main(["plot", str(compared), "--kind", "timeline"]) == 2
    assert "scheduler label" in one_error_line(capsys)


def test_a_figure_name_must_be_one_safe_file_name(compared, tmp_path):
    with pytest.raises(PlotError, match="figure name"):
        timeline(compared / "small", compared / "plots", fmt=("png",), name="../../x")
    assert not (compared / "x.png").exists() and not (tmp_path / "a" / "b" / "x.png").exists()


def test_a_linked_plots_folder_is_not_followed(compared, tmp_path, capsys):
    away = tmp_path / "away"
    away.mkdir()
    (compared / "plots").symlink_to(away, target_is_directory=True)
    assert main(["plot", str(compared)]) == 2
    assert "symbolic link" in one_error_line(capsys)
    assert main(["report", str(compared)]) == 0
    assert list(away.iterdir()) == []
    assert "symbolic link" in (compared / "report.md").read_text()


def test_a_linked_page_is_replaced_not_followed(compared, tmp_path):
    target = tmp_path / "precious.md"
    target.write_text("keep")
    (compared / "report.md").symlink_to(target)
    assert main(["report", str(compared)]) == 0
    assert target.read_text() == "keep" and not (compared / "report.md").is_symlink()


def test_a_linked_run_folder_in_out_is_refused(tmp_path, capsys):
    away, out = tmp_path / "away", tmp_path / "out"
    away.mkdir()
    out.mkdir()
    (out / "small").symlink_to(away, target_is_directory=True)
    assert main(["run", str(world(tmp_path)), "--out", str(out), "--quiet"]) == 2
    assert "mvsched did not write" in one_error_line(capsys)
    assert list(away.iterdir()) == [] and not (out / "big").exists()
    # in a folder of ours, the link goes with the folder it is in, and is never followed
    (out / "small").unlink()
    assert main(["run", str(world(tmp_path)), "--out", str(out), "--quiet"]) == 0
    shutil.rmtree(out / "small")
    (out / "small").symlink_to(away, target_is_directory=True)
    assert main(["run", str(world(tmp_path)), "--out", str(out), "--quiet"]) == 0
    assert not (out / "small").is_symlink() and (out / "small" / "metrics.json").is_file()
    assert list(away.iterdir()) == []
    shutil.rmtree(out / "small")
    (out / "small").symlink_to(away, target_is_directory=True)
    assert main(["compare", str(world(tmp_path)), "--out", str(out / "small"), "--quiet",
                 "--no-plots"]) == 2
    assert "symbolic link" in one_error_line(capsys)
    assert list(away.iterdir()) == []


# -- a run replaces its folder whole; a comparison its whole --out -------------------------
def test_a_rerun_leaves_nothing_of_the_earlier_run(tmp_path):
    out = tmp_path / "out"
    assert main(["run", str(world(tmp_path)), "--out", str(out), "--quiet"]) == 0
    (out / "small" / "old-notes.txt").write_text("from before")
    assert main(["run", str(world(tmp_path, frames=False)), "--out", str(out), "--quiet",
                 "--scheduler", "small"]) == 0
    names = {p.name for p in (out / "small").iterdir()}
    assert "frames.csv" not in names and "old-notes.txt" not in names
    assert {"metrics.json", "timeline.csv", MARKER} <= names
    assert not (out / "big").exists()  # a run's --out holds only what it wrote
    assert [p.name for p in out.iterdir() if p.name.endswith(".tmp")] == []


def test_a_comparison_replaces_the_earlier_one_whole(compared, tmp_path, capsys):
    assert main(["compare", str(world(tmp_path)), "--out", str(compared), "--quiet",
                 "--no-plots", "--seeds", "2"]) == 0
    assert not (compared / "small").exists() and (compared / "seed-0" / "small").is_dir()
    assert main(["compare", str(world(tmp_path, BOTH[:1])), "--out", str(compared),
                 "--quiet"]) == 0
    capsys.readouterr()
    assert {p.name for p in compared.iterdir()} == {"small", "comparison.csv", "plots", MARKER}
    assert main(["report", str(compared)]) == 0
    page = (compared / "report.md").read_text()
    assert "### small" in page and "### big" not in page and "seed-0" not in page
    assert [p.name for p in compared.parent.iterdir()] == ["out"]


def test_a_folder_not_written_by_mvsched_is_not_replaced(tmp_path, capsys):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    assert main(["compare", str(world(tmp_path)), "--out", str(out), "--quiet",
                 "--no-plots"]) == 2
    assert "did not write" in one_error_line(capsys)
    assert [p.name for p in out.iterdir()] == ["notes.txt"]
    (out / "small").mkdir()
    (out / "small" / "notes.txt").write_text("mine")
    assert main(["run", str(world(tmp_path)), "--out", str(out), "--quiet"]) == 2
    assert "did not write" in one_error_line(capsys)
    assert [p.name for p in (out / "small").iterdir()] == ["notes.txt"]
    assert not (out / "big").exists()


def test_a_run_folder_then_a_comparison_into_the_same_place(tmp_path):
    out = tmp_path / "runs" / "safety"
    assert main(["run", str(world(tmp_path)), "--out", str(out), "--quiet"]) == 0
    assert main(["compare", str(world(tmp_path)), "--out", str(out), "--quiet",
                 "--no-plots"]) == 0
    assert (out / "comparison.csv").is_file()


def test_leftovers_of_a_killed_run_are_removed(compared, tmp_path):
    stale_dir = compared.parent / ".out.k1ll3d_x.tmp"
    stale_dir.mkdir()
    (stale_dir / "metrics.json").write_text("{}")
    run_left = compared / ".small.abcdefgh.tmp"
    run_left.mkdir()
    (compared / "plots").mkdir()
    plot_left = compared / "plots" / ".cdf.png.abcd_123.tmp"
    plot_left.write_bytes(b"half")
    page_left = compared / ".report.md.zz99zz99.tmp"
    page_left.write_text("half")
    assert main(["plot", str(compared), "--format", "png"]) == 0
    assert main(["report", str(compared)]) == 0
    assert not plot_left.exists() and not page_left.exists()
    assert main(["run", str(world(tmp_path)), "--out", str(compared), "--quiet"]) == 0
    assert not run_left.exists()
    assert main(["compare", str(world(tmp_path)), "--out", str(compared), "--quiet",
                 "--no-plots"]) == 0
    assert not stale_dir.exists()
    assert [p.name for p in compared.parent.iterdir()] == ["out"]


# -- a folder that cannot be written -------------------------------------------------------
@pytest.mark.parametrize("command", ["run", "compare"])
def test_an_output_under_a_file_is_one_line(tmp_path, capsys, command):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    out = blocker / "sub"
    args = [command, str(world(tmp_path)), "--out", str(out), "--quiet"]
    assert main(args + (["--no-plots"] if command == "compare" else [])) == 2
    err = one_error_line(capsys)
    assert str(out) in err and "cannot write" in err
    assert blocker.read_text() == "not a folder"


def _full_disk_at(monkeypatch, name: str) -> None:
    real = sim.common.atomic.write_bytes_atomic

    def write(path, data):
        if Path(path).name == name:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
        return real(path, data)

    monkeypatch.setattr(sim.common.atomic, "write_bytes_atomic", write)
    monkeypatch.setattr(sim.present.plots.figure, "write_bytes_atomic", write)


def test_a_full_disk_leaves_no_run_looking_complete(tmp_path, capsys, monkeypatch):
    out = tmp_path / "out"
    assert main(["run", str(world(tmp_path)), "--out", str(out), "--quiet",
                 "--scheduler", "small"]) == 0
    before = (out / "small" / "metrics.json").read_bytes()
    _full_disk_at(monkeypatch, "frames.csv")
    assert main(["run", str(world(tmp_path)), "--out", str(out), "--quiet"]) == 2
    err = one_error_line(capsys)
    assert f"{out / 'small'}: cannot write (No space left on device)" in err
    assert (out / "small" / "metrics.json").read_bytes() == before  # the earlier run stays
    assert (out / "small" / "frames.csv").is_file()
    assert not (out / "big").exists()
    assert [p.name for p in out.iterdir() if p.name.endswith(".tmp")] == []


def test_a_full_disk_during_a_comparison(tmp_path, capsys, monkeypatch):
    out = tmp_path / "out"
    _full_disk_at(monkeypatch, "comparison.csv")
    assert main(["compare", str(world(tmp_path)), "--out", str(out), "--quiet",
                 "--no-plots"]) == 2
    assert "cannot write (No space left on device)" in one_error_line(capsys)
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith((".out", "out"))] == []


def test_a_full_disk_while_plotting_is_one_line(compared, capsys, monkeypatch):
    _full_disk_at(monkeypatch, "cdf.png")
    assert main(["plot", str(compared), "--format", "png"]) == 2
    assert "cannot write (No space left on device)" in one_error_line(capsys)


def test_a_failed_swap_puts_the_earlier_run_back(tmp_path, capsys, monkeypatch):
    out = tmp_path / "out"
    assert main(["run", str(world(tmp_path)), "--out", str(out), "--quiet",
                 "--scheduler", "small"]) == 0
    before = {p.name: p.read_bytes() for p in (out / "small").iterdir()}
    real = os.rename

    def rename(src, dst):
        if Path(dst) == out and Path(src).name.endswith(".tmp"):
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(src))
        return real(src, dst)

    monkeypatch.setattr(os, "rename", rename)
    assert main(["run", str(world(tmp_path, frames=False)), "--out", str(out), "--quiet",
                 "--scheduler", "small"]) == 2
    assert "cannot write (Read-only file system)" in one_error_line(capsys)
    assert {p.name: p.read_bytes() for p in (out / "small").iterdir()} == before
    assert [p.name for p in out.iterdir() if p.name.endswith(".tmp")] == []

