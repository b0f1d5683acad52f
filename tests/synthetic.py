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
    Outcomes,
    Pool,
    Profile,
    Progressive,
    SearchCandidate,
    SearchRecord,
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


def _progressive_profile(family: str) -> Profile:
    splits = [
        SplitPoint(
            name=name,
            flops_fraction=frac,
            device_ms=40.0 * frac,
            server_ms=8.0 * (1 - frac),
            bytes=TransferBytes(fp32=b, int8=b / 4, int8_lz4_mean=b / 8),
        )
        for name, frac, b in (("stem", 0.05, 12288.0), ("s1", 0.3, 32768.0), ("s2", 0.6, 8192.0))
    ]
    exits = [
        ExitPoint(name=f"e{i}", flops_fraction=f, device_ms=40.0 * f + 1.0, head_ms=1.0, top1=a)
        for i, (f, a) in enumerate(((0.3, 0.55), (0.6, 0.7), (1.0, 0.8)))
    ]
    # 20 samples: sample k has confidence 0.95 - 0.045 k at e0, right when k < 11 (e0),
    # k < 14 (e1), k < 16 (final)
    n = 20
    conf = {"e0": [950 - 45 * k for k in range(n)], "e1": [950 - 30 * k for k in range(n)],
            "e2": [1000] * n}
    correct = {e: "".join("1" if k < lim else "0" for k in range(n))
               for e, lim in (("e0", 11), ("e1", 14), ("e2", 16), ("full", 16))}
    return make_profile(
        family,
        [("full", 20 * MB, 40.0, 0.8)],
        kind="progressive",
        progressive=Progressive(splits=splits, exits=exits, input_bytes=12288.0),
        outcomes=Outcomes(samples=n, correct=correct, confidence=conf),
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
    choices each), one more searched candidate, measured search time 40 s."""
    sizes = {"stem": 1 * MB, "head": 1 * MB, "b1:c0": 4 * MB, "b1:c1": 2 * MB,
             "b2:c0": 4 * MB, "b2:c1": 2 * MB, "b3:c0": 4 * MB, "b3:c1": 2 * MB}

    def sub(vid: str, choice: tuple[int, int, int], lat: float, acc: float) -> Variant:
        blocks = ("stem", *(f"b{i + 1}:c{c}" for i, c in enumerate(choice)), "head")
        return Variant(id=vid, arch={"choices": list(choice)}, latency_ms=LatencyStats(median=lat),
                       top1=acc, weight_bytes=sum(sizes[k] for k in blocks), blocks=blocks)

    variants = (sub("original", (0, 0, 0), 40.0, 0.9), sub("pool-00", (1, 1, 1), 10.0, 0.6),
                sub("pool-01", (1, 1, 0), 20.0, 0.75), sub("pool-02", (1, 0, 0), 30.0, 0.85))
    cand = SearchCandidate(id="cand-000", arch={"choices": [0, 1, 1]}, table_ms=6.0,
                           val_top1=0.5, weight_bytes=10 * MB,
                           blocks=("stem", "b1:c0", "b2:c1", "b3:c1", "head"))
    pool = Pool(ids=("pool-00", "pool-01", "pool-02"), rule="synthetic", block_bytes=sizes,
                search=SearchRecord(seconds=40.0, candidates=(cand,)))
    table = LookupTable(stem_ms=1.0, head_ms=1.0, blocks={k: 1.0 for k in sizes if k[0] == "b"})
    return Profile(family=family, kind="elastified", task=_TASK, provenance=_PROV,
                   device=_DEVICE, variants=variants, lookup_table=table, pool=pool)


KINDS = ("multi_capacity", "progressive", "supernet", "elastified")


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
    if kind == "elastified":
        apps = [make_app(f"e{k}", elastified_profile(f"efam{k}"), latency_goal_ms=25.0)
                for k in range(n_apps)]
        return make_view(apps)
    raise ValueError(f"unknown profile kind {kind!r}; known: {KINDS}")
