"""Import the AdaptiveNet authors' published latency tables and searched subnets.

Source (``--src``): ``latency_tables.json`` and ``searched_subnets.json`` (see the data
folder's README). One profile per (device, model), kind ``elastified``: the unmodified model
plus every searched subnet, with the per-block latency table (ALGORITHMS 3.3) and its error
against the subnets' published end-to-end latencies.

Arch codes: 0 original block, 1/2 merged with the next one/two blocks, 99 absorbed by a merge,
negative codes (MobileNetV2 shrunk blocks) index a position's choice list from its end, as in
the authors' code (``-1`` = last entry).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sim.importers.arch_params import (
    ABSORBED,
    MBV2_POSITIONS,
    RESNET_DEPTHS,
    Counts,
    mobilenetv2_counts,
    resnet_subnet_counts,
)
from sim.importers.source import SourceFile, load_json
from sim.lut_error import prediction_error
from sim.profile import (
    DeviceInfo,
    LatencyStats,
    LookupTable,
    Profile,
    Published,
    Task,
    Variant,
    save_profile,
)

__all__ = ["DEVICES", "import_adaptivenet", "arch_id", "table_key"]

CITATION = (
    "Wen et al., AdaptiveNet: Post-deployment Neural Architecture Adaptation for Diverse Edge "
    "Environments, MobiCom 2023"
)
ARTIFACT = "wenh18/AdaptiveNet_artifact @ 0f49a48"
DEVICES: dict[str, tuple[str, str]] = {
    "jetson_nano": ("jetson-nano", "NVIDIA Jetson Nano (Cortex-A57 + 128-core Maxwell)"),
    "3090": ("rtx3090", "NVIDIA GeForce RTX 3090"),
}
"""Source device key -> (profile device name, processor string)."""
FAMILIES = {"resnet50": "resnet50", "resnet101": "resnet101", "mobilenetv2_100": "mobilenetv2"}
_UNIT_MS = {"s": 1000.0, "ms": 1.0}
_CODE_CHARS = {ABSORBED: "x", -1: "a", -2: "b"}


def arch_id(arch: list[int]) -> str:
    """Variant id of a subnet: one character per position (digits, ``x`` absorbed,
    ``a``/``b`` for shrunk codes -1/-2)."""
    return "sub-" + "".join(_CODE_CHARS.get(c, str(c)) for c in arch)


def table_key(position: int, index: int) -> str:
    """Lookup-table key of choice ``index`` (0-based, non-negative) at 1-based ``position``."""
    return f"b{position}:c{index}"


def _table(src: SourceFile, dev: str, model: str, scale: float) -> tuple[float, list[list[float]], float]:
    where = f"tables.{dev}.{model}"
    raw = src.seq(src.get(src.get(src.get(src.data, "tables", ""), dev, "tables"), model,
                      f"tables.{dev}"), where)
    if len(raw) < 3:
        raise src.fail(where, "[stem, [choices] per block..., head]")
    blocks = []
    for i, choices in enumerate(raw[1:-1], start=1):
        seq = src.seq(choices, f"{where}[{i}]")
        blocks.append([scale * src.number(t, f"{where}[{i}][{j}]") for j, t in enumerate(seq)])
    return (scale * src.number(raw[0], f"{where}[0]"), blocks,
            scale * src.number(raw[-1], f"{where}[{len(raw) - 1}]"))


def _predict(stem: float, blocks: list[list[float]], head: float, arch: list[int],
             src: SourceFile, where: str) -> float:
    if len(arch) != len(blocks):
        raise src.fail(where, f"{len(blocks)} positions like the latency table")
    total = stem + head
    for i, code in enumerate(arch):
        if code == ABSORBED:
            continue
        if not -len(blocks[i]) <= code < len(blocks[i]):
            raise src.fail(f"{where}[{i}]", f"a choice index below {len(blocks[i])} or {ABSORBED}")
        total += blocks[i][code]
    return total


def _counts(model: str, arch: list[int], src: SourceFile, where: str) -> tuple[Counts, bool]:
    """Derived counts, and whether they are the subnet's own (False: original's size)."""
    if model in RESNET_DEPTHS:
        try:
            return resnet_subnet_counts(model, arch), True
        except ValueError as exc:
            raise src.fail(where, f"a valid merge vector ({exc})") from None
    if model == "mobilenetv2_100" and len(arch) == MBV2_POSITIONS:
        return mobilenetv2_counts(), all(c == 0 for c in arch)
    raise src.fail(where, f"a model among {sorted(FAMILIES)}")


def _size_note(model: str) -> str:
    if model in RESNET_DEPTHS:
        return ("weight_bytes/params derived from the architecture, not measured: standard "
                "bottleneck shapes; a merged block is a copy of its first block with the last "
                "merged block's output width and a 1x1 projection shortcut when widths differ")
    return ("weight_bytes/params of every variant are the unmodified model's, derived from its "
            "architecture: shrunk blocks' widths depend on which torch-pruning pruner built "
            "them (the authors' repositories hold two different prune_mbv2_block versions) and "
            "the merged inverted-residual's shortcut is not specified, so subnet sizes cannot "
            "be derived faithfully")


def _profile(tables: SourceFile, searched: SourceFile, dev: str, model: str,
             notes: list[str]) -> Profile:
    if dev not in DEVICES:
        raise searched.fail(f"devices.{dev}", f"a device among {sorted(DEVICES)}")
    if model not in FAMILIES:
        raise searched.fail(f"devices.{dev}.{model}", f"a model among {sorted(FAMILIES)}")
    units = searched.text(searched.get(searched.get(searched.data, "units", ""), dev, "units"),
                          f"units.{dev}")
    t_units = tables.text(tables.get(tables.get(tables.data, "units", ""), dev, "units"),
                          f"units.{dev}")
    for src, unit in ((searched, units), (tables, t_units)):
        if unit not in _UNIT_MS:
            raise src.fail(f"units.{dev}", f"one of {sorted(_UNIT_MS)}")
    stem, blocks, head = _table(tables, dev, model, _UNIT_MS[t_units])
    where = f"devices.{dev}.{model}"
    node = searched.mapping(searched.get(searched.get(searched.data, "devices", ""), dev,
                                         "devices"), f"devices.{dev}")[model]
    entries: list[tuple[list[int], Any, str]] = []
    original = searched.get(node, "original", where)
    entries.append(([0] * len(blocks), original, f"{where}.original"))
    for k, sub in enumerate(searched.seq(searched.get(node, "subnets", where), f"{where}.subnets")):
        w = f"{where}.subnets[{k}]"
        arch = [searched.integer(c, f"{w}.arch[{i}]")
                for i, c in enumerate(searched.seq(searched.get(sub, "arch", w), f"{w}.arch"))]
        entries.append((arch, sub, w))

    variants: list[Variant] = []
    samples: list[dict[str, Any]] = []
    seen: set[str] = set()
    dropped: list[str] = []
    exact: list[bool] = []
    for arch, entry, w in entries:
        vid = "original" if w.endswith(".original") else arch_id(arch)
        if vid in seen or (vid == arch_id([0] * len(blocks)) and "original" in seen):
            dropped.append(vid)
            continue
        seen.add(vid)
        measured = _UNIT_MS[units] * searched.number(searched.get(entry, "latency", w),
                                                    f"{w}.latency", positive=True)
        top1 = searched.number(searched.get(entry, "top1", w), f"{w}.top1") / 100.0
        if not 0.0 <= top1 <= 1.0:
            raise searched.fail(f"{w}.top1", "a percentage in [0, 100]")
        predicted = _predict(stem, blocks, head, arch, searched, f"{w}.arch")
        counts, own = _counts(model, arch, searched, f"{w}.arch")
        exact.append(own)
        variants.append(Variant(
            id=vid, arch={"choices": arch}, params=counts.params,
            weight_bytes=counts.weight_bytes, latency_ms=LatencyStats(median=round(measured, 6)),
            top1=round(top1, 8), independent=False,
        ))
        if vid != "original":
            samples.append({"id": vid, "arch": {"choices": arch}, "measured_ms": measured,
                            "predicted_ms": predicted})
    error = prediction_error([s["measured_ms"] for s in samples],
                             [s["predicted_ms"] for s in samples])
    for s in samples:
        s["measured_ms"], s["predicted_ms"] = round(s["measured_ms"], 6), round(s["predicted_ms"], 6)
    table = LookupTable(
        stem_ms=round(stem, 6), head_ms=round(head, 6), samples=tuple(samples), error=error,
        blocks={table_key(i, j): round(t, 6)
                for i, choices in enumerate(blocks, start=1) for j, t in enumerate(choices)},
    )
    name, processor = DEVICES[dev]
    note = (f"latencies published in {units}, converted to ms; table built from "
            "per-block timings (the batch size of the published timings is not stated in the "
            "source: batch_size here is the schema default); top1 from the authors' "
            f"evaluation subset (size not stated); {_size_note(model)}")
    extra: dict[str, Any] = {
        "choices_per_block": [len(c) for c in blocks],
        "table_key_format": "b<position 1..N>:c<choice index>; arch code c<0 means index n+c",
        "size_derived_per_variant": all(exact),
    }
    if dropped:
        extra["duplicates_dropped"] = dropped
        notes.append(f"adaptivenet: {dev}/{model}: dropped repeated subnets {dropped}")
    return Profile(
        family=f"adaptivenet-{FAMILIES[model]}", kind="elastified",
        task=Task(dataset="imagenet", classes=1000, input_shape=(3, 224, 224), eval_samples=0),
        provenance=Published(
            citation=CITATION, note=note,
            source=f"{ARTIFACT}, oncloud/prebuilt_latency_table.py and "
                   "oncloud/visualization/searched/<device>_<model>_info.yaml",
        ),
        device=DeviceInfo(name=name, processor=processor, framework="pytorch"),
        variants=tuple(variants), lookup_table=table, extra=extra,
    )


def import_adaptivenet(src_dir: Path, out_dir: Path, notes: list[str] | None = None) -> list[Path]:
    """Write one profile per (device, model) of ``searched_subnets.json`` to
    ``out_dir/<device>/adaptivenet-<model>.json``; returns the paths written, in order.

    Repeated subnets are dropped (a line is appended to ``notes`` when given). Raises
    ImportDataError (file + field) on a missing or malformed source file.
    """
    notes = [] if notes is None else notes
    src_dir, out_dir = Path(src_dir), Path(out_dir)
    tables = load_json(src_dir / "latency_tables.json")
    searched = load_json(src_dir / "searched_subnets.json")
    devices = searched.mapping(searched.get(searched.data, "devices", ""), "devices")
    written = []
    for dev in sorted(devices):
        for model in sorted(searched.mapping(devices[dev], f"devices.{dev}")):
            profile = _profile(tables, searched, dev, model, notes)
            path = out_dir / profile.device.name / f"{profile.family}.json"
            written.append(save_profile(profile, path))
    return written
