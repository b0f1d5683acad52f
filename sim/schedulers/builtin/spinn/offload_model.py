"""SPINN's performance model (ALGORITHMS 2.4): estimates of every (split, threshold)
configuration of a progressive app, from its profile and the monitors' estimates.

Per configuration the profile fixes, over its real eval samples (:mod:`.configs`): the
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
the engine (:mod:`sim.engine.offload`, :mod:`sim.engine.device_stage`) makes a frame wait, so the model below adds it (this goes
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

import math
from dataclasses import dataclass

import numpy as np

from sim.schedulers.base import AppView, SystemView
from sim.schedulers.builtin.spinn.configs import BYTES_PER_MBIT, ConfigTable, config_table

__all__ = ["METRICS", "ConfigTable", "Estimates", "config_table", "estimate"]

METRICS = ("latency_ms", "throughput_fps", "accuracy", "device_ms", "server_ms", "energy_mj")


@dataclass(frozen=True, eq=False)
class Estimates:
    """Every metric of :data:`METRICS` as an array over the configurations."""

    table: ConfigTable
    values: dict[str, np.ndarray]



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
