"""Readers for the PORTEND authors' published measurements (``aws_profiling_results/`` of
``MaryamEbr/PORTEND_Performance_Model``), each checked field by field: a bad file is an
:class:`~sim.importers.source.ImportDataError` naming the file and the field.

Layout of a source folder::

    <machine>/profiling_partition_<model>_<dataset>[_<run>].txt   latency of partitions [s, e]
    <machine>/profiling_pickle.txt                                serialisation cost by shape
    accuracy_exitrate/<model>_<dataset>_test.pkl                  exit counts per threshold
    accuracy_exitrate/<model>_<dataset>_test_exp.pkl              cascade runs (optional)
    intermediate_dict.pkl                                         tensor shape after each block

Pickles are read with :mod:`sim.importers.safe_pickle` (nothing in them is run). JSON files
hold a JSON document stored as a JSON string (decoded twice, as the authors wrote them).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sim.common.messages import excerpt
from sim.importers.safe_pickle import load_pickle
from sim.importers.source import ImportDataError, SourceFile, load_json

__all__ = ["EXITS_DIR", "SHAPES_FILE", "CascadeRun", "ExitCounts", "MachineRun",
           "Serialisation", "discover_runs", "median", "read_cascade_runs", "read_exit_counts",
           "read_partitions", "read_serialisation", "read_shapes"]

EXITS_DIR = "accuracy_exitrate"
SHAPES_FILE = "intermediate_dict.pkl"
_PARTITION = re.compile(r"^profiling_partition_([A-Za-z0-9]+)_([A-Za-z0-9]+)(?:_([A-Za-z0-9]+))?\.txt$")
_EXIT_KEY = re.compile(r"^\[1, ([0-9]{1,6})\]$")


@dataclass(frozen=True)
class MachineRun:
    """One partition-latency file: a model measured on a machine (``run``: a file-name
    suffix such as ``1core``, or None)."""

    machine: str
    model: str
    dataset: str
    run: str | None
    path: Path


@dataclass(frozen=True)
class ExitCounts:
    """``counts[k][t] = (count, correct)``: of the ``samples`` evaluation samples, ``count``
    met threshold ``t`` at the exit after block k + 1, ``correct`` of them right there."""

    path: Path
    samples: int
    thresholds: tuple[float, ...]
    counts: tuple[dict[float, tuple[int, int]], ...]


@dataclass(frozen=True)
class Serialisation:
    """Cost of pickling a tensor of one shape on one machine."""

    pickled_bytes: int
    dump_ms: float
    load_ms: float


@dataclass(frozen=True)
class CascadeRun:
    """A measured cascade: exits at the ends of ``ends`` (block numbers), at ``threshold``:
    how many samples left at each and how many were right in all."""

    ends: tuple[int, ...]
    threshold: float
    left: tuple[int, ...]
    correct: int


def _twice_decoded(path: Path) -> SourceFile:
    """A JSON file whose content is a JSON document stored as a string (or the document)."""
    outer = load_json(path)
    if not isinstance(outer.data, str):
        return outer
    try:
        return SourceFile(path, json.loads(outer.data))
    except json.JSONDecodeError as exc:
        raise ImportDataError(f"{path}: the JSON string it holds is not valid JSON "
                              f"({exc.msg} at character {exc.pos})") from None
    except (ValueError, RecursionError):
        raise ImportDataError(f"{path}: the JSON string it holds cannot be read") from None


def discover_runs(src: Path) -> tuple[list[MachineRun], list[Path]]:
    """Every partition-latency file of every machine folder under ``src`` (sorted), and
    files in machine folders that look like partition files but do not parse."""
    if not src.is_dir():
        raise ImportDataError(f"{src}: not a folder (expected the PORTEND data folder with "
                              f"machine folders, {EXITS_DIR}/ and {SHAPES_FILE})")
    runs: list[MachineRun] = []
    odd: list[Path] = []
    for folder in sorted(p for p in src.iterdir() if p.is_dir() and p.name != EXITS_DIR):
        for path in sorted(folder.iterdir()):
            if not path.name.startswith("profiling_partition_"):
                continue
            m = _PARTITION.match(path.name)
            if m is None or not path.is_file():
                odd.append(path)
                continue
            runs.append(MachineRun(folder.name, m.group(1), m.group(2), m.group(3), path))
    if not runs:
        raise ImportDataError(f"{src}: no machine folder holds a profiling_partition_<model>_"
                              "<dataset>.txt file (is this the PORTEND data folder?)")
    return runs, odd


def read_partitions(path: Path) -> dict[tuple[int, int], tuple[float, ...]]:
    """Partition (start block, end block) -> its latency figures in ms."""
    f = _twice_decoded(path)
    doc = f.mapping(f.data, "")
    cols = {key: f.mapping(f.get(doc, key, ""), key)
            for key in ("partition_start", "partition_end", "latency_partition")}
    rows = set(cols["partition_start"])
    for key, col in cols.items():
        if set(col) != rows:
            raise f.fail(key, "the same row keys as partition_start")
    out: dict[tuple[int, int], tuple[float, ...]] = {}
    for row in sorted(rows, key=lambda r: (len(r), r)):
        start = f.integer(cols["partition_start"][row], f"partition_start.{row}", minimum=1)
        end = f.integer(cols["partition_end"][row], f"partition_end.{row}", minimum=start)
        where = f"latency_partition.{row}"
        figures = f.seq(cols["latency_partition"][row], where)
        ms = tuple(f.number(x, f"{where}.{i}", positive=True) for i, x in enumerate(figures))
        if (start, end) in out:
            raise f.fail(f"partition_start.{row}", f"one row per partition; [{start}, {end}] "
                                                    "is listed twice")
        out[(start, end)] = ms
    return out


def _threshold(f: SourceFile, key: Any, where: str) -> float:
    t = f.number(key, where, nonneg=True)
    if t > 1.0:
        raise f.fail(where, "a threshold in [0, 1]")
    return t


def read_exit_counts(path: Path, blocks: int) -> ExitCounts:
    """The exit counts of a network of ``blocks`` blocks (keys ``"[1, 1]"`` to
    ``"[1, blocks]"``); the last exit answers every sample at every threshold."""
    f = SourceFile(path, load_pickle(path))
    doc = f.mapping(f.data, "")
    found: dict[int, Mapping[Any, Any]] = {}
    for key, value in doc.items():
        m = _EXIT_KEY.match(key) if isinstance(key, str) else None
        if m is None:
            raise f.fail(excerpt(str(key)), "keys '[1, k]' (the exit after block k)")
        found[int(m.group(1))] = f.mapping(value, key)
    if sorted(found) != list(range(1, blocks + 1)):
        raise f.fail("", f"one entry per exit '[1, 1]' to '[1, {blocks}]' (the partition "
                         f"files give {blocks} blocks); it has {len(found)}")
    thresholds: tuple[float, ...] | None = None
    counts: list[dict[float, tuple[int, int]]] = []
    for k in range(1, blocks + 1):
        key = f"[1, {k}]"
        row: dict[float, tuple[int, int]] = {}
        for t_raw, pair in found[k].items():
            t = _threshold(f, t_raw, f"{key}.{t_raw!r}")
            where = f"{key}.{t}"
            seq = f.seq(pair, where)
            if len(seq) != 2:
                raise f.fail(where, "[count, correct]")
            count = f.integer(seq[0], f"{where}.0", minimum=0)
            correct = f.integer(seq[1], f"{where}.1", minimum=0)
            if correct > count:
                raise f.fail(where, f"correct ({correct}) <= count ({count})")
            row[t] = (count, correct)
        ths = tuple(sorted(row))
        if thresholds is None:
            thresholds = ths
        elif ths != thresholds:
            raise f.fail(key, f"the thresholds of '[1, 1]' ({list(thresholds)})")
        counts.append(row)
    assert thresholds is not None
    if 1.0 not in thresholds:
        raise f.fail("[1, 1]", "a row at threshold 1.0 (where every exit answers)")
    final = counts[-1]
    samples = final[1.0][0]
    if samples < 1 or any(final[t][0] != samples for t in thresholds):
        raise f.fail(f"[1, {blocks}]", "the same count at every threshold (the last exit "
                                       "answers every sample): the number of samples")
    for k, row in enumerate(counts, start=1):
        for t, (count, _) in row.items():
            if count > samples:
                raise f.fail(f"[1, {k}].{t}", f"a count of at most {samples} (the samples)")
    return ExitCounts(path, samples, thresholds, tuple(counts))


def read_cascade_runs(path: Path, blocks: int, samples: int) -> list[CascadeRun]:
    """The measured cascades of ``<model>_<dataset>_test_exp.pkl``: key
    ``"[[1, a], [a + 1, b], ...]"`` (the partitions), each threshold -> [[left at each
    partition's exit], correct]."""
    f = SourceFile(path, load_pickle(path))
    doc = f.mapping(f.data, "")
    out: list[CascadeRun] = []
    for key, rows in doc.items():
        where = excerpt(str(key))
        try:
            parts = json.loads(key) if isinstance(key, str) else None
        except ValueError:
            parts = None
        ok = isinstance(parts, list) and parts and all(
            isinstance(p, list) and len(p) == 2 and all(isinstance(x, int) for x in p)
            for p in parts)
        if not ok:
            raise f.fail(where, "partitions written as '[[1, a], [a + 1, b], ...]'")
        ends = tuple(p[1] for p in parts)
        starts = tuple(p[0] for p in parts)
        if starts != (1, *(e + 1 for e in ends[:-1])) or ends[-1] != blocks:
            raise f.fail(where, f"contiguous partitions from block 1 to block {blocks}")
        for t_raw, value in f.mapping(rows, where).items():
            t = _threshold(f, t_raw, f"{where}.{t_raw!r}")
            at = f"{where}.{t}"
            pair = f.seq(value, at)
            if len(pair) != 2:
                raise f.fail(at, "[[left at each exit], correct]")
            left = tuple(f.integer(x, f"{at}.0.{i}", minimum=0)
                         for i, x in enumerate(f.seq(pair[0], f"{at}.0")))
            correct = f.integer(pair[1], f"{at}.1", minimum=0)
            if len(left) != len(ends) or sum(left) != samples or correct > samples:
                raise f.fail(at, f"one count per partition summing to {samples} and at "
                                 f"most {samples} correct")
            out.append(CascadeRun(ends, t, left, correct))
    return out


def read_shapes(path: Path) -> dict[str, dict[int, tuple[int, ...]]]:
    """Model -> {k: shape of the tensor after block k (k = 0: the input)}."""
    f = SourceFile(path, load_pickle(path))
    doc = f.mapping(f.data, "")
    out: dict[str, dict[int, tuple[int, ...]]] = {}
    for model, table in doc.items():
        if not isinstance(model, str):
            raise f.fail(excerpt(str(model)), "model names as keys")
        shapes: dict[int, tuple[int, ...]] = {}
        for k, shape in f.mapping(table, model).items():
            idx = f.integer(k, f"{model}.{k!r}", minimum=0)
            dims = f.seq(list(shape) if isinstance(shape, tuple) else shape, f"{model}.{idx}")
            shapes[idx] = tuple(f.integer(d, f"{model}.{idx}.{i}", minimum=1)
                                for i, d in enumerate(dims))
        out[model] = shapes
    return out


def read_serialisation(path: Path) -> dict[tuple[int, int], Serialisation]:
    """(channels, spatial side) -> the cost of pickling such a tensor on that machine."""
    f = _twice_decoded(path)
    doc = f.mapping(f.data, "")
    keys = ("num_channels", "input_size", "pickled_size", "dump_latency", "load_latency")
    cols = {key: f.mapping(f.get(doc, key, ""), key) for key in keys}
    rows = set(cols["num_channels"])
    out: dict[tuple[int, int], Serialisation] = {}
    for row in sorted(rows, key=lambda r: (len(r), r)):
        vals = {}
        for key in keys:
            if row not in cols[key]:
                raise f.fail(f"{key}.{row}", "a value in every column")
            vals[key] = cols[key][row]
        shape = (f.integer(vals["num_channels"], f"num_channels.{row}", minimum=1),
                 f.integer(vals["input_size"], f"input_size.{row}", minimum=1))
        cost = Serialisation(
            f.integer(vals["pickled_size"], f"pickled_size.{row}", minimum=1),
            f.number(vals["dump_latency"], f"dump_latency.{row}", nonneg=True),
            f.number(vals["load_latency"], f"load_latency.{row}", nonneg=True))
        out.setdefault(shape, cost)
    return out


def median(figures: tuple[float, ...]) -> float:
    """The median of a few latency figures."""
    s = sorted(figures)
    mid = len(s) // 2
    value = s[mid] if len(s) % 2 else (s[mid - 1] + s[mid]) / 2.0
    assert math.isfinite(value)
    return value
