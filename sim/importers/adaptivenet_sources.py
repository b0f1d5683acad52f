"""Readers of the AdaptiveNet authors' published numbers, in either of two layouts.

- **converted**: ``latency_tables.json`` + ``searched_subnets.json`` (the data folder's JSON
  transcription, units stated per device);
- **artifact**: a checkout of ``wenh18/AdaptiveNet_artifact`` (its root or its ``oncloud``
  folder): ``oncloud/prebuilt_latency_table.py``, whose ``LATENCY_TABLE = {device: {model:
  [stem, [choices per block]..., head]}}`` literal is read with :mod:`ast`, never executed,
  and ``oncloud/visualization/searched/<device prefix>_<model>_info.yaml`` (first item
  ``(top1 %, latency)`` of the unmodified model, then ``[(top1, arch, ...), top1, latency]``
  per searched subnet; ``!!python/tuple`` read as a list). No units are stated there.

Both give, per source device, one :class:`ModelSource` per model; bad values fail with the
file and the field. Only the devices asked for are read beyond their names.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sim.common.messages import excerpt
from sim.importers.source import (
    ImportDataError,
    SourceFile,
    load_json,
    load_python_literal,
    load_yaml,
)

__all__ = ["ARTIFACT", "ARTIFACT_REPO", "MODEL_ALIASES", "ArtifactLayout", "ConvertedLayout",
           "Entry", "ModelSource", "open_source"]

ARTIFACT_REPO = "wenh18/AdaptiveNet_artifact"
ARTIFACT = f"{ARTIFACT_REPO} @ 0f49a48"
TABLE_FILE = "prebuilt_latency_table.py"
SEARCHED_DIR = Path("visualization") / "searched"
MODEL_ALIASES = {"res50": "resnet50", "res101": "resnet101", "mbv2": "mobilenetv2_100"}
"""Short model names in the artifact's searched-file names -> LATENCY_TABLE model keys (a
file may also use the table key itself)."""


@dataclass(frozen=True)
class Entry:
    """One published model: arch (None = the unmodified model), top-1 as a fraction, latency
    in the source's units, and where its arch vector sits (for errors)."""

    arch: list[int] | None
    top1: float
    latency: float
    where_arch: str


@dataclass(frozen=True)
class ModelSource:
    """Everything published about one (device, model), with the files to blame."""

    device: str
    model: str
    tables: SourceFile
    table_raw: Any
    table_where: str
    searched: SourceFile
    entries: list[Entry]
    """``entries[0]`` is the unmodified model."""
    table_unit: str | None
    searched_unit: str | None
    """units as stated in the source; None where the source states none"""
    source: str
    """provenance.source of the profile"""


def _top1(src: SourceFile, node: Any, where: str) -> float:
    top1 = src.number(node, where)
    if not 0.0 <= top1 <= 100.0:
        raise src.fail(where, "a percentage in [0, 100]")
    return top1 / 100.0


def _arch(src: SourceFile, node: Any, where: str) -> list[int]:
    return [src.integer(c, f"{where}[{i}]") for i, c in enumerate(src.seq(node, where))]


