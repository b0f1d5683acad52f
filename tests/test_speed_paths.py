"""The fast paths give what the slow ones gave: SPINN's configuration table (numpy over the
profile's samples, cached by content) against the table summed from every route, the
linear eviction order against the quadratic one, and the bench's decision-time columns."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from spinnkit import assert_same, fresh_table, reference_table
from synthetic import make_profile, progressive_profile

from sim.profile import Outcomes, load_profile
from sim.schedulers.allocation import _eviction_order_sums, eviction_order
from sim.schedulers.builtin.spinn.offload_model import config_table
from sim.schedulers.builtin.spinn.scheduler import DEFAULT_THRESHOLDS

PROFILES = Path(__file__).resolve().parent.parent / "profiles"
FAMILIES = ("spinn-resnet", "spinn-vgg")


THRESHOLD_SETS = (DEFAULT_THRESHOLDS, (None,), (0.55, 1, 0.0, -0.0, True), (0.3, 1.5, None))


@pytest.mark.parametrize("family", FAMILIES)
def test_table_equals_routes_on_shipped_profiles(family):
    dev = load_profile(PROFILES / "cpu-1t" / f"{family}.json")
    srv = load_profile(PROFILES / "cpu-2t" / f"{family}.json")
    for server in (srv, dev, None):
        for ths in THRESHOLD_SETS:
            for upload in (None, 12345.0, 0):
                for with_splits in (True, False):
                    assert_same(fresh_table(dev, server, upload, ths, with_splits),
                          reference_table(dev, server, upload, ths, with_splits))


def _odd_profiles():
    """Profiles that make build_route refuse some configurations, or take other paths."""
    rng = np.random.default_rng(5)
    base = progressive_profile(64, rng)
    prog, out = base.progressive, base.outcomes
    yield "base", base, base
    # an exit without confidences: every threshold refused
    conf = {k: v for k, v in out.confidence.items() if k != "e5"}
    yield "no e5 confidence", base.model_copy(
        update={"outcomes": Outcomes(samples=64, correct=dict(out.correct), confidence=conf)}), base
    # exits without outcomes of their own: ranked bits; the final exit without bits
    correct = {"full": out.correct["full"], "e0": out.correct["e0"]}
    yield "ranked", base.model_copy(
        update={"outcomes": Outcomes(samples=64, correct=correct,
                                     confidence=dict(out.confidence))}), base
    # no outcomes: thresholds refused, accuracy = top1
    yield "no outcomes", base.model_copy(update={"outcomes": None}), base
    # splits without per-sample bytes, encode and decode given per split
    splits = tuple(s.model_copy(update={
        "bytes": s.bytes.model_copy(update={"int8_lz4_per_sample": None}),
        "encode_ms": 0.25 * i, "decode_ms": 0.5}) for i, s in enumerate(prog.splits))
    yield "mean bytes", base.model_copy(
        update={"progressive": prog.model_copy(update={"splits": splits,
                                                       "codec_encode_ms": 0.7})}), base
    # a server without server_ms at some splits, and without the variant (no cloud only)
    srv_splits = tuple(s.model_copy(update={"server_ms": None}) if i % 3 == 0 else s
                       for i, s in enumerate(prog.splits))
    srv = make_profile("pp", [("other", 1_000_000, 2.0, 0.9)], kind="progressive",
                       progressive=prog.model_copy(update={"splits": srv_splits,
                                                           "codec_decode_ms": 0.3}))
    yield "partial server", base, srv
    # exits out of FLOPs order, and a split before every exit
    exits = tuple(reversed(prog.exits[:-1])) + (prog.exits[-1],)
    yield "unordered exits", base.model_copy(
        update={"progressive": prog.model_copy(update={"exits": exits})}), base
    # not progressive at all
    yield "fixed", make_profile("f", [("v", 1_000_000, 5.0, 0.7)], kind="fixed"), None


ODD = list(_odd_profiles())


@pytest.mark.parametrize("name,profile,server", ODD, ids=[n for n, _, _ in ODD])
def test_table_equals_routes_on_odd_profiles(name, profile, server):
    for ths in THRESHOLD_SETS:
        for upload in (None, 5000.0):
            assert_same(fresh_table(profile, server, upload, ths), reference_table(profile, server,
                                                                         upload, ths))


def test_table_cached_by_content():
    path = PROFILES / "cpu-1t" / "spinn-resnet.json"
    srv_path = PROFILES / "cpu-2t" / "spinn-resnet.json"
    a, b = load_profile(path), load_profile(path)
    sa, sb = load_profile(srv_path), load_profile(srv_path)
    assert a is not b
    t = config_table(a, sa, None, DEFAULT_THRESHOLDS)
    assert config_table(b, sb, None, DEFAULT_THRESHOLDS) is t  # loaded again: the same table
    assert not t.device_s.flags.writeable  # shared: nobody may change it
    # anything else in the key gives another table
    assert config_table(b, sb, 1000.0, DEFAULT_THRESHOLDS) is not t
    assert config_table(b, None, None, DEFAULT_THRESHOLDS) is not t
    assert config_table(b, sb, None, DEFAULT_THRESHOLDS, with_splits=False) is not t
    one = config_table(b, sb, None, (None, 1))
    one_f = config_table(b, sb, None, (None, 1.0))
    assert one is not one_f and type(one.thresholds[1]) is int and type(one_f.thresholds[1]) is float
    # another content (a profile changed in code) gives its own table
    prog = a.progressive
    slower = a.model_copy(update={"progressive": prog.model_copy(update={
        "splits": tuple(s.model_copy(update={"device_ms": s.device_ms * 2})
                        for s in prog.splits)})})
    t2 = config_table(slower, sa, None, DEFAULT_THRESHOLDS)
    assert t2 is not t
    assert_same(t2, reference_table(slower, sa, None, DEFAULT_THRESHOLDS))
    # ``extra`` is not part of the key (no code reads it)
    noted = a.model_copy(update={"extra": {"note": "x"}})
    assert config_table(noted, sa, None, DEFAULT_THRESHOLDS) is t


# the quadratic loop, kept in the module for sizes that are not whole numbers, is the
# reference the linear version must equal
_old_eviction_order = _eviction_order_sums


@pytest.mark.parametrize("n", [0, 1, 2, 5, 30, 1000])
def test_eviction_order_equals_quadratic(n):
    rng = np.random.default_rng(n)
    for trial in range(40 if n < 1000 else 6):
        # short names from a small alphabet: ties in priority and repeated names happen
        names = ["".join(rng.choice(list("abc"), rng.integers(1, 4))) for _ in range(n)]
        if trial % 2:
            names = sorted(names)
        prio = {nm: float(rng.choice([1.0, 2.0, 3.0, 0.5])) for nm in names}
        mem = {nm: int(rng.integers(1, 100)) * 1_000_000 for nm in names}
        total = sum(mem[nm] for nm in names)
        budget = int(total * rng.uniform(0.0, 1.2)) if n else int(rng.integers(0, 10**8))
        max_apps = None if trial % 3 == 0 else int(rng.integers(0, n + 2))
        args = (names, prio.__getitem__, mem.__getitem__, budget, max_apps)
        assert eviction_order(*args) == _old_eviction_order(*args)
    # sizes that are not whole numbers: the sums are recomputed as before
    names = [f"app{i:04d}" for i in range(n)]
    fmem = {nm: float(rng.uniform(0.1, 3.0)) for nm in names}
    args = (names, lambda nm: 1.0, fmem.__getitem__, 0.5 * n, None)
    assert eviction_order(*args) == _old_eviction_order(*args) == _eviction_order_sums(*args)


def test_bench_decision_columns():
    from sim.bench import SCENARIOS, bench_run_decisions
    from sim.bench.decisions import bench_decisions

    row = bench_run_decisions(SCENARIOS / "spinn_bandwidth.yaml", "spinn")
    assert (0 < row["median_ms_per_app"] <= row["p90_ms_per_app"] <= row["p99_ms_per_app"]
            <= row["max_ms_per_app"])
    [r] = [r for r in bench_decisions(app_counts=(3,), trials=3, solvers=("greedy",))
           if r["objective"] == "minmax"]
    assert 0 < r["median_ms"] <= r["p90_ms"] <= r["p99_ms"] <= r["max_ms"]
