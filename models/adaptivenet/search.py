"""AdaptiveNet's on-device search (ALGORITHMS 3.4) over the block latency table.

NearbyInit starts the population near the latency budget, NearbyMutate keeps children near
their parent's latency by merging/un-merging a block pair or triple after a random mutation,
crossover copies whole merge spans, and the fitness sinks infeasible subnets below every
feasible one: ``acc`` if ``lat <= B`` else ``acc / 100 - lat / B`` (``acc`` in [0, 1]).
Accuracies come from a caller-supplied ``evaluate`` (reuse-based evaluation in practice).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from tqdm.auto import tqdm

from models.adaptivenet.space import SKIP, ElasticSpace, SubnetConfig, span

__all__ = [
    "BlockTable", "Candidate", "SearchResult", "crossover", "evolve", "fitness",
    "nearby_init", "nearby_mutate", "pareto_pool", "without_near_ties",
]


@dataclass(frozen=True)
class BlockTable:
    """Additive latency model: ``stem + sum of the subnet's blocks + head`` (ms)."""

    stem_ms: float
    head_ms: float
    blocks: Mapping[tuple[int, int], float]

    def predict(self, cfg: SubnetConfig) -> float:
        return self.stem_ms + self.head_ms + sum(self.blocks[t] for t in cfg.tokens())


@dataclass(frozen=True)
class Candidate:
    cfg: SubnetConfig
    latency_ms: float
    accuracy: float


@dataclass
class SearchResult:
    """The best candidate, every candidate evaluated (in order) and per-generation bests."""

    best: Candidate
    evaluated: list[Candidate]
    history: list[dict[str, float]] = field(default_factory=list)
    seconds: float = 0.0


def fitness(acc: float, lat: float, budget: float) -> float:
    return acc if lat <= budget else acc / 100.0 - lat / budget


def nearby_init(
    space: ElasticSpace, table: BlockTable, budget_ms: float, size: int,
    rng: np.random.Generator, *, enumerate_limit: int = 200_000, samples: int = 20_000,
) -> list[SubnetConfig]:
    """``size`` distinct subnets with table latency in (0.9 B, 1.1 B), i.e. ``r * L_max`` with
    ``r = B / L_max``. All subnets are enumerated when there are at most ``enumerate_limit``,
    else ``samples`` are drawn. If the band holds too few, the nearest ones fill up."""
    if space.count() <= enumerate_limit:
        pool = list(space.enumerate())
    else:
        pool = list(dict.fromkeys(space.sample(rng) for _ in range(samples)))
    lats = np.array([table.predict(c) for c in pool])
    inside = np.flatnonzero((lats > 0.9 * budget_ms) & (lats < 1.1 * budget_ms))
    chosen = list(rng.permutation(inside)[:size])
    if len(chosen) < size:
        rest = np.setdiff1d(np.argsort(np.abs(lats - budget_ms), kind="stable"), inside,
                            assume_unique=True)
        chosen += list(rest[: size - len(chosen)])
    return [pool[int(k)] for k in chosen]


def _moves(
    genes: Sequence[int], n: int, t: Mapping[tuple[int, int], float]
) -> list[tuple[int, tuple[int, ...], float]]:
    """(position, new genes slice, latency change) of every merge/un-merge of a pair/triple."""
    out: list[tuple[int, tuple[int, ...], float]] = []
    for i in range(n):
        g = genes[i]
        if g == 0 and i + 1 < n and genes[i + 1] == 0 and (i, 1) in t:
            out.append((i, (1, SKIP), t[(i, 1)] - t[(i, 0)] - t[(i + 1, 0)]))
        if g == 1 and i + 2 < n and genes[i + 2] == 0 and (i, 2) in t:
            out.append((i, (2, SKIP, SKIP), t[(i, 2)] - t[(i, 1)] - t[(i + 2, 0)]))
        if g == 1:
            out.append((i, (0, 0), t[(i, 0)] + t[(i + 1, 0)] - t[(i, 1)]))
        if g == 2:
            out.append((i, (1, SKIP, 0), t[(i, 1)] + t[(i + 2, 0)] - t[(i, 2)]))
    return out


def nearby_mutate(
    cfg: SubnetConfig, space: ElasticSpace, table: BlockTable, rng: np.random.Generator,
    prob: float = 0.1, *, compensate: bool = True,
) -> SubnetConfig:
    """Re-draw each span start with probability ``prob`` (99-markers repaired), then, if the
    latency moved by ``delta``, apply the merge/un-merge whose change best cancels it (only
    when that brings the latency closer to the parent's)."""
    genes = list(cfg.choices)
    i = 0
    while i < space.positions:
        g = 0 if genes[i] == SKIP else genes[i]
        if rng.random() < prob:
            opts = space.choices_at(i)
            g = int(opts[int(rng.integers(len(opts)))])
        genes[i] = g
        for j in range(i + 1, i + span(g)):
            genes[j] = SKIP
        i += span(g)
    child = space.normalise(genes)
    if not compensate:
        return child
    delta = table.predict(child) - table.predict(cfg)
    moves = [m for m in _moves(child.choices, space.positions, table.blocks) if m[2] * delta < 0]
    if not moves:
        return child
    order = rng.permutation(len(moves))
    pos, new, change = min((moves[k] for k in order), key=lambda m: abs(delta + m[2]))
    if abs(delta + change) >= abs(delta):
        return child
    genes = list(child.choices)
    genes[pos:pos + len(new)] = new
    return space.check(SubnetConfig(tuple(genes)))


