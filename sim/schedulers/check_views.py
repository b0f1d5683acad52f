"""Synthetic system views of every profile kind, for :mod:`sim.schedulers.checks` (and the
decision benchmark, :mod:`sim.bench.decisions`).

Numbers are invented; they are not measurements. Multi-capacity views are random
(:func:`synthetic_view`): each app gets a random multi-capacity family (3-6 nested
descendants whose size, latency and accuracy grow together, accuracy with diminishing
returns), a frame rate, a latency goal, an accuracy floor and a priority; the memory budget is
a random fraction of the apps' largest models and the available capacity is random.
Progressive (early-exit, with a server and a link), supernet and elastified views are fixed,
with numbers that make hand computation easy.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np

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
from sim.schedulers.base import AppView, SystemView

__all__ = ["EXTREMES", "KINDS", "extreme_views", "synthetic_profile", "synthetic_view",
           "view_of_kind"]

KINDS = ("multi_capacity", "progressive", "supernet", "elastified")
"""profile kinds :func:`view_of_kind` builds"""
MB = 1_000_000
_TASK = Task(dataset="synthetic", classes=10, input_shape=(3, 32, 32), eval_samples=0)
_PROV = Measured(tool="synthetic check fixture (not a measurement)", tool_version="0")
_DEVICE = DeviceInfo(name="synthetic", processor="none", framework="none")


def synthetic_profile(rng: np.random.Generator, family: str) -> Profile:
    """A random multi-capacity family (plus one independent copy of its largest model)."""
    n = int(rng.integers(3, 7))
    size = np.sort(rng.uniform(2, 60, n)) * MB
    lat = np.sort(rng.uniform(3, 90, n))
    top1 = np.sort(0.95 - rng.uniform(0.0, 0.4, n) ** 1.5)
    variants = [
        Variant(
            id=f"d{i}",
            arch=f"synthetic descendant {i}",
            weight_bytes=int(size[i]),
            peak_activation_bytes=int(rng.uniform(0.5, 4) * MB),
            latency_ms=LatencyStats(median=float(lat[i])),
            top1=float(top1[i]),
            parent=f"d{i - 1}" if i else None,
            shared_bytes=int(size[i - 1]) if i else 0,
        )
        for i in range(n)
    ]
    variants.append(
        variants[-1].model_copy(update={"id": "vanilla", "parent": None, "independent": True})
    )
    return Profile(
        family=family,
        kind="multi_capacity",
        task=Task(dataset="synthetic", classes=10, input_shape=(3, 32, 32), eval_samples=0),
        provenance=Measured(tool="synthetic generator (not a measurement)", tool_version="0"),
        device=DeviceInfo(name="synthetic", processor="none", framework="none"),
        variants=tuple(variants),
    )


def synthetic_view(rng: np.random.Generator, n_apps: int) -> SystemView:
    """A random system with ``n_apps`` running apps (see the module docstring)."""
    apps = []
    for k in range(n_apps):
        profile = synthetic_profile(rng, f"fam{k}")
        fps = float(rng.choice([5.0, 10.0, 15.0, 30.0]))
        floor = float(rng.uniform(0.0, 0.7)) if rng.random() < 0.5 else 0.0
        apps.append(
            AppView(
                name=f"app{k:02d}",
                family=profile.family,
                profile=profile,
                fps=fps,
                latency_goal_ms=1000.0 / fps * float(rng.uniform(0.5, 1.5)),
                accuracy_floor=floor,
                priority=float(rng.choice([1.0, 1.0, 2.0, 3.0])),
                current=None,
                latency_ratio=float(rng.uniform(0.9, 1.2)),
            )
        )
    largest = sum(max(v.known_weight_bytes() for v in a.profile.variants) for a in apps)
    return SystemView(
        time_s=0.0,
        reason="bench",
        apps=tuple(apps),
        capacity=float(rng.uniform(0.5, 1.0)),
        memory_budget_bytes=int(largest * rng.uniform(0.3, 0.8)),
        storage_read_bytes_per_s=100.0 * MB,
    )


def _chain(family: str, variants: Sequence[tuple[str, int, float, float]], kind: str,
           **fields: object) -> Profile:
    """A nested chain from ``(id, weight_bytes, latency_ms, top1)``, smallest first."""
    vs = [Variant(id=vid, arch=vid, weight_bytes=w, latency_ms=LatencyStats(median=lat),
                  top1=acc, parent=variants[i - 1][0] if i else None,
                  shared_bytes=variants[i - 1][1] if i else 0)
          for i, (vid, w, lat, acc) in enumerate(variants)]
    return Profile(family=family, kind=kind, task=_TASK, provenance=_PROV,  # type: ignore[arg-type]
                   device=_DEVICE, variants=vs, **fields)  # type: ignore[arg-type]


def _app(name: str, profile: Profile, latency_goal_ms: float = 100.0,
         server_profile: Profile | None = None) -> AppView:
    return AppView(name=name, family=profile.family, profile=profile, fps=10.0,
                   latency_goal_ms=latency_goal_ms, accuracy_floor=0.0, priority=1.0,
                   current=None, server_profile=server_profile)


def _view(apps: Sequence[AppView], **fields: object) -> SystemView:
    return SystemView(time_s=0.0, reason="check", apps=tuple(apps), capacity=1.0,
                      memory_budget_bytes=1000 * MB, storage_read_bytes_per_s=100.0 * MB,
                      **fields)  # type: ignore[arg-type]


def _progressive(family: str) -> Profile:
    splits = tuple(SplitPoint(name=name, flops_fraction=frac, device_ms=40.0 * frac,
                         server_ms=8.0 * (1 - frac),
                         bytes=TransferBytes(fp32=b, int8=b / 4, int8_lz4_mean=b / 8))
              for name, frac, b in (("stem", 0.05, 12288.0), ("s1", 0.3, 32768.0),
                                    ("s2", 0.6, 8192.0)))
    exits = tuple(ExitPoint(name=f"e{i}", flops_fraction=f, device_ms=40.0 * f + 1.0,
                            head_ms=1.0, top1=a)
                  for i, (f, a) in enumerate(((0.3, 0.55), (0.6, 0.7), (1.0, 0.8))))
    # 20 samples: sample k has confidence 0.95 - 0.045 k at e0, right when k < 11 (e0),
    # k < 14 (e1), k < 16 (final)
    n = 20
    conf = {"e0": tuple(950 - 45 * k for k in range(n)),
            "e1": tuple(950 - 30 * k for k in range(n)), "e2": (1000,) * n}
    correct = {e: "".join("1" if k < lim else "0" for k in range(n))
               for e, lim in (("e0", 11), ("e1", 14), ("e2", 16), ("full", 16))}
    return _chain(family, [("full", 20 * MB, 40.0, 0.8)], "progressive",
                  progressive=Progressive(splits=splits, exits=exits, input_bytes=12288.0),
                  outcomes=Outcomes(samples=n, correct=correct, confidence=conf))


def _supernet(family: str) -> Profile:
    table = LookupTable(stem_ms=1.0, head_ms=0.5, blocks={"b0:k3": 2.0, "b0:k5": 3.0})
    return _chain(family, [("sub-s", 5 * MB, 10.0, 0.6), ("sub-m", 10 * MB, 20.0, 0.7),
                           ("sub-l", 20 * MB, 40.0, 0.8)], "supernet", lookup_table=table)


def _elastified(family: str) -> Profile:
    """Original + 3 pool subnets over blocks b1..b3 (two choices each), one more searched
    candidate, measured search time 40 s."""
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


def view_of_kind(kind: str, n_apps: int = 3) -> SystemView:
    """A view whose apps all carry a profile of ``kind`` (with a server and a link for
    progressive ones); ValueError naming the known kinds otherwise."""
    if kind == "multi_capacity":
        return synthetic_view(np.random.default_rng(7), n_apps)
    if kind == "progressive":
        apps = [_app(f"p{k}", _progressive(f"pfam{k}"), 60.0, _progressive(f"pfam{k}"))
                for k in range(n_apps)]
        return _view(apps, bandwidth_mbps=20.0, rtt_ms=20.0, server_capacity=1.0)
    if kind == "supernet":
        return _view([_app(f"s{k}", _supernet(f"sfam{k}")) for k in range(n_apps)])
    if kind == "elastified":
        return _view([_app(f"e{k}", _elastified(f"efam{k}"), 25.0) for k in range(n_apps)])
    raise ValueError(f"unknown profile kind {kind!r}; known: {', '.join(KINDS)}")


EXTREMES: dict[str, dict[str, tuple[float, ...]]] = {
    "priorities-mixed": {"priority": (1e308, 1e-300, 1.0, 5e-324, 1e6, 1e-6)},
    "priorities-huge": {"priority": (1e308,)},
    "priorities-tiny": {"priority": (5e-324,)},
    "fps-extreme": {"fps": (1e-6, 1e6, 1000.0)},
    "goals-tiny": {"latency_goal_ms": (1e-310,)},
    "goals-huge": {"latency_goal_ms": (1e308,)},
    "goals-mixed": {"latency_goal_ms": (1e-310, 1e308, 0.01, 3.6e6)},
}
"""Views of extreme values every built-in must plan for: a field of each app set to the
values given, in turn (app k gets ``values[k % len(values)]``). No scenario holds most of
them (validation keeps priorities, fps and goals in physical ranges), but a scheduler is a
library too, and its sums, ratios and grids must not overflow, underflow or hang."""


def extreme_views(view: SystemView) -> dict[str, SystemView]:
    """``view`` with each row of :data:`EXTREMES` applied, labelled ``extreme-<row>``."""
    out = {}
    for label, fields in EXTREMES.items():
        apps = tuple(dataclasses.replace(a, **{f: vals[k % len(vals)]  # type: ignore[arg-type]
                                               for f, vals in fields.items()})
                     for k, a in enumerate(view.apps))
        out[f"extreme-{label}"] = dataclasses.replace(view, apps=apps)
    return out
