"""Import the AdaptiveNet authors' published latency tables and searched subnets.

Source (``--src``): the converted ``latency_tables.json`` and ``searched_subnets.json`` (see
the data folder's README), or a checkout of the authors' artifact in its own layout (see
:mod:`sim.importers.adaptivenet_sources`). One profile per (device, model), kind
``elastified``: the unmodified model plus every searched subnet, with the per-block latency
table (ALGORITHMS 3.3) and its error against the subnets' published end-to-end latencies.

Any device of the source is imported; :data:`DEVICES` only adds nicer names for the ones we
know. The artifact states no units: ``units`` (``--units``) gives them, else they are inferred
from the magnitude of the unmodified models' latencies (see :func:`infer_unit`), and the
profile's provenance note says which.

Arch codes: 0 original block, 1/2 merged with the next one/two blocks, 99 absorbed by a merge,
negative codes (MobileNetV2 shrunk blocks) index a position's choice list from its end, as in
the authors' code (``-1`` = last entry).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sim.common.messages import excerpt
from sim.importers.adaptivenet_sources import ARTIFACT, ModelSource, open_source
from sim.importers.arch_params import (
    ABSORBED,
    MBV2_POSITIONS,
    RESNET_DEPTHS,
    Counts,
    mobilenetv2_counts,
    resnet_subnet_counts,
)
from sim.importers.output import (
    building,
    checked_name,
    device_name,
    select_devices,
    write_profiles,
)
from sim.importers.source import ImportDataError, SourceFile, slug
from sim.profile import (
    DeviceInfo,
    LatencyStats,
    LookupTable,
    Profile,
    Published,
    Task,
    Variant,
)
from sim.profile.lut_error import prediction_error

__all__ = ["ARTIFACT", "DEVICES", "PLAUSIBLE_MODEL_MS", "arch_id", "build_adaptivenet",
           "import_adaptivenet", "infer_unit", "table_key"]

CITATION = (
    "Wen et al., AdaptiveNet: Post-deployment Neural Architecture Adaptation for Diverse Edge "
    "Environments, MobiCom 2023"
)
DEVICES: dict[str, tuple[str, str, str]] = {
    "jetson_nano": ("jetson-nano", "NVIDIA Jetson Nano (Cortex-A57 + 128-core Maxwell)", "pytorch"),
    "3090": ("rtx3090", "NVIDIA GeForce RTX 3090", "pytorch"),
}
"""Optional metadata of source devices we know: key -> (profile device name, processor,
framework). Any other device is imported as well, named by a slug of its key, with processor
and framework null (not published by the source)."""
_KNOWN_NAMES = {k: v[0] for k, v in DEVICES.items()}
FAMILIES = {"resnet50": "resnet50", "resnet101": "resnet101", "mobilenetv2_100": "mobilenetv2"}
"""Table model key -> family suffix; another model gets a slug of its key."""
PLAUSIBLE_MODEL_MS = (0.5, 5000.0)
"""Range of a whole ImageNet CNN's batch-1 latency (ms) that unit inference accepts."""
_UNIT_MS = {"s": 1000.0, "ms": 1.0}
_CODE_CHARS = {ABSORBED: "x", -1: "a", -2: "b"}


def arch_id(arch: list[int]) -> str:
    """Variant id of a subnet: one character per position (digits, ``x`` absorbed,
    ``a``/``b`` for shrunk codes -1/-2)."""
    return "sub-" + "".join(_CODE_CHARS.get(c, str(c)) for c in arch)


def table_key(position: int, index: int) -> str:
    """Lookup-table key of choice ``index`` (0-based, non-negative) at 1-based ``position``."""
    return f"b{position}:c{index}"


def _table(src: ModelSource, scale: float) -> tuple[float, list[list[float]], float]:
    t, where = src.tables, src.table_where
    raw = t.seq(src.table_raw, where)
    if len(raw) < 3:
        raise t.fail(where, "[stem, [choices] per block..., head]")
    blocks = []
    for i, choices in enumerate(raw[1:-1], start=1):
        seq = t.seq(choices, f"{where}[{i}]")
        blocks.append([scale * t.number(x, f"{where}[{i}][{j}]", nonneg=True)
                       for j, x in enumerate(seq)])
    return (scale * t.number(raw[0], f"{where}[0]", nonneg=True), blocks,
            scale * t.number(raw[-1], f"{where}[{len(raw) - 1}]", nonneg=True))


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


