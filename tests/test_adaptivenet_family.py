"""AdaptiveNet family: subnet encoding, elastified supernet, training stages, search, profile."""

from __future__ import annotations

import re
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

torch = pytest.importorskip("torch")
torch.set_num_threads(1)

from models.adaptivenet import (  # noqa: E402
    SCALES,
    SKIP,
    BlockTable,
    Candidate,
    ElasticResNet,
    ElasticSpace,
    ResNetBackbone,
    SubnetConfig,
    crossover,
    evolve,
    fitness,
    nearby_init,
    nearby_mutate,
    pareto_pool,
    span,
)
from models.adaptivenet.blocks import Bottleneck, merged_block, shrunk_block  # noqa: E402
from models.adaptivenet.distill import distill, finetune  # noqa: E402
from models.adaptivenet.latency import cover_set, measure_table, table_key  # noqa: E402
from models.adaptivenet.profiling import POOL_FLOOR, POOL_GAP, POOL_TIE  # noqa: E402
from models.data import load_data, shrink  # noqa: E402
from models.measure import MeasureSettings  # noqa: E402
from models.registry import create_family  # noqa: E402
from models.train import TrainConfig  # noqa: E402

TINY = replace(SCALES["tiny"], in_channels=1, classes=10)


def _assert_valid(space: ElasticSpace, cfg: SubnetConfig) -> None:
    g = cfg.choices
    assert len(g) == space.positions
    i = 0
    while i < space.positions:
        assert g[i] in space.choices_at(i) and g[i] != SKIP
        assert all(g[j] == SKIP for j in range(i + 1, i + span(g[i])))
        i += span(g[i])
    assert i == space.positions


spaces = st.builds(ElasticSpace, positions=st.integers(1, 12), max_merge=st.integers(0, 3),
                   shrink=st.sampled_from([(), (-1,), (-1, -2)]))


# --- the encoding ---------------------------------------------------------------------------

@settings(max_examples=60, deadline=None)
@given(space=spaces, seed=st.integers(0, 2**32 - 1))
def test_sampled_mutated_and_crossed_subnets_are_valid(space: ElasticSpace, seed: int) -> None:
    rng = np.random.default_rng(seed)
    table = BlockTable(0.1, 0.1, {k: 1.0 + 0.1 * k[1] for k in space.block_keys()})
    a, b = space.sample(rng), space.sample(rng)
    for cfg in (a, b, crossover(a, b, space, rng), nearby_mutate(a, space, table, rng, 0.5)):
        _assert_valid(space, cfg)
        assert space.check(cfg) == cfg
        assert SubnetConfig.from_dict(cfg.to_dict()) == cfg


@settings(max_examples=60, deadline=None)
@given(space=spaces, genes=st.lists(st.sampled_from([-2, -1, 0, 1, 2, 3, SKIP]), max_size=12))
def test_normalise_repairs_any_gene_list(space: ElasticSpace, genes: list[int]) -> None:
    genes = (genes + [0] * space.positions)[: space.positions]
    genes = [g if g in (0, 1, 2, 3, SKIP) or g in space.shrink else 0 for g in genes]
    genes = [min(g, space.max_merge) if g != SKIP else g for g in genes]
    _assert_valid(space, space.normalise(genes))


def test_count_matches_enumeration_and_bad_subnets_are_named() -> None:
    space = ElasticSpace(6)
    cfgs = list(space.enumerate())
    assert len(cfgs) == len(set(cfgs)) == space.count() == 1316  # a(n)=3a(n-1)+a(n-2)+a(n-3)
    with pytest.raises(ValueError, match="gene 1 = 0: inside a merge"):
        space.check(SubnetConfig((1, 0, 0, 0, 0, 0)))
    with pytest.raises(ValueError, match="gene 5 = 1"):
        space.check(SubnetConfig((0, 0, 0, 0, 0, 1)))


# --- blocks and the supernet ----------------------------------------------------------------

