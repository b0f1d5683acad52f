"""Small synthetic profiles and system views built in code, for unit tests only.

Numbers here are invented to make hand computation easy; they are not measurements and no
shipped scenario may use them. ``KINDS``, ``view_of_kind`` (a view whose apps carry a given
profile kind, for schedulers that declare ``requires``; see tests/test_scheduler_contract.py)
and ``elastified_profile`` are the contract checks' own, from :mod:`sim.schedulers.check_views`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from sim.profile import (
    DeviceInfo,
    ExitPoint,
    LatencyStats,
    Measured,
    Outcomes,
    Profile,
    Progressive,
    SplitPoint,
    Task,
    TransferBytes,
    Variant,
)
from sim.schedulers.base import AppPlan, AppView, SystemView
from sim.schedulers.check_views import KINDS, _elastified, synthetic_view, view_of_kind

__all__ = [
    "KINDS",
    "make_app",
    "make_profile",
    "make_view",
    "elastified_profile",
    "progressive_profile",
    "random_view",
    "view_of_kind",
]

MB = 1_000_000
_TASK = Task(dataset="synthetic", classes=10, input_shape=(3, 32, 32), eval_samples=0)
_PROV = Measured(tool="synthetic test fixture (not a measurement)", tool_version="0")
_DEVICE = DeviceInfo(name="synthetic", processor="none", framework="none")


def make_profile(
    family: str,
    variants: Sequence[tuple[str, int, float, float]],
    *,
    independents: Sequence[tuple[str, int, float, float]] = (),
    kind: str = "multi_capacity",
    activation_bytes: int = 0,
    **extra_fields: object,
) -> Profile:
    """Nested chain from ``(id, weight_bytes, latency_ms, top1)`` tuples (smallest first,
    each the parent of the next) plus independently trained variants."""
    vs = [
        Variant(
            id=vid,
            arch=vid,
            weight_bytes=w,
            peak_activation_bytes=activation_bytes,
            latency_ms=LatencyStats(median=lat),
            top1=acc,
            parent=variants[i - 1][0] if i else None,
            shared_bytes=variants[i - 1][1] if i else 0,
        )
        for i, (vid, w, lat, acc) in enumerate(variants)
    ]
    vs += [
        Variant(
            id=vid,
            arch=vid,
            weight_bytes=w,
            peak_activation_bytes=activation_bytes,
            latency_ms=LatencyStats(median=lat),
            top1=acc,
            independent=True,
        )
        for vid, w, lat, acc in independents
    ]
    return Profile(
        family=family,
        kind=kind,  # type: ignore[arg-type]
        task=_TASK,
        provenance=_PROV,
        device=_DEVICE,
        variants=vs,
        **extra_fields,  # type: ignore[arg-type]
    )


def make_app(
    name: str,
    profile: Profile,
    *,
    latency_goal_ms: float = 100.0,
    accuracy_floor: float = 0.0,
    priority: float = 1.0,
    current: str | None = None,
    latency_ratio: float = 1.0,
    fps: float = 10.0,
) -> AppView:
    """An app running ``profile`` (``current`` = id of the variant it runs now, if any)."""
    return AppView(
        name=name,
        family=profile.family,
        profile=profile,
        fps=fps,
        latency_goal_ms=latency_goal_ms,
        accuracy_floor=accuracy_floor,
        priority=priority,
        current=None if current is None else AppPlan(variant=current, share=0.5),
        latency_ratio=latency_ratio,
    )


def make_view(
    apps: Sequence[AppView],
    *,
    capacity: float = 1.0,
    memory_budget_bytes: int = 1000 * MB,
    storage_read_bytes_per_s: float = 100.0 * MB,
    **extra_fields: object,
) -> SystemView:
    """A view at t = 0 with the given apps and budgets."""
    return SystemView(
        time_s=0.0,
        reason="test",
        apps=tuple(apps),
        capacity=capacity,
        memory_budget_bytes=memory_budget_bytes,
        storage_read_bytes_per_s=storage_read_bytes_per_s,
        **extra_fields,  # type: ignore[arg-type]
    )


def random_view(rng: np.random.Generator, n_apps: int) -> SystemView:
    """A random multi-capacity system (the benchmark's generator)."""
    return synthetic_view(rng, n_apps)


def progressive_profile(samples: int, rng: np.random.Generator, family: str = "pp") -> Profile:
    """An early-exit profile with ``samples`` random per-sample outcomes (for file-format
    tests): 7 exits, 9 splits with per-sample byte counts."""
    exits = [ExitPoint(name=f"e{i}", flops_fraction=(i + 1) / 8, device_ms=float(i + 1),
                       top1=0.5) for i in range(6)]
    exits.append(ExitPoint(name="final", flops_fraction=1.0, device_ms=8.0, top1=0.9))
    splits = [SplitPoint(name=f"s{i}", flops_fraction=i / 10, device_ms=float(i),
                         server_ms=1.0, bytes=TransferBytes(
                             fp32=4e4, int8=1e4, int8_lz4_mean=5e3,
                             int8_lz4_per_sample=tuple(rng.integers(2000, 9000, samples).tolist())))
              for i in range(1, 10)]
    correct = {e.name: "".join(rng.choice(["0", "1"], samples)) for e in exits}
    correct["full"] = correct["final"]
    conf = {e.name: tuple(rng.integers(0, 1001, samples).tolist()) for e in exits}
    return make_profile(family, [("full", 1_000_000, 8.0, 0.9)], kind="progressive",
                        progressive=Progressive(splits=tuple(splits), exits=tuple(exits)),
                        outcomes=Outcomes(samples=samples, correct=correct, confidence=conf))


def elastified_profile(family: str = "efam") -> Profile:
    """An AdaptiveNet-style supernet: original + 3 pool subnets over blocks b1..b3 (two
    choices each), one more searched candidate, measured search time 40 s (the contract
    checks' own, :mod:`sim.schedulers.check_views`)."""
    return _elastified(family)
