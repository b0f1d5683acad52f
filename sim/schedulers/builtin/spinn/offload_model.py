"""SPINN's performance model (ALGORITHMS 2.4): estimates of every (split, threshold)
configuration of a progressive app, from its profile and the monitors' estimates.

Per configuration the profile fixes, over its real eval samples (:mod:`sim.profile.routes`): the
mean device work, the fraction ``p`` of frames that leave the device, the mean bytes sent per
frame, the server work per offloaded frame and the accuracy. The system state then scales
them into mean stage times per frame:

    D = device_work / (share * capacity)     device stage
    L = bytes / (bandwidth / n_link)         link stage (0 when nothing leaves; inf: no link)
    S = server_work / (server_capacity / n_server)   per offloaded frame
    R = round trip, T = 1 / fps              camera period
    busy = D + L + p * (R + S)               from taking a frame to its answer, no waiting

SPINN's own model stops there: latency = busy, throughput = min(fps, 1 / slowest stage).
That holds for a camera far slower than every stage; nearer saturation it leaves out what
the engine (:mod:`sim.engine.app`) makes a frame wait, so the model below adds it (this goes
beyond the paper). Cameras have latest-frame semantics: a free stage takes the newest frame,
older ones are dropped, so a frame's latency counts from its arrival and includes its *age*
when taken.

Pipelined (device, link and server work on different frames; a finished device part waits,
holding the device, for the link; a transfer waits while a frame queues at the server).
With ``F = max(D, L)``:

- camera-bound, ``T >= F`` and ``T >= p S``: every frame is taken as it arrives:
  latency = busy, throughput = fps.
- device- or link-bound, ``F > T >= ...``, ``F >= p S``: the bottleneck is always busy and
  takes the newest frame when it frees, every ``F``: the age is ``(t_k mod T)`` averaged over
  take times ``t_k = c + k F``, which is ``T/2`` for an incommensurate ratio and, when every
  sample costs the same (``ConfigTable.steady``) and ``F/T = a/b`` with a small ``b``,
  exactly ``T (b - 1) / (2 b) + (c mod T/b)`` (``c = D`` when the link sets the pace, the
  device's first part delaying its chain, else 0). The device also holds each frame for
  the link, ``F - D``: latency = age + busy + (F - D), throughput = 1 / F.
- server-bound, ``p S > max(F, T)``: frames cross the link faster than the server takes
  them, and a transfer waits while a frame queues at the server, so they go in bursts. A
  cycle starts when the queue empties: the frame the device holds is sent, and the frames
  taken next (every ``F`` when the device or link sets the pace, else as they arrive; a
  fraction p of them offloaded) are sent as they are ready until the first one sent reaches
  the busy server, ``W = L/p + R/2`` after it left, and queues (when ``W >= S`` the server
  is idle then and the second one queues). The ``n`` frames sent are served back to back:
  the cycle lasts ``C = max(W, S) + (n - 1) S`` and throughput is ``n / (p C)``. Summed over
  a cycle, the offloaded frames' latencies are ``n (max(W, S) + S + R/2) + S n (n - 1)/2``,
  plus ``C`` less the take times of the cycle's offloaded frames (the last one taken is held
  until the next cycle), plus their ages (``T/2`` each when the device or link sets the
  pace, else only the first, taken when the cycle starts). Cloud-only frames are taken when
  they are sent, so nothing is held. Exact for fixed stage times and p = 1 when the device
  or link sets the pace; when the camera does, the number of frames taken in the window
  varies, and the sums are averaged over the two whole numbers around its mean.

One at a time (``pipelined`` false): a frame is taken when the previous one has its answer,
so the cycle is ``busy`` itself: throughput = min(fps, 1 / busy); latency = busy + the age at
take time (as above with ``F = busy``, ``c = 0``; 0 when ``busy <= T``).

Mean values are used throughout. A mix of fast and slow frames (early exits, per-sample
bytes) whose mean load is within about a tenth of the camera's rate or of the server's
waits more than this predicts (up to a third to a half more latency, and up to a tenth
less throughput, in the engine), and a server so slow that answers time out is not
modelled.

Contention beyond the paper (which schedules one app): ``n_link`` and ``n_server`` are the
numbers of apps that offload at the same time, each taking an equal share of link and server;
``share`` is the app's share of the device. Metrics, per frame: ``latency_ms``,
``throughput_fps``, ``accuracy``, ``device_ms`` (device compute, full-device ms),
``server_ms`` (server compute, full-server ms), ``energy_mj`` (device compute above idle
plus radio energy). Degenerate estimates (no or zero bandwidth, no round trip, a server
with no capacity, non-finite numbers) never give NaN: what cannot be done has an infinite
latency and zero throughput.
"""

