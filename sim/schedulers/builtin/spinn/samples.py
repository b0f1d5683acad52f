"""The arrays SPINN's configuration table is computed from, derived once per profile content
(:func:`profile_samples`) and shared by every table of that profile (any thresholds, server
or upload size; SPINN's and Neurosurgeon's alike): per early exit its confidences, per key
its correctness, per split its bytes, and per threshold the sample each exit fires first at
— the same steps as :func:`sim.profile.routes.build_route`, without building routes."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from sim.profile import ExitPoint, Profile
from sim.profile.digest import content_key, per_sample_ints
from sim.profile.routes import (
    ExitPopulation,
    RouteError,
    _bits,
    _exits,
    _split_map,
    exit_population,
    ranked_bits,
    uses_table,
)
from sim.profile.shared_cache import on_clear

__all__ = ["Blocks", "PrefixCounts", "ProfileSamples", "SplitBytes", "profile_samples"]

_SAMPLES: dict[str, ProfileSamples] = {}
_MAX_PROFILES = 32
on_clear(_SAMPLES.clear)


def profile_samples(profile: Profile) -> ProfileSamples:
    """The arrays of this profile: shared with any equal profile (by content) seen before."""
    key = content_key(profile)
    hit = _SAMPLES.get(key) if key is not None else None
    if hit is None:
        hit = ProfileSamples(profile)
        if key is not None:
            if len(_SAMPLES) >= _MAX_PROFILES:
                _SAMPLES.clear()
            _SAMPLES[key] = hit
    return hit


@dataclass(frozen=True)
class PrefixCounts:
    """Per threshold (rows) and sample: the first early exit that fires (len(early) when none
    does); per threshold and exit (or none): how many samples leave there, how many of those
    are right there, and how many are right at the final exit. Splitting after the first L
    exits sends the samples that reach L or beyond."""

    first: np.ndarray
    first_small: np.ndarray
    """``first`` in the smallest integer type (compares faster)"""
    leaving: np.ndarray
    right_here: np.ndarray
    right_final: np.ndarray


class Blocks(NamedTuple):
    """An exit table's populations at some thresholds: per threshold it has (rows) and exit,
    the samples leaving there, right there and right at the final exit."""

    ok: np.ndarray
    """per threshold asked for, whether the table has it"""
    exit_index: dict[str, int]
    sizes: np.ndarray
    own_count: np.ndarray
    final_count: np.ndarray
    present: np.ndarray
    """sizes > 0"""


class SplitBytes(NamedTuple):
    """The bytes each sample sends at a split."""

    per_sample: np.ndarray
    same: float | None
    """the one value every sample sends (the split's mean), None when they differ"""
    mean: float
    flat: bool
    """np.ptp(per_sample) == 0"""
    plain: bool
    """finite and >= 0: ``per_sample * mask`` is ``np.where(mask, per_sample, 0.0)``"""


def _frozen(a: np.ndarray) -> np.ndarray:
    a.setflags(write=False)
    return a


class ProfileSamples:
    """Per-sample arrays of one profile, each derived on first use."""

    def __init__(self, profile: Profile) -> None:
        self.profile = profile
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
        self.table_exits = uses_table(profile, self.early)
        """the exits are drawn from the exit table: correctness at a threshold is its population's"""
        self._all_confident = out is not None and all(e.name in out.confidence
                                                      for e in self.early)
        self._correct: dict[str, np.ndarray] = {}
        self._conf: dict[str, np.ndarray] = {}
        self._bytes: dict[str, SplitBytes] = {}
        self._blocks: dict[tuple[float, ...], Blocks] = {}
        self._split_pos = ({sp.name: i for i, sp in enumerate(self.prog.splits)}
                           if self.prog is not None else {})
        self._counts: dict[str, int] = {}
        self._constant_sums: dict[str, float] = {}
        self._populations: dict[float, ExitPopulation | None] = {}
        self._prefix: dict[tuple[float, ...], PrefixCounts] = {}

    def constant_sum(self, value: float) -> float:
        """np.add.reduce(np.full(size, value)): the sum over samples that all do the same
        (numpy's pairwise summation, so not size * value), once per value."""
        key = value.hex()
        hit = self._constant_sums.get(key)
        if hit is None:
            hit = self._constant_sums[key] = float(np.add.reduce(np.full(self.size, value)))
        return hit

    # correctness

    def correct_of(self, key: str) -> np.ndarray:
        """Per-sample correctness at ``key`` without a threshold (as build_route's)."""
        hit = self._correct.get(key)
        if hit is None:
            bits = _bits(self.profile, key)
            if bits is not None:
                hit = bits
            elif self.n == 0:
                hit = np.ones(self.size, dtype=bool)
            else:
                hit = ranked_bits(self.profile, key, self._top1(key))
            self._correct[key] = hit = _frozen(hit)
        return hit

    def correct_count(self, key: str) -> int:
        """How many samples ``correct_of(key)`` has right, without building ranked bits:
        :func:`~sim.profile.routes.ranked_bits` makes the first ``round(top1 * n)`` of its
        order right."""
        hit = self._counts.get(key)
        if hit is None:
            if key in self._correct or self.n == 0 or _bits(self.profile, key) is not None:
                hit = int(np.count_nonzero(self.correct_of(key)))
            else:
                hit = len(range(self.n)[:int(round(self._top1(key) * self.n))])
            self._counts[key] = hit
        return hit

    def _top1(self, key: str) -> float:
        return self.exit_top1.get(key, self.v.top1)

    def population(self, threshold: float) -> ExitPopulation | None:
        """The exit table's population at ``threshold``, None when it has no such row (by
        value: 1, 1.0 and True, or 0.0 and -0.0, find the same row)."""
        if threshold not in self._populations:
            try:
                self._populations[threshold] = exit_population(self.profile, threshold)
            except RouteError:
                self._populations[threshold] = None
        return self._populations[threshold]

    def blocks(self, thresholds: Sequence[float]) -> Blocks:
        """The exit table's populations at ``thresholds``, stacked (rows: the thresholds
        the table has)."""
        key = tuple(thresholds)  # by value, as population's
        hit = self._blocks.get(key)
        if hit is None:
            pops = [self.population(th) for th in thresholds]
            good = [p for p in pops if p is not None]
            ok = np.array([p is not None for p in pops], dtype=bool)
            if not good:
                empty = np.zeros((0, 0), dtype=np.int64)
                hit = Blocks(ok, {}, empty, empty, empty, empty.astype(bool))
            else:
                sizes = np.stack([p.sizes for p in good])
                hit = Blocks(ok, good[0].index, sizes, np.stack([p.own_count for p in good]),
                             np.stack([p.final_count for p in good]), sizes > 0)
            self._blocks[key] = hit
        return hit

    # exits

    def first_firing(self, exits: Sequence[ExitPoint],
                     thresholds: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
        """(per threshold, per sample: index into ``exits`` of the first that fires, len
        when none does; per threshold: whether build_route gives it) from the confidences,
        as :func:`sim.profile.routes._first_firing` (not for exits drawn from the table)."""
        t, n = len(thresholds), self.n
        if not exits:
            return np.zeros((t, n), dtype=np.int64), np.ones(t, dtype=bool)
        out = self.profile.outcomes
        if out is None or any(e.name not in out.confidence for e in exits):
            return np.zeros((t, n), dtype=np.int64), np.zeros(t, dtype=bool)
        return self._fire(exits, thresholds), np.ones(t, dtype=bool)

    def is_prefix(self, exits: Sequence[ExitPoint]) -> bool:
        """``exits`` are the first early exits, which all have confidences, and their
        correctness is the samples' own (no exit table): :meth:`prefix_counts` serves."""
        return (self._all_confident and not self.table_exits and self.n > 0
                and list(exits) == self.early[:len(exits)])

    def prefix_counts(self, thresholds: Sequence[float]) -> PrefixCounts:
        """Per threshold, where every sample leaves among all the early exits, and counts
        from which any prefix of them follows (:meth:`is_prefix`)."""
        bounds = tuple(th * 1000.0 - 1e-9 for th in thresholds)
        hit = self._prefix.get(bounds)
        if hit is None:
            hit = self._prefix[bounds] = self._count_prefix(thresholds)
        return hit

    def _count_prefix(self, thresholds: Sequence[float]) -> PrefixCounts:
        first = _frozen(self._fire(self.early, thresholds).astype(np.intp))
        small = _frozen(first.astype(np.min_scalar_type(len(self.early))))
        t, width = len(thresholds), len(self.early) + 1
        rows = np.stack([self.correct_of(e.name) for e in self.early]
                        + [np.zeros(self.n, dtype=bool)])
        here = rows.ravel().take(first * self.n + np.arange(self.n))  # rows[first, sample]
        final = self.correct_of(self.final_key)
        # one count over (threshold, exit, right here, right at the final exit) cells
        cell = (small.astype(np.int32) + np.arange(0, t * width, width, dtype=np.int32)[:, None])
        cell = cell * 4 + here * np.int32(2) + final
        counts = np.bincount(cell.ravel(), minlength=t * width * 4).reshape(t, width, 2, 2)
        return PrefixCounts(first, small, _frozen(counts.sum(axis=(2, 3))),
                            _frozen(counts[:, :, 1, :].sum(axis=2)),
                            _frozen(counts[:, :, :, 1].sum(axis=2)))

    def _fire(self, exits: Sequence[ExitPoint], thresholds: Sequence[float]) -> np.ndarray:
        """Per threshold and sample, index into ``exits`` of the first whose confidence
        (permille) is >= ``th * 1000 - 1e-9`` (the bound build_route computes), len(exits)
        when none is: the number of leading exits whose running maximum stays below it."""
        bounds = [th * 1000.0 - 1e-9 for th in thresholds]
        conf = [self._confidence(e.name) for e in exits]
        if all(c.dtype.kind == "u" for c in conf) and all(map(math.isfinite, bounds)):
            # integers: c >= b exactly when c >= ceil(b)
            cut = np.array([max(math.ceil(b), 0) for b in bounds])
            dtype = np.result_type(*conf, np.min_scalar_type(int(cut.max())))
            running = np.maximum.accumulate(np.stack(conf).astype(dtype, copy=False), axis=0)
            below = running[:, None, :] < cut.astype(dtype)[None, :, None]
        else:
            running = np.fmax.accumulate(np.stack(conf).astype(np.float64), axis=0)
            below = ~(running[:, None, :] >= np.array(bounds)[None, :, None])
        if len(exits) < 127:  # counted in bytes, several times faster
            return below.view(np.int8).sum(axis=0, dtype=np.int8).astype(np.intp)
        return below.sum(axis=0, dtype=np.intp)

    def _confidence(self, name: str) -> np.ndarray:
        """The exit's confidences: unsigned integers as the profile gives them (or floats
        when they are not all integers, a profile built in code)."""
        hit = self._conf.get(name)
        if hit is None:
            ints = per_sample_ints(self.profile).get(("confidence", name))
            if not isinstance(ints, np.ndarray):
                out = self.profile.outcomes
                assert out is not None
                ints = _frozen(np.asarray(out.confidence[name], dtype=np.float64))
            hit = self._conf[name] = ints
        return hit

    def fallback_refused(self, after: Sequence[ExitPoint],
                         thresholds: Sequence[float]) -> list[bool]:
        """build_route works out a split's fallback through the exits after it: per
        threshold, refused when they need one the profile cannot give."""
        out = self.profile.outcomes
        if not after or (out is not None and all(e.name in out.confidence for e in after)):
            return [False] * len(thresholds)
        if not uses_table(self.profile, list(after)):  # confidences missing, and no table
            return [True] * len(thresholds)
        return (~self.blocks(thresholds).ok).tolist()  # no table row: _first_firing's error

    # bytes

    def split_bytes(self, split: str) -> SplitBytes:
        """The bytes each sample sends at ``split`` (as build_route's)."""
        hit = self._bytes.get(split)
        if hit is None:
            assert self.prog is not None
            sp = _split_map(self.profile)[split]
            per = sp.bytes.int8_lz4_per_sample
            if per is not None and self.n and len(per) == self.n:
                ints = per_sample_ints(self.profile).get(("bytes", str(self._split_pos[split])))
                arr = _frozen(ints.astype(np.float64) if isinstance(ints, np.ndarray)
                              else np.asarray(per, dtype=np.float64))
                hit = SplitBytes(arr, None, float(arr.mean()), bool(np.ptp(arr) == 0),
                                 bool(np.isfinite(arr).all() and (arr >= 0).all()))
            else:  # np.full(size, same): its ptp is same - same
                same = float(sp.bytes.sent_mean())
                arr = _frozen(np.full(self.size, same))
                hit = SplitBytes(arr, same, self.constant_sum(same) / self.size,
                                 same - same == 0, math.isfinite(same) and same >= 0)
            self._bytes[split] = hit
        return hit
