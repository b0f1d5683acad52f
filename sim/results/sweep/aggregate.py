"""``sweep.csv``: one row per point (grid values, scheduler, parameters), the mean and 95%
interval of every metric over the seeds."""


import csv
import io
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from sim.results.sweep.runs import current_run
from sim.results.sweep.spec import Sweep, canonical_json, run_key


# -- aggregation --------------------------------------------------------------------------
def aggregate(sweep: Sweep, out: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """One row per (grid point, scheduler, params point), from the run files in
    ``out/runs``: the mean and 95% interval over seeds of every overall metric (the same
    columns whatever the results: :func:`_metric_keys`). A run
    file computed from another scenario or other inputs than the sweep's now is refused."""
    from sim.results.compare import summarize

    folder = Path(out)
    runs = {t.key: current_run(folder, t)["overall"] for t in sweep.tasks()}
    keys = _metric_keys(runs.values())
    names = list(dict.fromkeys(n for label in sweep.schedulers
                               for n in sweep.spec.params.get(label, {})))
    rows = []
    for g, label, p in sweep.points():
        group = [{"scheduler": label, **runs[run_key(g, label, p, s)]} for s in sweep.seeds]
        stats = summarize(group, keys)[0]
        row: dict[str, Any] = {"scheduler": label, **{k: _cell(v) for k, v in g.items()},
                               **{f"params.{n}": _cell(p.get(n)) for n in names},
                               "seeds": len(group)}
        for k in keys:
            row[f"{k}_mean"], row[f"{k}_ci95"] = stats[k], stats[f"{k}_ci95"]
        rows.append(row)
    return rows


WALL_CLOCK = ("decision_ms_median",)
"""overall metrics measured in wall time (None unless timed): not in ``sweep.csv``"""


def _metric_keys(runs: Iterable[Mapping[str, Any]]) -> list[str]:
    """The metrics of ``sweep.csv``, whatever the results: every name of
    :data:`sim.results.compare.COLUMNS` but the wall-clock ones, in that order (an empty cell where a
    run lacks the value), then any other overall metric that is a number (or None) in every
    run and a number in some."""
    from sim.results.compare import COLUMNS

    some: dict[str, bool] = {}
    other: set[str] = set()
    for overall in runs:
        for k, v in overall.items():
            number = isinstance(v, (int, float)) and not isinstance(v, bool)
            some[k] = some.get(k, False) or number
            if not number and v is not None:
                other.add(k)
    extra = [k for k, yes in some.items() if yes and k not in other]
    return [k for k in dict.fromkeys([*COLUMNS, *extra]) if k not in WALL_CLOCK]


def _cell(v: Any) -> Any:
    """A parameter value as a CSV cell: scalars as they are, structures as compact JSON."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if v is None or isinstance(v, (int, float, str)):
        return v
    return canonical_json(v)


def csv_text(rows: Sequence[Mapping[str, Any]]) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(dict.fromkeys(k for r in rows for k in r)),
                       lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    return buf.getvalue()