def test_merged_and_shrunk_blocks_keep_shapes_and_inherit_weights() -> None:
    torch.manual_seed(0)
    blocks = [Bottleneck(8, 4, 16, 1), Bottleneck(16, 4, 16, 1), Bottleneck(16, 8, 32, 2)]
    x = torch.randn(2, 8, 16, 16)
    for extra in (1, 2):
        m = merged_block(blocks, 0, extra).eval()
        ref = x
        for b in blocks[: extra + 1]:
            ref = b.eval()(ref)
        assert m(x).shape == ref.shape
        assert torch.equal(m.conv1.weight, blocks[0].conv1.weight)
    s = shrunk_block(blocks[2], 0.5)
    assert s.mid == 4 and s.conv1.out_channels == 4 and s(torch.randn(2, 16, 8, 8)).shape[1] == 32
    keep = torch.argsort(blocks[2].conv1.weight.abs().flatten(1).sum(1), descending=True)[:4]
    assert {tuple(r.flatten().tolist()) for r in s.conv1.weight} == {
        tuple(blocks[2].conv1.weight[k].flatten().tolist()) for k in keep}


def test_export_equals_supernet_for_random_subnets() -> None:
    torch.manual_seed(1)
    net = ElasticResNet(TINY).eval()
    x = torch.randn(3, 1, 32, 32)
    rng = np.random.default_rng(0)
    for _ in range(15):
        cfg = net.sample_subnet(rng)
        net.set_active_subnet(cfg)
        with torch.no_grad():
            assert torch.equal(net(x), net.export_subnet(cfg).eval()(x)), cfg.key
    assert net.active_subnet() == cfg
    small = net.smallest_subnet()
    flops = net.block_flops()
    total = sum(flops[t] for t in small.tokens())
    assert all(total <= sum(flops[t] for t in c.tokens()) for c in net.space.enumerate())


def test_config_round_trip_gives_the_same_architecture() -> None:
    net = ElasticResNet(TINY)
    twin = ElasticResNet.from_config(net.to_config())
    assert {k: v.shape for k, v in twin.state_dict().items()} == {
        k: v.shape for k, v in net.state_dict().items()}


def test_cover_set_holds_every_block_and_the_table_has_every_piece() -> None:
    torch.manual_seed(3)
    net = ElasticResNet(TINY)
    covers = cover_set(net.space, np.random.default_rng(0), per_block=2)
    assert covers[0] == net.space.original()
    for key in net.space.block_keys():
        assert sum(key in c.tokens() for c in covers) >= 2, key
    settings_ = MeasureSettings(device="t", warmup=1, repeats=2)
    for method in ("context", "isolated"):
        table, stats = measure_table(net, settings_, method=method)
        assert set(table.blocks) == set(net.space.block_keys())
        assert table.stem_ms > 0 and table.head_ms > 0 and min(table.blocks.values()) > 0


# --- training -------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def data():  # type: ignore[no-untyped-def]
    return shrink(load_data("digits", seed=0), 128, 60, 100, seed=0)


def _frozen_state(net: ElasticResNet) -> dict[str, torch.Tensor]:
    return {f"{k}.{n}": t.clone() for k, m in enumerate(net.original_modules())
            for n, t in m.state_dict().items()}


@pytest.mark.parametrize("stage", [distill, finetune])
def test_stages_train_branches_and_leave_the_original_untouched(stage, data) -> None:  # type: ignore[no-untyped-def]
    torch.manual_seed(2)
    net = ElasticResNet(TINY)
    before = _frozen_state(net)
    branches = {n: p.clone() for n, p in net.named_parameters() if p.requires_grad}
    losses = stage(net, data.train, TrainConfig(epochs=1, batch_size=32, optimizer="adam",
                                                lr=1e-2), seed=0, progress=False)
    assert len(losses) == 1 and np.isfinite(losses[0])
    after = _frozen_state(net)
    assert all(torch.equal(before[k], after[k]) for k in before)  # BN statistics included
    trained = dict(net.named_parameters())
    assert sum(not torch.equal(p, trained[n]) for n, p in branches.items()) > 10


@pytest.fixture(scope="module")
def trained(data, tmp_path_factory):  # type: ignore[no-untyped-def]
    fam = create_family("adaptivenet-resnet", scale="tiny", seed=0, classes=10,
                        input_shape=(1, 32, 32))
    ckpt = tmp_path_factory.mktemp("adaptivenet")
    fam.train(data, ckpt, progress=False)
    return fam, ckpt


