"""The once-for-all family: supernet contract, shrinking, predictor, table and profile."""

from __future__ import annotations

import dataclasses
import functools

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from torch.utils.data import TensorDataset

from models.data import load_data, shrink
from models.measure import MeasureSettings
from models.ofa.blocks import OFAConfig
from models.ofa.latency_table import predict_ms, subnet_keys, table_chains
from models.ofa.network import SCALES, OFAMobileNetV3
from models.ofa.predictor import ArchEncoder, fit_predictor
from models.ofa.shrinking import (
    ShrinkSettings,
    kd_loss,
    make_teacher,
    progressive_phases,
    train_phase,
)
from models.ofa.specialise import budgets_from_quantiles, specialise
from models.registry import ModelsUserError, create_family, list_families
from models.search import EvolutionSettings
from models.supernet import Supernet
from sim.profile import Profile

torch.set_num_threads(1)
ARCH = SCALES["tiny"]


@functools.lru_cache(maxsize=1)
def _net() -> OFAMobileNetV3:
    """A tiny supernet with non-trivial BN statistics (a few train-mode passes)."""
    torch.manual_seed(0)
    net = OFAMobileNetV3(ARCH)
    rng = np.random.default_rng(0)
    with torch.no_grad():
        for i in range(3):
            net.set_active_subnet(net.sample_subnet(rng) if i else net.largest_subnet())
            net.train()(torch.randn(8, 1, 32, 32))
    return net.eval()


def _x(n: int = 3) -> torch.Tensor:
    return torch.randn(n, 1, 32, 32, generator=torch.Generator().manual_seed(1))


@settings(max_examples=6, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_export_equals_supernet_with_active_config(seed):
    net = _net()
    cfg = net.sample_subnet(np.random.default_rng(seed))
    net.set_active_subnet(cfg)
    with torch.no_grad():
        want = net(_x())
        got = net.export_subnet(cfg).eval()(_x())
    torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-5)
    assert net.active_subnet() == cfg  # exporting does not change the active subnet


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_sampled_subnets_lie_in_the_space(seed):
    net = _net()
    cfg = net.sample_subnet(np.random.default_rng(seed))
    net.check_subnet(cfg)
    assert cfg.resolution in ARCH.resolutions
    assert len(cfg.depths) == ARCH.stages and set(cfg.depths) <= set(ARCH.depths)
    assert set(cfg.kernels) <= set(ARCH.kernels) and set(cfg.expands) <= set(ARCH.expands)
    assert OFAConfig.from_dict(cfg.to_dict()) == cfg


def test_restricted_sampling_and_bad_configs():
    net = _net()
    rng = np.random.default_rng(0)
    for _ in range(20):
        cfg = net.sample_subnet(rng, kernels=(7,), depths=(3, 4), expands=(6,))
        assert set(cfg.kernels) == {7} and set(cfg.depths) <= {3, 4}
    with pytest.raises(ValueError, match="kernels"):
        net.sample_subnet(rng, kernels=(9,))
    bad = dataclasses.replace(net.largest_subnet(), resolution=31)
    with pytest.raises(ValueError, match="resolution 31"):
        net.set_active_subnet(bad)


def test_config_round_trips():
    net = _net()
    cfg = net.sample_subnet(np.random.default_rng(5))
    d = cfg.to_dict()
    assert isinstance(d["depths"], list)
    assert OFAConfig.from_dict(d) == cfg and OFAConfig.from_dict(d).key == cfg.key
    with pytest.raises(ValueError, match="unknown fields"):
        OFAConfig.from_dict({**d, "width": 1})
    # unused slots do not change the key
    d2 = dataclasses.replace(cfg, depths=(2,) * ARCH.stages)
    k = list(d2.kernels)
    k[3] = 3 if k[3] != 3 else 5  # slot 3 (block 4 of stage 1) is unused at depth 2
    assert dataclasses.replace(d2, kernels=tuple(k)).key == d2.key
    clone = OFAMobileNetV3.from_config(net.to_config())
    assert isinstance(clone, Supernet) and clone.to_config() == net.to_config()
    clone.load_state_dict(net.state_dict())
    clone.eval().set_active_subnet(cfg)
    net.set_active_subnet(cfg)
    with torch.no_grad():
        torch.testing.assert_close(clone(_x()), net(_x()))
    with pytest.raises(ValueError, match="from_config"):
        OFAMobileNetV3.from_config({"name": "other"})


