"""The supernet API shared by every weight-sharing family (OFA, AdaptiveNet).

A supernet holds many subnets in one set of weights. Every family speaks the same verbs:
``sample_subnet(rng)`` draws a :class:`SubnetConfig` from the search space,
``set_active_subnet(cfg)`` makes ``forward`` run that subnet, ``export_subnet(cfg)`` returns a
static copy with equal outputs, and ``to_config()`` / ``from_config()`` round-trip the layer
configuration. Backbones split ``forward_features`` from ``forward_head`` so exits can attach
at named stages.

The helpers below are family-independent: a per-block latency lookup table measured on the
device (:func:`measure_block_table` times blocks alone, :func:`measure_in_context` inside
whole networks, :func:`measure_alternating` in passes alternating with the subnets that
check it), its additive prediction (:func:`predict_latency`), its honest error against
measured end-to-end latencies (:func:`lookup_error`) and BN re-calibration of exported
subnets (:func:`recalibrate_bn`).
"""

from __future__ import annotations

import dataclasses
import time
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, ClassVar, TypeVar

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from models.measure import MeasureSettings, latency_samples_ns, latency_stats_ms
from sim.profile import LatencyStats
from sim.profile.lut_error import prediction_error

__all__ = [
    "Supernet",
    "SubnetConfig",
    "lookup_error",
    "measure_alternating",
    "measure_block_table",
    "measure_in_context",
    "predict_latency",
    "recalibrate_bn",
]

C = TypeVar("C", bound="SubnetConfig")


