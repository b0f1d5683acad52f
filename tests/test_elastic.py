"""Elastic operators equal plain torch layers at the max config, slice exactly below it, and
the shared supernet helpers (BN re-calibration, table timing, lookup error) do what they say."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from models.elastic import (
    DynamicBatchNorm2d,
    DynamicConv2d,
    DynamicDepthwiseConv2d,
    DynamicLinear,
    DynamicSE,
    ElasticStage,
    make_divisible,
)
from models.measure import MeasureSettings
from models.supernet import (
    lookup_error,
    measure_alternating,
    measure_block_table,
    measure_in_context,
    predict_latency,
    recalibrate_bn,
)

torch.set_num_threads(1)


def _x(*shape: int, seed: int = 0) -> torch.Tensor:
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed))


def test_dynamic_conv_at_max_is_plain_conv_and_slices_channels():
    dyn = DynamicConv2d(6, 10, kernel_size=3, stride=2)
    plain = nn.Conv2d(6, 10, 3, 2, 1, bias=False)
    plain.weight.data.copy_(dyn.conv.weight.data)
    x = _x(2, 6, 9, 9)
    torch.testing.assert_close(dyn(x), plain(x), rtol=0, atol=0)
    dyn.active_out = 4
    x4 = x[:, :3]
    want = F.conv2d(x4, dyn.conv.weight[:4, :3], None, 2, 1)
    torch.testing.assert_close(dyn(x4), want, rtol=0, atol=0)
    torch.testing.assert_close(dyn.export(3)(x4), want, rtol=0, atol=0)


def test_depthwise_max_kernel_is_plain_depthwise_conv():
    dyn = DynamicDepthwiseConv2d(5, (3, 5, 7), stride=1)
    plain = nn.Conv2d(5, 5, 7, 1, 3, groups=5, bias=False)
    plain.weight.data.copy_(dyn.weight.data)
    x = _x(2, 5, 8, 8)
    torch.testing.assert_close(dyn(x), plain(x), rtol=0, atol=0)


@pytest.mark.parametrize("kernel", [5, 3])
def test_identity_transforms_give_the_centre_crop(kernel):
    dyn = DynamicDepthwiseConv2d(4, (3, 5, 7), stride=2)
    dyn.active_kernel = kernel
    lo = (7 - kernel) // 2
    crop = dyn.weight[:, :, lo:lo + kernel, lo:lo + kernel]
    x = _x(1, 4, 11, 11)
    want = F.conv2d(x, crop, None, 2, kernel // 2, 1, 4)
    torch.testing.assert_close(dyn(x), want)
    torch.testing.assert_close(dyn.export(4)(x), want)


def test_kernel_transforms_are_learned_and_chained():
    dyn = DynamicDepthwiseConv2d(3, (3, 5, 7))
    assert set(dyn.transforms) == {"7to5", "5to3"}
    assert dyn.transforms["7to5"].shape == (25, 25) and dyn.transforms["5to3"].shape == (9, 9)
    with torch.no_grad():
        dyn.transforms["7to5"].add_(0.01 * _x(25, 25, seed=1))
        dyn.transforms["5to3"].add_(0.01 * _x(9, 9, seed=2))
    dyn.active_kernel = 3
    five = (dyn.weight[:, :, 1:6, 1:6].reshape(3, 25) @ dyn.transforms["7to5"]).view(3, 1, 5, 5)
    three = (five[:, :, 1:4, 1:4].reshape(3, 9) @ dyn.transforms["5to3"]).view(3, 1, 3, 3)
    torch.testing.assert_close(dyn.active_filter(3, 3), three)
    x = _x(2, 3, 6, 6)
    dyn(x).sum().backward()
    assert dyn.transforms["5to3"].grad is not None and dyn.transforms["7to5"].grad.abs().sum() > 0
    torch.testing.assert_close(dyn.export(3)(x), dyn(x))


def test_dynamic_bn_at_max_is_plain_bn_in_train_and_eval():
    dyn, plain = DynamicBatchNorm2d(6), nn.BatchNorm2d(6)
    with torch.no_grad():
        dyn.bn.weight.copy_(_x(6, seed=3))
        plain.weight.copy_(dyn.bn.weight)
    x = _x(4, 6, 5, 5)
    torch.testing.assert_close(dyn(x), plain(x))
    torch.testing.assert_close(dyn.bn.running_mean, plain.running_mean)
    dyn.eval()
    plain.eval()
    torch.testing.assert_close(dyn(x), plain(x))


def test_dynamic_bn_slice_updates_only_its_channels_and_exports():
    dyn = DynamicBatchNorm2d(6)
    x = _x(8, 3, 4, 4) + 2.0
    dyn(x)
    assert torch.all(dyn.bn.running_mean[:3] > 0.1)
    assert torch.all(dyn.bn.running_mean[3:] == 0) and torch.all(dyn.bn.running_var[3:] == 1)
    dyn.eval()
    want = F.batch_norm(x, dyn.bn.running_mean[:3], dyn.bn.running_var[:3],
                        dyn.bn.weight[:3], dyn.bn.bias[:3], False, 0.0, dyn.bn.eps)
    torch.testing.assert_close(dyn(x), want)
    torch.testing.assert_close(dyn.export(3).eval()(x), want)


def test_dynamic_linear_at_max_and_sliced():
    dyn = DynamicLinear(8, 3)
    plain = nn.Linear(8, 3)
    plain.load_state_dict(dyn.linear.state_dict())
    x = _x(5, 8)
    torch.testing.assert_close(dyn(x), plain(x), rtol=0, atol=0)
    x5 = x[:, :5]
    want = x5 @ dyn.linear.weight[:, :5].T + dyn.linear.bias
    torch.testing.assert_close(dyn(x5), want)
    torch.testing.assert_close(dyn.export(5)(x5), want)


@pytest.mark.parametrize("channels", [16, 24, 32])
def test_dynamic_se_export_matches(channels):
    se = DynamicSE(32)
    x = _x(2, channels, 4, 4)
    torch.testing.assert_close(se.export(channels)(x), se(x))


def test_elastic_stage_runs_first_blocks():
    blocks = [nn.Linear(2, 2) for _ in range(4)]
    stage = ElasticStage(blocks, min_depth=2)
    x = _x(3, 2)
    stage.active_depth = 2
    torch.testing.assert_close(stage(x), blocks[1](blocks[0](x)))
    with pytest.raises(ValueError, match="min_depth"):
        ElasticStage(blocks, min_depth=5)


def test_make_divisible():
    assert make_divisible(8 * 3, 8) == 24
    assert make_divisible(20, 8) == 24
    assert make_divisible(3, 8) == 8
    assert make_divisible(91, 8) == 88


def test_recalibrate_bn_uses_exact_batch_statistics():
    net = nn.Sequential(nn.Conv2d(2, 3, 1), nn.BatchNorm2d(3))
    net[1].running_mean.fill_(5.0)
    images = _x(64, 2, 3, 3)
    recalibrate_bn(net, images, batch_size=64)
    with torch.no_grad():
        h = net[0](images)
    torch.testing.assert_close(net[1].running_mean, h.mean((0, 2, 3)))
    torch.testing.assert_close(net[1].running_var, h.var((0, 2, 3), unbiased=True))
    assert not net.training and net[1].momentum == 0.1


def test_lookup_error_and_prediction():
    err = lookup_error([1.0, 2.0, 4.0, 10.0], [1.04, 2.3, 4.0, 9.0])
    assert err["within_5pct"] == 0.5 and err["within_10pct"] == 0.75
    assert err["mape"] == pytest.approx((4 + 15 + 0 + 10) / 4)  # percent, as in every profile
    assert err["n"] == 4 and err["max_abs_pct"] == pytest.approx(15)
    assert predict_latency({"a": 1.5, "b": 2.0}, ["a", "b", "a"]) == 5.0
    with pytest.raises(KeyError, match="'c'"):
        predict_latency({"a": 1.0}, ["c"])
    with pytest.raises(ValueError, match="equally long"):
        lookup_error([1.0], [1.0, 2.0])


def test_measure_block_table_times_every_key():
    blocks = {"small": (nn.Conv2d(2, 2, 1), _x(1, 2, 4, 4)),
              "big": (nn.Conv2d(2, 64, 5, padding=2), _x(1, 2, 32, 32))}
    stats = measure_block_table(blocks, MeasureSettings(warmup=1, repeats=5))
    assert set(stats) == {"small", "big"}
    assert all(s.median > 0 and s.p10 <= s.median <= s.p90 for s in stats.values())


def test_measure_in_context_shares_out_the_whole_time():
    a, b = nn.Conv2d(2, 8, 3, padding=1), nn.Conv2d(8, 2, 3, padding=1)
    whole = nn.Sequential(a, b)
    chains = [(whole, [("a", a), ("b", b)], _x(1, 2, 16, 16)),
              (nn.Sequential(a), [("a", a)], _x(1, 2, 16, 16))]
    stats, ratio = measure_in_context(chains, MeasureSettings(warmup=1, repeats=9))
    assert set(stats) == {"a", "b"} and ratio > 0
    assert all(s.median > 0 and s.p10 <= s.median <= s.p90 for s in stats.values())
    with pytest.raises(ValueError, match="at least one chain"):
        measure_in_context([], MeasureSettings())


class _Counted(nn.Module):
    """A 1x1 conv that counts its calls."""

    def __init__(self) -> None:
        super().__init__()
        self.conv, self.calls = nn.Conv2d(2, 2, 1), 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.calls += 1
        return self.conv(x)


def test_measure_alternating_pools_every_pass():
    link, checked = _Counted(), _Counted()
    chains = [(nn.Sequential(link), [("a", link)], _x(1, 2, 8, 8))]
    settings = MeasureSettings(warmup=1, repeats=4)
    stats, ratio, measured = measure_alternating(chains, [(checked, _x(1, 2, 8, 8))], settings,
                                                 passes=3)
    # per pass: warm-up + repeats through the link and again through the whole chain
    assert link.calls == 3 * 2 * 5 and checked.calls == 3 * 5
    assert set(stats) == {"a"} and ratio > 0 and len(measured) == 1
    assert 0 < measured[0].p10 <= measured[0].median <= measured[0].p90
    with pytest.raises(ValueError, match="passes must be >= 1"):
        measure_alternating(chains, [], settings, passes=0)
