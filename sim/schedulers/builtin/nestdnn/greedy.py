"""NestDNN's heuristic scheduler (ALGORITHMS 1.7), on a :class:`Problem`.

Every app starts at its smallest-memory eligible descendant with one compute unit. Resources
are normalised: a unit is ``1/units`` of the processor, memory ``bytes / memory budget``.

1. Growth (compound moves). A move takes one app from (d, u) to any (d', u') with d' >= d
   and u' >= u that fits the free units and memory, so a larger descendant can come with the
   extra compute that makes it pay off. Each step applies the move with the largest cost
   decrease per normalised resource added (one adding none ranks first); ties go to the app
   listed first, then the smaller model, then fewer units. MinMaxCost only moves the
   currently worst app (ties: the first listed). Stops when no move lowers a cost.
2. Local improvement.
   MinTotalCost: (a) each app in turn moves to its cheapest option in what it holds plus
   what is free (ties: least resource), also when that keeps its cost and frees resources;
   (b) one pair exchange: app i releases resources (its cheapest option with fewer units and
   no more memory, or less memory and no more units) and app j takes its cheapest option in
   its room plus the released part; the pair that lowers the total most is applied.
   MinMaxCost: every other app shrinks to its least-resource option strictly below the worst
   cost, the worst app takes its cheapest option in what is then free; kept only if the
   worst cost falls.
   Growth and improvement alternate until improvement changes nothing (at most ``_ROUNDS``).
3. MinMaxCost only: leftover resources go through growth moves over all apps (each lowers
   one app's cost, so the worst cost never rises and the total falls).

Differences from ALGORITHMS 1.7's sketch: its moves are one more unit or the next descendant,
so it stops where a larger model pays off only with more compute as well, and it never gives
resources back or trades them between apps (steps 1-2 here); it leaves spare resources idle
under MinMaxCost (step 3). Same start, same score (cost decrease per normalised resource),
same tie preference for smaller models; deterministic. Each step is one numpy pass over
arrays padded to (apps, descendants, units); a pair exchange looks at (2 x apps, apps,
descendants, units) cells, pruned to the pairs that could gain.
"""

from __future__ import annotations

import functools
from typing import Literal

import numpy as np

from sim.schedulers.builtin.nestdnn.problem import Assignment, Problem

__all__ = ["solve_greedy"]

Objective = Literal["mintotal", "minmax"]

_ROUNDS = 20
_EPS = 1e-12
_NO_FIT = 2**62  # memory of a padding option: never fits


class _State:
    """Padded option arrays and the current plan (d, u)."""

    def __init__(self, problem: Problem) -> None:
        apps = problem.apps
        n, units = len(apps), problem.units
        n_d = max(len(t.variants) for t in apps)
        self.units = units
        self.budget = problem.memory_budget
        mem_norm = float(max(problem.memory_budget, 1))
        self.cost = np.full((n, n_d, units), np.inf)
        self.memory = np.full((n, n_d), _NO_FIT, dtype=np.int64)
        for k, t in enumerate(apps):
            self.cost[k, : len(t.variants)] = t.cost
            self.memory[k, : len(t.variants)] = t.memory
        self.ar = np.arange(n)
        self.u_idx = np.arange(1, units + 1)
        self.res = self.u_idx[None, None, :] / units + (self.memory / mem_norm)[:, :, None]
        self.upper = np.arange(n_d)[None, :] >= np.arange(n_d)[:, None]  # [d, d']: d' >= d
        self.d = self.memory.argmin(axis=1)  # first smallest-memory candidate
        self.u = np.ones(n, dtype=np.int64)

    def current(self) -> np.ndarray:
        return self.cost[self.ar, self.d, self.u - 1]

    def room(self) -> tuple[np.ndarray, np.ndarray]:
        """Per app, the units and bytes it could hold if the others keep theirs."""
        mem = self.memory[self.ar, self.d]
        return self.units - self.u.sum() + self.u, self.budget - mem.sum() + mem

    def fits(self, ks: np.ndarray) -> np.ndarray:
        """Options of apps ``ks`` that fit what they hold plus what is free."""
        room_u, room_m = self.room()
        ok_m = self.memory[ks] <= room_m[ks][:, None]
        return ok_m[:, :, None] & (self.u_idx <= room_u[ks][:, None])[:, None, :]