def test_channel_sorting_keeps_full_width_function_and_sorts():
    net = _net()
    torch.manual_seed(3)
    sorted_net = OFAMobileNetV3(ARCH)
    sorted_net.load_state_dict(net.state_dict())
    sorted_net.eval().set_active_subnet(net.largest_subnet())
    net.set_active_subnet(net.largest_subnet())
    with torch.no_grad():
        before = net(_x())
        sorted_net.sort_channels(0)
        after = sorted_net(_x())
    torch.testing.assert_close(after, before, rtol=1e-4, atol=1e-5)
    block = sorted_net.stages[1].blocks[0]
    imp = block.project.conv.weight.abs().sum(dim=(0, 2, 3))
    assert torch.all(imp[:-1] >= imp[1:])
    # stage 1 keeps the e=4 channel set in front of the rest
    narrow = block.mid(4)
    kept = set(block.project.conv.weight[:, :narrow].abs().sum((0, 2, 3)).tolist())
    block.sort_channels(1)
    assert set(block.project.conv.weight[:, :narrow].abs().sum((0, 2, 3)).tolist()) == kept


def test_kd_loss_is_soft_target_cross_entropy():
    s, t = torch.randn(4, 10), torch.randn(4, 10)
    torch.testing.assert_close(kd_loss(s, t), F.cross_entropy(s, F.softmax(t, 1)))


def _tiny_data(n: int = 32) -> TensorDataset:
    g = torch.Generator().manual_seed(0)
    return TensorDataset(torch.randn(n, 1, 32, 32, generator=g), torch.randint(0, 10, (n,), generator=g))


def test_progressive_shrinking_phases_train_with_distillation():
    phases = {p.name: p for p in progressive_phases(
        ARCH, dict.fromkeys(("full", "kernel", "depth1", "depth2", "expand1", "expand2"), 1))}
    assert phases["expand1"].sort_stage == 0 and phases["expand2"].sort_stage == 1
    assert phases["expand1"].expands == (4, 6) and phases["depth1"].depths == (3, 4)
    assert [p.subnets_per_step for p in phases.values()] == [1, 1, 2, 2, 4, 4]
    torch.manual_seed(0)
    net = OFAMobileNetV3(ARCH)
    teacher = make_teacher(net)
    data = _tiny_data()
    cfg = ShrinkSettings(batch_size=16)
    for name in ("kernel", "expand2"):
        before = [p.detach().clone() for p in net.parameters()]
        losses = train_phase(net, teacher, data, phases[name], cfg, torch.Generator().manual_seed(0),
                             np.random.default_rng(0), progress=False)
        assert len(losses) == 1 and np.isfinite(losses[0]) and losses[0] > 0
        changed = [not torch.equal(a, b) for a, b in zip(before, net.parameters(), strict=True)]
        assert sum(changed) > len(changed) // 2
    # the teacher is frozen
    assert all(not p.requires_grad for p in teacher.parameters())
    # the kernel transforms are trained away from the identity
    moved = [not torch.equal(m, torch.eye(len(m))) for st_ in net.stages for b in st_.blocks
             for m in b.dw.transforms.values()]
    assert any(moved)


