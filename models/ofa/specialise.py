"""Specialising the OFA supernet to latency budgets: evolutionary search over genes.

A subnet is a gene tuple ``(resolution, depth per stage, kernel per slot, expand per slot)``;
mutation redraws the resolution gene with probability 0.5 and every other gene with
probability 0.1 (ALGORITHMS 4.6). Fitness is the accuracy predictor, the constraint the
lookup-table latency.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from models.ofa.blocks import OFAConfig
from models.ofa.latency_table import predict_ms
from models.ofa.network import OFAArch, OFAMobileNetV3
from models.ofa.predictor import AccuracyPredictor, ArchEncoder
from models.search import (
    Constraint,
    EvolutionSettings,
    GeneSpace,
    SearchResult,
    evolutionary_search,
)

__all__ = ["budgets_from_quantiles", "config_to_genes", "gene_space", "genes_to_config",
           "specialise"]


def gene_space(arch: OFAArch, gene_prob: float = 0.1, resolution_prob: float = 0.5) -> GeneSpace:
    """The OFA search space as genes with OFA's mutation probabilities."""
    n = arch.stages * arch.max_depth
    choices = ((arch.resolutions,) + (arch.depths,) * arch.stages
               + (arch.kernels,) * n + (arch.expands,) * n)
    probs = (resolution_prob,) + (gene_prob,) * (arch.stages + 2 * n)
    return GeneSpace(tuple(tuple(c) for c in choices), probs)


def genes_to_config(arch: OFAArch, genes: Sequence[int]) -> OFAConfig:
    s, n = arch.stages, arch.stages * arch.max_depth
    g = tuple(int(v) for v in genes)
    return OFAConfig(resolution=g[0], depths=g[1:1 + s], kernels=g[1 + s:1 + s + n],
                     expands=g[1 + s + n:1 + s + 2 * n])


def config_to_genes(cfg: OFAConfig) -> tuple[int, ...]:
    return (cfg.resolution, *cfg.depths, *cfg.kernels, *cfg.expands)


def budgets_from_quantiles(
    net: OFAMobileNetV3, table: Mapping[str, float], rng: np.random.Generator,
    quantiles: Sequence[float] = (0.05, 0.25, 0.5, 0.75), samples: int = 1000,
) -> list[float]:
    """Latency budgets (ms) at quantiles of random subnets' predicted latency, plus the
    largest subnet's: every budget admits a sizeable share of the space, so rejection
    sampling finds feasible candidates."""
    lat = [predict_ms(table, net, net.sample_subnet(rng)) for _ in range(samples)]
    out = [float(np.quantile(lat, q)) for q in quantiles]
    out.append(predict_ms(table, net, net.largest_subnet()))
    return sorted(set(round(b, 4) for b in out))


def specialise(
    net: OFAMobileNetV3, predictor: AccuracyPredictor, table: Mapping[str, float],
    budget_ms: float, rng: np.random.Generator, settings: EvolutionSettings | None = None,
    *, progress: bool = False,
) -> SearchResult[OFAConfig]:
    """Best predicted-accuracy subnet whose table latency is within ``budget_ms``."""
    arch = net.arch
    genes = gene_space(arch)
    enc = ArchEncoder(arch)
    cache: dict[tuple[int, ...], float] = {}

    def latency(g: tuple[int, ...]) -> float:
        if g not in cache:
            cache[g] = predict_ms(table, net, genes_to_config(arch, g))
        return cache[g]

    def fitness(cands: Sequence[tuple[int, ...]]) -> list[float]:
        x = enc.encode_many([genes_to_config(arch, g) for g in cands])
        return [float(v) for v in predictor.predict(x)]

    res = evolutionary_search(genes.space(), fitness, Constraint("latency_ms", latency, budget_ms),
                              rng, settings, progress=progress)
    return SearchResult(
        best=genes_to_config(arch, res.best), best_fitness=res.best_fitness,
        best_measure=res.best_measure,
        population=[(genes_to_config(arch, g), f) for g, f in res.population],
        history=res.history, evaluated=res.evaluated, seconds=res.seconds,
    )