@functools.lru_cache(maxsize=8)
def _band(units: int) -> np.ndarray:
    """``band[u - 1, free]``: which unit counts lie in ``[u, u + free]`` (read-only)."""
    x = np.arange(1, units + 1)
    lo = x[:, None, None] <= x[None, None, :]
    hi = x[None, None, :] <= x[:, None, None] + np.arange(units + 1)[None, :, None]
    band = lo & hi
    band.flags.writeable = False
    return band


def _grow(s: _State, every: bool) -> None:
    """Apply growth moves until none lowers a cost; all apps move (``every``) or only the
    worst one (MinMaxCost)."""
    n_u = s.units
    band = _band(n_u)
    d, u = s.d, s.u
    cur = s.current()
    here = s.res[s.ar, d, u - 1]
    mem = s.memory[s.ar, d]
    free_u, free_m = n_u - int(u.sum()), s.budget - int(mem.sum())
    while True:
        if every:
            ks, cost, res, memory = s.ar, s.cost, s.res, s.memory
        else:
            ks = s.ar[[int(np.argmax(cur))]]
            cost, res, memory = s.cost[ks], s.res[ks], s.memory[ks]
        drop = cur[ks][:, None, None] - cost
        ok = (s.upper[d[ks]] & (memory <= (free_m + mem[ks])[:, None]))[:, :, None]
        ok = ok & band[u[ks] - 1, free_u][:, None, :]
        extra = np.maximum(res - here[ks][:, None, None], _EPS)
        score = np.where(ok, drop / extra, -np.inf)
        best = int(np.argmax(score))
        if not drop.flat[best] > _EPS or not ok.flat[best]:
            return
        i, rest = divmod(best, score.shape[1] * n_u)
        k, nd, nu = int(ks[i]), rest // n_u, rest % n_u + 1
        free_u -= nu - int(u[k])
        free_m -= int(s.memory[k, nd]) - int(mem[k])
        d[k], u[k] = nd, nu
        cur[k], here[k], mem[k] = s.cost[k, nd, nu - 1], s.res[k, nd, nu - 1], s.memory[k, nd]


def _pick(ok: np.ndarray, primary: np.ndarray, secondary: np.ndarray) -> np.ndarray:
    """Per app (first axis), the flat index of the allowed option with the least
    ``primary``, ties to the least ``secondary``, then the first; -1 where none is allowed."""
    n = ok.shape[0]
    key = np.where(ok, primary, np.inf).reshape(n, -1)
    low = key.min(axis=1)
    tie = key <= (low + _EPS * (1.0 + np.abs(low)))[:, None]
    flat = np.argmin(np.where(tie, secondary.reshape(n, -1), np.inf), axis=1)
    return np.where(np.isfinite(low), flat, -1)


def _improve_total(s: _State) -> bool:
    """Move apps, one at a time, to their cheapest option in what they hold plus what is
    free (ties: least resource), while one lowers its cost or keeps it with less resource.
    True if anything changed."""
    changed = False
    n_u = s.units
    for _ in range(_ROUNDS * len(s.d)):
        flat = _pick(s.fits(s.ar), s.cost, s.res)
        nd, nu = flat // n_u, flat % n_u + 1
        now, new = s.current(), s.cost[s.ar, nd, nu - 1]
        better = new < now - _EPS * (1.0 + np.abs(now))
        better |= (new <= now) & (s.res[s.ar, nd, nu - 1] < s.res[s.ar, s.d, s.u - 1] - _EPS)
        if not better.any():
            break
        k = int(np.argmax(better))
        s.d[k], s.u[k] = nd[k], nu[k]
        changed = True
    return changed


