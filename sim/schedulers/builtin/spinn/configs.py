"""What SPINN's model knows of each (split, threshold) configuration before the system state
enters: the mean device work, the fraction of frames that leave the device, the bytes sent,
the server work per offloaded frame and the accuracy, over the profile's eval samples (the
means of the routes :func:`sim.profile.routes.build_route` gives, without building routes:
:mod:`.rows` per split, :mod:`.sums` every threshold of a split at once, over arrays derived
once per profile content by :mod:`.samples`), cached by the profiles' content (the device
profile's, and the server's times); :mod:`.offload_model` scales them by the system state."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from sim.profile import Profile
from sim.profile.digest import content_key, exact, server_key
from sim.profile.routes import CLOUD
from sim.profile.shared_cache import on_clear
from sim.schedulers.builtin.spinn.rows import Row, cloud_row, device_rows, split_rows
from sim.schedulers.builtin.spinn.samples import profile_samples

__all__ = ["BYTES_PER_MBIT", "ConfigTable", "config_table"]

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
    steady: np.ndarray | None = None
    """every sample has the same device work, bytes and way out (None: unknown, taken as no)"""
    # derived once (estimates run at every decision)
    _on_device: np.ndarray = field(init=False, repr=False)
    _no_link: np.ndarray = field(init=False, repr=False)
    _device_ms: np.ndarray = field(init=False, repr=False)
    _server_ms: np.ndarray = field(init=False, repr=False)
    _steady_idx: tuple[int, ...] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        def frozen(a: np.ndarray) -> np.ndarray:
            a.setflags(write=False)
            return a

        put = object.__setattr__
        put(self, "_on_device", frozen((self.device_s > 0).astype(np.float64)))
        put(self, "_no_link", frozen(np.where(self.offload > 0, np.inf, 0.0)))
        put(self, "_device_ms", frozen(self.device_s * 1000.0))
        put(self, "_server_ms", frozen(self.offload * self.server_s * 1000.0))
        steady = () if self.steady is None else tuple(np.flatnonzero(self.steady).tolist())
        put(self, "_steady_idx", steady)

    def __len__(self) -> int:
        return len(self.splits)


_TABLES: dict[tuple[object, ...], ConfigTable] = {}
_MAX_TABLES = 256
on_clear(_TABLES.clear)

def config_table(profile: Profile, server: Profile | None, upload_bytes: float | None,
                 thresholds: Sequence[float | None], with_splits: bool = True) -> ConfigTable:
    """All configurations: device only, every split and cloud only (when a server profile is
    given and ``with_splits``), each with every threshold (cloud only without one).

    Each configuration is what :func:`sim.profile.routes.build_route` gives for it (those it
    refuses are left out), summed up over the samples. Cached per process by the profiles'
    content (:func:`sim.profile.digest.content_key`), so a run that loads the same profiles
    again reuses the table."""
    pkey = content_key(profile)
    skey = server_key(server) if server is not None else ""
    key = None
    if pkey is not None and skey is not None:
        key = (pkey, skey, exact(upload_bytes), tuple(exact(t) for t in thresholds),
               bool(with_splits))
        hit = _TABLES.get(key)
        if hit is not None:
            return hit
    table = _build_table(profile, server, upload_bytes, thresholds, with_splits)
    if key is not None:
        if len(_TABLES) >= _MAX_TABLES:
            _TABLES.clear()
        _TABLES[key] = table
    return table


def _build_table(profile: Profile, server: Profile | None, upload_bytes: float | None,
                 thresholds: Sequence[float | None], with_splits: bool) -> ConfigTable:
    src = profile_samples(profile)
    rows: list[tuple[str | None, float | None]] = []
    cols: list[Row] = []

    def add(split: str | None, got: Sequence[Row | None], ths: Sequence[float | None]) -> None:
        for th, row in zip(ths, got):
            if row is not None:
                rows.append((split, th))
                cols.append(row)

    add(None, device_rows(src, thresholds), thresholds)
    if server is not None and with_splits and src.prog is not None:
        for sp in src.prog.splits:
            add(sp.name, split_rows(src, sp.name, server, thresholds), thresholds)
        add(CLOUD, [cloud_row(src, server, upload_bytes)], [None])
    arr = np.array(cols, dtype=np.float64).reshape(-1, 6)
    arr.setflags(write=False)  # shared by every run that uses these profiles
    return ConfigTable(src.variant, tuple(s for s, _ in rows), tuple(t for _, t in rows),
                       arr[:, 0], arr[:, 1], arr[:, 2], arr[:, 3], arr[:, 4], arr[:, 5] > 0)
