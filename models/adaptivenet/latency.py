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
comparison. The error is measured against end-to-end timings of exported sampled subnets,
timed in passes alternating with the table's (:func:`table_with_samples`).
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
from models.measure import MeasureSettings, latency_samples_ns, latency_stats_ms, torch_threads
from models.supernet import lookup_error, measure_block_table
from sim.profile import LatencyStats, LookupTable

__all__ = [
    "TABLE_KEY_FORMAT", "cover_set", "lookup_table", "measure_table", "table_key",
    "table_with_samples",
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


def _in_context(
    net: ElasticResNet, settings: MeasureSettings, covers: list[SubnetConfig], x: torch.Tensor
) -> dict[str, list[int]]:
    """Raw per-piece times (ns) of one pass over the cover set."""
    samples: dict[str, list[int]] = {}
    clock = time.perf_counter_ns
    sync = torch.cuda.synchronize if settings.accelerator == "cuda" else (lambda: None)
    x = x.to(settings.torch_device)
    with torch_threads(settings.threads), torch.inference_mode():
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
    return samples


def _table(net: ElasticResNet, stats: dict[str, LatencyStats]) -> BlockTable:
    return BlockTable(
        stem_ms=stats["stem"].median, head_ms=stats["head"].median,
        blocks={(i, c): stats[block_key(i, c)].median for i, c in net.space.block_keys()},
    )


def _example(net: ElasticResNet, settings: MeasureSettings, gen: torch.Generator) -> torch.Tensor:
    c0, size = net.cfg.in_channels, net.cfg.input_size
    return torch.randn(settings.batch_size, c0, size, size, generator=gen)


def measure_table(
    net: ElasticResNet, settings: MeasureSettings, *, seed: int = 0,
    method: Literal["context", "isolated"] = "context",
) -> tuple[BlockTable, dict[str, LatencyStats]]:
    """Time the stem, every block choice and the head; medians form the additive table.
    The supernet is moved to the settings' device and left in eval mode."""
    gen = torch.Generator().manual_seed(seed)
    net.eval().to(settings.torch_device)
    if method == "context":
        raw = _in_context(net, settings, cover_set(net.space, np.random.default_rng(seed)),
                          _example(net, settings, gen))
        stats = {k: latency_stats_ms(np.asarray(v) / 1e6) for k, v in raw.items()}
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
    table = _table(net, stats)
    return table, stats


def table_with_samples(
    net: ElasticResNet, settings: MeasureSettings, n: int, rng: np.random.Generator, *,
    seed: int = 0, passes: int = 3,
) -> tuple[BlockTable, list[dict[str, Any]], dict[str, float]]:
    """The in-context table and the end-to-end latency of ``n`` distinct sampled subnets
    (exported, original included), timed in ``passes`` alternating passes with the runs
    pooled, so slow drift of the machine's speed hits both alike; returns the table, the
    samples against its prediction and :func:`lookup_error` of them."""
    if passes < 1:
        raise ValueError(f"table passes must be >= 1, got {passes}")
    net.eval().to(settings.torch_device)
    covers = cover_set(net.space, np.random.default_rng(seed))
    x_cover = _example(net, settings, torch.Generator().manual_seed(seed))
    cfgs = [net.space.original()]
    limit = min(n, net.space.count())
    while len(cfgs) < limit:
        c = net.sample_subnet(rng)
        if c not in cfgs:
            cfgs.append(c)
    x = _example(net, settings, torch.Generator().manual_seed(1))
    subnets = [net.export_subnet(cfg) for cfg in cfgs]
    pieces: dict[str, list[int]] = {}
    runs: list[list[int]] = [[] for _ in cfgs]
    for _ in range(passes):
        for k, v in _in_context(net, settings, covers, x_cover).items():
            pieces.setdefault(k, []).extend(v)
        for i, sub in enumerate(tqdm(subnets, desc="subnet latency", leave=False,
                                     disable=not settings.progress)):
            runs[i] += latency_samples_ns(sub, x, settings)
    table = _table(net, {k: latency_stats_ms(np.asarray(v) / 1e6) for k, v in pieces.items()})
    samples = [{"arch": cfg.to_dict(), "measured_ms": float(np.median(r)) / 1e6,
                "predicted_ms": table.predict(cfg)} for cfg, r in zip(cfgs, runs, strict=True)]
    err = lookup_error([r["measured_ms"] for r in samples], [r["predicted_ms"] for r in samples])
    return table, samples, err


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
