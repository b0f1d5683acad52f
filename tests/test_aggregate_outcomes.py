"""Aggregate outcomes (``outcomes.exit_table``): validation, the population a threshold
becomes, frames drawn from it in the engine, and SPINN's estimates from it.

The table is hand-made (not a measurement): exits e0, e1 and the final exit; at threshold
0.5, 30 % of frames leave at e0 (90 % right there), 30 % at e1 (80 %), 40 % reach the final
exit (70 %): accuracy 0.79.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from enginekit import simulate, write_world
from synthetic import make_profile

from sim.profile import (
    ExitPoint,
    ExitTable,
    Outcomes,
    Profile,
    ProfileError,
    Progressive,
    SplitPoint,
    TransferBytes,
    load_profile,
)
from sim.profile.routes import (
    RouteError,
    build_route,
    exit_population,
    table_thresholds,
    threshold_problem,
)
from sim.schedulers.builtin.device_only import DeviceOnly
from sim.schedulers.builtin.spinn.offload_model import config_table

SAMPLES = 1000
TABLE: dict[str, Any] = {
    "confidence": "max softmax",
    "exits": ["e0", "e1", "final"],
    "thresholds": [0.2, 0.5, 0.9],
    "left_by": [[0.5, 0.8, 1.0], [0.3, 0.6, 1.0], [0.1, 0.25, 1.0]],
    "accuracy": [[0.6, 0.7, 0.5], [0.9, 0.8, 0.7], [0.95, 0.9, 0.75]],
    "final_accuracy": [[0.85, 0.82, 0.5], [0.95, 0.85, 0.7], [0.97, 0.9, 0.75]],
}
EXIT_MS = {"e0": 1.0, "e1": 2.0, "final": 4.0}


def _profile(table: dict[str, Any] | None = None, family: str = "agg") -> Profile:
    exits = (ExitPoint(name="e0", flops_fraction=0.3, device_ms=1.0, top1=0.55),
             ExitPoint(name="e1", flops_fraction=0.6, device_ms=2.0, top1=0.65),
             ExitPoint(name="final", flops_fraction=1.0, device_ms=4.0, top1=0.8))
    splits = (SplitPoint(name="s0", flops_fraction=0.3, device_ms=1.0, server_ms=1.5,
                         bytes=TransferBytes(fp32=4000, int8=1000)),)
    outcomes = Outcomes(samples=SAMPLES, exit_table=ExitTable(**(table or TABLE)))
    return make_profile(family, [("full", 1_000_000, 4.0, 0.8)], kind="progressive",
                        progressive=Progressive(splits=splits, exits=exits),
                        outcomes=outcomes)


def _bad(tmp_path: Path, **change: Any) -> str:
    doc = _profile().model_dump(mode="json", exclude_none=True)
    doc["outcomes"]["exit_table"].update(change)
    path = tmp_path / "p.json"
    path.write_text(json.dumps(doc))
    with pytest.raises(ProfileError) as err:
        load_profile(path)
    return str(err.value)


def test_table_round_trips_and_the_checks_name_the_field(tmp_path: Path) -> None:
    prof = _profile()
    path = tmp_path / "ok.json"
    path.write_text(json.dumps(prof.model_dump(mode="json", exclude_none=True)))
    assert load_profile(path) == prof
    msg = _bad(tmp_path, left_by=[[0.5, 0.8, 1.0], [0.3, 0.6, 1.0]])
    assert "outcomes.exit_table" in msg and "left_by: 2 rows" in msg
    msg = _bad(tmp_path, left_by=[[0.5, 0.4, 1.0], [0.3, 0.3, 1.0], [0.1, 0.2, 1.0]])
    assert "left_by[0][1]" in msg and "cannot fall" in msg
    msg = _bad(tmp_path, left_by=[[0.5, 0.8, 0.9], [0.3, 0.6, 0.9], [0.1, 0.2, 0.9]])
    assert "left_by[0][2]" in msg and "expected 1" in msg
    msg = _bad(tmp_path, left_by=[[0.5, 0.8, 1.0], [0.6, 0.8, 1.0], [0.1, 0.2, 1.0]])
    assert "left_by[1][0]" in msg and "higher threshold" in msg
    msg = _bad(tmp_path, thresholds=[0.2, 0.2, 0.9])
    assert "thresholds[1]" in msg
    msg = _bad(tmp_path, accuracy=[[0.6, None, 0.5], [0.9, 0.8, 0.7], [0.95, 0.9, 0.75]])
    assert "accuracy[0][1]" in msg and "null" in msg
    msg = _bad(tmp_path, accuracy=[[0.6, 0.7, 1.5], [0.9, 0.8, 0.7], [0.95, 0.9, 0.75]])
    assert "accuracy.0.2" in msg or "accuracy[0][2]" in msg
    msg = _bad(tmp_path, final_accuracy=[[0.85, 0.82, 0.6], [0.95, 0.85, 0.7],
                                         [0.97, 0.9, 0.75]])
    assert "final_accuracy[0][2]" in msg
    msg = _bad(tmp_path, exits=["e1", "e0", "final"])
    assert "exit_table.exits" in msg and "in their order" in msg


def test_null_accuracy_is_allowed_where_no_frame_leaves() -> None:
    table = {**TABLE, "left_by": [[0.5, 0.5, 1.0], [0.3, 0.3, 1.0], [0.1, 0.1, 1.0]],
             "accuracy": [[0.6, None, 0.5], [0.9, None, 0.7], [0.95, None, 0.75]],
             "final_accuracy": None}
    prof = _profile(table)
    pop = exit_population(prof, 0.5)
    assert Counter(pop.block.tolist()) == {0: 300, 2: 700}


def test_population_has_the_tables_exact_counts() -> None:
    prof = _profile()
    pop = exit_population(prof, 0.5)
    assert Counter(pop.block.tolist()) == {0: 300, 1: 300, 2: 400}
    for k, (acc, fin) in enumerate(zip(TABLE["accuracy"][1], TABLE["final_accuracy"][1])):
        mine = pop.block == k
        assert pop.own[mine].sum() == round(acc * mine.sum())
        assert pop.final[mine].sum() == round(fin * mine.sum())
    assert exit_population(prof, 0.5) is pop  # built once per table and threshold
    with pytest.raises(RouteError, match=r"threshold 0.4 is not in the exit table's"):
        exit_population(prof, 0.4)


def test_device_route_draws_exit_and_correctness_from_the_table() -> None:
    prof = _profile()
    route = build_route(prof, "full", None, 0.2)
    assert route.samples == SAMPLES
    used = Counter(route.exit_used)
    assert used == {"e0": 500, "e1": 300, "full": 200}
    work = Counter(round(w * 1000.0, 9) for w in route.device_work)
    assert work == {EXIT_MS["e0"]: 500, EXIT_MS["e1"]: 300, EXIT_MS["final"]: 200}
    right = Counter(u for u, c in zip(route.exit_used, route.correct) if c)
    assert right == {"e0": 300, "e1": 210, "full": 100}
    no_exit = build_route(prof, "full", None, None)  # no threshold: the final exit's top1
    assert sum(no_exit.correct) == 800 and set(no_exit.exit_used) == {"full"}


def test_split_route_offloads_what_passes_the_split_and_falls_back_to_its_block() -> None:
    prof = _profile()
    route = build_route(prof, "full", "s0", 0.5, server=prof)
    off = np.array(route.offload)
    assert off.sum() == 700  # e0 (at the split) lets 30 % go on the device
    assert Counter(np.array(route.exit_used)[~off].tolist()) == {"e0": 300}
    # offloaded frames are answered at the final exit: final_accuracy of their blocks
    corr = np.array(route.correct)
    assert corr[off].sum() == round(0.85 * 300) + round(0.7 * 400)
    # a failed offload finishes on the device at the exit its block leaves at
    fb = Counter(np.array(route.fallback_exit)[off].tolist())
    assert fb == {"e1": 300, "full": 400}
    fb_right = np.array(route.fallback_correct)[off].sum()
    assert fb_right == round(0.8 * 300) + round(0.7 * 400)


def test_without_final_accuracy_offloaded_frames_use_the_final_exits_top1() -> None:
    prof = _profile({**TABLE, "final_accuracy": None})
    route = build_route(prof, "full", "s0", 0.5, server=prof)
    off = np.array(route.offload)
    corr = np.array(route.correct)
    assert corr[off].sum() == round(0.8 * 300) + round(0.7 * 400)


def _frames(tmp_path: Path, seed: int, threshold: float = 0.5) -> list[Any]:
    path = write_world(tmp_path, {"seed": seed, "duration_s": 200,
                                  "apps": [{"name": "a", "family": "agg", "fps": 100}],
                                  "events": [{"t": 0, "action": "launch", "app": "a"}]},
                       {"agg": _profile()})
    res = simulate(path, DeviceOnly(threshold=threshold))
    return list(res.apps["a"].record.frames.rows())


def test_engine_frames_converge_to_the_table_and_repeat_per_seed(tmp_path: Path) -> None:
    rows = _frames(tmp_path, seed=3)
    n = len(rows)
    assert n >= 19_900  # 100 fps for 200 s, every frame served (4 ms at most)
    left = {"e0": 0.3, "e1": 0.3, "full": 0.4}
    acc = dict(zip(("e0", "e1", "full"), TABLE["accuracy"][1]))
    count = Counter(r.exit for r in rows)
    assert set(count) == set(left)
    for name, p in left.items():
        se = math.sqrt(p * (1 - p) / n)
        assert abs(count[name] / n - p) < 4 * se, (name, count[name] / n, p)
        mine = [r.correct for r in rows if r.exit == name]
        se_acc = math.sqrt(acc[name] * (1 - acc[name]) / len(mine))
        assert abs(sum(mine) / len(mine) - acc[name]) < 4 * se_acc, name
    total = sum(left[k] * acc[k] for k in left)
    assert abs(sum(r.correct for r in rows) / n - total) < 4 * math.sqrt(total * (1 - total) / n)
    again = _frames(tmp_path, seed=3)
    assert [(r.exit, r.correct, r.finish_s) for r in again] == \
        [(r.exit, r.correct, r.finish_s) for r in rows]
    other = _frames(tmp_path, seed=4)
    assert [(r.exit, r.correct) for r in other] != [(r.exit, r.correct) for r in rows]


def test_spinn_estimates_read_the_tables_rates() -> None:
    prof = _profile()
    table = config_table(prof, prof, None, [None, 0.2, 0.5, 0.4])
    rows = {(s, t): i for i, (s, t) in enumerate(zip(table.splits, table.thresholds))}
    assert (None, 0.4) not in rows and ("s0", 0.4) not in rows  # not in the table
    dev = rows[(None, 0.5)]
    assert table.accuracy[dev] == pytest.approx(0.3 * 0.9 + 0.3 * 0.8 + 0.4 * 0.7)
    assert table.device_s[dev] == pytest.approx((0.3 * 1 + 0.3 * 2 + 0.4 * 4) / 1000)
    split = rows[("s0", 0.5)]
    assert table.offload[split] == pytest.approx(0.7)
    assert table.bytes[split] == pytest.approx(0.7 * 1000)  # int8: no compressed size given
    assert table.accuracy[split] == pytest.approx(0.3 * 0.9 + 0.3 * 0.85 + 0.4 * 0.7)
    # the estimate is the route's mean, as for per-sample outcomes
    route = build_route(prof, "full", "s0", 0.5, server=prof)
    assert table.accuracy[split] == pytest.approx(np.mean(route.correct))
    assert table.device_s[rows[(None, None)]] == pytest.approx(0.004)


def test_a_threshold_the_table_was_not_measured_at_is_refused_before_the_run() -> None:
    profile = _profile()
    known = table_thresholds(profile)
    assert known is not None and known == tuple(profile.outcomes.exit_table.thresholds)
    missing = next(t for t in (0.05, 0.15, 0.33, 0.77) if all(abs(t - k) > 1e-9 for k in known))
    assert threshold_problem(profile, None) is None
    assert threshold_problem(profile, known[0]) is None
    assert f"threshold {missing} is not in the exit table" in threshold_problem(profile, missing)
    assert DeviceOnly(threshold=known[0]).misfit({"a": profile}) is None
    assert "app 'a': agg: threshold" in DeviceOnly(threshold=missing).misfit({"a": profile})