from __future__ import annotations

import hashlib
import math
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


@dataclass(frozen=True, eq=False)
class Estimates:
    """Every metric of :data:`METRICS` as an array over the configurations."""

    table: ConfigTable
    values: dict[str, np.ndarray]


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


def _exact_age(take: float, period: float, phase: float) -> float | None:
    """Mean age of the newest frame when a stage that is always busy takes one every
    ``take`` (> period) seconds from ``phase`` on, for fixed stage times whose ratio to the
    camera period is a/b with b <= 16: ``T (b - 1) / (2 b) + (phase mod T/b)``; None for
    other ratios (the mean is T/2 then)."""
    r = take / period
    if not r < 2.0 ** 40:
        return None
    for b in range(1, 17):
        x = r * b
        if abs(x - round(x)) <= 1e-9 * x:
            return period * (b - 1) / (2.0 * b) + math.fmod(phase, period / b)
    return None


def _with_exact_ages(lat: np.ndarray, table: ConfigTable, take: np.ndarray, paced: np.ndarray,
                     dev: np.ndarray | None, link: np.ndarray | None,
                     period: float) -> np.ndarray:
    """``lat`` (which counts T/2 of age where ``paced``: taken every ``take`` seconds) with
    the exact age for the configurations whose stage times are fixed. When the link sets
    the pace (``dev``, ``link`` given), the device's first part delays its chain by D."""
    assert table.steady is not None
    for i in np.flatnonzero(paced & table.steady).tolist():
        phase = 0.0
        if dev is not None and link is not None and link[i] > dev[i]:
            phase = float(dev[i])
        age = _exact_age(float(take[i]), period, phase)
        if age is not None:
            lat[i] += age - period / 2.0
    return lat


def _pipelined(table: ConfigTable, dev: np.ndarray, link: np.ndarray, srv: np.ndarray,
               rtt: float, busy: np.ndarray, period: float) -> tuple[np.ndarray, np.ndarray]:
    """(latency s, throughput fps) with device, link and server as a pipeline."""
    f = np.maximum(dev, link)
    paced = f > period
    if paced.any():  # taken every F: aged T/2 on average, and held F - D for the link
        lat = busy + np.where(paced, (f - dev) * table._on_device + period / 2.0, 0.0)
        if table._steady_idx:
            lat = _with_exact_ages(lat, table, f, paced, dev, link, period)
    else:
        lat = busy
    gap = np.maximum(f, period)  # time between frames taken, unless the server holds them
    fps = 1.0 / gap
    burst = table.offload * srv > gap
    if burst.any():
        off = table.offload
        lat_b, fps_b = _bursts(np.where(burst, dev, 0.0), np.where(burst, link, 0.0),
                               np.where(burst, off, 1.0), np.where(burst, srv, 1.0),
                               rtt, period)
        lat = np.where(burst, lat_b, lat)
        fps = np.where(burst, fps_b, fps)
    return lat, fps


