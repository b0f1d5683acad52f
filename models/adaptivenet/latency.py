"""The block latency table on the device (ALGORITHMS 3.3) and its honest error.

A subnet's predicted latency is the sum of its pieces: the stem, its (position, choice)
blocks and the head. The artifact times each piece alone on a random input. Here that misses
by about 12 % either way: a tight loop keeps weights and input hot (under-predicts), the
shared interleaved helper (:func:`models.supernet.measure_block_table`) leaves both cold
(over-predicts). So by default (``method="context"``) every piece is timed *inside* real
subnets: a cover set of subnets (the original plus, for each block, subnets that contain it)
runs end to end, each subnet repeated like a deployed one (warm-up, then the timed repeats),
with a timestamp between pieces, so each block sees a freshly produced input and the cache
state of a running subnet. ``method="isolated"`` keeps the artifact's way for
comparison. The error is measured against end-to-end timings of exported sampled subnets.
"""

from __future__ import annotations

import time
from typing import Any, Literal

import numpy as np
import torch
from tqdm.auto import tqdm

from models.adaptivenet.search import BlockTable
from models.adaptivenet.space import ElasticSpace, SubnetConfig, span
from models.adaptivenet.supernet import ElasticResNet
from models.measure import MeasureSettings, measure_latency
from models.supernet import lookup_error, measure_block_table
from sim.profile import LatencyStats, LookupTable

__all__ = [
    "TABLE_KEY_FORMAT", "cover_set", "lookup_table", "measure_table", "table_key", "table_samples",
]

TABLE_KEY_FORMAT = "b<position 1..N>:c<choice index>; arch code c<0 means index n+c"


def table_key(space: ElasticSpace, position: int, choice: int) -> str:
    """The profile's key of a block, in the same format as the importer of the authors'
    tables: ``b<position, 1-based>:c<index>`` where a negative code ``c`` indexes the
    position's ``n`` choices from the end (``n + c``), so ``b3:c4`` is position 3's ``-1``."""
    n = len(space.choices_at(position))
    return f"b{position + 1}:c{choice if choice >= 0 else n + choice}"


def block_key(position: int, choice: int) -> str:
    return f"{position}:{choice}"


def _containing(space: ElasticSpace, i: int, c: int, rng: np.random.Generator) -> SubnetConfig:
    """A random subnet whose gene ``i`` is ``c`` (prefix and suffix drawn uniformly)."""
    genes: list[int] = []
    if i > 0:
        genes += ElasticSpace(i, space.max_merge, space.shrink).sample(rng).choices
    genes += [c] + [99] * (span(c) - 1)
    rest = space.positions - len(genes)
    if rest > 0:
        genes += ElasticSpace(rest, space.max_merge, space.shrink).sample(rng).choices
    return space.check(SubnetConfig(tuple(genes)))


def cover_set(space: ElasticSpace, rng: np.random.Generator, per_block: int = 2) -> list[SubnetConfig]:
    """The original subnet plus ``per_block`` random subnets containing each block."""
    out = [space.original()]
    for i, c in space.block_keys():
        out += [_containing(space, i, c, rng) for _ in range(per_block)]
    return out


def _stats(ns: list[int]) -> LatencyStats:
    ms = np.asarray(ns, dtype=np.float64) / 1e6
    p10, med, p90 = np.percentile(ms, [10, 50, 90])
    return LatencyStats(median=float(med), p10=float(min(p10, med)), p90=float(max(p90, med)))