def _counts(model: str, arch: list[int], src: SourceFile, where: str) -> Counts | None:
    """Sizes derived from the architecture, or None where they cannot be derived (then the
    profile records them as unknown, null)."""
    if model in RESNET_DEPTHS:
        try:
            return resnet_subnet_counts(model, arch)
        except ValueError as exc:
            raise src.fail(where, f"a valid merge vector ({exc})") from None
    if model == "mobilenetv2_100" and len(arch) == MBV2_POSITIONS:
        return mobilenetv2_counts() if all(c == 0 for c in arch) else None
    if model == "mobilenetv2_100":
        raise src.fail(where, f"{MBV2_POSITIONS} positions")
    return None


def _size_note(model: str) -> str:
    if model in RESNET_DEPTHS:
        return ("weight_bytes/params derived from the architecture, not measured: standard "
                "bottleneck shapes; a merged block is a copy of its first block with the last "
                "merged block's output width and a 1x1 projection shortcut when widths differ")
    if model == "mobilenetv2_100":
        return ("weight_bytes/params of the unmodified model are derived from its "
                "architecture; the subnets' are null (not published by the source, and not "
                "derivable: shrunk blocks' widths depend on which torch-pruning pruner built "
                "them (the authors' repositories hold two different prune_mbv2_block versions) "
                "and the merged inverted-residual's shortcut is not specified)")
    return (f"weight_bytes/params are null: not published by the source, and the importer has "
            f"no architecture description of {model}")


def infer_unit(latencies: Sequence[float]) -> str | None:
    """``"s"`` or ``"ms"`` when the unmodified models' published latencies are plausible
    (:data:`PLAUSIBLE_MODEL_MS`) in exactly one of them, else None (ambiguous or neither)."""
    lo, hi = PLAUSIBLE_MODEL_MS
    fits = [u for u, scale in _UNIT_MS.items() if all(lo <= scale * v <= hi for v in latencies)]
    return fits[0] if len(fits) == 1 else None


def _units(dev: str, models: list[ModelSource], units: str | None,
           notes: list[str]) -> tuple[str, str, str | None]:
    """(table unit, searched unit, how they were decided; None = stated by the source)."""
    first = models[0]
    if first.table_unit is not None and first.searched_unit is not None:
        for src, unit in ((first.searched, first.searched_unit), (first.tables, first.table_unit)):
            if unit not in _UNIT_MS:
                raise src.fail(f"units.{dev}", f"one of {sorted(_UNIT_MS)}")
            if units is not None and unit != units:
                raise src.fail(f"units.{dev}", f"--units {units} to agree with the unit the "
                                               f"source states ({unit!r})")
        return first.table_unit, first.searched_unit, None
    if units is not None:
        return units, units, "given with --units"
    originals = [m.entries[0].latency for m in models]
    inferred = infer_unit(originals)
    if inferred is None:
        raise ImportDataError(
            f"{first.searched.path}: [0][1]: the latencies of device {dev} carry no unit and "
            f"their magnitude ({min(originals):g} to {max(originals):g} for the unmodified "
            "models) does not settle it; expected --units s or --units ms")
    lo, hi = PLAUSIBLE_MODEL_MS
    how = (f"inferred from magnitude: the unmodified models' latencies, {min(originals):g} to "
           f"{max(originals):g}, lie in {lo:g}-{hi:g} ms only when read as {inferred}; "
           "--units overrides")
    notes.append(f"adaptivenet: {dev}: latencies carry no unit in the source; read as {inferred} "
                 f"({how})")
    return inferred, inferred, how


def _note(src: ModelSource, unit: str, how: str | None) -> str:
    if how is None:
        latencies = f"latencies published in {unit}, converted to ms"
    else:
        latencies = (f"latencies carry no unit in the source, read as {unit} ({how})"
                     + (", converted to ms" if unit != "ms" else ""))
    return (f"{latencies}; table built from per-block timings (the batch size of the published "
            "timings is not stated in the source: batch_size here is the schema default); top1 "
            f"from the authors' evaluation subset (size not stated); {_size_note(src.model)}")


def family_name(src: ModelSource) -> str:
    """``adaptivenet-<model>``: the known suffix of the table's model key or a slug of it,
    checked to be usable as a file name (an ImportDataError naming the table otherwise)."""
    what = f"model {excerpt(src.model)} of device {excerpt(src.device)}"
    suffix = FAMILIES.get(src.model)
    if suffix is None:
        try:
            suffix = slug(src.model)
        except ValueError:
            raise ImportDataError(f"{src.tables.path}: {what}: expected a name usable as a "
                                  "file name (it has no letters or digits)") from None
    return checked_name(f"adaptivenet-{suffix}", f"{what}: its profile file name",
                        src.tables.path)