def _bursts(dev: np.ndarray, link: np.ndarray, p: np.ndarray, s: np.ndarray, rtt: float,
            period: float) -> tuple[np.ndarray, np.ndarray]:
    """(latency s, throughput fps) when the server is the bottleneck (module docstring).

    A cycle starts when the server's queue empties (time 0): the frame the device holds is
    sent, and frames the device takes next are sent as they are ready until the first one
    sent reaches a busy server and queues (``W = L/p + R/2`` after it left; when ``W >= S``
    the server is idle then and the second one queues). Frames are taken in slots, every
    ``F`` when the device or link sets the pace (each aged T/2), else at camera arrivals
    (only the first, at time 0, aged); each slot's frame is offloaded with probability p.
    The first offloaded frame too late for the window is held until the next cycle. With
    the camera setting the pace the number of slots varies between the two integers around
    its mean, and the sums below are averaged over both (they grow faster than linearly)."""
    f = np.maximum(dev, link)
    cam = f < period
    device = dev > 0
    w = link / p + rtt / 2.0
    start = np.maximum(w, s)
    pace = np.where(cam, period, f)  # between slots
    skipped = (1.0 / p - 1.0) * pace  # expected wait from a slot to an offloaded frame
    # the window closes W after the first frame sent (the second when the server idles)
    first_send = np.where(device | ~cam, f + skipped, np.maximum(f, period / 2.0))
    window = w + (w >= s) * first_send
    # slots whose frame is sent (taken + F) before the window closes; cloud only: the
    # frame sent at 0 is taken then, not in a slot
    mean_slots = np.where(cam, (device & (window > f)) + np.maximum(window - dev, 0.0) / period,
                          np.maximum(np.ceil(window / f) - 1.0, 0.0))
    low = np.floor(mean_slots)
    frac = mean_slots - low
    # both whole numbers of slots at once (rows), weighted at the end
    slots = np.stack((low, low + 1.0))
    more = p * slots  # frames sent after the first
    n = 1.0 + more
    # slots are taken at 0, F, 2F, ... or at 0, T/2, 3T/2, ... (camera): the sum of the
    # take times of the slots before the window's end, and of the first offloaded after it
    late = slots - 1.0
    before = np.where(cam, np.maximum(late, 0.0) ** 2, slots * late) * (pace / 2.0)
    t_next = pace * (slots - cam * np.minimum(slots, 1.0) * 0.5) + skipped
    cycle = np.maximum(start + more * s, t_next + f)
    held = cycle - (p * before + t_next)  # the held frame's wait, less the take times
    sent = pace * np.where(cam, slots * slots, n * more) / 2.0  # cloud only: p = 1
    ages = np.where(cam, p, n) * (period / 2.0)
    # sum over a cycle of S n (n - 1) / 2, with the variance of the number offloaded
    queue = s * more * (n + 1.0 - p) / 2.0
    total = n * (start + s + rtt / 2.0) + queue + np.where(device, held, -sent) + ages
    weights = np.stack((1.0 - frac, frac))
    total, n, cycle = ((weights * total).sum(0), (weights * n).sum(0),
                       (weights * cycle).sum(0))
    return p * total / n + (1.0 - p) * dev, n / (p * cycle)


def _finite(x: float | None, default: float) -> float:
    return float(x) if x is not None and math.isfinite(x) else default


def estimate(table: ConfigTable, app: AppView, view: SystemView, share: float,
             n_link: int, n_server: int) -> Estimates:
    """Metrics of every configuration for this app under the view's estimates."""
    cap = max(_finite(view.capacity, 0.0) * share, 1e-9)
    off = table.offload
    bw = _finite(view.bandwidth_mbps, 0.0) * BYTES_PER_MBIT
    per_byte = max(n_link, 1) / bw if bw > 0 else math.inf  # seconds per byte
    srv_cap = max(_finite(view.server_capacity, 0.0) / max(n_server, 1), 1e-9)
    rtt = max(_finite(view.rtt_ms, 0.0), 0.0) / 1000.0
    period = 1.0 / app.fps
    with np.errstate(all="ignore"):
        dev = table.device_s / cap
        if view.link_up and 0.0 < per_byte < math.inf:
            link = table.bytes * per_byte
        else:  # no link: anything that leaves the device cannot be estimated (or done)
            link = table._no_link
        srv = table.server_s / srv_cap
        busy = dev + link + off * (srv + rtt)  # from taking a frame to its answer
        if view.pipelined:
            latency, fps = _pipelined(table, dev, link, srv, rtt, busy, period)
        else:  # taken when the previous frame has its answer: every busy seconds
            paced = busy > period
            latency = busy + np.where(paced, period / 2.0, 0.0)
            if table._steady_idx:
                latency = _with_exact_ages(latency, table, busy, paced, None, None, period)
            fps = 1.0 / np.maximum(busy, period)
        p = view.power
        dyn = (p.busy_w - p.idle_w) if p is not None else 0.0
        j_byte = p.radio_j_per_byte if p is not None else 0.0
        tx_w = p.radio_tx_w if p is not None else 0.0
        energy = (dyn * table.device_s + j_byte * table.bytes + tx_w * link) * 1000.0
        if not math.isfinite(latency.max(initial=0.0)):  # (latency >= busy >= link)
            # never NaN: what cannot be done takes for ever and gives nothing
            latency = np.where(np.isnan(latency) | np.isinf(busy), np.inf, latency)
            fps = np.where(np.isfinite(latency) & ~np.isnan(fps), fps, 0.0)
            energy = np.where(np.isinf(link) | np.isnan(energy), np.inf, energy)
    values = {
        "latency_ms": latency * 1000.0,
        "throughput_fps": fps,
        "accuracy": table.accuracy,
        "device_ms": table._device_ms,
        "server_ms": table._server_ms,
        "energy_mj": energy,
    }
    return Estimates(table, values)
