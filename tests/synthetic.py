"""Small synthetic profiles and system views built in code, for unit tests only.

Numbers here are invented to make hand computation easy; they are not measurements and no
shipped scenario may use them. ``view_of_kind`` builds a view whose apps carry a given profile
kind, for schedulers that declare ``requires`` (see tests/test_scheduler_contract.py).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from sim.bench_decisions import synthetic_view
from sim.profile import (
    DeviceInfo,
    ExitPoint,
    LatencyStats,
    LookupTable,
    Measured,
    Profile,
    Progressive,
    SplitPoint,
    Task,
    TransferBytes,
    Variant,
)
from sim.schedulers.base import AppPlan, AppView, SystemView

__all__ = [
    "KINDS",
    "make_app",
    "make_profile",
    "make_view",
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


def _progressive_profile(family: str) -> Profile:
    splits = [
        SplitPoint(
            name=name,
            flops_fraction=frac,
            device_ms=40.0 * frac,
            server_ms=8.0 * (1 - frac),
            bytes=TransferBytes(fp32=b, int8=b / 4, int8_lz4_mean=b / 8),
        )
        for name, frac, b in (("input", 0.0, 12288.0), ("s1", 0.3, 32768.0), ("s2", 0.6, 8192.0))
    ]
    exits = [
        ExitPoint(name=f"e{i}", flops_fraction=f, device_ms=40.0 * f + 1.0, head_ms=1.0, top1=a)
        for i, (f, a) in enumerate(((0.3, 0.55), (0.6, 0.7), (1.0, 0.8)))
    ]
    return make_profile(
        family,
        [("full", 20 * MB, 40.0, 0.8)],
        kind="progressive",
        progressive=Progressive(splits=splits, exits=exits, input_bytes=12288.0),
    )


def _supernet_profile(family: str) -> Profile:
    table = LookupTable(stem_ms=1.0, head_ms=0.5, blocks={"b0:k3": 2.0, "b0:k5": 3.0})
    return make_profile(
        family,
        [
            ("sub-s", 5 * MB, 10.0, 0.6),
            ("sub-m", 10 * MB, 20.0, 0.7),
            ("sub-l", 20 * MB, 40.0, 0.8),
        ],
        kind="supernet",
        lookup_table=table,
    )


KINDS = ("multi_capacity", "progressive", "supernet")


def view_of_kind(kind: str, n_apps: int = 3) -> SystemView:
    """A view whose apps all carry a profile of ``kind`` (with a server and a link for
    progressive ones)."""
    if kind == "multi_capacity":
        return random_view(np.random.default_rng(7), n_apps)
    if kind == "progressive":
        apps = [
            make_app(f"p{k}", _progressive_profile(f"pfam{k}"), latency_goal_ms=60.0)
            for k in range(n_apps)
        ]
        apps = [
            AppView(**{**a.__dict__, "server_profile": _progressive_profile(a.family)})
            for a in apps
        ]
        return make_view(apps, bandwidth_mbps=20.0, rtt_ms=20.0, server_capacity=1.0)
    if kind == "supernet":
        apps = [make_app(f"s{k}", _supernet_profile(f"sfam{k}")) for k in range(n_apps)]
        return make_view(apps)
    raise ValueError(f"unknown profile kind {kind!r}; known: {KINDS}")
