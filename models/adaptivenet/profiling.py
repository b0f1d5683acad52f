"""Measure a trained elastified supernet into an ``elastified`` profile.

Order of work: the block table on the device and its error against end-to-end timings of
sampled subnets, timed in alternating passes (plus, for comparison, the error of the artifact's
isolated per-block timing); the on-device search at every budget of the
scale (fractions of the original path's table latency), accuracies on the validation split by
reuse-based evaluation and shared across budgets; the reuse speedup timed on the first
search's first generation of children, and its saving in blocks run over the whole search; the
pool (Pareto frontier of everything evaluated, within the searched budgets); every pool subnet and
the original exported and measured (test top-1, latency, size, FLOPs, outcomes).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import torch

from models.adaptivenet.latency import (
    TABLE_KEY_FORMAT,
    lookup_table,
    measure_table,
    table_with_samples,
)
from models.adaptivenet.memory import block_bytes, candidate_record, subnet_blocks
from models.adaptivenet.prefix_tree import ReuseEvaluator, reuse_speedup
from models.adaptivenet.scales import ScaleSpec
from models.adaptivenet.search import Candidate, evolve, pareto_pool, without_near_ties
from models.adaptivenet.space import SubnetConfig
from models.adaptivenet.supernet import ElasticResNet
from models.data import DataSplits
from models.measure import (
    MeasureSettings,
    count_flops,
    count_params,
    device_info,
    measure_latencies,
    measured_provenance,
    peak_activation_bytes,
    torch_threads,
    weight_bytes,
)
from models.outcomes import build_outcomes, evaluate
from models.registry import ModelsUserError
from models.supernet import lookup_error
from models.train import stage_seed
from sim.profile import Pool, Profile, SearchRecord, SearchRun, Task, Variant

__all__ = ["POOL_FLOOR", "POOL_GAP", "POOL_TIE", "TrainedSupernet", "profile_supernet"]

POOL_FLOOR = 0.9
"""Pool entries are no faster than this fraction of the tightest search budget."""
POOL_TIE, POOL_GAP = 0.05, 0.05
"""An entry is dropped when one at most 5 % slower is at least 5 points more accurate."""



class TrainedSupernet(Protocol):
    """What the measurement needs of the family (``AdaptiveNetResNet``), named here so that
    the family imports this module and not the other way round."""

    scale: str
    seed: int

    @property
    def name(self) -> str: ...

    @property
    def spec(self) -> ScaleSpec: ...

    def load_supernet(self, ckpt_dir: Path, stage: str = "finetune") -> ElasticResNet: ...

    def train_records(self, ckpt_dir: Path) -> dict[str, dict[str, Any]]: ...


def _arch(cfg: SubnetConfig) -> dict[str, Any]:
    return {"choices": list(cfg.choices), "key": cfg.key}


def profile_supernet(
    fam: TrainedSupernet, data: DataSplits, ckpt_dir: Path, settings: MeasureSettings
) -> Profile:
    """The whole measurement (see the module docstring)."""
    spec = fam.spec
    net = fam.load_supernet(ckpt_dir).to(settings.torch_device)
    xs_test = data.test.tensors[0]
    if len(xs_test) < settings.batch_size:
        raise ModelsUserError(
            f"test split has {len(xs_test)} samples, fewer than batch size {settings.batch_size}"
        )
    seeds = np.random.SeedSequence(stage_seed(fam.seed, fam.name, fam.scale, "profile"))
    search_seq, sample_seq = seeds.spawn(2)
    # table and end-to-end timings in alternating passes, so both see the same machine state
    table, samples, error = table_with_samples(net, settings, spec.table_samples,
                                               np.random.default_rng(sample_seq), seed=fam.seed,
                                               passes=spec.table_passes)
    isolated, _ = measure_table(net, settings, seed=fam.seed, method="isolated")
    isolated_error = lookup_error(
        [r["measured_ms"] for r in samples],
        [isolated.predict(SubnetConfig(tuple(r["arch"]["choices"]))) for r in samples],
    )
    original = net.space.original()
    l_orig = table.predict(original)
    xv, yv = data.val.tensors
    known: dict[SubnetConfig, float] = {}
    runs: list[dict[str, Any]] = []
    evaluated: list[Candidate] = []
    with torch_threads(settings.threads):
        evaluator = ReuseEvaluator(net, xv, yv, spec.eval_batch)
        calls: list[list[SubnetConfig]] = []

        def evaluate_logged(cfgs: Sequence[SubnetConfig]) -> list[float]:
            calls.append(list(cfgs))
            return evaluator.evaluate(cfgs)

        search_rng = np.random.default_rng(search_seq)
        for factor in spec.budgets:
            res = evolve(net.space, table, evaluate_logged, factor * l_orig, search_rng,
                         population=spec.population, generations=spec.generations,
                         known=known, progress=settings.progress)
            evaluated += res.evaluated
            runs.append({
                "factor": factor, "budget_ms": factor * l_orig, "seconds": res.seconds,
                "evaluated": len(res.evaluated), "history": res.history,
                "best": {"arch": _arch(res.best.cfg), "table_ms": res.best.latency_ms,
                         "val_top1": res.best.accuracy},
            })
        # timed on the first generation's children (one typical call), work over all calls
        timed = calls[1] if len(calls) > 1 else calls[0]
        reuse = reuse_speedup(net, xv, yv, timed, spec.eval_batch)
        reuse |= {"search_calls": len(calls), "search_blocks_reuse": evaluator.blocks_run,
                  "search_blocks_naive": evaluator.blocks_naive,
                  "search_work_ratio": evaluator.blocks_naive / max(evaluator.blocks_run, 1)}
    unique = {c.cfg: c for c in evaluated}
    unique.setdefault(original, Candidate(original, l_orig, evaluator.evaluate([original])[0]))
    # the pool: the frontier within the searched budgets' range (NearbyInit aims at 0.9..1.1
    # of a budget; faster subnets are mutation leftovers no search aimed at, and the weakest),
    # less the entries a barely slower one beats clearly
    floor = POOL_FLOOR * min(spec.budgets) * l_orig
    everything = [c for c in unique.values() if c.cfg != original]
    frontier = without_near_ties(
        pareto_pool([c for c in everything if c.latency_ms >= floor] or everything),
        POOL_TIE, POOL_GAP)

    variants: list[Variant] = []
    correct: dict[str, np.ndarray] = {}
    one = xs_test[:1].to(settings.torch_device)
    example = xs_test[: settings.batch_size]
    entries = [("original", unique[original])] + [
        (f"pool-{k:02d}", c) for k, c in enumerate(frontier)
    ]
    records: list[dict[str, Any]] = []
    jobs: dict[str, tuple[torch.nn.Module, torch.Tensor]] = {}
    for vid, cand in entries:
        model = net.export_subnet(cand.cfg).eval()
        hits, _, top1 = evaluate(model, data.test, device=settings.torch_device)
        correct[vid] = hits
        jobs[vid] = (model, example)
        records.append(dict(
            id=vid, arch=_arch(cand.cfg) | {"table_ms": cand.latency_ms,
                                            "val_top1": cand.accuracy},
            params=count_params(model),
            weight_bytes=weight_bytes(model), peak_activation_bytes=peak_activation_bytes(model, one),
            flops=count_flops(model, one), top1=top1, blocks=subnet_blocks(net, cand.cfg),
        ))
    latency = measure_latencies(jobs, settings)  # all subnets in alternating passes
    variants += [Variant(latency_ms=latency[r["id"]], **r) for r in records]
    in_variants = {cand.cfg for _, cand in entries}
    others = sorted((c for c in unique.values() if c.cfg not in in_variants),
                    key=lambda c: (c.latency_ms, c.cfg.key))
    pool = Pool(
        ids=tuple(vid for vid, _ in entries[1:]),
        rule=f"latency/accuracy Pareto frontier of all evaluated candidates whose table "
             f"latency is at least {POOL_FLOOR} x the tightest budget ({floor:.3f} ms), less "
             f"each entry that one at most {POOL_TIE:.0%} slower beats by {100 * POOL_GAP:.0f} "
             "or more points of validation top-1; the others stay search candidates",
        block_bytes=block_bytes(net),
        search=SearchRecord(
            seconds=float(np.mean([r["seconds"] for r in runs])),
            runs=tuple(SearchRun(budget_ms=r["budget_ms"], seconds=r["seconds"],
                                 evaluated=r["evaluated"]) for r in runs),
            candidates=tuple(
                candidate_record(net, c.cfg, f"cand-{k:03d}", c.latency_ms, c.accuracy, one)
                for k, c in enumerate(others)
            ),
        ),
    )
    train = fam.train_records(ckpt_dir)
    extra = {
        "table_key_format": TABLE_KEY_FORMAT,
        "choices_per_block": [len(net.space.choices_at(i)) for i in range(net.space.positions)],
        "arch_codes": "0 original block, 1/2 merged block replacing 2/3 blocks, -1/-2 shrunk "
                      "by 25 %/50 %, 99 absorbed by a merge",
        "table_method": "each piece timed inside repeatedly run subnets of a cover set, in "
                        "passes alternating with the sampled subnets' timing",
        "table_passes": spec.table_passes,
        "table_error_isolated": isolated_error,
        "val_samples": len(xv),
        "original_table_ms": l_orig,
        "search": {"seconds": float(sum(r["seconds"] for r in runs)), "runs": runs,
                   "population": spec.population, "generations": spec.generations},
        "reuse_evaluation": reuse,
        "train": {**train, "seconds": sum(r["seconds"] for r in train.values())},
        "supernet": net.to_config(),
    }
    return Profile(
        family=fam.name, kind="elastified",
        task=Task(dataset=data.name, classes=data.classes, input_shape=data.input_shape,
                  eval_samples=len(xs_test)),
        provenance=measured_provenance(), device=device_info(settings), variants=variants,
        lookup_table=lookup_table(net.space, table, samples, error),
        outcomes=build_outcomes(correct), pool=pool, extra=extra,
    )