def _plain(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    return value


def _tupled(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(_tupled(v) for v in value)
    return value


@dataclasses.dataclass(frozen=True)
class SubnetConfig:
    """Base of every family's subnet description.

    Contract for subclasses: a frozen dataclass whose fields are ints, floats, strings or
    (nested) tuples of them, so :meth:`to_dict` is JSON-friendly and :meth:`from_dict`
    inverts it exactly. :attr:`key` is a stable string naming the subnet (equal configs give
    equal keys); subclasses may override it with a shorter canonical form.
    """

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly dict (tuples become lists)."""
        return {f.name: _plain(getattr(self, f.name)) for f in dataclasses.fields(self)}

    @classmethod
    def from_dict(cls: type[C], d: Mapping[str, Any]) -> C:
        """Inverse of :meth:`to_dict`; ValueError naming unknown or missing fields."""
        if not isinstance(d, Mapping):
            raise ValueError(f"{cls.__name__}: expected a mapping, got {type(d).__name__}")
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(d) - names)
        missing = sorted(n for n in names if n not in d)
        if unknown or missing:
            raise ValueError(
                f"{cls.__name__}: unknown fields {unknown}, missing fields {missing}"
            )
        return cls(**{k: _tupled(v) for k, v in d.items()})

    @property
    def key(self) -> str:
        """Stable string key: ``field=value`` pairs, tuples joined by commas."""
        parts = []
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            text = ",".join(map(str, v)) if isinstance(v, tuple) else str(v)
            parts.append(f"{f.name}={text}")
        return "|".join(parts)


class Supernet(nn.Module, ABC):
    """A weight-sharing network whose ``forward`` runs the active subnet.

    Contract for subclasses:
    - ``config_class`` is the family's :class:`SubnetConfig` subclass.
    - ``sample_subnet(rng)`` only uses ``rng`` for randomness and returns a config that
      ``check_subnet`` accepts.
    - ``export_subnet(cfg)`` returns an independent static module (its own tensors) whose
      eval-mode outputs equal the supernet's with ``cfg`` active; it does not change the
      active subnet.
    - ``type(net).from_config(net.to_config())`` builds an architecturally identical
      supernet (weights are not part of the config; use ``state_dict`` for them).
    """

    config_class: ClassVar[type[SubnetConfig]] = SubnetConfig

    @abstractmethod
    def sample_subnet(self, rng: np.random.Generator) -> SubnetConfig:
        """A random subnet of the search space."""

    @abstractmethod
    def set_active_subnet(self, cfg: SubnetConfig) -> None:
        """Make ``forward`` run subnet ``cfg`` (ValueError if it is outside the space)."""

    @abstractmethod
    def active_subnet(self) -> SubnetConfig:
        """The subnet ``forward`` currently runs."""

    @abstractmethod
    def export_subnet(self, cfg: SubnetConfig) -> nn.Module:
        """A static copy of subnet ``cfg`` (see the class contract)."""

    @abstractmethod
    def largest_subnet(self) -> SubnetConfig:
        """The biggest subnet (the one trained first and used as the KD teacher)."""

    @abstractmethod
    def smallest_subnet(self) -> SubnetConfig:
        """The cheapest subnet."""

    @abstractmethod
    def to_config(self) -> dict[str, Any]:
        """JSON-friendly layer/architecture configuration of the whole supernet."""

    @classmethod
    @abstractmethod
    def from_config(cls, d: Mapping[str, Any]) -> Supernet:
        """A freshly initialised supernet with the architecture ``d`` describes."""

    @abstractmethod
    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """The active subnet up to (not including) the classifier head."""

    @abstractmethod
    def forward_head(self, features: torch.Tensor) -> torch.Tensor:
        """The classifier head applied to :meth:`forward_features`' output."""

    def check_subnet(self, cfg: SubnetConfig) -> None:
        """ValueError unless ``cfg`` belongs to this supernet's search space.

        The base check is the type only; families narrow it.
        """
        if not isinstance(cfg, self.config_class):
            raise ValueError(
                f"{type(self).__name__}: expected a {self.config_class.__name__}, "
                f"got {type(cfg).__name__}"
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_head(self.forward_features(x))


def measure_block_table(
    blocks: Mapping[str, tuple[nn.Module, torch.Tensor]],
    settings: MeasureSettings,
    *,
    progress: bool = False,
) -> dict[str, LatencyStats]:
    """Latency of every block choice: ``key -> (module, example input at its shape)``.

    Keys must name the choice *and* its input shape so that equal keys time equal work.
    Timing is interleaved: each round runs every block once, so between two runs of one
    block all the others run, as in a deployed network; timing one block in a tight loop
    keeps its weights and code hot and under-predicts end-to-end latency. Otherwise the
    profiler discipline holds: ``settings.threads`` threads, ``torch.inference_mode()``,
    ``settings.warmup`` untimed rounds, ``settings.repeats`` timed rounds, GPU synchronised
    around each run, median and 10th/90th percentiles.
    """
    dev = settings.torch_device
    cuda = settings.accelerator == "cuda"
    keys = list(blocks)
    mods = [blocks[k][0] for k in keys]
    xs = [blocks[k][1].to(dev) for k in keys]
    modes = [m.training for m in mods]
    for m in mods:
        m.eval().to(dev)
    times = np.zeros((settings.repeats, len(keys)), dtype=np.float64)
    old_threads = torch.get_num_threads()
    torch.set_num_threads(settings.threads)
    try:
        with torch.inference_mode():
            rounds = range(-settings.warmup, settings.repeats)
            for r in tqdm(rounds, desc="block table", leave=False, disable=not progress):
                for i, (m, x) in enumerate(zip(mods, xs, strict=True)):
                    if cuda:
                        torch.cuda.synchronize()
                    t0 = time.perf_counter_ns()
                    m(x)
                    if cuda:
                        torch.cuda.synchronize()
                    if r >= 0:
                        times[r, i] = time.perf_counter_ns() - t0
    finally:
        torch.set_num_threads(old_threads)
        for m, mode in zip(mods, modes, strict=True):
            m.train(mode)
    return {k: latency_stats_ms(times[:, i] / 1e6) for i, k in enumerate(keys)}


def _context_runs(
    chains: Sequence[tuple[nn.Module, Sequence[tuple[str, nn.Module]], torch.Tensor]],
    settings: MeasureSettings,
    progress: bool,
) -> tuple[dict[str, list[float]], list[float]]:
    """Raw per-key link times (ms, rescaled per round) and per-round whole/links ratios of
    :func:`measure_in_context`."""
    if not chains:
        raise ValueError("measure_in_context: need at least one chain")
    dev = settings.torch_device
    cuda = settings.accelerator == "cuda"

    def sync() -> None:
        if cuda:
            torch.cuda.synchronize()

    prepared = []
    for whole, links, x in chains:
        whole.eval().to(dev)
        for _, m in links:
            m.eval().to(dev)
        prepared.append((whole, list(links), x.to(dev)))
    samples: dict[str, list[float]] = {}
    ratios: list[float] = []
    old_threads = torch.get_num_threads()
    torch.set_num_threads(settings.threads)
    try:
        with torch.inference_mode():
            total = len(prepared) * (settings.warmup + settings.repeats)
            bar = tqdm(total=total, desc="block table", leave=False, disable=not progress)
            for whole, links, x in prepared:
                for r in range(-settings.warmup, settings.repeats):
                    h, parts = x, []
                    for key, m in links:
                        sync()
                        t0 = time.perf_counter_ns()
                        h = m(h)
                        sync()
                        parts.append((key, float(time.perf_counter_ns() - t0)))
                    sync()
                    t0 = time.perf_counter_ns()
                    whole(x)
                    sync()
                    t_whole = float(time.perf_counter_ns() - t0)
                    bar.update(1)
                    if r < 0:
                        continue
                    ratio = t_whole / max(1.0, sum(ns for _, ns in parts))
                    ratios.append(ratio)
                    for key, ns in parts:
                        samples.setdefault(key, []).append(ns * ratio / 1e6)
            bar.close()
    finally:
        torch.set_num_threads(old_threads)
    return samples, ratios


def measure_in_context(
    chains: Sequence[tuple[nn.Module, Sequence[tuple[str, nn.Module]], torch.Tensor]],
    settings: MeasureSettings,
    *,
    progress: bool = False,
) -> tuple[dict[str, LatencyStats], float]:
    """Per-key latency of blocks timed inside whole networks.

    Each chain is ``(whole, links, example)`` where applying the ``(key, module)`` links in
    order computes ``whole(example)``. Every round runs one chain link by link, timing each
    link, then runs ``whole`` timed, and scales that round's link times by
    ``whole / sum(links)``: the links then share out exactly the end-to-end time, the
    network's own call structure included and the per-link timer overhead excluded. A key's
    samples are pooled over all its occurrences. Returns the per-key statistics and the
    median of ``whole / sum(links)``. Why: a block timed alone in a tight loop keeps a cache
    and branch state the deployed network never gives it; timed in context, a subnet's sum
    tracks its end-to-end latency. Discipline as in :func:`measure_block_table`.
    """
    samples, ratios = _context_runs(chains, settings, progress)
    return {k: latency_stats_ms(v) for k, v in samples.items()}, float(np.median(ratios))


def measure_alternating(
    chains: Sequence[tuple[nn.Module, Sequence[tuple[str, nn.Module]], torch.Tensor]],
    nets: Sequence[tuple[nn.Module, torch.Tensor]],
    settings: MeasureSettings,
    passes: int = 3,
    *,
    progress: bool = False,
) -> tuple[dict[str, LatencyStats], float, list[LatencyStats]]:
    """A table timed in context (:func:`measure_in_context`) and the end-to-end latency of
    ``nets`` (:func:`models.measure.measure_latency`), in ``passes`` alternating passes whose
    runs are pooled. Why: on a shared machine the speed drifts over seconds to minutes (a few
    per cent here); measured one after the other, the table and the subnets it is checked
    against see different machines, and the table's error mostly measures that drift.

    Returns the per-key statistics, the median whole/links ratio and one statistic per net.
    """
    if passes < 1:
        raise ValueError(f"measure_alternating: passes must be >= 1, got {passes}")
    keys: dict[str, list[float]] = {}
    ratios: list[float] = []
    runs: list[list[float]] = [[] for _ in nets]
    bar = tqdm(total=passes * len(nets), desc="subnet latency", leave=False,
               disable=not progress)
    for _ in range(passes):
        samples, r = _context_runs(chains, settings, progress)
        for k, v in samples.items():
            keys.setdefault(k, []).extend(v)
        ratios += r
        for i, (net, x) in enumerate(nets):
            runs[i] += [ns / 1e6 for ns in latency_samples_ns(net, x, settings)]
            bar.update(1)
    bar.close()
    return ({k: latency_stats_ms(v) for k, v in keys.items()}, float(np.median(ratios)),
            [latency_stats_ms(v) for v in runs])


def predict_latency(table: Mapping[str, float], keys: Iterable[str]) -> float:
    """Additive latency prediction: the sum of the table entries of ``keys`` (ms).

    KeyError naming the first missing key, since a silent zero would flatter a subnet.
    """
    total = 0.0
    for k in keys:
        if k not in table:
            raise KeyError(f"latency table has no entry {k!r}")
        total += float(table[k])
    return total


def lookup_error(
    measured_ms: Sequence[float], predicted_ms: Sequence[float]
) -> dict[str, float]:
    """How well additive predictions match measured latencies, in the figures every profile
    stores (:func:`sim.profile.lut_error.prediction_error`: ``n``, ``mape`` and ``bias_pct`` in
    percent, ``max_abs_pct``, ``within_5pct`` / ``within_10pct`` as fractions); ValueError
    for no samples, since a measured table without its error would be dishonest."""
    if len(measured_ms) == 0 or len(measured_ms) != len(predicted_ms):
        raise ValueError(
            f"lookup_error: need two equally long non-empty lists, got {len(measured_ms)} "
            f"and {len(predicted_ms)}"
        )
    return prediction_error([float(m) for m in measured_ms], [float(p) for p in predicted_ms])


_BN = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d)


def recalibrate_bn(
    module: nn.Module, images: torch.Tensor, batch_size: int = 200
) -> nn.Module:
    """Re-estimate every BatchNorm's running statistics of a static (exported) network.

    Why: weight sharing leaves the supernet's running statistics wrong for any particular
    subnet. Each BN's running mean/var are replaced by the exact average of the batch
    statistics over ``images`` in batches of ``batch_size`` (cumulative averaging,
    ``momentum=None``); nothing else changes. The module is returned in eval mode.
    """
    if images.ndim < 2 or len(images) == 0:
        raise ValueError("recalibrate_bn: need a non-empty batch of images")
    bns = [m for m in module.modules() if isinstance(m, _BN) and m.track_running_stats]
    saved = [m.momentum for m in bns]
    for m in bns:
        m.reset_running_stats()
        m.momentum = None
    module.train()
    try:
        with torch.no_grad():
            for start in range(0, len(images), batch_size):
                module(images[start:start + batch_size])
    finally:
        for m, mom in zip(bns, saved, strict=True):
            m.momentum = mom
        module.eval()
    return module