def _profile(src: ModelSource, table_unit: str, unit: str, how: str | None,
             notes: list[str]) -> Profile:
    stem, blocks, head = _table(src, _UNIT_MS[table_unit])
    searched = src.searched
    variants: list[Variant] = []
    samples: list[dict[str, Any]] = []
    seen: set[str] = set()
    dropped: list[str] = []
    exact: list[bool] = []
    for entry in src.entries:
        arch = [0] * len(blocks) if entry.arch is None else entry.arch
        vid = "original" if entry.arch is None else arch_id(arch)
        if vid in seen or (vid == arch_id([0] * len(blocks)) and "original" in seen):
            dropped.append(vid)
            continue
        seen.add(vid)
        measured = _UNIT_MS[unit] * entry.latency
        predicted = _predict(stem, blocks, head, arch, searched, entry.where_arch)
        counts = _counts(src.model, arch, searched, entry.where_arch)
        exact.append(counts is not None)
        variants.append(Variant(
            id=vid, arch={"choices": arch}, params=counts.params if counts else None,
            weight_bytes=counts.weight_bytes if counts else None,
            latency_ms=LatencyStats(median=round(measured, 6)),
            top1=round(entry.top1, 8), independent=False,
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
    name = device_name(src.device, _KNOWN_NAMES, searched.path)
    _, processor, framework = DEVICES.get(src.device, (name, None, None))
    extra: dict[str, Any] = {
        "choices_per_block": [len(c) for c in blocks],
        "table_key_format": "b<position 1..N>:c<choice index>; arch code c<0 means index n+c",
        "size_derived_per_variant": all(exact),
    }
    if dropped:
        extra["duplicates_dropped"] = dropped
        notes.append(f"adaptivenet: {src.device}/{src.model}: dropped repeated subnets {dropped}")
    return Profile(
        family=family_name(src), kind="elastified",
        task=Task(dataset="imagenet", classes=1000, input_shape=(3, 224, 224), eval_samples=0),
        provenance=Published(citation=CITATION, note=_note(src, unit, how), source=src.source),
        device=DeviceInfo(name=name, processor=processor, framework=framework),
        variants=tuple(variants), lookup_table=table, extra=extra,
    )


def build_adaptivenet(src_dir: Path, notes: list[str] | None = None, *,
                      devices: Sequence[str] | None = None,
                      units: str | None = None) -> list[tuple[str, Profile]]:
    """``(relative path <device>/<family>.json, profile)`` per (device, model) of the source,
    for the ``devices`` asked for (source keys or profile device names; default all).

    ``units`` (``"s"``/``"ms"``) is the unit of a source that states none. Repeated subnets
    are dropped and unit inferences reported as lines appended to ``notes``. Raises
    ImportDataError (file + field) on missing or malformed source files.
    """
    notes = [] if notes is None else notes
    if units is not None and units not in _UNIT_MS:
        raise ImportDataError(f"--units {units!r}: expected one of {sorted(_UNIT_MS)}")
    layout = open_source(Path(src_dir))
    notes.extend(layout.notes)
    out = []
    for dev in select_devices(layout.devices, devices, _KNOWN_NAMES, layout.where):
        models = layout.models(dev)
        for src in models:  # every name checked before building
            device_name(src.device, _KNOWN_NAMES, src.searched.path)
            family_name(src)
        table_unit, unit, how = _units(dev, models, units, notes)
        for src in models:
            with building(src.searched.path, f"device {excerpt(dev)}, model "
                                             f"{excerpt(src.model)}"):
                profile = _profile(src, table_unit, unit, how, notes)
            out.append((f"{profile.device.name}/{profile.family}.json", profile))
    return out


def import_adaptivenet(src_dir: Path, out_dir: Path, notes: list[str] | None = None, *,
                       devices: Sequence[str] | None = None, units: str | None = None,
                       force: bool = False) -> list[Path]:
    """Write the profiles of :func:`build_adaptivenet` to ``out_dir/<device>/<family>.json``;
    returns the paths written, in order. Without ``force`` nothing is written when any of
    them exists (ImportDataError naming it)."""
    planned = build_adaptivenet(src_dir, notes, devices=devices, units=units)
    return write_profiles([(Path(out_dir) / rel, p) for rel, p in planned], force)
