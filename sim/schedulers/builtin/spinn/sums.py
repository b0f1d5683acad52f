"""The configurations of one split point (or of the device alone) at every exit threshold at
once: the mean device work, fraction offloaded, mean bytes sent, accuracy and whether every
sample does the same, each exactly as the mean over the samples of the route
:func:`sim.profile.routes.build_route` would give (the same numbers bit for bit: sums of
floats run over the same per-sample arrays, in rows, and counts are exact).

Per-sample confidences give a (threshold x sample) array of the exit each sample leaves at;
for the first exits of the network (a split's), counts per exit give how many leave where
and are right, so only the device work and bytes are summed per sample. Exits drawn from an
exit table need no per-sample work but those two sums: the samples leave in blocks, one per
exit, so each row is the blocks' values repeated their sizes, and a row of one value is
summed once per value."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from sim.profile import ExitPoint
from sim.profile.routes import uses_table
from sim.schedulers.builtin.spinn.samples import ProfileSamples, SplitBytes

__all__ = ["Sums", "threshold_sums"]


@dataclass(frozen=True)
class Sums:
    """Per threshold: whether build_route gives it, and the means over its samples."""

    ok: np.ndarray
    work: np.ndarray
    """mean device work, full-device seconds"""
    offload: np.ndarray
    sent: np.ndarray
    accuracy: np.ndarray
    steady: np.ndarray
    """every sample has the same device work, bytes and way out"""


def threshold_sums(src: ProfileSamples, exits: Sequence[ExitPoint], ms: Sequence[float],
                   nbytes: SplitBytes | None, thresholds: Sequence[float]) -> Sums:
    """Frames leave at the first of ``exits`` that fires (costing its ``ms``), else go on to
    the last entry of ``ms``: the final exit on the device (``nbytes`` None) or the split,
    where they are offloaded with ``nbytes``."""
    if src.table_exits and (not exits or uses_table(src.profile, list(exits))):
        return _blocks(src, exits, ms, nbytes, thresholds)
    if src.is_prefix(exits):
        return _prefix(src, len(exits), ms, nbytes, thresholds)
    return _per_sample(src, exits, ms, nbytes, thresholds)


def _flat(rows: np.ndarray) -> np.ndarray:
    """Per row: np.ptp == 0."""
    return np.asarray((rows.max(axis=1) - rows.min(axis=1)) == 0)


def _per_sample(src: ProfileSamples, exits: Sequence[ExitPoint], ms: Sequence[float],
                nbytes: SplitBytes | None, thresholds: Sequence[float]) -> Sums:
    n, last = src.n, len(exits)
    first, ok = src.first_firing(exits, thresholds)
    keys = [e.name for e in exits] + [src.final_key]
    samples = np.arange(n)
    if src.table_exits:  # correctness from the table's population at each threshold
        right = np.zeros(len(thresholds), dtype=np.int64)
        for i, th in enumerate(thresholds):
            pop = src.population(th) if ok[i] else None
            if pop is None:
                ok[i] = False
                continue
            bits = np.stack([pop.correct(k) for k in keys])
            right[i] = np.count_nonzero(bits[first[i], samples])
    else:
        bits = np.stack([src.correct_of(k) for k in keys])
        right = np.count_nonzero(bits[first, samples], axis=1)
    work = np.take(np.asarray(ms, dtype=np.float64) / 1000.0, first)
    steady = _flat(work)
    if nbytes is None:  # device only: nothing leaves
        zero = np.zeros(len(thresholds))
        return Sums(ok, np.add.reduce(work, axis=1) / src.size, zero, zero.copy(), right / n,
                    steady)
    off = first == last
    count = np.count_nonzero(off, axis=1)
    sent = np.where(off, nbytes.per_sample, 0.0)
    steady &= _flat(sent) & ((count == 0) | (count == n))
    return Sums(ok, np.add.reduce(work, axis=1) / src.size, count / src.size,
                np.add.reduce(sent, axis=1) / src.size, right / n, steady)


def _prefix(src: ProfileSamples, last: int, ms: Sequence[float], nbytes: SplitBytes | None,
            thresholds: Sequence[float]) -> Sums:
    """_per_sample for the first ``last`` early exits, from where samples leave among them all
    (a sample that would leave after them goes on to the split, or the final exit)."""
    counts = src.prefix_counts(thresholds)
    n, t = src.n, len(thresholds)
    vals = np.asarray(ms, dtype=np.float64) / 1000.0
    per_exit = np.take(vals, np.minimum(np.arange(counts.leaving.shape[1]), last))
    out = Sums(np.ones(t, dtype=bool), _take_sums(per_exit, counts.first) / src.size,
               np.zeros(t), np.zeros(t), np.zeros(t), np.zeros(t, dtype=bool))
    leaving = np.concatenate([counts.leaving[:, :last],
                              counts.leaving[:, last:].sum(axis=1, keepdims=True)], axis=1)
    steady = _flat_blocks(vals, leaving > 0)
    right = (counts.right_here[:, :last].sum(axis=1)
             + counts.right_final[:, last:].sum(axis=1))
    out.accuracy[:] = right / n
    if nbytes is not None:
        count = leaving[:, last]
        beyond = counts.first_small >= last
        if nbytes.plain:  # x * 1.0 == x and x * 0.0 == 0.0: np.where(beyond, x, 0.0)
            sent = nbytes.per_sample * beyond
        else:
            sent = np.where(beyond, nbytes.per_sample, 0.0)
        out.sent[:] = np.add.reduce(sent, axis=1) / src.size
        # some sent, some not: not steady whatever is sent; all sent: as the split's bytes
        steady &= (count == 0) | ((count == n) & nbytes.flat)
        out.offload[:] = count / src.size
    out.steady[:] = steady
    return out


def _take_sums(per_exit: np.ndarray, first: np.ndarray) -> np.ndarray:
    """Per row of ``first``, the pairwise sum of ``per_exit`` taken at it."""
    return np.asarray(np.add.reduce(np.take(per_exit, first), axis=1))


def _blocks(src: ProfileSamples, exits: Sequence[ExitPoint], ms: Sequence[float],
            nbytes: SplitBytes | None, thresholds: Sequence[float]) -> Sums:
    table = src.blocks(thresholds)
    ok, t = table.ok.copy(), len(thresholds)
    out = Sums(ok, np.zeros(t), np.zeros(t), np.zeros(t), np.zeros(t), np.zeros(t, dtype=bool))
    if not ok.any():
        return out
    n, last, index = src.n, len(exits), table.exit_index
    sizes, present, width = table.sizes, table.present, len(index)
    # per table exit (block), the first of ``exits`` at or after it (as _first_firing)
    positions = np.array([index[e.name] for e in exits])
    lookup = np.searchsorted(positions, np.arange(width), side="left")
    # the table exit each key's correctness is read at (-1: the final exit's population)
    keys = [e.name for e in exits] + [src.final_key]
    at = np.array([index.get(k, -1) for k in keys])[lookup]
    at[at == width - 1] = -1
    right = np.where(at < 0, table.final_count, np.where(at == np.arange(width),
                                                         table.own_count, 0))
    vals = np.take(np.asarray(ms, dtype=np.float64) / 1000.0, lookup)
    work, steady = _row_sums(src, vals, sizes, present)
    out.work[ok] = work / src.size
    out.accuracy[ok] = right.sum(axis=1) / n
    if nbytes is not None:
        off = lookup == last
        count = (sizes * off).sum(axis=1)
        if nbytes.same is not None:
            sent_sums, flat = _row_sums(src, np.where(off, nbytes.same, 0.0), sizes, present)
            out.sent[ok] = sent_sums / src.size
            steady &= flat
        else:
            sent = np.where(_repeat(off, sizes), nbytes.per_sample, 0.0)
            out.sent[ok] = np.add.reduce(sent, axis=1) / src.size
            steady &= _flat(sent)
        steady &= (count == 0) | (count == n)
        out.offload[ok] = count / src.size
    out.steady[ok] = steady
    return out


_CHUNK = 1 << 18
"""Rows are materialised this many values at a time (at least one row): fresh memory costs
more than the sums."""


def _row_sums(src: ProfileSamples, per_block: np.ndarray, sizes: np.ndarray,
              present: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per row of _repeat: the sum numpy's pairwise summation gives over it, and whether
    its np.ptp is 0. A row of one value is np.full's (its sum once per value)."""
    hi, lo = _span(per_block, present)
    sums = np.empty(len(sizes))
    one = hi == lo
    for i in np.flatnonzero(one).tolist():
        sums[i] = src.constant_sum(float(hi[i]))
    rest = np.flatnonzero(~one)
    step = max(1, _CHUNK // max(src.n, 1))
    for i in range(0, len(rest), step):
        rows = rest[i:i + step]
        sums[rows] = np.add.reduce(_repeat(per_block, sizes[rows]), axis=1)
    return sums, np.asarray((hi - lo) == 0)


def _repeat(per_block: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """(threshold x sample): each row the blocks' values, each repeated its size."""
    rows = len(sizes)
    return np.repeat(np.tile(per_block, rows), sizes.ravel()).reshape(rows, -1)


def _span(per_block: np.ndarray, present: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per row, the largest and smallest value of the blocks that have samples."""
    return (np.where(present, per_block, -np.inf).max(axis=1),
            np.where(present, per_block, np.inf).min(axis=1))


def _flat_blocks(per_block: np.ndarray, present: np.ndarray) -> np.ndarray:
    """Per row, np.ptp == 0 of the values of the blocks that have samples."""
    hi, lo = _span(per_block, present)
    return np.asarray((hi - lo) == 0)
