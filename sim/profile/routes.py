"""How one app's frames run under one plan entry: a :class:`Route` per (variant, split,
threshold), with every eval sample's outcome worked out once from the profile.

A frame draws a real eval sample ``s``. With an exit threshold, it leaves at the first early
exit located on the device (at or before the split) whose max-softmax confidence is >= the
threshold; the final exit always answers. Work and correctness are those of the exit used
(DESIGN 3.1). A frame that passes the split is encoded on the device, sends its own sample's
compressed bytes, and the server decodes it and runs the suffix straight to the final exit
(no early exits there). Should the offload fail (timeout, link down), the device finishes the
frame itself from the split: the exits after the split in order, then the final exit.

Without a threshold no exit head runs: device-only costs the variant's latency, and a split's
device prefix is its ``device_ms`` minus the heads at or before it. Cloud-only (split
``"input"``) sends the camera frame (``upload_bytes``) and the server runs the whole variant.

A variant or exit without per-sample outcomes of its own in a profile that has them (an
AdaptiveNet search candidate) gets them from its ``top1`` by :func:`ranked_bits`; a profile
without any outcomes draws correctness per frame as Bernoulli(``top1``). Nothing counts as
always correct.

Aggregate outcomes (``outcomes.exit_table``, published profiles): when the exits have no
per-sample confidences, an exit threshold is looked up in the table and its row becomes a
population of the profile's ``samples`` evaluation samples (:func:`exit_population`): the
first ``round(left_by[k] * samples)`` samples have left by exit k, and within the block of
samples leaving at exit k the first ``round(accuracy[k] * size)`` are right there (and the
first ``round(final_accuracy[k] * size)`` are right at the final exit, which answers them
when they are offloaded). The engine draws a uniform sample per frame (deterministic per
seed), so a frame's exit follows the cumulative fractions at that threshold and its
correctness is Bernoulli with the accuracy of the exit it left at. A frame that falls back
after the split leaves at the exit of its block, as it would have on the device. What
the table cannot give is lost: a sample's behaviour across exits and thresholds.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from sim.common.messages import OneLineError
from sim.profile import ExitPoint, ExitTable, Profile, SplitPoint
from sim.profile.digest import content_key, exact, server_key
from sim.profile.shared_cache import SharedCache, on_clear

__all__ = ["CLOUD", "ExitPopulation", "Route", "RouteError", "build_route", "exit_population",
           "table_thresholds", "threshold_problem"]

CLOUD = "input"
"""The split name meaning cloud-only: the device sends the camera frame."""


class RouteError(OneLineError):
    """A plan entry the profile cannot run (unknown split, threshold without exits, ...)."""


@dataclass(frozen=True, eq=False)
class Route:
    """Per-sample outcomes of one plan entry; index lists by the drawn sample.

    ``samples == 0`` means the profile has no per-sample outcomes: every list has one entry
    and correctness is drawn as Bernoulli(``top1``) per frame.
    """

    variant: str
    split: str | None
    threshold: float | None
    samples: int
    device_work: tuple[float, ...]
    """device-stage work (full-device seconds): to the exit used, or to the split + encode"""
    offload: tuple[bool, ...]
    """the frame leaves the device"""
    correct: tuple[bool, ...]
    exit_used: tuple[str, ...]
    upload_bytes: tuple[float, ...]
    server_work: float
    """decode + suffix (or the whole variant for cloud-only), full-server seconds"""
    fallback_work: tuple[float, ...]
    """device work to finish an offloaded frame locally"""
    fallback_correct: tuple[bool, ...]
    fallback_exit: tuple[str, ...]
    top1: float
    """accuracy for Bernoulli draws when there are no per-sample outcomes"""
    cloud: bool = False
    """cloud-only: no device part"""

    @property
    def needs_server(self) -> bool:
        return any(self.offload)


_ROUTES: SharedCache[Route] = SharedCache(200_000, lambda r: max(r.samples, 1))
"""Routes by profile content and plan entry; besides those in use, the latest ones up to
200,000 samples in all (about 100 MB) are kept for the next run."""
_RANKED: SharedCache[np.ndarray] = SharedCache(1_000_000, len)
"""ranked_bits by profile content, key and top1 (one byte a sample)."""


def _bits(profile: Profile, key: str) -> np.ndarray | None:
    out = profile.outcomes
    if out is None or key not in out.correct:
        return None
    return np.frombuffer(out.correct[key].encode(), np.uint8) == 49


def _split_map(profile: Profile) -> dict[str, SplitPoint]:
    prog = profile.progressive
    return {s.name: s for s in prog.splits} if prog is not None else {}


def _exits(profile: Profile) -> tuple[list[ExitPoint], ExitPoint | None]:
    """(early exits in order, the final exit if listed)."""
    prog = profile.progressive
    if prog is None:
        return [], None
    early = [e for e in prog.exits if e.flops_fraction < 1.0]
    final = next((e for e in prog.exits if e.flops_fraction >= 1.0), None)
    return early, final


@dataclass(frozen=True, eq=False)
class ExitPopulation:
    """The evaluation samples of an exit table at one threshold (module docstring): per exit
    of the table, a block of consecutive samples, the first ``own_count`` of which are right
    there and the first ``final_count`` right at the final exit. The per-sample arrays are
    built on first use (a scheduler's estimates need only the counts)."""

    sizes: np.ndarray
    """per exit, how many samples leave there (their blocks follow each other in order)"""
    own_count: np.ndarray
    """per exit, how many of its samples are right there"""
    final_count: np.ndarray
    """per exit, how many of its samples are right at the final exit"""
    index: dict[str, int]
    """exit name -> position in ``exit_table.exits``"""

    @cached_property
    def block(self) -> np.ndarray:
        """per sample, index into ``exit_table.exits`` of the exit it leaves at"""
        return _frozen(np.repeat(np.arange(len(self.sizes)), self.sizes))

    @cached_property
    def own(self) -> np.ndarray:
        """per sample, right at the exit it leaves at"""
        return _frozen(self._first_of_block(self.own_count))

    @cached_property
    def final(self) -> np.ndarray:
        """per sample, right at the final exit (equal to ``own`` for those that reach it)"""
        return _frozen(self._first_of_block(self.final_count))

    def _first_of_block(self, count: np.ndarray) -> np.ndarray:
        starts = np.cumsum(self.sizes) - self.sizes
        pos = np.arange(int(self.sizes.sum())) - np.repeat(starts, self.sizes)
        return pos < np.repeat(count, self.sizes)

    def correct(self, key: str) -> np.ndarray:
        """Per-sample correctness at an early exit named ``key`` (for the samples that leave
        there; False elsewhere), or at the final exit for any other key (the final exit's
        name or the variant id)."""
        k = self.index.get(key)
        if k is None or k == len(self.index) - 1:
            return self.final
        return self.own & (self.block == k)


def _frozen(a: np.ndarray) -> np.ndarray:
    a.setflags(write=False)
    return a


_POPULATIONS: dict[int, tuple[ExitTable, dict[tuple[int, float], list[ExitPopulation]]]] = {}
on_clear(_POPULATIONS.clear)


def _populate(table: ExitTable, samples: int, final_top1: float) -> list[ExitPopulation]:
    """The population of every row of the table (numpy over all rows at once)."""
    rows, width = len(table.thresholds), len(table.exits)
    cum = np.rint(np.asarray(table.left_by, dtype=np.float64) * samples).astype(np.int64)
    cum = np.minimum(np.maximum.accumulate(cum, axis=1), samples)
    cum[:, -1] = samples
    size = np.diff(cum, axis=1, prepend=0)

    def fractions(table_rows: tuple[tuple[float | None, ...], ...]) -> np.ndarray:
        return np.array([[a if a is not None else 0.0 for a in r] for r in table_rows],
                        dtype=np.float64).reshape(rows, width)

    own_acc = fractions(table.accuracy)
    if table.final_accuracy is not None:
        fin_acc = fractions(table.final_accuracy)
    else:
        fin_acc = np.full((rows, width), final_top1)
    fin_acc[:, -1] = own_acc[:, -1]
    # the first round(accuracy * size) samples of each block (positions 0.. in the block)
    own = np.clip(np.rint(own_acc * size), 0, size).astype(np.int64)
    final = np.clip(np.rint(fin_acc * size), 0, size).astype(np.int64)
    index = {name: k for k, name in enumerate(table.exits)}
    return [ExitPopulation(_frozen(size[j]), _frozen(own[j]), _frozen(final[j]), index)
            for j in range(rows)]


def exit_population(profile: Profile, threshold: float) -> ExitPopulation:
    """The population of ``outcomes.samples`` samples that ``outcomes.exit_table`` gives at
    ``threshold`` (built once per table); RouteError when the profile has no table or the
    table no such threshold."""
    out = profile.outcomes
    table = out.exit_table if out is not None else None
    if out is None or table is None:
        raise RouteError(f"{profile.family}: an exit threshold needs per-sample confidences "
                         "of every exit or an exit table in the profile's outcomes")
    row = table.row(threshold)
    if row is None:
        raise RouteError(f"{profile.family}: threshold {threshold} is not in the exit "
                         f"table's thresholds {list(table.thresholds)}")
    hit = _POPULATIONS.get(id(table))
    if hit is None or hit[0] is not table:
        if len(_POPULATIONS) > 64:
            _POPULATIONS.clear()
        hit = _POPULATIONS[id(table)] = (table, {})
    prog = profile.progressive
    final_top1 = prog.exits[-1].top1 if prog is not None else 0.0
    key = (out.samples, final_top1)
    pops = hit[1].get(key)
    if pops is None:
        pops = hit[1][key] = _populate(table, out.samples, final_top1)
    return pops[row]


def table_thresholds(profile: Profile) -> tuple[float, ...] | None:
    """The exit thresholds a profile can run, when its exits are drawn from an exit table
    (published aggregates know only the thresholds they were measured at); None when any
    threshold in [0, 1] works (per-sample confidences) or the profile has no exits."""
    prog = profile.progressive
    exits = [e for e in prog.exits if e.flops_fraction < 1.0] if prog is not None else []
    if not uses_table(profile, exits):
        return None
    table = profile.outcomes.exit_table if profile.outcomes is not None else None
    return tuple(table.thresholds) if table is not None else None


def threshold_problem(profile: Profile, threshold: float | None) -> str | None:
    """Why ``threshold`` cannot run on ``profile`` (not among its exit table's thresholds),
    or None."""
    known = table_thresholds(profile)
    if threshold is None or known is None or any(abs(t - threshold) <= 1e-9 for t in known):
        return None
    return (f"{profile.family}: threshold {threshold} is not in the exit table's thresholds "
            f"{list(known)}")


def uses_table(profile: Profile, exits: list[ExitPoint]) -> bool:
    """True when a threshold over ``exits`` is drawn from the exit table: some exit has no
    per-sample confidences and the profile has a table."""
    out = profile.outcomes
    return (out is not None and out.exit_table is not None and bool(exits)
            and any(e.name not in out.confidence for e in exits))


def _first_firing(profile: Profile, exits: list[ExitPoint], threshold: float) -> np.ndarray:
    """Per sample, index into ``exits`` of the first whose confidence >= threshold (len =
    none fires). From an exit table: the first of ``exits`` at or after the exit the
    sample leaves at (a sample that leaves at an exit would leave at any later one)."""
    out = profile.outcomes
    n = out.samples if out is not None else 0
    if not exits:
        return np.zeros(n, dtype=np.int64)
    if uses_table(profile, exits):
        pop = exit_population(profile, threshold)
        positions = np.array([pop.index[e.name] for e in exits])
        # per table exit, the first of ``exits`` at or after it; the blocks are in order
        first = np.searchsorted(positions, np.arange(len(pop.sizes)), side="left")
        return np.repeat(first.astype(np.int64), pop.sizes)
    if out is None or any(e.name not in out.confidence for e in exits):
        missing = [e.name for e in exits if out is None or e.name not in out.confidence]
        raise RouteError(f"{profile.family}: an exit threshold needs per-sample confidences "
                         f"of every exit in the profile's outcomes; missing {missing}")
    conf = np.array([out.confidence[e.name] for e in exits], dtype=np.float64)
    fires = conf >= threshold * 1000.0 - 1e-9
    first = np.where(fires.any(axis=0), fires.argmax(axis=0), len(exits))
    return first


def ranked_bits(profile: Profile, key: str, top1: float) -> np.ndarray:
    """Per-sample correctness of a variant or exit that has no outcomes of its own (an
    AdaptiveNet search candidate, say), from its ``top1``: the ``round(top1 * n)`` easiest
    samples are correct. A sample is easier the more measured outcomes answer it right (ties
    broken by a fixed draw seeded with ``key``), so the new row keeps the joint behaviour of
    the measured ones as far as its accuracy allows, and its accuracy is exactly ``top1``. Built once per profile content, key and top1
    (read-only)."""
    pkey = content_key(profile)
    cache_key = None if pkey is None else (pkey, key, exact(top1))
    hit = _RANKED.get(cache_key) if cache_key is not None else None
    if hit is None:
        hit = _ranked_bits(profile, key, top1)
        hit.setflags(write=False)
        if cache_key is not None:
            _RANKED.put(cache_key, hit)
    return hit


def _ranked_bits(profile: Profile, key: str, top1: float) -> np.ndarray:
    out = profile.outcomes
    assert out is not None
    n = out.samples
    ease = np.zeros(n, dtype=np.int64)
    for bits in out.correct.values():
        ease += np.frombuffer(bits.encode(), np.uint8) == 49
    tie = np.random.default_rng(zlib.crc32(key.encode())).random(n)
    order = np.lexsort((tie, -ease))
    correct = np.zeros(n, dtype=bool)
    correct[order[:int(round(top1 * n))]] = True
    return correct


def build_route(profile: Profile, variant: str, split: str | None, threshold: float | None,
                server: Profile | None = None, upload_bytes: float | None = None) -> Route:
    """The route of one plan entry; RouteError naming what is wrong otherwise.

    Routes are immutable and shared: every app (and every later run in this process) that
    runs equal profiles the same way gets the same Route (:mod:`sim.profile.shared_cache`)."""
    pkey = content_key(profile)
    skey = server_key(server) if server is not None else ""
    if pkey is None or skey is None:
        return _build_route(profile, variant, split, threshold, server, upload_bytes)
    key = (pkey, skey, variant, split, exact(threshold), exact(upload_bytes))
    hit = _ROUTES.get(key)
    if hit is None:
        hit = _ROUTES.put(key, _build_route(profile, variant, split, threshold, server,
                                            upload_bytes))
    return hit


def _build_route(profile: Profile, variant: str, split: str | None, threshold: float | None,
                 server: Profile | None, upload_bytes: float | None) -> Route:
    v = profile.variant(variant)
    prog = profile.progressive
    if (split is not None or threshold is not None) and prog is None:
        raise RouteError(f"{profile.family} ({profile.kind}) has no exits or split points; "
                         "split and threshold must be null")
    if threshold is not None and not 0.0 <= threshold <= 1.0:
        raise RouteError(f"threshold {threshold} not in [0, 1]")
    out = profile.outcomes
    n = out.samples if out is not None else 0
    size = max(n, 1)
    early, final = _exits(profile)
    final_key = final.name if final is not None and _bits(profile, final.name) is not None else v.id
    top1 = v.top1

    exit_top1 = {e.name: e.top1 for e in prog.exits} if prog is not None else {}
    pop = (exit_population(profile, threshold)
           if threshold is not None and uses_table(profile, early) else None)

    def correct_of(key: str) -> np.ndarray:
        if pop is not None:  # aggregate outcomes: the table's population at this threshold
            return pop.correct(key)
        bits = _bits(profile, key)
        if bits is not None:
            return bits
        if n == 0:  # no per-sample outcomes: correctness is drawn per frame from ``top1``
            return np.ones(size, dtype=bool)
        return ranked_bits(profile, key, exit_top1.get(key, top1))

    if threshold is not None and n == 0:
        raise RouteError(f"{profile.family}: an exit threshold needs the profile's per-sample "
                         "outcomes (none given)")
    full_ms = v.latency_ms.median
    final_ms = final.device_ms if final is not None else full_ms

    if split is None:  # device only
        if threshold is None:
            work = np.full(size, full_ms / 1000.0)
            corr, used = correct_of(v.id), np.array([v.id] * size)
        else:
            first = _first_firing(profile, early, threshold)
            ms = np.array([e.device_ms for e in early] + [final_ms])
            keys = [e.name for e in early] + [final_key]
            work = ms[first] / 1000.0
            bits = np.array([correct_of(k) for k in keys])
            corr = bits[first, np.arange(size)]
            used = np.array(keys)[first]
        none = np.zeros(size, dtype=bool)
        return Route(variant, None, threshold, n, tuple(work.tolist()), tuple(none.tolist()),
                     tuple(corr.tolist()), tuple(used.tolist()), (0.0,) * size, 0.0,
                     (0.0,) * size, tuple(corr.tolist()), tuple(used.tolist()), top1)

    if server is None:
        raise RouteError(f"split {split!r} needs a server with a profile of {profile.family!r}")
    if split == CLOUD:
        if threshold is not None:
            raise RouteError("cloud-only (split 'input') runs no exits; threshold must be null")
        nbytes = upload_bytes if upload_bytes is not None else prog.input_bytes  # type: ignore[union-attr]
        try:
            srv_ms = server.variant(variant).latency_ms.median
        except KeyError:
            raise RouteError(f"server profile of {profile.family!r} has no variant {variant!r}") from None
        corr = correct_of(v.id)
        work = np.zeros(size)
        return Route(variant, CLOUD, None, n, tuple(work.tolist()), (True,) * size,
                     tuple(corr.tolist()), (v.id,) * size, (float(nbytes),) * size,
                     srv_ms / 1000.0, (full_ms / 1000.0,) * size, tuple(corr.tolist()),
                     (v.id,) * size, top1, cloud=True)

    splits = _split_map(profile)
    sp = splits.get(split)
    if sp is None:
        raise RouteError(f"{profile.family}: unknown split {split!r}; known: "
                         f"{[CLOUD, *splits]}")
    srv = _split_map(server).get(split)
    if srv is None or srv.server_ms is None:
        raise RouteError(f"server profile of {profile.family!r} has no server_ms for split {split!r}")
    assert prog is not None
    enc = sp.encode_ms if sp.encode_ms is not None else prog.codec_encode_ms
    dec = srv.decode_ms if srv.decode_ms is not None else server.progressive.codec_decode_ms  # type: ignore[union-attr]
    server_work = (dec + srv.server_ms) / 1000.0
    per = sp.bytes.int8_lz4_per_sample
    if per is not None and n and len(per) == n:
        nbytes_arr = np.asarray(per, dtype=np.float64)
    else:
        nbytes_arr = np.full(size, sp.bytes.sent_mean())
    before = [e for e in early if e.flops_fraction <= sp.flops_fraction]
    after = [e for e in early if e.flops_fraction > sp.flops_fraction]
    if threshold is None:
        heads = sum(e.head_ms or 0.0 for e in before)
        prefix = max(0.0, sp.device_ms - heads)
        work = np.full(size, (prefix + enc) / 1000.0)
        offload = np.ones(size, dtype=bool)
        corr = correct_of(v.id)
        used = np.array([v.id] * size)
        fb_work = np.full(size, max(0.0, full_ms - prefix) / 1000.0)
        fb_corr, fb_used = corr, used
    else:
        first = _first_firing(profile, before, threshold)
        offload = first == len(before)
        keys_b = [e.name for e in before]
        ms_b = np.array([e.device_ms for e in before] + [sp.device_ms + enc])
        work = ms_b[first] / 1000.0
        bits_b = np.array([correct_of(k) for k in keys_b] + [correct_of(final_key)])
        corr = bits_b[first, np.arange(size)]
        used = np.array(keys_b + [final_key])[first]
        nxt = _first_firing(profile, after, threshold)
        ms_a = np.array([e.device_ms for e in after] + [final_ms]) - sp.device_ms
        keys_a = [e.name for e in after] + [final_key]
        fb_work = np.maximum(0.0, ms_a[nxt]) / 1000.0
        bits_a = np.array([correct_of(k) for k in keys_a])
        fb_corr = bits_a[nxt, np.arange(size)]
        fb_used = np.array(keys_a)[nxt]
    return Route(variant, split, threshold, n, tuple(work.tolist()), tuple(offload.tolist()),
                 tuple(corr.tolist()), tuple(used.tolist()),
                 tuple(np.where(offload, nbytes_arr, 0.0).tolist()), server_work,
                 tuple(fb_work.tolist()), tuple(fb_corr.tolist()), tuple(fb_used.tolist()), top1)