def crossover(
    a: SubnetConfig, b: SubnetConfig, space: ElasticSpace, rng: np.random.Generator
) -> SubnetConfig:
    """Walk the span starts of the child; copy a whole span from a parent whose gene there
    starts a span (at least the parent copied last always qualifies)."""
    genes: list[int] = []
    while len(genes) < space.positions:
        i = len(genes)
        opts = [p.choices[i] for p in (a, b) if p.choices[i] != SKIP]
        g = opts[int(rng.integers(len(opts)))]
        genes += [g] + [SKIP] * (span(g) - 1)
    return space.check(SubnetConfig(tuple(genes)))


def pareto_pool(cands: Sequence[Candidate]) -> list[Candidate]:
    """Latency-sorted frontier on which accuracy strictly rises. Unlike the artifact's
    ``get_tradeoff_subnets`` we keep the three fastest entries: they are the ones a tight
    budget needs."""
    best: dict[SubnetConfig, Candidate] = {}
    for c in cands:
        best.setdefault(c.cfg, c)
    out: list[Candidate] = []
    for c in sorted(best.values(), key=lambda c: (c.latency_ms, -c.accuracy, c.cfg.key)):
        if not out or c.accuracy > out[-1].accuracy:
            out.append(c)
    return out


def without_near_ties(frontier: Sequence[Candidate], tie: float = 0.05,
                      gap: float = 0.05) -> list[Candidate]:
    """The frontier less every entry that a subnet at most ``tie`` (relative) slower beats by
    at least ``gap`` accuracy: a budget cannot tell such latencies apart (the lookup table's
    error is of that order), so no budget would sensibly choose the weaker one."""
    return [c for c in frontier
            if not any(o.latency_ms <= c.latency_ms * (1 + tie) and o.accuracy >= c.accuracy + gap
                       for o in frontier)]


def evolve(
    space: ElasticSpace, table: BlockTable,
    evaluate: Callable[[Sequence[SubnetConfig]], Sequence[float]], budget_ms: float,
    rng: np.random.Generator, *, population: int = 50, generations: int = 5,
    parent_ratio: float = 0.25, mutation_ratio: float = 0.5, mutate_prob: float = 0.1,
    max_tries: int = 1000, known: dict[SubnetConfig, float] | None = None,
    progress: bool = False,
) -> SearchResult:
    """NearbyInit, then ``generations`` rounds of: top ``parent_ratio`` parents, children by
    NearbyMutate (``mutation_ratio * population``) and crossover (the same count), duplicates
    of anything seen re-drawn up to ``max_tries`` times. ``known`` caches accuracies across
    calls (it is updated). The best is the highest fitness, so a feasible one when any exists."""
    if population < 4 or budget_ms <= 0:
        raise ValueError(f"search: population >= 4 and a positive budget expected, "
                         f"got {population}, {budget_ms}")
    t0 = time.perf_counter()
    acc = known if known is not None else {}
    seen: set[SubnetConfig] = set()
    evaluated: list[Candidate] = []

    def score(cands: Sequence[SubnetConfig]) -> list[Candidate]:
        todo = [c for c in dict.fromkeys(cands) if c not in acc]
        if todo:
            acc.update(zip(todo, (float(a) for a in evaluate(todo)), strict=True))
        out = [Candidate(c, table.predict(c), acc[c]) for c in cands]
        evaluated.extend(out)
        return out

    def key(c: Candidate) -> float:
        return fitness(c.accuracy, c.latency_ms, budget_ms)

    init = nearby_init(space, table, budget_ms, population, rng)
    seen.update(init)
    pop = score(init)
    history = [{"generation": 0, "best_fitness": max(map(key, pop))}]
    n_par = max(1, int(round(parent_ratio * population)))
    n_mut = int(round(mutation_ratio * population))
    for g in tqdm(range(1, generations + 1), desc="search", leave=False, disable=not progress):
        parents = sorted(pop, key=key, reverse=True)[:n_par]
        kids: list[SubnetConfig] = []
        for k in range(2 * n_mut):
            for _ in range(max_tries):
                if k < n_mut:
                    p = parents[int(rng.integers(len(parents)))].cfg
                    child = nearby_mutate(p, space, table, rng, mutate_prob)
                else:
                    a, b = rng.choice(len(parents), size=2)
                    child = crossover(parents[int(a)].cfg, parents[int(b)].cfg, space, rng)
                if child not in seen:
                    seen.add(child)
                    kids.append(child)
                    break
        pop = parents + score(kids)
        history.append({"generation": g, "best_fitness": max(map(key, pop))})
    best = max(evaluated, key=key)
    return SearchResult(best, evaluated, history, time.perf_counter() - t0)