def test_predictor_learns_a_function_of_the_encoding():
    net, enc = _net(), ArchEncoder(ARCH)
    rng = np.random.default_rng(0)
    cfgs = [net.sample_subnet(rng) for _ in range(120)]
    x = enc.encode_many(cfgs)
    assert x.shape == (120, enc.width) and set(np.unique(x)) <= {0.0, 1.0}
    y = 0.5 + 0.02 * np.array([sum(c.depths) + c.resolution / 8 for c in cfgs])
    model, m = fit_predictor(x, y, torch.Generator().manual_seed(0), hidden=32, epochs=150)
    assert m["rmse_heldout"] < 0.5 * m["rmse_mean_baseline"]


def test_latency_table_covers_every_subnet_and_search_stays_in_budget():
    net = _net()
    chains = table_chains(net)
    assert len(chains) == 27  # 3 resolutions x 3 kernels x 3 expands
    whole, links, x = chains[5]
    h = x
    for _, m in links:
        h = m(h)
    torch.testing.assert_close(h, whole(x))  # the links compose to the subnet
    mods = {k for _, links, _ in chains for k, _ in links}
    table = {k: float(len(k)) / 100 for k in mods}  # any positive numbers: a pure test of sums
    rng = np.random.default_rng(0)
    for _ in range(30):
        cfg = net.sample_subnet(rng)
        keys = subnet_keys(net, cfg)
        assert set(keys) <= set(mods)
        assert predict_ms(table, net, cfg) == pytest.approx(sum(table[k] for k in keys))
    enc = ArchEncoder(ARCH)
    cfgs = [net.sample_subnet(rng) for _ in range(40)]
    pred, _ = fit_predictor(enc.encode_many(cfgs), rng.random(40), torch.Generator().manual_seed(0),
                            hidden=16, epochs=5)
    budgets = budgets_from_quantiles(net, table, rng, (0.3,), samples=100)
    res = specialise(net, pred, table, budgets[0], rng, EvolutionSettings(population=10, generations=2))
    assert all(predict_ms(table, net, c) <= budgets[0] for c, _ in res.population)


@pytest.mark.slow
def test_family_trains_and_profiles_at_tiny_scale(tmp_path):
    assert "ofa-mbv3" in list_families()
    data = shrink(load_data("digits"), 48, 24, 40)
    fam = create_family("ofa-mbv3", scale="tiny")
    fam.train(data, tmp_path, progress=False)
    stored = sorted(p.name for p in tmp_path.glob("ofa-*.pt"))
    assert len(stored) == 8
    prof = fam.build_profile(data, tmp_path, MeasureSettings(device="cpu-test", warmup=1, repeats=2))
    Profile.model_validate(prof.model_dump())
    assert prof.kind == "supernet" and len(prof.variants) >= 2
    lt = prof.lookup_table
    assert len(lt.samples) >= 50 and set(lt.error) >= {"mape", "within_5pct", "within_10pct"}
    for v in prof.variants:
        assert v.arch["predicted_ms"] <= v.arch["budget_ms"] + 1e-9
        assert v.flops > 0 and v.weight_bytes > 0 and len(prof.outcomes.correct[v.id]) == 40
    assert prof.extra["predictor"]["n_heldout"] >= 1 and prof.extra["training_seconds_total"] > 0
    # resumable: a second train finds every stage and does nothing
    mtimes = {p: p.stat().st_mtime_ns for p in tmp_path.glob("ofa-*.pt")}
    fam.train(data, tmp_path, progress=False)
    assert mtimes == {p: p.stat().st_mtime_ns for p in tmp_path.glob("ofa-*.pt")}


def test_profile_without_training_is_a_one_line_error(tmp_path):
    fam = create_family("ofa-mbv3", scale="tiny")
    with pytest.raises(ModelsUserError, match="ofa-full.pt: missing; train the family first"):
        fam.build_profile(shrink(load_data("digits"), 8, 8, 8), tmp_path, MeasureSettings())
    with pytest.raises(ModelsUserError, match="unknown scale"):
        create_family("ofa-mbv3", scale="huge")
