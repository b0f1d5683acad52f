"""The profiler discipline: how every family measures latency, size, FLOPs and load time.

Latency: fixed thread count, ``torch.inference_mode()``, untimed warm-up runs, then timed
repeats with ``time.perf_counter_ns`` (synchronising the GPU around each run); the median and
the 10th/90th percentiles are reported. Models compared with each other (a family's variants)
are timed in alternating passes (:func:`measure_latencies`), so a drift in the machine's speed
cannot favour one of them. Every profile names the device, dtype, batch, thread
count, warm-up/repeat counts and torch version through :func:`device_info`.
"""

from __future__ import annotations

import datetime as _dt
import os
import platform
import tempfile
import time
import weakref
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from importlib import metadata
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
from torch import nn
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils.flop_counter import FlopCounterMode
from tqdm.auto import tqdm

from sim.profile import DeviceInfo, LatencyStats, Measured

__all__ = [
    "MeasureSettings",
    "count_flops",
    "count_params",
    "device_info",
    "latency_samples_ns",
    "latency_stats_ms",
    "measure_latencies",
    "measure_latency",
    "measure_load_ms",
    "torch_threads",
    "measured_provenance",
    "peak_activation_bytes",
    "tensor_bytes",
    "tool_version",
    "weight_bytes",
]


@dataclass(frozen=True)
class MeasureSettings:
    """How to measure: the device name written into profiles and the timing protocol."""

    device: str = "cpu"
    threads: int = 1
    warmup: int = 10
    repeats: int = 50
    batch_size: int = 1
    accelerator: Literal["cpu", "cuda"] = "cpu"
    progress: bool = False

    def __post_init__(self) -> None:
        if self.threads < 1 or self.repeats < 1 or self.warmup < 0 or self.batch_size < 1:
            raise ValueError(
                "measure settings: threads, repeats and batch_size must be >= 1, warmup >= 0"
            )
        if self.accelerator not in ("cpu", "cuda"):
            raise ValueError(f"measure settings: accelerator must be 'cpu' or 'cuda', "
                             f"got {self.accelerator!r}")

    @property
    def torch_device(self) -> torch.device:
        return torch.device("cuda" if self.accelerator == "cuda" else "cpu")


@contextmanager
def torch_threads(n: int) -> Iterator[None]:
    """Run a block with ``n`` torch threads, restoring the previous count after."""
    old = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(old)


def latency_stats_ms(ms: Sequence[float] | np.ndarray) -> LatencyStats:
    """Median and 10th/90th percentiles of timed runs given in ms (the profile's figures)."""
    p10, med, p90 = np.percentile(np.asarray(ms, dtype=np.float64), [10, 50, 90])
    return LatencyStats(median=float(med), p10=float(min(p10, med)), p90=float(max(p90, med)))


def _stats(samples_ns: list[int]) -> LatencyStats:
    return latency_stats_ms(np.asarray(samples_ns, dtype=np.float64) / 1e6)


def _timed(fn: Callable[[], Any], settings: MeasureSettings, desc: str) -> list[int]:
    cuda = settings.accelerator == "cuda"
    for _ in range(settings.warmup):
        fn()
    if cuda:
        torch.cuda.synchronize()
    out: list[int] = []
    for _ in tqdm(range(settings.repeats), desc=desc, leave=False, disable=not settings.progress):
        if cuda:
            torch.cuda.synchronize()
        t0 = time.perf_counter_ns()
        fn()
        if cuda:
            torch.cuda.synchronize()
        out.append(time.perf_counter_ns() - t0)
    return out


def latency_samples_ns(
    module: nn.Module, example_input: torch.Tensor, settings: MeasureSettings
) -> list[int]:
    """The ``settings.repeats`` timed runs (ns) behind :func:`measure_latency`, for callers
    that pool runs from several passes."""
    dev = settings.torch_device
    was_training = module.training
    module.eval().to(dev)
    x = example_input.to(dev)
    try:
        with torch_threads(settings.threads), torch.inference_mode():
            return _timed(lambda: module(x), settings, "latency")
    finally:
        module.train(was_training)


def measure_latency(
    module: nn.Module, example_input: torch.Tensor, settings: MeasureSettings
) -> LatencyStats:
    """Latency of ``module(example_input)`` in ms (median, p10, p90 over ``settings.repeats``).

    The module is put in eval mode and moved to the settings' device; its training mode is
    restored afterwards.
    """
    return _stats(latency_samples_ns(module, example_input, settings))