def test_all_zeros_subnet_is_exactly_the_pretrained_model(trained, data) -> None:  # type: ignore[no-untyped-def]
    fam, ckpt = trained
    backbone: ResNetBackbone = fam.load_backbone(ckpt)
    net = fam.load_supernet(ckpt)
    x = data.test.tensors[0][:16]
    net.set_active_subnet(net.space.original())
    with torch.no_grad():
        assert torch.equal(net(x), backbone(x))
        assert torch.equal(net.export_subnet(net.space.original()).eval()(x), backbone(x))
    distilled = fam.load_supernet(ckpt, "distill").state_dict()
    changed = [k for k, v in net.state_dict().items() if not torch.equal(v, distilled[k])]
    frozen = re.compile(r"^(stem|head)\.|^branches\.\d+\.0\.")
    assert changed and not any(frozen.match(k) for k in changed)


# --- search ---------------------------------------------------------------------------------

def _table(positions: int = 9) -> BlockTable:
    rng = np.random.default_rng(5)
    blocks = {}
    for i, c in ElasticSpace(positions).block_keys():
        base = 1.0 + 0.3 * rng.random()
        blocks[(i, c)] = {0: base, 1: 1.15 * base, 2: 1.3 * base, -1: 0.8 * base,
                          -2: 0.6 * base}[c]
    return BlockTable(0.5, 0.2, blocks)


def _accuracy(cfg: SubnetConfig) -> float:
    """A synthetic accuracy that rewards original blocks (so the search pushes to the budget)."""
    return sum({0: 1.0, -1: 0.8, -2: 0.6, 1: 1.5, 2: 1.9}[c] for c in cfg.choices if c != SKIP) / 9


def test_nearby_init_starts_inside_the_band() -> None:
    space, table = ElasticSpace(9), _table()
    budget = 0.7 * table.predict(space.original())
    init = nearby_init(space, table, budget, 40, np.random.default_rng(0))
    assert len(set(init)) == 40
    assert all(0.9 * budget < table.predict(c) < 1.1 * budget for c in init)


def test_nearby_mutate_keeps_latency_near_the_parent() -> None:
    space, table = ElasticSpace(9), _table()
    budget = 0.7 * table.predict(space.original())
    rng = np.random.default_rng(1)
    parents = nearby_init(space, table, budget, 60, rng)
    dev = {True: [], False: []}
    for comp in (True, False):
        r = np.random.default_rng(2)
        for p in parents * 10:
            child = nearby_mutate(p, space, table, r, 0.2, compensate=comp)
            dev[comp].append(abs(table.predict(child) - table.predict(p)) / budget)
    assert np.mean(dev[True]) < 0.75 * np.mean(dev[False])
    assert np.mean(np.array(dev[True]) < 0.1) > 0.9


def test_fitness_sinks_every_infeasible_candidate() -> None:
    assert fitness(0.5, 9.0, 10.0) == 0.5
    assert fitness(1.0, 10.5, 10.0) < fitness(0.0, 10.0, 10.0)


@pytest.mark.parametrize("factor", [0.5, 0.7, 0.95])
def test_search_returns_a_feasible_best_when_one_exists(factor: float) -> None:
    space, table = ElasticSpace(9), _table()
    budget = factor * table.predict(space.original())
    calls: list[int] = []

    def evaluate(cfgs):  # type: ignore[no-untyped-def]
        calls.append(len(cfgs))
        return [_accuracy(c) for c in cfgs]

    res = evolve(space, table, evaluate, budget, np.random.default_rng(3), population=20,
                 generations=3)
    feasible = [c for c in res.evaluated if c.latency_ms <= budget]
    assert feasible and res.best.latency_ms <= budget
    assert res.best.accuracy == max(c.accuracy for c in feasible)
    assert len({c.cfg for c in res.evaluated}) == len(res.evaluated)  # duplicates rejected
    assert sum(calls) == len(res.evaluated) and len(calls) == 4
    assert res.history[-1]["best_fitness"] >= res.history[0]["best_fitness"]


def test_pareto_pool_is_latency_sorted_and_accuracy_rising() -> None:
    c = [Candidate(SubnetConfig((k,)), lat, acc) for k, (lat, acc) in
         enumerate([(3.0, 0.5), (1.0, 0.2), (2.0, 0.1), (2.5, 0.6), (4.0, 0.6)])]
    assert [(p.latency_ms, p.accuracy) for p in pareto_pool(c)] == [(1.0, 0.2), (2.5, 0.6)]