# ---------------------------------------------------------------- converted JSON layout
class ConvertedLayout:
    """``latency_tables.json`` + ``searched_subnets.json``."""

    def __init__(self, src_dir: Path) -> None:
        self.tables = load_json(src_dir / "latency_tables.json")
        self.searched = load_json(src_dir / "searched_subnets.json")
        self.devices = self.searched.mapping(
            self.searched.get(self.searched.data, "devices", ""), "devices")
        self.where = src_dir / "searched_subnets.json"
        self.notes: list[str] = []

    def models(self, dev: str) -> list[ModelSource]:
        """The device's models, in name order."""
        s, t = self.searched, self.tables
        out = []
        for model in sorted(s.mapping(self.devices[dev], f"devices.{dev}")):
            where = f"devices.{dev}.{model}"
            node = self.devices[dev][model]
            original = s.get(node, "original", where)
            entries = [Entry(None, _top1(s, s.get(original, "top1", f"{where}.original"),
                                         f"{where}.original.top1"),
                             s.number(s.get(original, "latency", f"{where}.original"),
                                      f"{where}.original.latency", positive=True),
                             f"{where}.original")]
            for k, sub in enumerate(s.seq(s.get(node, "subnets", where), f"{where}.subnets")):
                w = f"{where}.subnets[{k}]"
                entries.append(Entry(_arch(s, s.get(sub, "arch", w), f"{w}.arch"),
                                     _top1(s, s.get(sub, "top1", w), f"{w}.top1"),
                                     s.number(s.get(sub, "latency", w), f"{w}.latency",
                                              positive=True), f"{w}.arch"))
            raw = t.get(t.get(t.get(t.data, "tables", ""), dev, "tables"), model, f"tables.{dev}")
            out.append(ModelSource(
                dev, model, t, raw, f"tables.{dev}.{model}", s, entries,
                table_unit=t.text(t.get(t.get(t.data, "units", ""), dev, "units"), f"units.{dev}"),
                searched_unit=s.text(s.get(s.get(s.data, "units", ""), dev, "units"),
                                     f"units.{dev}"),
                source=f"{ARTIFACT}, oncloud/prebuilt_latency_table.py and "
                       "oncloud/visualization/searched/<device>_<model>_info.yaml"))
        return out


# ---------------------------------------------------------------- the artifact's own layout
def _tokens(name: str) -> list[str]:
    return [t for t in re.split(r"[_\-\s.]+", name.lower()) if t]


def _contains(outer: Sequence[str], inner: Sequence[str]) -> bool:
    n = len(inner)
    return n > 0 and any(list(outer[i:i + n]) == list(inner) for i in range(len(outer) - n + 1))


def match_device(prefix: str, devices: Sequence[str], path: Path) -> str | None:
    """The LATENCY_TABLE device a searched file's prefix names: the one whose name tokens
    (split at ``_``/``-``) contain the prefix's as a contiguous run, or the reverse
    (``jetson`` -> ``jetson_nano``, ``nvidia_3090`` -> ``3090``). None if no device does;
    an error if several do."""
    mine = _tokens(prefix)
    hits = [d for d in devices if _contains(_tokens(d), mine) or _contains(mine, _tokens(d))]
    if len(hits) > 1:
        raise ImportDataError(f"{path}: file prefix {prefix!r} matches several LATENCY_TABLE "
                              f"devices {sorted(hits)}; expected exactly one")
    return hits[0] if hits else None


def split_name(stem: str, models: Mapping[str, str]) -> tuple[str, str] | None:
    """``(device prefix, table model key)`` of ``<prefix>_<model>`` (``stem`` without
    ``_info``), taking the longest model name that ends it; None when none does."""
    best = max((a for a in models if stem.endswith("_" + a) and len(stem) > len(a) + 1),
               key=len, default=None)
    return None if best is None else (stem[:-len(best) - 1], models[best])


def _yaml_entries(src: SourceFile) -> list[Entry]:
    items = src.seq(src.data, "")
    first = src.seq(items[0], "[0]")
    entries = [Entry(None, _top1(src, src.get(first, 0, "[0]"), "[0][0]"),
                     src.number(src.get(first, 1, "[0]"), "[0][1]", positive=True), "[0]")]
    for k in range(1, len(items)):
        w = f"[{k}]"
        item = src.seq(items[k], w)
        head = src.seq(src.get(item, 0, w), f"{w}[0]")
        entries.append(Entry(_arch(src, src.get(head, 1, f"{w}[0]"), f"{w}[0][1]"),
                             _top1(src, src.get(item, 1, w), f"{w}[1]"),
                             src.number(src.get(item, 2, w), f"{w}[2]", positive=True),
                             f"{w}[0][1]"))
    return entries


