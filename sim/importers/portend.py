"""Import PORTEND's published partition-wise measurements as progressive profiles.

Source: Ebrahimi, da Silva Veith, Gabel, de Lara, "PORTEND: A Joint Performance Model for
Partitioned Early-Exiting DNNs", ICPADS 2023; repository ``MaryamEbr/PORTEND_Performance_Model``
at daea47d (``aws_profiling_results/``, layout in :mod:`sim.importers.portend_sources`).

Every machine folder is imported (or those named by ``--device``: the folder name or the
profile device name); a file-name suffix such as ``_1core`` makes its own device
(``a1.large_multicore`` + ``1core`` -> ``a1.large_multicore-1core``). Each (machine, model)
becomes ``<out>/<device>/portend-<model>.json``, usable as a device and as a server:

- split after block k: ``device_ms`` = median latency of partition [1, k] (blocks 1..k and
  the exit head after k, as the authors timed it), ``server_ms`` = that of [k + 1, K];
- exit after block k: ``device_ms`` = [1, k]; the final exit and the variant: [1, K];
- transfer bytes from the tensor shape after block k: fp32 = 4 C H W, int8 = C H W;
- exit outcomes: an exit table over the test split (:mod:`sim.importers.portend_exits`);
- ``params``, ``weight_bytes`` and ``flops_fraction`` derived from the architecture
  (:mod:`sim.importers.portend_arch`), checked against the published shapes.

What the source does not give is absent: exit head times, compressed sizes, codec times.
Models whose architecture the importer does not know are skipped with a note.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sim.importers.output import building, checked_name, write_profiles
from sim.importers.portend_arch import ARCHITECTURES, Network
from sim.importers.portend_exits import cascade_check, exit_table, exit_top1
from sim.importers.portend_sources import (
    EXITS_DIR,
    SHAPES_FILE,
    ExitCounts,
    MachineRun,
    Serialisation,
    discover_runs,
    median,
    read_cascade_runs,
    read_exit_counts,
    read_partitions,
    read_serialisation,
    read_shapes,
)
from sim.importers.source import ImportDataError
from sim.profile import (
    DeviceInfo,
    ExitPoint,
    LatencyStats,
    Outcomes,
    Profile,
    Progressive,
    Published,
    SplitPoint,
    Task,
    TransferBytes,
    Variant,
)

__all__ = ["CITATION", "LICENCE", "import_portend"]

CITATION = ('Ebrahimi, da Silva Veith, Gabel, de Lara, "PORTEND: A Joint Performance Model '
            'for Partitioned Early-Exiting DNNs", ICPADS 2023')
REPOSITORY = "MaryamEbr/PORTEND_Performance_Model"
COMMIT = "daea47d"
LICENCE = ("The repository states no licence: these are the authors' measurements, reproduced "
           "with attribution for research use.")
MACHINES: dict[str, tuple[str, str, int | None]] = {
    "a1.medium": ("AWS Graviton (ARM Cortex-A72), 1 vCPU (AWS a1.medium)", "cpu", 1),
    "a1.large": ("AWS Graviton (ARM Cortex-A72), 2 vCPUs (AWS a1.large)", "cpu", None),
    "a1.large_multicore": ("AWS Graviton (ARM Cortex-A72), 2 vCPUs (AWS a1.large)", "cpu",
                           None),
    "g4dn.xlarge": ("NVIDIA T4 GPU (AWS g4dn.xlarge)", "cuda:NVIDIA T4", None),
}
"""Machine folder -> (processor, accelerator, inference threads if the machine fixes them).
Other folders are imported with processor, accelerator and threads unknown."""
_CORES = re.compile(r"^([0-9]{1,3})core$")
DERIVED = {
    "latency": "median of the published figures of a partition (each figure is the mean of "
               "100 runs in the authors' profiling script); partition [s, e] = blocks s..e "
               "and the exit head after e",
    "splits[k].device_ms, exits[k].device_ms": "partition [1, k] on this machine",
    "splits[k].server_ms": "partition [k+1, K] on this machine",
    "splits[k].bytes.fp32": "4 x C x H x W of the tensor after block k (intermediate_dict.pkl)",
    "splits[k].bytes.int8": "C x H x W of the tensor after block k",
    "progressive.input_bytes": "C x H x W of the input: one 8-bit camera frame",
    "flops_fraction": "multiply-accumulates of blocks 1..k over those of all K blocks, from "
                      "the architecture (exit heads excluded), not published",
    "variants.params, variants.weight_bytes": "from the architecture: backbone and every exit "
                                              "head; weight_bytes = 4 x (parameters + "
                                              "BatchNorm running mean and variance)",
    "exits[k].top1": "correct / count of exit k at entropy threshold 1 (all samples it counted)",
    "variants.top1, final exit top1": "correct / N of the last exit",
    "outcomes.exit_table": "see sim/importers/portend_exits.py: thresholds 1 - t; left_by = "
                           "running max over exits of count / N; accuracy = correct / count "
                           "(last exit: its remaining right answers); final_accuracy = "
                           "max(accuracy, last exit's accuracy over all samples)",
}


def _device_name(run: MachineRun) -> str:
    base = run.machine + (f"-{run.run}" if run.run else "")
    name = re.sub(r"[^A-Za-z0-9._+-]+", "-", base).strip("-")
    return checked_name(name, f"machine {run.machine!r}: its profile folder name", run.path)


def _select(runs: list[MachineRun], wanted: Sequence[str] | None, src: Path) -> list[MachineRun]:
    if not wanted:
        return runs
    chosen: list[MachineRun] = []
    for name in wanted:
        match = [r for r in runs if name in (r.machine, _device_name(r))]
        if not match:
            have = sorted({r.machine for r in runs} | {_device_name(r) for r in runs})
            raise ImportDataError(f"{src}: --device {name!r}: not a machine of this source; it "
                                  f"has: {', '.join(have)}")
        chosen.extend(r for r in match if r not in chosen)
    return chosen


def _check_shapes(net: Network, shapes: dict[int, tuple[int, ...]], path: Path) -> None:
    """The published shape after every block (but the last) is the derived one."""
    want = {0: net.input_shape, **{k: b.shape for k, b in enumerate(net.blocks[:-1], 1)}}
    if sorted(shapes) != sorted(want):
        raise ImportDataError(f"{path}: {net.source}: expected shapes after blocks 0 (the "
                              f"input) to {len(net.blocks) - 1}, found keys {sorted(shapes)}")
    for k, shape in want.items():
        if shapes[k] != (1, *shape):
            raise ImportDataError(
                f"{path}: {net.source}.{k}: shape {list(shapes[k])}, but the architecture the "
                f"importer derives sizes from gives [1, {', '.join(map(str, shape))}]")


def _latency(parts: dict[tuple[int, int], tuple[float, ...]], s: int, e: int,
             run: MachineRun) -> float:
    if (s, e) not in parts:
        raise ImportDataError(f"{run.path}: partition_start/partition_end: expected a row "
                              f"for partition [{s}, {e}]")
    return median(parts[(s, e)])


def _serialisation(shapes: dict[int, tuple[int, ...]], net: Network,
                   costs: dict[tuple[int, int], Serialisation]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k in range(1, len(net.blocks)):
        _, c, h, w = shapes[k]
        cost = costs.get((c, h)) if h == w else None
        if cost is not None:
            out[f"block{k}"] = {"shape": [c, h, w], "pickled_bytes": cost.pickled_bytes,
                                "dump_ms": cost.dump_ms, "load_ms": cost.load_ms}
    return out


def _profile(run: MachineRun, net: Network, parts: dict[tuple[int, int], tuple[float, ...]],
             ec: ExitCounts, shapes: dict[int, tuple[int, ...]], check: dict[str, Any],
             costs: dict[tuple[int, int], Serialisation] | None) -> Profile:
    nblocks = len(net.blocks)
    full_ms = _latency(parts, 1, nblocks, run)
    exits, splits = [], []
    for k in range(1, nblocks):
        frac = net.backbone_fraction(k)
        ms = _latency(parts, 1, k, run)
        top1 = exit_top1(ec, k - 1)
        if top1 is None:
            raise ImportDataError(f"{ec.path}: [1, {k}].1.0: exit {k} counted no sample at "
                                  "threshold 1")
        exits.append(ExitPoint(name=f"exit{k}", flops_fraction=frac, device_ms=ms, top1=top1))
        c, h, w = shapes[k][1:]
        splits.append(SplitPoint(name=f"block{k}", flops_fraction=frac, device_ms=ms,
                                 server_ms=_latency(parts, k + 1, nblocks, run),
                                 bytes=TransferBytes(fp32=4 * c * h * w, int8=c * h * w)))
    top1 = ec.counts[-1][1.0][1] / ec.samples
    exits.append(ExitPoint(name="final", flops_fraction=1.0, device_ms=full_ms, top1=top1))
    table = exit_table(ec, [e.name for e in exits])
    processor, accelerator, threads = MACHINES.get(run.machine, (None, None, None))
    cores = _CORES.match(run.run or "")
    device = DeviceInfo(name=_device_name(run), processor=processor,
                        threads=int(cores.group(1)) if cores else threads,
                        framework="pytorch", accelerator=accelerator, dtype="float32",
                        batch_size=1)
    files = [f"{run.machine}/{run.path.name}", f"{EXITS_DIR}/{ec.path.name}", SHAPES_FILE]
    note = (f"PORTEND's measurements of {net.description} on {run.machine}"
            f"{f' ({run.run})' if run.run else ''}, published by the authors, not ours. "
            f"{LICENCE} Latencies are medians of the published figures; exit outcomes are "
            f"aggregates over the {ec.samples:,} test samples (an exit table, no per-sample "
            "outcomes). Derived, not published (formulas in extra.derived): transfer bytes "
            "from tensor shapes, params, weight_bytes and flops_fraction from the "
            "architecture, the exit table's reading of the exit counts. Not published, so "
            "absent: exit head times, compressed transfer sizes, codec times.")
    partitions = {f"{s}-{e}": list(parts[(s, e)]) for s, e in sorted(parts)
                  if s == 1 or e == nblocks}
    extra: dict[str, Any] = {
        "licence": LICENCE, "source_files": files, "derived": DERIVED,
        "machine": run.machine, "run": run.run,
        "partition_latency_ms": partitions,
        "exit_counts": {"file": ec.path.name, "samples": ec.samples,
                        "entropy_thresholds": list(ec.thresholds),
                        "count_correct": {f"exit{k + 1}" if k < nblocks - 1 else "final":
                                          [list(row[t]) for t in ec.thresholds]
                                          for k, row in enumerate(ec.counts)}},
        "exit_table_check": check,
        "architecture": {"macs": sum(b.macs for b in net.blocks),
                         "macs_per_block": [b.macs for b in net.blocks]},
    }
    if costs is not None:
        extra["serialisation"] = {
            "what": "PORTEND sends each split's fp32 tensor pickled; pickled size, dump and "
                    "load time on this machine (profiling_pickle.txt), for reference: the "
                    "simulator sends the int8 tensor",
            "splits": _serialisation(shapes, net, costs)}
    return Profile(
        family=net.family, kind="progressive",
        task=Task(dataset=net.task, classes=net.classes, input_shape=net.input_shape,
                  eval_samples=ec.samples),
        provenance=Published(citation=CITATION, source=f"{REPOSITORY} @ {COMMIT}, "
                             f"aws_profiling_results/: {', '.join(files)}", note=note),
        device=device,
        variants=(Variant(id=net.variant, arch={"model": net.source, "dataset": net.dataset,
                                                "blocks": nblocks, "description": net.description},
                          params=net.params, weight_bytes=net.weight_bytes,
                          latency_ms=LatencyStats(median=full_ms), top1=top1),),
        progressive=Progressive(splits=tuple(splits), exits=tuple(exits),
                                input_bytes=float(net.input_shape[0] * net.input_shape[1]
                                                  * net.input_shape[2])),
        outcomes=Outcomes(samples=ec.samples, exit_table=table),
        extra=extra,
    )


def import_portend(src: str | Path, out: str | Path, notes: list[str] | None = None, *,
                   devices: Sequence[str] | None = None, force: bool = False) -> list[Path]:
    """Write one progressive profile per (machine, known model) of the PORTEND data folder
    ``src`` under ``out``; all or nothing (see :func:`sim.importers.output.write_profiles`)."""
    src, out = Path(src), Path(out)
    notes = notes if notes is not None else []
    runs, odd = discover_runs(src)
    notes.extend(f"{p}: not named profiling_partition_<model>_<dataset>[_<run>].txt; skipped"
                 for p in odd)
    chosen = _select(runs, devices, src)
    known = [r for r in chosen if (r.model, r.dataset) in ARCHITECTURES]
    for model, dataset in sorted({(r.model, r.dataset) for r in chosen} - set(ARCHITECTURES)):
        notes.append(f"{model} ({dataset}): no architecture known to the importer (needed for "
                     "weight sizes and exit positions); skipped")
    if not known:
        raise ImportDataError(f"{src}: none of the chosen machines has a model the importer "
                              f"knows ({', '.join(sorted(n.source for n in ARCHITECTURES.values()))})")
    shapes = read_shapes(src / SHAPES_FILE)
    counts: dict[tuple[str, str], tuple[ExitCounts, dict[str, Any]]] = {}
    costs: dict[str, dict[tuple[int, int], Serialisation] | None] = {}
    tables: dict[tuple[str, str], list[tuple[MachineRun, Any]]] = {}
    planned: list[tuple[Path, Profile]] = []
    for run in known:
        net = ARCHITECTURES[(run.model, run.dataset)]
        key = (run.model, run.dataset)
        if key not in counts:
            if run.model not in shapes:
                raise ImportDataError(f"{src / SHAPES_FILE}: no shapes for {run.model}")
            _check_shapes(net, shapes[run.model], src / SHAPES_FILE)
            stem = src / EXITS_DIR / f"{run.model}_{run.dataset}"
            ec = read_exit_counts(Path(f"{stem}_test.pkl"), len(net.blocks))
            exp = Path(f"{stem}_test_exp.pkl")
            cascades = read_cascade_runs(exp, len(net.blocks), ec.samples) if exp.exists() else []
            counts[key] = (ec, cascade_check(ec, cascades))
        if run.machine not in costs:
            pickle_costs = src / run.machine / "profiling_pickle.txt"
            costs[run.machine] = read_serialisation(pickle_costs) if pickle_costs.exists() else None
        parts = read_partitions(run.path)
        if max(e for _, e in parts) != len(net.blocks):
            raise ImportDataError(f"{run.path}: partition_end: expected blocks up to "
                                  f"{len(net.blocks)} ({net.source})")
        for other, other_parts in tables.setdefault(key, []):
            if other_parts == parts and other.machine != run.machine:
                notes.append(f"{run.path}: the same figures as {other.path} (in the source)")
        tables[key].append((run, parts))
        ec, check = counts[key]
        with building(run.path, f"{run.model} on {run.machine}"):
            profile = _profile(run, net, parts, ec, shapes[run.model], check, costs[run.machine])
        planned.append((out / profile.device.name / f"{net.family}.json", profile))
    return write_profiles(planned, force)
