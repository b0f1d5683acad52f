"""SPINN's performance model (ALGORITHMS 2.4): estimates of every (split, threshold)
configuration of a progressive app, from its profile and the monitors' estimates.

Per configuration the profile fixes, over its real eval samples (:mod:`sim.routes`): the
mean device work, the fraction of frames that leave the device, the mean bytes sent per frame,
the server work per offloaded frame and the accuracy. The system state then scales them:

    device stage  = device_work * k_dev          k_dev = 1 / (share * capacity)
    link stage    = bytes / (bandwidth / n_link)  per frame (0 when it does not leave)
    server stage  = P_off * server_work / (server_capacity / n_server)
    latency       = device stage + link stage + P_off * (rtt + server_work / (...))
    throughput    = min(fps, 1 / max(stages))   pipelined, else min(fps, 1 / latency)

Contention beyond the paper (which schedules one app): ``n_link`` and ``n_server`` are the
numbers of apps that offload at the same time, each taking an equal share of link and server;
``share`` is the app's share of the device. Metrics, per frame: ``latency_ms``,
``throughput_fps``, ``accuracy``, ``device_ms`` (device compute, full-device ms),
``server_ms`` (server compute, full-server ms), ``energy_mj`` (device compute above idle
plus radio energy).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from sim.profile import Profile
from sim.routes import CLOUD, RouteError, build_route
from sim.schedulers.base import AppView, SystemView

__all__ = ["METRICS", "ConfigTable", "Estimates", "config_table", "estimate"]

METRICS = ("latency_ms", "throughput_fps", "accuracy", "device_ms", "server_ms", "energy_mj")
BYTES_PER_MBIT = 1e6 / 8.0


@dataclass(frozen=True, eq=False)
class ConfigTable:
    """The profile-only part of every configuration of one app (arrays over configs)."""

    variant: str
    splits: tuple[str | None, ...]
    thresholds: tuple[float | None, ...]
    device_s: np.ndarray
    offload: np.ndarray
    bytes: np.ndarray
    server_s: np.ndarray
    accuracy: np.ndarray

    def __len__(self) -> int:
        return len(self.splits)


@dataclass(frozen=True, eq=False)
class Estimates:
    """Every metric of :data:`METRICS` as an array over the configurations."""

    table: ConfigTable
    values: dict[str, np.ndarray]


_TableKey = tuple[int, int, float | None, tuple[float | None, ...], bool]
_TABLES: dict[_TableKey, tuple[Profile, Profile | None, ConfigTable]] = {}


def config_table(profile: Profile, server: Profile | None, upload_bytes: float | None,
                 thresholds: Sequence[float | None], with_splits: bool = True) -> ConfigTable:
    """All configurations: device only, every split and cloud only (when a server profile is
    given and ``with_splits``), each with every threshold (cloud only without one).
    Cached per profile objects (profiles are immutable)."""
    key = (id(profile), id(server), upload_bytes, tuple(thresholds), with_splits)
    hit = _TABLES.get(key)
    if hit is not None and hit[0] is profile and hit[1] is server:
        return hit[2]
    variant = profile.variants[0].id
    splits: list[str | None] = [None]
    if server is not None and with_splits and profile.progressive is not None:
        splits += [s.name for s in profile.progressive.splits] + [CLOUD]
    rows: list[tuple[str | None, float | None]] = []
    cols: list[tuple[float, float, float, float, float]] = []
    for split in splits:
        for th in ([None] if split == CLOUD else thresholds):
            try:
                r = build_route(profile, variant, split, th, server, upload_bytes)
            except RouteError:
                continue
            off = np.asarray(r.offload, dtype=bool)
            corr = np.asarray(r.correct, dtype=float)
            acc = float(corr.mean()) if r.samples else r.top1
            rows.append((split, th))
            cols.append((float(np.mean(r.device_work)), float(off.mean()),
                         float(np.mean(r.upload_bytes)), r.server_work, acc))
    arr = np.array(cols, dtype=np.float64).reshape(-1, 5)
    table = ConfigTable(variant, tuple(s for s, _ in rows), tuple(t for _, t in rows),
                        arr[:, 0], arr[:, 1], arr[:, 2], arr[:, 3], arr[:, 4])
    if len(_TABLES) > 256:
        _TABLES.clear()
    _TABLES[key] = (profile, server, table)
    return table


def estimate(table: ConfigTable, app: AppView, view: SystemView, share: float,
             n_link: int, n_server: int) -> Estimates:
    """Metrics of every configuration for this app under the view's estimates."""
    cap = max(view.capacity * share, 1e-9)
    dev = table.device_s / cap
    off = table.offload
    if view.bandwidth_mbps and view.link_up:
        bw = view.bandwidth_mbps * BYTES_PER_MBIT / max(n_link, 1)
        link = table.bytes / bw
    else:  # no link: anything that leaves the device cannot be estimated (or done)
        link = np.where(off > 0, np.inf, 0.0)
    srv_cap = max((view.server_capacity or 0.0) / max(n_server, 1), 1e-9)
    srv_each = table.server_s / srv_cap
    rtt = (view.rtt_ms or 0.0) / 1000.0
    latency = dev + link + off * (rtt + srv_each)
    if view.pipelined:
        stage = np.maximum(np.maximum(dev, link), off * srv_each)
    else:
        stage = latency
    with np.errstate(divide="ignore"):
        fps = np.minimum(app.fps, np.where(stage > 0, 1.0 / stage, np.inf))
    p = view.power
    dyn = (p.busy_w - p.idle_w) if p is not None else 0.0
    j_byte = p.radio_j_per_byte if p is not None else 0.0
    tx_w = p.radio_tx_w if p is not None else 0.0
    radio = np.where(np.isfinite(link), tx_w * np.where(np.isfinite(link), link, 0.0), np.inf)
    energy = (dyn * table.device_s + j_byte * table.bytes + radio) * 1000.0
    values = {
        "latency_ms": latency * 1000.0,
        "throughput_fps": fps,
        "accuracy": table.accuracy,
        "device_ms": table.device_s * 1000.0,
        "server_ms": off * table.server_s * 1000.0,
        "energy_mj": energy,
    }
    return Estimates(table, values)
