"""SPINN family: exit placement, SDN loss weights, exit policy, split correctness, profile."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

torch = pytest.importorskip("torch")
torch.set_num_threads(1)

from models.codec import decode, encode  # noqa: E402
from models.data import load_data, shrink  # noqa: E402
from models.measure import MeasureSettings  # noqa: E402
from models.registry import ModelsUserError, create_family, list_families  # noqa: E402
from models.spinn import (  # noqa: E402
    EXIT_TARGETS,
    Prefix,
    SpinnResNet,
    Suffix,
    accuracy_at,
    exit_index,
    exit_rates,
    place_exits,
)
from models.spinn.build import backbone_config, build_net, unit_flops  # noqa: E402
from models.spinn.exits import cumulative_fractions  # noqa: E402
from models.spinn.training import SdnLoss, joint_loss, sdn_weights  # noqa: E402
from sim.profile import load_profile, save_profile  # noqa: E402


@pytest.fixture(scope="module")
def data():  # type: ignore[no-untyped-def]
    return shrink(load_data("digits"), train=256, val=32, test=64)


@pytest.fixture(scope="module", params=["spinn-resnet", "spinn-vgg"])
def trained(request, data, tmp_path_factory):  # type: ignore[no-untyped-def]
    ckpt = tmp_path_factory.mktemp("spinn")
    fam = create_family(request.param, scale="tiny", seed=0)
    fam.train(data, ckpt, progress=False)
    return fam, ckpt


@pytest.fixture(scope="module")
def profile(data, trained):  # type: ignore[no-untyped-def]
    fam, ckpt = trained
    return fam.build_profile(data, ckpt, MeasureSettings(device="cpu-1t", warmup=1, repeats=3))


# --- exit placement -------------------------------------------------------------------------

def test_place_exits_on_equal_units_hits_the_targets_exactly() -> None:
    # 20 equal units: cumulative fractions 0.05, 0.10, ..., 1.0
    placed = place_exits([1.0] * 20)
    assert placed == [(2, 0.15), (5, 0.30), (8, 0.45), (11, 0.60), (14, 0.75), (17, 0.90)]


def test_place_exits_never_uses_the_last_unit_or_a_unit_twice() -> None:
    placed = place_exits([1.0, 1.0, 1.0, 10.0])  # fractions .077 .154 .231 1.0
    assert [u for u, _ in placed] == [1, 2]  # .15 -> unit 1; .30+ -> unit 2, later ones dropped
    assert place_exits([5.0]) == []


@pytest.mark.parametrize("arch", ["resnet", "vgg"])
@pytest.mark.parametrize("scale", ["tiny", "standard"])
def test_exits_sit_at_the_unit_closest_to_their_flop_target(arch: str, scale: str) -> None:
    cfg = backbone_config(arch, scale, 10, (3, 32, 32))
    net = build_net(cfg, torch.Generator().manual_seed(0))
    fractions = cumulative_fractions(unit_flops(net.backbone))
    candidates = fractions[:-1]
    for unit, target in zip(net.exit_units, net.exit_targets, strict=True):
        best = min(abs(f - target) for f in candidates)
        assert abs(fractions[unit] - target) == pytest.approx(best)
        assert abs(fractions[unit] - target) < 0.1
    if scale == "standard" and arch == "resnet":
        assert net.exit_targets == EXIT_TARGETS  # deep enough for all six exits


# --- SDN loss weights -------------------------------------------------------------------------

def test_sdn_weights_warm_up_linearly_to_their_ceiling() -> None:
    tau = [0.15, 0.30, 0.90]
    assert sdn_weights(1, 10, tau) == pytest.approx([0.025, 0.04, 0.10])
    assert sdn_weights(10, 10, tau) == pytest.approx(tau)
    assert sdn_weights(5, 5, tau) == pytest.approx(tau)  # capped: 0.01 + tau > tau
    series = [sdn_weights(e, 10, tau) for e in range(1, 11)]
    assert all(a <= b for prev, cur in zip(series, series[1:]) for a, b in zip(prev, cur))
    with pytest.raises(ValueError):
        sdn_weights(0, 10, tau)


def test_joint_loss_is_weighted_exit_ce_plus_final_ce() -> None:
    g = torch.Generator().manual_seed(0)
    logits = [torch.randn(8, 10, generator=g) for _ in range(3)]
    y = torch.randint(0, 10, (8,), generator=g)
    ce = torch.nn.functional.cross_entropy
    expect = 0.2 * ce(logits[0], y) + 0.5 * ce(logits[1], y) + ce(logits[2], y)
    assert float(joint_loss(logits, y, [0.2, 0.5])) == pytest.approx(float(expect))


def test_sdn_loss_advances_the_epoch_every_steps_per_epoch_calls() -> None:
    loss = SdnLoss([0.3], epochs=3, steps_per_epoch=2)
    logits = [torch.zeros(2, 4), torch.zeros(2, 4)]
    y = torch.zeros(2, dtype=torch.long)
    seen = []
    for _ in range(6):
        seen.append(loss.epoch)
        loss(logits, y)
    assert seen == [1, 1, 2, 2, 3, 3]
    assert loss.weights() == pytest.approx([0.3])


# --- exit policy ------------------------------------------------------------------------------

conf_arrays = hnp.arrays(
    np.float64, st.tuples(st.integers(1, 7), st.integers(0, 40)), elements=st.floats(0, 1)
)


@settings(max_examples=100, deadline=None)
@given(conf=conf_arrays, a=st.floats(0, 1), b=st.floats(0, 1))
def test_higher_threshold_never_exits_earlier(conf: np.ndarray, a: float, b: float) -> None:
    lo, hi = min(a, b), max(a, b)
    assert np.all(exit_index(conf, lo) <= exit_index(conf, hi))
    # so the share leaving at or before any exit can only fall
    cum_lo, cum_hi = np.cumsum(exit_rates(conf, lo)), np.cumsum(exit_rates(conf, hi))
    assert np.all(cum_hi <= cum_lo + 1e-12)


def test_exit_policy_picks_first_confident_exit() -> None:
    conf = np.array([[0.2, 0.9, 0.5], [0.7, 0.95, 0.4], [0.1, 0.1, 0.1]])
    assert exit_index(conf, 0.6).tolist() == [1, 0, 2]
    assert exit_index(conf, 1.01).tolist() == [2, 2, 2]  # final always answers
    correct = np.array([[1, 0, 1], [1, 1, 1], [0, 0, 0]], dtype=bool)
    assert accuracy_at(correct, conf, 0.6) == pytest.approx(1 / 3)
    assert exit_rates(conf, 0.0).tolist() == [1.0, 0.0, 0.0]


@settings(max_examples=30, deadline=None)
@given(a=st.floats(0, 1), b=st.floats(0, 1))
def test_trained_network_exits_are_monotone_in_threshold(profile, a: float, b: float) -> None:  # type: ignore[no-untyped-def]
    names = [e.name for e in profile.progressive.exits]
    conf = np.array([profile.outcomes.confidence[n] for n in names]) / 1000.0
    lo, hi = min(a, b), max(a, b)
    assert np.all(exit_index(conf, lo) <= exit_index(conf, hi))


# --- splits -----------------------------------------------------------------------------------

def test_prefix_then_suffix_equals_the_full_forward_at_every_split(data, trained) -> None:  # type: ignore[no-untyped-def]
    net, _ = trained[0].load(trained[1])
    x = data.test.tensors[0][:4]
    with torch.inference_mode():
        outs = net(x)
        for unit in range(len(net.backbone.units)):
            act, exits = Prefix(net, unit)(x)
            assert torch.allclose(Suffix(net, unit)(act), outs[-1], atol=1e-5)
            before = [i for i, u in enumerate(net.exit_units) if u <= unit]
            assert len(exits) == len(before)
            for i, logits in zip(before, exits, strict=True):
                assert torch.allclose(logits, outs[i], atol=1e-5)
            # the codec carries the activation with at most half a quantisation step of error
            a = act[0].numpy()
            step = float(a.max() - a.min()) / 255
            assert np.abs(decode(encode(a)) - a).max() <= step / 2 + 1e-5


# --- the family and its profile ---------------------------------------------------------------

def test_families_are_registered() -> None:
    assert {"spinn-resnet", "spinn-vgg"} <= set(list_families())


def test_profile_fields_and_round_trip(profile, data, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    prog = profile.progressive
    n = len(data.test)
    assert profile.kind == "progressive" and [v.id for v in profile.variants] == ["full"]
    assert prog.exits[-1].name == "final" and prog.exits[-1].flops_fraction == 1.0
    fr = [e.flops_fraction for e in prog.exits]
    assert fr == sorted(fr) and len(set(fr)) == len(fr)
    assert len(prog.splits) == len(profile.extra["unit_flops"]) - 1  # all but the last unit
    assert [s.name for s in prog.splits] == list(profile.extra["unit_flops"])[:-1]
    for s in prog.splits:
        b = s.bytes
        assert b.int8 < b.fp32 and b.int8_lz4_mean <= b.int8
        assert len(b.int8_lz4_per_sample) == n and np.mean(b.int8_lz4_per_sample) == b.int8_lz4_mean
        assert s.device_ms > 0 and s.server_ms > 0
    assert prog.codec_encode_ms > 0 and prog.codec_decode_ms > 0
    assert prog.input_bytes == 32 * 32
    names = {e.name for e in prog.exits}
    assert set(profile.outcomes.correct) == names | {"full"}
    assert set(profile.outcomes.confidence) == names
    assert profile.outcomes.correct["full"] == profile.outcomes.correct["final"]
    for e in prog.exits:
        bits = profile.outcomes.correct[e.name]
        assert e.top1 == pytest.approx(bits.count("1") / n)
    assert load_profile(save_profile(profile, tmp_path / "p.json")) == profile


def test_training_is_resumable_and_loading_untrained_fails(data, trained, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    fam, ckpt = trained
    stamp = {p: p.stat().st_mtime_ns for p in Path(ckpt).iterdir()}
    fam.train(data, ckpt, progress=False)  # finished stage: skipped
    assert {p: p.stat().st_mtime_ns for p in Path(ckpt).iterdir()} == stamp
    with pytest.raises(ModelsUserError, match="train it first"):
        type(fam)(scale="tiny", seed=1).load(ckpt)
    with pytest.raises(ModelsUserError, match="classes"):
        SpinnResNet(scale="tiny", classes=3).train(data, tmp_path, progress=False)
    with pytest.raises(ModelsUserError, match="scale"):
        create_family(fam.name, scale="huge")


def test_checkpoint_name_follows_the_configuration() -> None:
    names = {SpinnResNet(scale=s, classes=c)._stage() for s in ("tiny", "standard") for c in (3, 10)}
    assert len(names) == 4  # a changed network trains afresh instead of loading unfit weights
    assert SpinnResNet(scale="tiny")._stage() == SpinnResNet(scale="tiny")._stage()