def measure_latencies(
    jobs: Mapping[str, tuple[nn.Module, torch.Tensor]], settings: MeasureSettings,
    passes: int = 5,
) -> dict[str, LatencyStats]:
    """Latency of each ``module(input)`` job, timed in ``passes`` round-robin passes of about
    ``settings.repeats / passes`` runs each (warm-up before every pass), so a drift in the
    machine's speed during the measurement hits every job alike instead of whichever
    happened to be timed then."""
    if passes < 1:
        raise ValueError(f"passes must be >= 1, got {passes}")
    per_pass = replace(settings, repeats=max(1, -(-settings.repeats // passes)))
    samples: dict[str, list[int]] = {name: [] for name in jobs}
    for _ in range(passes):
        for name, (module, example) in jobs.items():
            samples[name].extend(latency_samples_ns(module, example, per_pass))
    return {name: _stats(s) for name, s in samples.items()}


def count_flops(module: nn.Module, example: torch.Tensor) -> float:
    """Floating-point operations of one forward pass (a multiply-add counts as 2), as counted
    by ``torch.utils.flop_counter.FlopCounterMode`` (convolutions and matmuls)."""
    was_training = module.training
    module.eval()
    try:
        counter = FlopCounterMode(display=False)
        with torch.inference_mode(), counter:
            module(example)
    finally:
        module.train(was_training)
    return float(counter.get_total_flops())


def count_params(module: nn.Module) -> int:
    """Number of parameters (weights and biases, not BN running statistics)."""
    return int(sum(p.numel() for p in module.parameters()))


def tensor_bytes(tensors: Mapping[str, torch.Tensor] | list[torch.Tensor]) -> int:
    """Bytes held by a collection of tensors."""
    items = tensors.values() if isinstance(tensors, Mapping) else tensors
    return int(sum(t.numel() * t.element_size() for t in items))


def weight_bytes(module: nn.Module) -> int:
    """Bytes a deployed model keeps in memory: parameters plus floating-point buffers (BN
    running statistics); integer bookkeeping buffers such as ``num_batches_tracked`` excluded."""
    params = [p.detach() for p in module.parameters()]
    bufs = [b for b in module.buffers() if b.is_floating_point()]
    return tensor_bytes(params + bufs)


class _LiveBytes(TorchDispatchMode):
    """Tracks the bytes of tensors produced during a forward pass that are still alive.

    Each op output's storage is counted once (views share it) and released when the last
    Python/C++ reference to a tensor on that storage dies (weakref finalizers).
    """

    def __init__(self) -> None:
        super().__init__()
        self.live: dict[int, int] = {}
        self.refs: dict[int, int] = {}
        self.current = 0
        self.peak = 0

    def _release(self, key: int) -> None:
        self.refs[key] -= 1
        if self.refs[key] == 0:
            self.current -= self.live.pop(key)
            del self.refs[key]

    def _track(self, t: torch.Tensor) -> None:
        storage = t.untyped_storage()
        key = storage.data_ptr()
        if key == 0:
            return
        if key not in self.live:
            self.live[key] = storage.nbytes()
            self.refs[key] = 0
            self.current += self.live[key]
            self.peak = max(self.peak, self.current)
        self.refs[key] += 1
        weakref.finalize(t, self._release, key)

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):  # type: ignore[no-untyped-def]
        out = func(*args, **(kwargs or {}))
        for t in out if isinstance(out, (tuple, list)) else (out,):
            if isinstance(t, torch.Tensor):
                self._track(t)
        return out


def peak_activation_bytes(module: nn.Module, example: torch.Tensor) -> int:
    """Peak bytes of activations alive at once during one inference, input included.

    Approximation: counts the storages of every tensor an aten op returns while they are
    referenced (so skip connections held for a later add are counted), ignoring allocator
    caching, operator-internal scratch space (e.g. im2col buffers) and weights.
    """
    was_training = module.training
    module.eval()
    x = example.clone()
    try:
        tracker = _LiveBytes()
        with torch.inference_mode(), tracker:
            out = module(x)
            del out
    finally:
        module.train(was_training)
    return int(tracker.peak + x.numel() * x.element_size())


def measure_load_ms(
    state_dict_subset: Mapping[str, torch.Tensor], tmpdir: str | os.PathLike[str],
    settings: MeasureSettings,
) -> float:
    """Median ms to read these tensors, stored as one flat blob, from a file with
    ``torch.load`` (repeats as settings; all tensors must share a dtype).

    The file lies in ``tmpdir``; after the first read it sits in the OS page cache, so this
    measures deserialisation and copy, not cold flash reads (the simulator adds storage
    bandwidth separately).
    """
    # one flat blob, as a deployed app stores a variant or an upgrade delta: the time then
    # follows the bytes, not the number of tensors (torch.load has a per-tensor overhead)
    parts = [v.detach().cpu().reshape(-1) for v in state_dict_subset.values()]
    tensors = {"blob": torch.cat(parts) if parts else torch.zeros(0)}
    fd, name = tempfile.mkstemp(dir=tmpdir, suffix=".pt")
    os.close(fd)
    path = Path(name)
    try:
        torch.save(tensors, path)

        def load() -> None:
            torch.load(path, map_location="cpu", weights_only=True)

        with torch_threads(settings.threads):
            samples = _timed(load, MeasureSettings(
                device=settings.device, threads=settings.threads, warmup=min(settings.warmup, 3),
                repeats=settings.repeats, progress=settings.progress,
            ), "load")
    finally:
        path.unlink(missing_ok=True)
    return float(np.median(np.asarray(samples, dtype=np.float64)) / 1e6)


def _processor(settings: MeasureSettings) -> str:
    if settings.accelerator == "cuda" and torch.cuda.is_available():
        return torch.cuda.get_device_name()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def device_info(settings: MeasureSettings) -> DeviceInfo:
    """The DeviceInfo record for measurements taken with ``settings`` on this machine today."""
    accel = "cpu"
    if settings.accelerator == "cuda":
        accel = f"cuda:{_processor(settings)}"
    return DeviceInfo(
        name=settings.device, processor=_processor(settings), threads=settings.threads,
        framework="pytorch", framework_version=torch.__version__, accelerator=accel,
        dtype="float32", batch_size=settings.batch_size, warmup=settings.warmup,
        repeats=settings.repeats, date=_dt.date.today().isoformat(),
    )


def tool_version() -> str:
    """Installed mvsched version, or the source tree's version when not installed."""
    try:
        return metadata.version("mvsched")
    except metadata.PackageNotFoundError:
        return "0.1.0"


def measured_provenance(command: str | None = None) -> Measured:
    """Provenance of numbers measured by this profiler."""
    return Measured(tool="mvsched profile", tool_version=tool_version(), command=command)