def _in_context(
    net: ElasticResNet, settings: MeasureSettings, rng: np.random.Generator, gen: torch.Generator
) -> dict[str, LatencyStats]:
    covers = cover_set(net.space, rng)
    dev, cuda = settings.torch_device, settings.accelerator == "cuda"
    c0, size = net.cfg.in_channels, net.cfg.input_size
    x = torch.randn(settings.batch_size, c0, size, size, generator=gen).to(dev)
    samples: dict[str, list[int]] = {}
    clock = time.perf_counter_ns
    sync = torch.cuda.synchronize if cuda else (lambda: None)
    old = torch.get_num_threads()
    torch.set_num_threads(settings.threads)
    try:
        with torch.inference_mode():
            for cfg in tqdm(covers, desc="block table", leave=False, disable=not settings.progress):
                tokens = cfg.tokens()
                for r in range(-settings.warmup, settings.repeats):
                    times = []
                    sync()
                    t0 = clock()
                    h = net.stem(x)
                    sync()
                    times.append(("stem", clock()))
                    for i, c in tokens:
                        h = net.block(i, c)(h)
                        sync()
                        times.append((block_key(i, c), clock()))
                    net.head(h)
                    sync()
                    times.append(("head", clock()))
                    if r >= 0:
                        for key, t in times:
                            samples.setdefault(key, []).append(t - t0)
                            t0 = t
    finally:
        torch.set_num_threads(old)
    return {k: _stats(v) for k, v in samples.items()}


def measure_table(
    net: ElasticResNet, settings: MeasureSettings, *, seed: int = 0,
    method: Literal["context", "isolated"] = "context",
) -> tuple[BlockTable, dict[str, LatencyStats]]:
    """Time the stem, every block choice and the head; medians form the additive table.
    The supernet is moved to the settings' device and left in eval mode."""
    gen = torch.Generator().manual_seed(seed)
    net.eval().to(settings.torch_device)
    if method == "context":
        stats = _in_context(net, settings, np.random.default_rng(seed), gen)
    elif method == "isolated":
        cfg, b = net.cfg, settings.batch_size
        pieces: dict[str, tuple[torch.nn.Module, torch.Tensor]] = {
            "stem": (net.stem, torch.randn(b, cfg.in_channels, cfg.input_size, cfg.input_size,
                                           generator=gen)),
        }
        for i, c in net.space.block_keys():
            pieces[block_key(i, c)] = (net.block(i, c),
                                       torch.randn(b, *net.block_input_shape(i), generator=gen))
        pieces["head"] = (net.head, torch.randn(b, *cfg.feature_shape(), generator=gen))
        stats = measure_block_table(pieces, settings, progress=settings.progress)
    else:
        raise ValueError(f"table method must be 'context' or 'isolated', got {method!r}")
    table = BlockTable(
        stem_ms=stats["stem"].median, head_ms=stats["head"].median,
        blocks={(i, c): stats[block_key(i, c)].median for i, c in net.space.block_keys()},
    )
    return table, stats


def table_samples(
    net: ElasticResNet, table: BlockTable, settings: MeasureSettings, n: int,
    rng: np.random.Generator,
) -> tuple[list[dict[str, Any]], dict[str, float]]:
    """End-to-end latency of ``n`` distinct sampled subnets (exported, original included)
    against the table's prediction; returns the samples and :func:`lookup_error` of them."""
    cfgs = [net.space.original()]
    limit = min(n, net.space.count())
    while len(cfgs) < limit:
        c = net.sample_subnet(rng)
        if c not in cfgs:
            cfgs.append(c)
    c0, s = net.cfg.in_channels, net.cfg.input_size
    x = torch.randn(settings.batch_size, c0, s, s, generator=torch.Generator().manual_seed(1))
    samples = []
    for cfg in tqdm(cfgs, desc="subnet latency", leave=False, disable=not settings.progress):
        measured = measure_latency(net.export_subnet(cfg), x, settings).median
        samples.append({"arch": cfg.to_dict(), "measured_ms": measured,
                        "predicted_ms": table.predict(cfg)})
    err = lookup_error([r["measured_ms"] for r in samples], [r["predicted_ms"] for r in samples])
    return samples, err


def lookup_table(
    space: ElasticSpace, table: BlockTable, samples: list[dict[str, Any]],
    error: dict[str, float],
) -> LookupTable:
    """The profile record of the table (keys by :func:`table_key`)."""
    return LookupTable(
        stem_ms=table.stem_ms, head_ms=table.head_ms,
        blocks={table_key(space, i, c): ms for (i, c), ms in table.blocks.items()},
        samples=samples, error=error,
    )
