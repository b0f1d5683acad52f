"""models.measure: the profiler discipline on modules whose costs are known exactly."""

from __future__ import annotations

import os

import pytest
import torch
from torch import nn

torch.set_num_threads(1)

from models.measure import (  # noqa: E402
    MeasureSettings,
    count_flops,
    count_params,
    device_info,
    measure_latencies,
    measure_latency,
    measure_load_ms,
    measured_provenance,
    peak_activation_bytes,
    tensor_bytes,
    weight_bytes,
)

FAST = MeasureSettings(device="unit", threads=1, warmup=1, repeats=5)


def _convs() -> nn.Module:
    return nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(8, 8, 3, padding=1))


def test_latency_is_positive_ordered_and_restores_state() -> None:
    m = _convs().train()
    torch.set_num_threads(1)
    stats = measure_latency(m, torch.randn(1, 1, 32, 32), MeasureSettings(threads=2, repeats=7))
    assert 0 < stats.p10 <= stats.median <= stats.p90
    assert m.training and torch.get_num_threads() == 1


class _Counting(nn.Module):
    def __init__(self, inner: nn.Module) -> None:
        super().__init__()
        self.inner, self.calls = inner, 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.calls += 1
        return self.inner(x)


def test_latencies_alternate_passes_over_all_modules() -> None:
    small, big = _Counting(nn.Conv2d(1, 2, 3)), _Counting(_convs())
    settings = MeasureSettings(threads=1, warmup=2, repeats=7)
    x = torch.randn(1, 1, 32, 32)
    stats = measure_latencies({"small": (small, x), "big": (big, x)}, settings, passes=3)
    # 3 passes of ceil(7/3) = 3 timed runs, each pass after its own 2 warm-up runs
    assert small.calls == big.calls == 3 * (2 + 3)
    assert set(stats) == {"small", "big"} and stats["small"].median < stats["big"].median
    with pytest.raises(ValueError, match="passes"):
        measure_latencies({"small": (small, x)}, settings, passes=0)


def test_flops_params_and_bytes_are_exact() -> None:
    lin = nn.Linear(10, 5)
    assert count_flops(lin, torch.randn(1, 10)) == 2 * 10 * 5
    assert count_flops(lin, torch.randn(3, 10)) == 3 * 2 * 10 * 5
    assert count_params(lin) == 55
    bn = nn.Sequential(nn.Conv2d(1, 4, 3, bias=False), nn.BatchNorm2d(4))
    # conv 36 + BN weight/bias 8 + running mean/var 8 floats; num_batches_tracked excluded
    assert weight_bytes(bn) == (36 + 8 + 8) * 4
    assert tensor_bytes({"a": torch.zeros(3, dtype=torch.float64)}) == 24


def test_peak_activation_counts_live_tensors_only() -> None:
    x = torch.randn(1, 1, 32, 32)
    # input (4 KiB) + conv1 output and ReLU output alive together (32 KiB each); conv1's
    # output is freed before conv2 writes its own
    assert peak_activation_bytes(_convs(), x) == 4096 + 2 * 32768


def test_peak_activation_counts_a_held_skip_connection() -> None:
    class Skip(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.a, self.b = nn.Conv2d(4, 4, 1), nn.Conv2d(4, 4, 1)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            h = self.a(x)
            return self.b(h) + h

    x = torch.randn(1, 4, 16, 16)  # 4 KiB
    # h, b(h) and their sum: 3 x 4 KiB, plus the input
    assert peak_activation_bytes(Skip(), x) == 4 * 4096


def test_load_time_is_measured_and_the_file_removed(tmp_path) -> None:
    ms = measure_load_ms(_convs().state_dict(), tmp_path, FAST)
    assert ms > 0
    assert os.listdir(tmp_path) == []


def test_device_info_names_everything() -> None:
    info = device_info(MeasureSettings(device="cpu-1t", threads=1, warmup=3, repeats=9))
    assert info.name == "cpu-1t" and info.threads == 1 and info.framework == "pytorch"
    assert info.framework_version == torch.__version__ and info.processor
    assert (info.warmup, info.repeats, info.batch_size, info.dtype) == (3, 9, 1, "float32")
    assert info.date and len(info.date) == 10
    assert measured_provenance("x").tool == "mvsched profile"


@pytest.mark.parametrize(
    "kw", [{"threads": 0}, {"repeats": 0}, {"warmup": -1}, {"accelerator": "tpu"}]
)
def test_bad_settings_are_rejected(kw) -> None:
    with pytest.raises(ValueError, match="measure settings"):
        MeasureSettings(**kw)
