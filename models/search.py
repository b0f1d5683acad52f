"""Evolutionary search under an efficiency constraint (once-for-all, ALGORITHMS 4.6).

Generic over the candidate type: a search space is three callables (sample, mutate,
crossover), fitness scores a batch of candidates (higher is better), and a
:class:`Constraint` bounds one efficiency measure (predicted latency, FLOPs, ...). Children
are drawn by rejection sampling until they satisfy the constraint, so every candidate the
search ever keeps is feasible. :class:`GeneSpace` gives OFA's mutation on tuples of genes
(per-gene probability 0.1, a separate probability for the resolution gene).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

import numpy as np
from tqdm.auto import tqdm

__all__ = [
    "Constraint",
    "EvolutionSettings",
    "GeneSpace",
    "SearchResult",
    "SearchSpace",
    "evolutionary_search",
]

G = TypeVar("G")


@dataclass(frozen=True)
class EvolutionSettings:
    """OFA's defaults: population 100, top 25 % as parents, half the children by mutation;
    ``max_tries`` bounds rejection sampling per candidate."""

    population: int = 100
    parent_ratio: float = 0.25
    mutation_ratio: float = 0.5
    generations: int = 500
    max_tries: int = 1000

    def __post_init__(self) -> None:
        if self.population < 2 or self.generations < 0 or self.max_tries < 1:
            raise ValueError("evolution settings: population >= 2, generations >= 0, "
                             "max_tries >= 1 expected")
        if not (0 < self.parent_ratio <= 1 and 0 <= self.mutation_ratio <= 1):
            raise ValueError("evolution settings: parent_ratio in (0, 1], mutation_ratio in [0, 1]")


@dataclass(frozen=True)
class SearchSpace(Generic[G]):
    """How to draw, mutate and recombine candidates (all randomness from the rng passed)."""

    sample: Callable[[np.random.Generator], G]
    mutate: Callable[[G, np.random.Generator], G]
    crossover: Callable[[G, G, np.random.Generator], G]


@dataclass(frozen=True)
class Constraint(Generic[G]):
    """Feasible when ``measure(candidate) <= limit`` (e.g. predicted ms, or FLOPs)."""

    name: str
    measure: Callable[[G], float]
    limit: float

    def __call__(self, candidate: G) -> bool:
        return float(self.measure(candidate)) <= self.limit


@dataclass
class SearchResult(Generic[G]):
    """Best feasible candidate, the final population (fitness descending) and the best
    fitness after each generation (``history[0]`` is the initial population's)."""

    best: G
    best_fitness: float
    best_measure: float
    population: list[tuple[G, float]]
    history: list[float] = field(default_factory=list)
    evaluated: int = 0
    seconds: float = 0.0


def _feasible(
    draw: Callable[[], G], constraint: Constraint[G], tries: int
) -> G | None:
    for _ in range(tries):
        cand = draw()
        if constraint(cand):
            return cand
    return None


def evolutionary_search(
    space: SearchSpace[G],
    fitness: Callable[[Sequence[G]], Sequence[float]],
    constraint: Constraint[G],
    rng: np.random.Generator,
    settings: EvolutionSettings | None = None,
    *,
    progress: bool = False,
) -> SearchResult[G]:
    """Regularised evolution as in OFA's ``EvolutionFinder``.

    Each generation keeps the top ``parent_ratio`` of the population as parents and fills
    the rest with children: ``mutation_ratio * population`` by mutating a random parent, the
    others by crossing two random parents, each redrawn until feasible (after ``max_tries``
    failures the child is a copy of a parent, which is feasible). ValueError when no feasible
    initial candidate is found.
    """
    s = settings or EvolutionSettings()
    t0 = time.perf_counter()
    pop: list[G] = []
    for _ in range(s.population):
        cand = _feasible(lambda: space.sample(rng), constraint, s.max_tries)
        if cand is None:
            raise ValueError(
                f"search: no candidate with {constraint.name} <= {constraint.limit:g} found in "
                f"{s.max_tries} samples"
            )
        pop.append(cand)
    scores = [float(f) for f in fitness(pop)]
    evaluated = len(pop)
    order = np.argsort(scores, kind="stable")[::-1]
    pop, scores = [pop[i] for i in order], [scores[i] for i in order]
    history = [scores[0]]
    n_parents = max(1, int(round(s.parent_ratio * s.population)))
    n_mut = int(round(s.mutation_ratio * s.population))
    n_cross = max(0, s.population - n_parents - n_mut)
    for _ in tqdm(range(s.generations), desc="search", leave=False, disable=not progress):
        parents, pscores = pop[:n_parents], scores[:n_parents]

        def pick(parents: list[G] = parents) -> G:
            return parents[int(rng.integers(len(parents)))]

        kids: list[G] = []
        for _ in range(n_mut):
            kid = _feasible(lambda: space.mutate(pick(), rng), constraint, s.max_tries)
            kids.append(kid if kid is not None else pick())
        for _ in range(n_cross):
            kid = _feasible(lambda: space.crossover(pick(), pick(), rng), constraint, s.max_tries)
            kids.append(kid if kid is not None else pick())
        kscores = [float(f) for f in fitness(kids)] if kids else []
        evaluated += len(kids)
        pop, scores = parents + kids, pscores + kscores
        order = np.argsort(scores, kind="stable")[::-1]
        pop, scores = [pop[i] for i in order], [scores[i] for i in order]
        history.append(scores[0])
    return SearchResult(
        best=pop[0], best_fitness=scores[0], best_measure=float(constraint.measure(pop[0])),
        population=list(zip(pop, scores, strict=True)), history=history,
        evaluated=evaluated, seconds=time.perf_counter() - t0,
    )


@dataclass(frozen=True)
class GeneSpace:
    """Candidates as tuples of genes, gene ``i`` taking a value from ``choices[i]``.

    Mutation redraws gene ``i`` uniformly from its choices with probability ``probs[i]``
    (OFA: 0.1 per architecture gene, 0.5 for the resolution gene); crossover takes each gene
    from either parent with probability 1/2.
    """

    choices: tuple[tuple[int, ...], ...]
    probs: tuple[float, ...]

    def __post_init__(self) -> None:
        if len(self.choices) != len(self.probs) or any(not c for c in self.choices):
            raise ValueError("GeneSpace: one non-empty choice list and one probability per gene")

    def sample(self, rng: np.random.Generator) -> tuple[int, ...]:
        return tuple(int(c[int(rng.integers(len(c)))]) for c in self.choices)

    def mutate(self, genes: tuple[int, ...], rng: np.random.Generator) -> tuple[int, ...]:
        out = list(genes)
        flips = rng.random(len(out)) < np.asarray(self.probs)
        for i in np.flatnonzero(flips):
            c = self.choices[i]
            out[i] = int(c[int(rng.integers(len(c)))])
        return tuple(out)

    def crossover(
        self, a: tuple[int, ...], b: tuple[int, ...], rng: np.random.Generator
    ) -> tuple[int, ...]:
        take_a = rng.random(len(a)) < 0.5
        return tuple(int(x if t else y) for x, y, t in zip(a, b, take_a, strict=True))

    def space(self) -> SearchSpace[tuple[int, ...]]:
        """This gene space as a :class:`SearchSpace`."""
        return SearchSpace(self.sample, self.mutate, self.crossover)
