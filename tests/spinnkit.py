"""SPINN's configuration table built the slow way (one route per configuration, summed up as
the engine's samples are) and compared bit for bit with the fast one: shared by
tests/test_spinn_configs.py and tests/test_speed_paths.py."""

from __future__ import annotations

import numpy as np

from sim.profile import Profile
from sim.profile.routes import CLOUD, RouteError, build_route
from sim.schedulers.builtin.spinn import configs, samples
from sim.schedulers.builtin.spinn.offload_model import ConfigTable, config_table


def reference_table(profile: Profile, server: Profile | None, upload: float | None,
                    thresholds, with_splits: bool = True) -> ConfigTable:
    """One route per configuration, summed up with numpy as the engine's samples are."""
    variant = profile.variants[0].id
    splits: list[str | None] = [None]
    if server is not None and with_splits and profile.progressive is not None:
        splits += [s.name for s in profile.progressive.splits] + [CLOUD]
    rows, cols = [], []
    for split in splits:
        for th in ([None] if split == CLOUD else thresholds):
            try:
                r = build_route(profile, variant, split, th, server, upload)
            except RouteError:
                continue
            off = np.asarray(r.offload, dtype=bool)
            work = np.asarray(r.device_work, dtype=float)
            sent = np.asarray(r.upload_bytes, dtype=float)
            acc = float(np.asarray(r.correct, dtype=float).mean()) if r.samples else r.top1
            steady = bool(np.ptp(work) == 0 and np.ptp(sent) == 0 and off.all() == off.any())
            rows.append((split, th))
            cols.append((float(work.mean()), float(off.mean()), float(sent.mean()),
                         r.server_work, acc, float(steady)))
    arr = np.array(cols, dtype=np.float64).reshape(-1, 6)
    return ConfigTable(variant, tuple(s for s, _ in rows), tuple(t for _, t in rows),
                       arr[:, 0], arr[:, 1], arr[:, 2], arr[:, 3], arr[:, 4], arr[:, 5] > 0)


def fresh_table(profile: Profile, server: Profile | None, upload: float | None, thresholds,
                with_splits: bool = True) -> ConfigTable:
    """The fast table, built anew (its caches emptied first)."""
    configs._TABLES.clear()
    samples._SAMPLES.clear()
    return config_table(profile, server, upload, thresholds, with_splits)


def assert_same(a: ConfigTable, b: ConfigTable) -> None:
    """Equal bit for bit (-0.0 and 0.0 differ)."""
    assert (a.variant, a.splits) == (b.variant, b.splits)
    assert [(type(t), repr(t)) for t in a.thresholds] == [(type(t), repr(t)) for t in b.thresholds]
    for f in ("device_s", "offload", "bytes", "server_s", "accuracy", "steady"):
        x, y = getattr(a, f), getattr(b, f)
        assert x.dtype == y.dtype and x.shape == y.shape, f
        assert x.tobytes() == y.tobytes(), f
