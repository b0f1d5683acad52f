"""What SPINN's model knows of each (split, threshold) configuration before the system state
enters: the mean device work, the fraction of frames that leave the device, the bytes sent,
the server work per offloaded frame and the accuracy, over the profile's eval samples (the
steps of :func:`sim.profile.routes.build_route`, without building routes), as numpy arrays
cached by the profiles' content; :mod:`.offload_model` scales them by the system state."""

from __future__ import annotations

import hashlib
import weakref
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from sim.profile import ExitPoint, Profile
from sim.profile.routes import (
    CLOUD,
    RouteError,
    _bits,
    _exits,
    _first_firing,
    _split_map,
    exit_population,
    ranked_bits,
    uses_table,
)

__all__ = ["BYTES_PER_MBIT", "ConfigTable", "config_table", "content_key"]

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
_KEYS: dict[int, tuple[weakref.ref[Profile], str]] = {}


def content_key(profile: Profile) -> str | None:
    """A digest of the profile's content (everything but ``extra``, which no code reads),
    computed once per Profile object: equal profiles loaded twice share their tables. None
    when the profile cannot be serialised (then nothing is cached for it)."""
    hit = _KEYS.get(id(profile))
    if hit is not None and hit[0]() is profile:
        return hit[1]
    try:
        text = profile.model_dump_json(exclude={"extra"})
    except Exception:  # noqa: BLE001 - a profile built in code with odd values: no cache
        return None
    key = hashlib.sha256(text.encode()).hexdigest()
    if len(_KEYS) > 1024:
        for k in [k for k, (ref, _) in _KEYS.items() if ref() is None]:
            del _KEYS[k]
        if len(_KEYS) > 1024:
            _KEYS.clear()
    _KEYS[id(profile)] = (weakref.ref(profile), key)
    return key


def _exact(x: object) -> tuple[type, str]:
    """A cache key part that tells 1 from 1.0 and 0.0 from -0.0 (they end up in plans)."""
    return type(x), repr(x)


def config_table(profile: Profile, server: Profile | None, upload_bytes: float | None,
                 thresholds: Sequence[float | None], with_splits: bool = True) -> ConfigTable:
    """All configurations: device only, every split and cloud only (when a server profile is
    given and ``with_splits``), each with every threshold (cloud only without one).

    Each configuration is what :func:`sim.profile.routes.build_route` gives for it (those it refuses
    are left out), summed up over the samples with numpy. Cached per process by the
    profiles' content (:func:`content_key`), so a run that loads the same profiles again
    reuses the table."""
    pkey = content_key(profile)
    skey = content_key(server) if server is not None else ""
    key = None
    if pkey is not None and skey is not None:
        key = (pkey, skey, _exact(upload_bytes), tuple(_exact(t) for t in thresholds),
               bool(with_splits))
        hit = _TABLES.get(key)
        if hit is not None:
            return hit
    table = _build_table(profile, server, upload_bytes, thresholds, with_splits)
    if key is not None:
        if len(_TABLES) > 256:
            _TABLES.clear()
        _TABLES[key] = table
    return table


def _build_table(profile: Profile, server: Profile | None, upload_bytes: float | None,
                 thresholds: Sequence[float | None], with_splits: bool) -> ConfigTable:
    src = _Samples(profile, server, upload_bytes)
    splits: list[str | None] = [None]
    if server is not None and with_splits and profile.progressive is not None:
        splits += [s.name for s in profile.progressive.splits] + [CLOUD]
    rows: list[tuple[str | None, float | None]] = []
    cols: list[tuple[float, float, float, float, float, float]] = []
    for split in splits:
        for th in ([None] if split == CLOUD else thresholds):
            try:
                cols.append(src.config(split, th))
            except RouteError:
                continue
            rows.append((split, th))
    arr = np.array(cols, dtype=np.float64).reshape(-1, 6)
    arr.setflags(write=False)  # shared by every run that uses these profiles
    return ConfigTable(src.variant, tuple(s for s, _ in rows), tuple(t for _, t in rows),
                       arr[:, 0], arr[:, 1], arr[:, 2], arr[:, 3], arr[:, 4], arr[:, 5] > 0)


