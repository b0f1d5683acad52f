"""Evolutionary search: every kept candidate is feasible, and fitness improves."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from models.search import Constraint, EvolutionSettings, GeneSpace, evolutionary_search

# toy: 12 genes in 0..9, fitness = sum of genes, cost = sum of the first 6 genes
SPACE = GeneSpace(choices=((*range(10),),) * 12, probs=(0.5,) + (0.1,) * 11)


def fitness(cands):
    return [float(sum(c)) for c in cands]


def cost(c):
    return float(sum(c[:6]))


def test_search_improves_fitness_and_respects_constraint():
    con = Constraint("cost", cost, 15.0)
    res = evolutionary_search(SPACE.space(), fitness, con, np.random.default_rng(0),
                              EvolutionSettings(population=40, generations=30))
    assert all(con(c) for c, _ in res.population)
    assert con(res.best) and res.best_measure <= 15.0
    assert res.history[-1] > res.history[0]
    assert all(b >= a for a, b in zip(res.history, res.history[1:], strict=False))
    # optimum is 15 + 6 * 9 = 69; the search must come close
    assert res.best_fitness >= 64
    assert res.evaluated == 40 + 30 * 30  # parents are not re-evaluated


@settings(max_examples=8, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), limit=st.integers(16, 45))
def test_every_returned_candidate_satisfies_constraint(seed, limit):
    con = Constraint("cost", cost, float(limit))
    res = evolutionary_search(SPACE.space(), fitness, con, np.random.default_rng(seed),
                              EvolutionSettings(population=12, generations=3, max_tries=500))
    assert all(cost(c) <= limit for c, _ in res.population)
    assert [f for _, f in res.population] == sorted((f for _, f in res.population), reverse=True)


def test_infeasible_constraint_is_an_error():
    con = Constraint("cost", cost, -1.0)
    with pytest.raises(ValueError, match="no candidate with cost <= -1"):
        evolutionary_search(SPACE.space(), fitness, con, np.random.default_rng(0),
                            EvolutionSettings(population=4, generations=1, max_tries=20))


def test_search_is_deterministic_given_the_rng():
    con = Constraint("cost", cost, 20.0)
    s = EvolutionSettings(population=10, generations=4)
    a = evolutionary_search(SPACE.space(), fitness, con, np.random.default_rng(7), s)
    b = evolutionary_search(SPACE.space(), fitness, con, np.random.default_rng(7), s)
    assert a.population == b.population


def test_ofa_defaults():
    s = EvolutionSettings()
    assert (s.population, s.parent_ratio, s.mutation_ratio) == (100, 0.25, 0.5)
    with pytest.raises(ValueError):
        EvolutionSettings(population=1)


def test_gene_space_mutation_and_crossover():
    rng = np.random.default_rng(3)
    frozen = GeneSpace(choices=((1, 2, 3),) * 5, probs=(0.0,) * 5)
    g = frozen.sample(rng)
    assert frozen.mutate(g, rng) == g
    wild = GeneSpace(choices=((1, 2, 3),) * 5, probs=(1.0,) * 5)
    muts = {wild.mutate(g, rng) for _ in range(50)}
    assert len(muts) > 1 and all(set(m) <= {1, 2, 3} for m in muts)
    a, b = (1, 1, 1, 1, 1), (3, 3, 3, 3, 3)
    kids = [wild.crossover(a, b, rng) for _ in range(50)]
    assert all(set(k) <= {1, 3} for k in kids) and len(set(kids)) > 2
    with pytest.raises(ValueError, match="one probability per gene"):
        GeneSpace(choices=((1,),), probs=(0.1, 0.2))