def test_pool_drops_entries_a_barely_slower_one_beats_clearly() -> None:
    from models.adaptivenet.search import without_near_ties

    c = [Candidate(SubnetConfig((k,)), lat, acc) for k, (lat, acc) in
         enumerate([(4.36, 0.61), (4.40, 0.77), (4.41, 0.79), (5.2, 0.80), (7.3, 0.86)])]
    kept = [(x.latency_ms, x.accuracy) for x in without_near_ties(c, tie=0.05, gap=0.05)]
    # 4.36 ms is beaten by 16 points at 1 % more latency; 4.40 only by 2 points: kept
    assert kept == [(4.40, 0.77), (4.41, 0.79), (5.2, 0.80), (7.3, 0.86)]
    assert without_near_ties(c, tie=0.0, gap=0.05) == c  # nothing is as fast and better


# --- the profile ----------------------------------------------------------------------------

def test_profile_has_table_pool_and_search_records(trained, data) -> None:  # type: ignore[no-untyped-def]
    fam, ckpt = trained
    prof = fam.build_profile(data, ckpt, MeasureSettings(device="t", warmup=1, repeats=3))
    assert prof.kind == "elastified" and prof.variants[0].id == "original"
    lt = prof.lookup_table
    assert lt is not None and len(lt.samples) >= 50 and set(lt.error) >= {"mape", "within_10pct"}
    space = ElasticSpace(4)
    assert set(lt.blocks) == {table_key(space, i, c) for i, c in space.block_keys()}
    assert len(lt.blocks) == len(space.block_keys())
    for s in lt.samples:  # the profile alone reproduces each prediction
        genes, n = s["arch"]["choices"], prof.extra["choices_per_block"]
        pred = lt.stem_ms + lt.head_ms + sum(
            lt.blocks[f"b{i + 1}:c{c if c >= 0 else n[i] + c}"]
            for i, c in enumerate(genes) if c != SKIP)
        assert pred == pytest.approx(s["predicted_ms"])
    assert prof.pool is not None and prof.pool.block_bytes is not None
    pool = [prof.variant(i) for i in prof.pool.ids]
    assert all(v.id.startswith("pool-") for v in pool)
    sizes = prof.pool.block_bytes
    lats = [lt.stem_ms + lt.head_ms + sum(lt.blocks[k] for k in v.blocks[1:-1]) for v in pool]
    assert lats == sorted(lats)  # the frontier is latency-ordered
    # the rule that removes subnets no budget aims at: none faster than the floor (unless no
    # evaluated subnet reaches it), none beaten clearly by one barely slower
    floor = POOL_FLOOR * min(fam.spec.budgets) * prof.extra["original_table_ms"]
    table = [(v.arch["table_ms"], v.arch["val_top1"]) for v in pool]
    assert [t for t, _ in table] == pytest.approx(lats)
    evaluated = [t for t, _ in table] + [c.table_ms for c in prof.pool.search.candidates]
    if max(evaluated) >= floor:
        assert min(lats) >= floor - 1e-9
    assert not any(t2 <= t1 * (1 + POOL_TIE) and a2 >= a1 + POOL_GAP
                   for t1, a1 in table for t2, a2 in table)
    assert f"{POOL_FLOOR} x the tightest budget" in prof.pool.rule
    for v in prof.variants:  # the blocks a subnet holds are what it weighs
        assert v.blocks is not None and sum(sizes[k] for k in v.blocks) == v.weight_bytes
    a, b = pool[0], pool[-1]
    assert prof.switch_bytes(a.id, b.id) == sum(sizes[k] for k in set(b.blocks) - set(a.blocks))
    search = prof.pool.search
    assert search is not None and search.seconds > 0 and len(search.runs) == 2
    cands = {c.id for c in search.candidates}
    assert cands and not cands & {v.id for v in prof.variants}
    assert all(prof.variant(c).latency_ms.median > 0 for c in cands)  # runnable by id
    reuse = prof.extra["reuse_evaluation"]
    assert reuse["speedup"] > 0 and reuse["search_blocks_reuse"] < reuse["search_blocks_naive"]
    assert set(prof.extra["table_error_isolated"]) >= {"mape", "within_5pct"}
    assert prof.extra["train"]["seconds"] > 0
    assert set(prof.outcomes.correct) == {v.id for v in prof.variants}