class _Samples:
    """Per-sample arrays of one profile (and server), read once, and the summary of one
    configuration from them: the same steps as :func:`sim.profile.routes.build_route` for the
    profile's first variant (the same RouteErrors), without building its tuples."""

    def __init__(self, profile: Profile, server: Profile | None,
                 upload_bytes: float | None) -> None:
        self.profile, self.server, self.upload_bytes = profile, server, upload_bytes
        self.variant = profile.variants[0].id
        self.v = profile.variant(self.variant)
        self.prog = profile.progressive
        out = profile.outcomes
        self.n = out.samples if out is not None else 0
        self.size = max(self.n, 1)
        self.early, final = _exits(profile)
        self.final_key = (final.name if final is not None and _bits(profile, final.name)
                          is not None else self.v.id)
        self.full_ms = self.v.latency_ms.median
        self.final_ms = final.device_ms if final is not None else self.full_ms
        self.exit_top1 = ({e.name: e.top1 for e in self.prog.exits}
                          if self.prog is not None else {})
        self.arange = np.arange(self.size)
        self._correct: dict[str, np.ndarray] = {}
        self._conf: dict[str, np.ndarray] = {}
        self._bytes: dict[str, np.ndarray] = {}
        self._splits = _split_map(profile)
        self._server_splits = _split_map(server) if server is not None else {}

    def correct_of(self, key: str) -> np.ndarray:
        hit = self._correct.get(key)
        if hit is None:
            bits = _bits(self.profile, key)
            if bits is not None:
                hit = bits
            elif self.n == 0:
                hit = np.ones(self.size, dtype=bool)
            else:
                hit = ranked_bits(self.profile, key, self.exit_top1.get(key, self.v.top1))
            self._correct[key] = hit
        return hit

    def correct_at(self, key: str, threshold: float | None) -> np.ndarray:
        """Per-sample correctness at ``key`` under an exit threshold: from the exit table's
        population when the profile's exits are drawn from it (as in build_route)."""
        if threshold is not None and uses_table(self.profile, self.early):
            return exit_population(self.profile, threshold).correct(key)
        return self.correct_of(key)

    def first_firing(self, exits: list[ExitPoint], threshold: float) -> np.ndarray:
        """As :func:`sim.profile.routes._first_firing`."""
        if not exits:
            return np.zeros(self.n, dtype=np.int64)
        if uses_table(self.profile, exits):  # aggregate outcomes: the exit table
            return _first_firing(self.profile, exits, threshold)
        out = self.profile.outcomes
        if out is None or any(e.name not in out.confidence for e in exits):
            _first_firing(self.profile, exits, threshold)  # raises its RouteError
        rows = []
        for e in exits:
            c = self._conf.get(e.name)
            if c is None:
                c = self._conf[e.name] = np.array(out.confidence[e.name],  # type: ignore[union-attr]
                                                  dtype=np.float64)
            rows.append(c)
        fires = np.array(rows) >= threshold * 1000.0 - 1e-9
        return np.where(fires.any(axis=0), fires.argmax(axis=0), len(exits))

    def config(self, split: str | None,
               threshold: float | None) -> tuple[float, float, float, float, float, float]:
        """(mean device work, fraction offloaded, mean bytes sent, server work, accuracy,
        steady) of one configuration, exactly as config_table sums up its route."""
        prog, n, size = self.prog, self.n, self.size
        if (split is not None or threshold is not None) and prog is None:
            raise RouteError("no exits or split points")
        if threshold is not None and not 0.0 <= threshold <= 1.0:
            raise RouteError(f"threshold {threshold} not in [0, 1]")
        if threshold is not None and n == 0:
            raise RouteError("an exit threshold needs per-sample outcomes")
        server_work = 0.0
        if split is None:  # device only
            if threshold is None:
                work = np.full(size, self.full_ms / 1000.0)
                corr = self.correct_of(self.v.id)
            else:
                first = self.first_firing(self.early, threshold)
                ms = np.array([e.device_ms for e in self.early] + [self.final_ms])
                keys = [e.name for e in self.early] + [self.final_key]
                work = ms[first] / 1000.0
                corr = np.array([self.correct_at(k, threshold) for k in keys])[first, self.arange]
            off = np.zeros(size, dtype=bool)
            sent = np.zeros(size)
        elif self.server is None:
            raise RouteError(f"split {split!r} needs a server")
        elif split == CLOUD:
            if threshold is not None:
                raise RouteError("cloud-only runs no exits")
            nbytes = (self.upload_bytes if self.upload_bytes is not None
                      else prog.input_bytes)  # type: ignore[union-attr]
            try:
                srv_ms = self.server.variant(self.variant).latency_ms.median
            except KeyError:
                raise RouteError("the server profile has no such variant") from None
            corr = self.correct_of(self.v.id)
            work = np.zeros(size)
            off = np.ones(size, dtype=bool)
            sent = np.full(size, float(nbytes))
            server_work = srv_ms / 1000.0
        else:
            sp = self._splits.get(split)
            if sp is None:
                raise RouteError(f"unknown split {split!r}")
            srv = self._server_splits.get(split)
            if srv is None or srv.server_ms is None:
                raise RouteError(f"the server profile has no server_ms for split {split!r}")
            assert prog is not None
            enc = sp.encode_ms if sp.encode_ms is not None else prog.codec_encode_ms
            dec = (srv.decode_ms if srv.decode_ms is not None
                   else self.server.progressive.codec_decode_ms)  # type: ignore[union-attr]
            server_work = (dec + srv.server_ms) / 1000.0
            nbytes_arr = self._bytes.get(split)
            if nbytes_arr is None:
                per = sp.bytes.int8_lz4_per_sample
                if per is not None and n and len(per) == n:
                    nbytes_arr = np.asarray(per, dtype=np.float64)
                else:
                    nbytes_arr = np.full(size, sp.bytes.sent_mean())
                self._bytes[split] = nbytes_arr
            before = [e for e in self.early if e.flops_fraction <= sp.flops_fraction]
            if threshold is None:
                heads = sum(e.head_ms or 0.0 for e in before)
                prefix = max(0.0, sp.device_ms - heads)
                work = np.full(size, (prefix + enc) / 1000.0)
                off = np.ones(size, dtype=bool)
                corr = self.correct_of(self.v.id)
            else:
                after = [e for e in self.early if e.flops_fraction > sp.flops_fraction]
                first = self.first_firing(before, threshold)
                off = first == len(before)
                ms_b = np.array([e.device_ms for e in before] + [sp.device_ms + enc])
                work = ms_b[first] / 1000.0
                keys = [e.name for e in before] + [self.final_key]
                corr = np.array([self.correct_at(k, threshold) for k in keys])[first, self.arange]
                out = self.profile.outcomes
                if after and (out is None or any(e.name not in out.confidence for e in after)):
                    _first_firing(self.profile, after, threshold)  # the fallback's RouteError
            sent = np.where(off, nbytes_arr, 0.0)
        acc = float(corr.astype(np.float64).mean()) if n else self.v.top1
        steady = bool(np.ptp(work) == 0 and np.ptp(sent) == 0 and off.all() == off.any())
        return (float(work.mean()), float(off.mean()), float(sent.mean()), server_work, acc,
                float(steady))


