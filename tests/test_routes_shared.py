"""Routes are shared by profile content, not built per app or per load: equal profiles (the
same family run by many apps, or loaded again by a later run) get the same Route object,
and anything that changes a route gives another. The content digest behind it sees every
per-sample value; an exit table's populations built from counts equal the per-sample ones."""

from __future__ import annotations

import gc
from pathlib import Path

import numpy as np

from sim.profile import load_profile
from sim.profile.digest import content_key, per_sample_ints, server_key
from sim.profile.routes import ExitPopulation, _populate, build_route, ranked_bits
from sim.profile.shared_cache import SharedCache

PROFILES = Path(__file__).resolve().parent.parent / "profiles"
RESNET = PROFILES / "cpu-1t" / "spinn-resnet.json"
RESNET_SERVER = PROFILES / "cpu-2t" / "spinn-resnet.json"


def test_equal_profiles_share_one_route_and_others_get_their_own() -> None:
    a, b = load_profile(RESNET), load_profile(RESNET)
    sa, sb = load_profile(RESNET_SERVER), load_profile(RESNET_SERVER)
    route = build_route(a, "full", "s2b1", 0.6, sa, None)
    assert build_route(b, "full", "s2b1", 0.6, sb, None) is route  # another app, another load
    assert build_route(b, "full", "s2b1", 0.7, sb, None) is not route
    assert build_route(b, "full", "s2b2", 0.6, sb, None) is not route
    assert build_route(b, "full", "s2b1", 0.6, sb, 100.0) is not route
    one = build_route(b, "full", None, 1, None, None)
    assert build_route(b, "full", None, 1.0, None, None) is not one  # the plan keeps its type
    assert one.threshold == 1 and type(one.threshold) is int
    prog = a.progressive
    assert prog is not None
    slower = a.model_copy(update={"progressive": prog.model_copy(update={
        "exits": tuple(e.model_copy(update={"device_ms": e.device_ms + 1}) for e in prog.exits)})})
    other = build_route(slower, "full", "s2b1", 0.6, sa, None)
    assert other is not route and other.device_work != route.device_work


def test_the_digest_sees_every_per_sample_value_and_leaves_out_extra() -> None:
    a = load_profile(RESNET)
    out, prog = a.outcomes, a.progressive
    assert out is not None and prog is not None
    key = content_key(a)
    assert key is not None and content_key(load_profile(RESNET)) == key
    conf = dict(out.confidence)
    conf["exit3"] = (conf["exit3"][0] + 1,) + conf["exit3"][1:]
    bits = dict(out.correct)
    bits["exit2"] = bits["exit2"][:-1] + ("1" if bits["exit2"][-1] == "0" else "0")
    per = prog.splits[4].bytes.int8_lz4_per_sample
    assert per is not None
    split = prog.splits[4].model_copy(update={"bytes": prog.splits[4].bytes.model_copy(
        update={"int8_lz4_per_sample": (*per[:-1], per[-1] + 70000)})})  # past uint16
    changed = [
        a.model_copy(update={"outcomes": out.model_copy(update={"confidence": conf})}),
        a.model_copy(update={"outcomes": out.model_copy(update={"correct": bits})}),
        a.model_copy(update={"progressive": prog.model_copy(update={
            "splits": prog.splits[:4] + (split,) + prog.splits[5:]})}),
    ]
    keys = {content_key(p) for p in changed}
    assert key not in keys and len(keys) == 3
    assert content_key(a.model_copy(update={"extra": {"note": "x"}})) == key
    ints = per_sample_ints(changed[2])[("bytes", "4")]
    assert isinstance(ints, np.ndarray) and ints.dtype == np.dtype("<u4")
    assert ints.tolist() == list(split.bytes.int8_lz4_per_sample or ())


def test_a_servers_part_leaves_out_its_outcomes_but_not_its_times() -> None:
    s = load_profile(RESNET_SERVER)
    assert s.outcomes is not None and s.progressive is not None
    assert server_key(s.model_copy(update={"outcomes": None})) == server_key(s)
    sp = s.progressive
    faster = s.model_copy(update={"progressive": sp.model_copy(update={
        "splits": tuple(x.model_copy(update={"server_ms": (x.server_ms or 0) / 2})
                        for x in sp.splits)})})
    assert server_key(faster) != server_key(s)


def test_ranked_bits_are_built_once_per_content_and_read_only() -> None:
    a, b = load_profile(RESNET), load_profile(RESNET)
    bits = ranked_bits(a, "candidate", 0.5)
    assert ranked_bits(b, "candidate", 0.5) is bits and not bits.flags.writeable
    assert ranked_bits(b, "candidate", 0.25) is not bits


def _old_population(table, row: int, samples: int, final_top1: float):
    """The population as it was built before: per-sample arrays straight from one row."""
    width = len(table.exits)
    cum = np.rint(np.asarray(table.left_by[row], dtype=np.float64) * samples).astype(np.int64)
    cum = np.minimum(np.maximum.accumulate(cum), samples)
    cum[-1] = samples
    size = np.diff(cum, prepend=0)
    block = np.repeat(np.arange(width), size)
    pos = np.arange(samples) - np.repeat(cum - size, size)
    own_acc = np.array([x if x is not None else 0.0 for x in table.accuracy[row]])
    if table.final_accuracy is not None:
        fin_acc = np.array([x if x is not None else 0.0 for x in table.final_accuracy[row]])
    else:
        fin_acc = np.full(width, final_top1)
    fin_acc[-1] = own_acc[-1]
    own = pos < np.repeat(np.rint(own_acc * size), size)
    final = pos < np.repeat(np.rint(fin_acc * size), size)
    return block, own, final


def _same_populations(table, samples_in_profile: int) -> None:
    for final_top1 in (0.8, 0.0):
        for samples in (samples_in_profile, 997):
            for row, pop in enumerate(_populate(table, samples, final_top1)):
                assert isinstance(pop, ExitPopulation)
                block, own, final = _old_population(table, row, samples, final_top1)
                assert np.array_equal(pop.block, block)
                assert np.array_equal(pop.own, own)
                assert np.array_equal(pop.final, final)


def test_populations_from_counts_equal_the_per_sample_ones() -> None:
    for device, family in (("a1.medium", "portend-efficientnet-b0"),
                           ("a1.large", "portend-resnet110")):
        prof = load_profile(PROFILES / device / f"{family}.json")
        out = prof.outcomes
        assert out is not None and out.exit_table is not None
        for table in (out.exit_table, out.exit_table.model_copy(update={"final_accuracy": None})):
            _same_populations(table, out.samples)


def test_the_shared_cache_keeps_the_latest_within_its_budget_and_what_is_in_use() -> None:
    cache: SharedCache[np.ndarray] = SharedCache(4, len)
    a = cache.put("a", np.zeros(3))
    cache.put("b", np.zeros(2))  # over budget: "a" is no longer kept for later...
    assert cache.get("b") is not None
    assert cache.get("a") is a  # ...but still shared while in use
    del a
    gc.collect()
    assert cache.get("a") is None
    cache.put("huge", np.zeros(5))  # larger than the budget: shared while in use only
    assert cache.get("huge") is None and cache.get("b") is not None