def _table_path(src_dir: Path) -> Path | None:
    for path in (src_dir / "oncloud" / TABLE_FILE, src_dir / TABLE_FILE):
        if path.is_file():
            return path
    return None


class ArtifactLayout:
    """A checkout of the AdaptiveNet artifact: the table literal and the searched files."""

    def __init__(self, table_path: Path) -> None:
        self.tables = load_python_literal(table_path, "LATENCY_TABLE")
        root = self.tables.mapping(self.tables.data, "LATENCY_TABLE")
        self.notes: list[str] = []
        self.where = table_path
        devices = {str(k): v for k, v in root.items() if isinstance(v, Mapping)}
        stray = sorted(str(k) for k in root if str(k) not in devices)
        if stray:
            listed = ", ".join(excerpt(k) for k in stray[:5]) + (", ..." if len(stray) > 5
                                                                   else "")
            self.notes.append(f"adaptivenet: {table_path.name}: LATENCY_TABLE keys [{listed}] "
                              "hold no device mapping of models; skipped")
        folder = table_path.parent / SEARCHED_DIR
        if not folder.is_dir():
            raise ImportDataError(f"{folder}: folder not found (expected the searched subnets' "
                                  "<device>_<model>_info.yaml files)")
        names = dict(MODEL_ALIASES)
        names.update({str(m): str(m) for v in devices.values() for m in v})
        self.files: dict[str, list[tuple[str, Path]]] = {}
        for path in sorted(folder.glob("*_info.yaml")):
            self._add(path, names, sorted(devices))
        for dev in sorted(set(devices) - set(self.files)):
            self.notes.append(f"adaptivenet: LATENCY_TABLE.{dev}: no searched subnets file in "
                              f"{SEARCHED_DIR}; skipped")
        self.devices = {d: devices[d] for d in sorted(self.files)}

    def _add(self, path: Path, names: Mapping[str, str], devices: list[str]) -> None:
        parts = split_name(path.name[:-len("_info.yaml")], names)
        dev = match_device(parts[0], devices, path) if parts else None
        if parts is None or dev is None:
            what = "model" if parts is None else f"device prefix {parts[0]!r}"
            self.notes.append(f"adaptivenet: {path.name}: {what} matches nothing in "
                              "LATENCY_TABLE; skipped")
            return
        self.files.setdefault(dev, []).append((parts[1], path))

    def models(self, dev: str) -> list[ModelSource]:
        """The device's models, in name order."""
        out = []
        for model, path in sorted(self.files[dev]):
            searched = load_yaml(path, tuples=True)
            raw = self.tables.get(self.devices[dev], model, f"LATENCY_TABLE.{dev}")
            out.append(ModelSource(
                dev, model, self.tables, raw, f"LATENCY_TABLE.{dev}.{model}", searched,
                _yaml_entries(searched), table_unit=None, searched_unit=None,
                source=f"{ARTIFACT_REPO}, read in the artifact's own layout (commit of the "
                       "checkout not recorded): oncloud/prebuilt_latency_table.py and "
                       f"oncloud/visualization/searched/{path.name}"))
        return out


def open_source(src_dir: Path) -> ConvertedLayout | ArtifactLayout:
    """The layout found in ``src_dir``: the converted JSON files, else an artifact checkout;
    neither -> the converted layout's file-not-found error, which also names the other."""
    src_dir = Path(src_dir)
    table = _table_path(src_dir)
    if (src_dir / "latency_tables.json").exists() or table is None:
        if not (src_dir / "latency_tables.json").exists():
            raise ImportDataError(
                f"{src_dir / 'latency_tables.json'}: file not found (expected the converted "
                f"JSON files here, or an AdaptiveNet artifact checkout with oncloud/{TABLE_FILE})")
        return ConvertedLayout(src_dir)
    return ArtifactLayout(table)