def _exchange(s: _State) -> bool:
    """The best pair move, if it lowers the total: app i releases resources (its cheapest
    option with fewer units and no more memory, or with less memory and no more units) and
    app j takes its cheapest option in its room plus what i released. True if applied."""
    n_u, ar = s.units, s.ar
    cur = s.current()
    mem = s.memory[ar, s.d]
    fewer_u = (s.u_idx < s.u[:, None])[:, None, :] & (s.memory <= mem[:, None])[:, :, None]
    less_m = (s.u_idx <= s.u[:, None])[:, None, :] & (s.memory < mem[:, None])[:, :, None]
    rel = np.concatenate([_pick(fewer_u, s.cost, s.res), _pick(less_m, s.cost, s.res)])
    owner = np.concatenate([ar, ar])
    valid = rel >= 0
    rel_d, rel_u = np.where(valid, rel // n_u, 0), np.where(valid, rel % n_u + 1, 1)
    loss = s.cost[owner, rel_d, rel_u - 1] - cur[owner]
    hope = cur - s.cost.reshape(len(ar), -1).min(axis=1)  # the most each app could gain
    rs = np.flatnonzero(valid & (loss < hope.max() - _EPS))
    js = np.flatnonzero(hope > (loss[rs].min() if len(rs) else np.inf) + _EPS)
    if not len(rs) or not len(js):
        return False
    owner, rel_d, rel_u, loss = owner[rs], rel_d[rs], rel_u[rs], loss[rs]
    room_u = n_u - int(s.u.sum()) + s.u[js][None, :] + (s.u[owner] - rel_u)[:, None]
    freed_m = mem[owner] - s.memory[owner, rel_d]
    room_m = s.budget - int(mem.sum()) + mem[js][None, :] + freed_m[:, None]
    fit = (s.memory[js][None] <= room_m[:, :, None])[..., None]
    fit = fit & (s.u_idx <= room_u[:, :, None])[:, :, None, :]
    best = np.where(fit, s.cost[js][None], np.inf).reshape(len(rs), len(js), -1).min(axis=2)
    net = cur[js][None, :] - best - loss[:, None]
    net[owner[:, None] == js[None, :]] = -np.inf
    r, c = divmod(int(np.argmax(net)), len(js))
    if not net[r, c] > _EPS * (1.0 + float(np.abs(cur).sum())):
        return False
    j = int(js[c])
    i = int(owner[r])
    flat = int(_pick(fit[r, c][None], s.cost[[j]], s.res[[j]])[0])
    s.d[i], s.u[i] = rel_d[r], rel_u[r]
    s.d[j], s.u[j] = flat // n_u, flat % n_u + 1
    return True


def _improve_max(s: _State) -> bool:
    """Shrink every app but the worst to its least-resource option strictly below the worst
    cost, then give the worst its cheapest option in what is free; kept only when the worst
    cost falls. True if kept.

    Shrinks are chosen together within each app's room and applied in app order; one that
    no longer fits the pool (it trades units for memory or back) falls back to the least-
    resource option needing neither more units nor more memory."""
    n_u = s.units
    cur = s.current()
    w = int(np.argmax(cur))
    top = float(cur[w])
    old_d, old_u = s.d.copy(), s.u.copy()
    below = s.cost < top - _EPS * (1.0 + abs(top))
    below[s.ar, s.d, s.u - 1] = True  # staying is always allowed
    mem = s.memory[s.ar, s.d]
    shrink = below & (s.memory <= mem[:, None])[:, :, None]
    shrink &= (s.u_idx <= s.u[:, None])[:, None, :]
    free = _pick(below & s.fits(s.ar), s.res, s.cost)
    safe = _pick(shrink, s.res, s.cost)
    free_u, free_m = n_u - int(s.u.sum()), s.budget - int(mem.sum())
    for k in range(len(s.d)):
        if k == w:
            continue
        nd, nu = divmod(int(free[k]), n_u)
        if nu + 1 - int(s.u[k]) > free_u or int(s.memory[k, nd]) - int(mem[k]) > free_m:
            nd, nu = divmod(int(safe[k]), n_u)
        free_u -= nu + 1 - int(s.u[k])
        free_m -= int(s.memory[k, nd]) - int(mem[k])
        s.d[k], s.u[k] = nd, nu + 1
    flat = int(_pick(s.fits(s.ar[[w]]), s.cost[[w]], s.res[[w]])[0])
    s.d[w], s.u[w] = divmod(flat, n_u)
    s.u[w] += 1
    if s.current().max() < top - _EPS * (1.0 + abs(top)):
        return True
    s.d, s.u = old_d, old_u
    return False


def solve_greedy(problem: Problem, objective: Objective) -> Assignment:
    """A feasible assignment found by the heuristic (empty when no app runs)."""
    if objective not in ("mintotal", "minmax"):
        raise ValueError(f"objective must be 'mintotal' or 'minmax', got {objective!r}")
    if not problem.apps:
        return ()
    s = _State(problem)
    for _ in range(_ROUNDS):
        if objective == "mintotal":
            _grow(s, True)
            if not (_improve_total(s) | _exchange(s)):
                break
        else:
            _grow(s, False)
            if not _improve_max(s):
                break
    if objective == "minmax":
        _grow(s, True)
    return tuple((int(d), int(u)) for d, u in zip(s.d, s.u, strict=True))
