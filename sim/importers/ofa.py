"""Import once-for-all's published specialised subnets and the Note10 lookup tables.

Source (``--src``): ``specialized_subnets.json`` and ``<device>_<res>_lookup_table.yaml``
(see the data folder's README). One profile per (device, network layout), kind ``supernet``:
the device's latency-measured subnets. A device with lookup tables also gets a
``lookup_table`` whose samples compare each subnet's table prediction (ALGORITHMS 4.4) with
its published latency.

The input resolution of a subnet is not part of ``net_config``. It is taken, in order, from
an ``image_size`` field of the entry, from :data:`PUBLISHED_IMAGE_SIZES` (read from the
authors' ``run.config`` files), or assumed to be :data:`DEFAULT_RESOLUTION`; each sample
records which, and its prediction at every table resolution, so the choice can be audited.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sim.common.messages import excerpt
from sim.importers.arch_params import ofa_net_counts
from sim.importers.ofa_lut import layer_keys, missing_keys, predict_ms
from sim.importers.output import building, device_name, select_devices, write_profiles
from sim.importers.source import ImportDataError, SourceFile, load_json, load_yaml
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

__all__ = ["DEFAULT_RESOLUTION", "DEVICES", "PUBLISHED_IMAGE_SIZES", "build_ofa", "import_ofa",
           "load_tables"]

CITATION = (
    "Cai et al., Once-for-All: Train One Network and Specialize it for Efficient Deployment, "
    "ICLR 2020"
)
SOURCE = "han-cai/files, ofa/ofa_specialized/<subnet>/net.config and the note10 lookup tables"
DEFAULT_RESOLUTION = 224
MAX_RESOLUTION = 100_000
"""Largest input resolution (pixels a side) a source entry or table file may name."""
PUBLISHED_IMAGE_SIZES: dict[str, int] = {
    # han-cai/files @ b1edeff, ofa/ofa_specialized/<name>/run.config ("image_size")
    "note10_lat-64ms_top1-80.2_finetune-75": 260,
}
LAYOUTS = {"MobileNetV3": "ofa-mbv3", "ProxylessNASNets": "ofa-proxyless"}
DEVICES: dict[str, tuple[str, str, str | None]] = {
    "note10": ("note10", "Samsung Galaxy Note10", None),
    "note8": ("note8", "Samsung Galaxy Note8", None),
    "pixel2": ("pixel2", "Google Pixel 2", None),
    "LG-G8": ("lg-g8", "LG G8", None),
    "tx2": ("tx2", "NVIDIA Jetson TX2", "gpu"),
    "1080ti": ("gtx1080ti", "NVIDIA GeForce GTX 1080 Ti", "gpu"),
    "v100": ("v100", "NVIDIA Tesla V100", "gpu"),
    "cpu": ("server-cpu", "server CPU", "cpu"),
}
"""Optional metadata of source devices we know: key -> (profile device name, processor,
accelerator). Any other device is imported as well, named by a slug of its key, with
processor and accelerator null (not published by the source)."""
_KNOWN_NAMES = {k: v[0] for k, v in DEVICES.items()}
_TABLE_FILE = re.compile(r"^(?P<device>.+)_(?P<res>\d+)_lookup_table\.yaml$")


def load_tables(src_dir: Path, device: str) -> dict[int, dict[str, float]]:
    """``{resolution: {layer key: mean ms}}`` from ``<device>_<res>_lookup_table.yaml``.

    The folder's file names are matched against the pattern (the device key, from the
    source, is never made part of a path: it could hold ``/`` or ``..``)."""
    tables: dict[int, dict[str, float]] = {}
    folder = Path(src_dir)
    for path in sorted(folder.iterdir() if folder.is_dir() else ()):
        match = _TABLE_FILE.match(path.name)
        if match is None or match["device"] != device:
            continue
        res = int(match["res"]) if len(match["res"]) <= 6 else 0
        if not 1 <= res <= MAX_RESOLUTION:
            raise ImportDataError(f"{path}: the resolution in the file name: expected 1 to "
                                  f"{MAX_RESOLUTION:,}")
        src = load_yaml(path)
        rows = src.mapping(src.data, "")
        tables[res] = {
            str(k): src.number(src.get(src.mapping(v, str(k)), "mean", str(k)), f"{k}.mean",
                               nonneg=True)
            for k, v in rows.items()
        }
    return tables


def _resolution(entry: dict[str, Any], name: str) -> tuple[int, str]:
    if isinstance(entry.get("image_size"), int):
        return entry["image_size"], "source entry"
    if name in PUBLISHED_IMAGE_SIZES:
        return PUBLISHED_IMAGE_SIZES[name], "published run.config"
    return DEFAULT_RESOLUTION, f"assumed {DEFAULT_RESOLUTION} (not published in the source)"


def _sample(tables: dict[int, dict[str, float]], entry: dict[str, Any], name: str,
            net_config: dict[str, Any]) -> tuple[dict[str, Any] | None, str | None]:
    """A lookup-table sample for one subnet, or the reason the table cannot predict it."""
    res, how = _resolution(entry, name)
    by_res: dict[str, float] = {}
    try:
        for r, table in sorted(tables.items()):
            keys = layer_keys(net_config, r)
            if not missing_keys(table, keys):
                by_res[str(r)] = round(predict_ms(table, keys), 6)
        keys = layer_keys(net_config, res)
    except ValueError as exc:
        return None, f"layout not covered by the table: {exc}"
    if res not in tables:
        return None, f"resolution {res} ({how}) has no table (tables: {sorted(tables)})"
    missing = missing_keys(tables[res], keys)
    if missing:
        return None, (f"{len(missing)} of {len(keys)} layer keys are not in the {res} table, "
                      f"e.g. {missing[0]}")
    return {"id": name, "arch": {"image_size": res}, "image_size_source": how,
            "measured_ms": float(entry["value"]), "predicted_ms": predict_ms(tables[res], keys),
            "predicted_ms_by_resolution": by_res}, None


def _checked(src: SourceFile) -> list[dict[str, Any]]:
    """Every subnet entry, each checked for the fields the importer reads."""
    entries = src.seq(src.get(src.data, "subnets", ""), "subnets")
    for i, entry in enumerate(entries):
        w = f"subnets[{i}]"
        for key in ("name", "device", "measure"):
            src.text(src.get(entry, key, w), f"{w}.{key}")
        src.number(src.get(entry, "value", w), f"{w}.value", positive=True)
        top1 = src.number(src.get(entry, "imagenet_top1", w), f"{w}.imagenet_top1")
        if not 0 <= top1 <= 100:
            raise src.fail(f"{w}.imagenet_top1", "a percentage in [0, 100]")
        src.integer(src.get(entry, "batch", w), f"{w}.batch", minimum=1)
        if "image_size" in entry:
            size = src.integer(entry["image_size"], f"{w}.image_size", minimum=1)
            if size > MAX_RESOLUTION:
                raise src.fail(f"{w}.image_size", f"a resolution of at most {MAX_RESOLUTION:,}")
        layout = src.get(src.mapping(src.get(entry, "net_config", w), f"{w}.net_config"),
                         "name", f"{w}.net_config")
        if layout not in LAYOUTS:
            raise src.fail(f"{w}.net_config.name", f"one of {sorted(LAYOUTS)}")
    return list(entries)


def _entries(entries: list[dict[str, Any]], wanted: list[str],
             notes: list[str]) -> dict[tuple[str, str], list[dict[str, Any]]]:
    """Latency entries of the wanted devices grouped by (device, family); devices or entries
    with FLOPs only are skipped with a note."""
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    skipped: dict[str, list[str]] = {}
    for entry in entries:
        if entry["device"] not in wanted:
            continue
        layout = entry["net_config"]["name"]
        if entry["measure"] != "latency_ms":
            skipped.setdefault(entry["device"], []).append(entry["name"])
            continue
        groups.setdefault((entry["device"], LAYOUTS[layout]), []).append(entry)
    measured = {dev for dev, _ in groups}
    for dev, names in sorted(skipped.items()):
        what = "device skipped" if dev not in measured else "entries skipped"
        notes.append(f"ofa: {dev}: {what}, no published latency for {', '.join(sorted(names))}")
    return groups


def _profile(src: SourceFile, src_dir: Path, device: str, family: str,
             entries: list[dict[str, Any]]) -> Profile:
    batches = {e["batch"] for e in entries}
    if len(batches) != 1:
        raise src.fail(f"subnets (device {excerpt(device)})",
                       f"one batch size, got {sorted(batches)}")
    tables = load_tables(src_dir, device)
    variants, samples, unpredictable = [], [], {}
    for entry in sorted(entries, key=lambda e: (e["value"], e["name"])):
        name, net_config = entry["name"], entry["net_config"]
        try:
            counts = ofa_net_counts(net_config)
        except ValueError as exc:
            raise src.fail(f"subnets[{excerpt(name)}].net_config",
                           f"a known layout ({exc})") from None
        variants.append(Variant(
            id=name, arch=net_config, params=counts.params, weight_bytes=counts.weight_bytes,
            latency_ms=LatencyStats(median=float(entry["value"])),
            top1=round(entry["imagenet_top1"] / 100.0, 8),
        ))
        if tables:
            sample, reason = _sample(tables, entry, name, net_config)
            if sample is None:
                unpredictable[name] = reason
            else:
                samples.append(sample)
    table = None
    extra: dict[str, Any] = {
        "finetune_epochs": {e["name"]: e.get("finetune_epochs") for e in entries},
        "latency_note": "published latency = the value in the subnet's folder name, in ms",
    }
    if tables:
        error = prediction_error([s["measured_ms"] for s in samples],
                                 [s["predicted_ms"] for s in samples])
        for s in samples:
            s["predicted_ms"] = round(s["predicted_ms"], 6)
        table = LookupTable(
            blocks={f"r{r}:{k}": round(v, 6) for r, t in sorted(tables.items())
                    for k, v in sorted(t.items())},
            samples=tuple(samples), error=error,
        )
        extra["table_key_format"] = "r<input resolution>:<once-for-all layer key>"
        extra["table_resolutions"] = sorted(tables)
        extra["unpredictable"] = dict(sorted(unpredictable.items()))
    name = device_name(device, _KNOWN_NAMES, src.path)
    _, processor, accel = DEVICES.get(device, (name, None, None))
    batch = batches.pop()
    return Profile(
        family=family, kind="supernet",
        task=Task(dataset="imagenet", classes=1000, input_shape=(3, 224, 224), eval_samples=0),
        provenance=Published(
            citation=CITATION, source=SOURCE,
            note=("latencies and top1 as published (top1 on ImageNet, eval size not stated in "
                  "the source); each subnet's input resolution is not in net_config and may "
                  "differ from task.input_shape; framework and threads not stated in the "
                  "source; params/weight_bytes derived from net_config, not measured"),
        ),
        device=DeviceInfo(
            name=name, processor=processor and f"{processor} (details not stated in the source)",
            framework=None, accelerator=accel, batch_size=batch),
        variants=tuple(variants), lookup_table=table, extra=extra,
    )


def build_ofa(src_dir: Path, notes: list[str] | None = None, *,
              devices: Sequence[str] | None = None) -> list[tuple[str, Profile]]:
    """``(relative path <device>/<family>.json, profile)`` per (device, layout) with
    published latencies, for the ``devices`` asked for (source keys such as ``note10`` or
    profile device names; default all devices of ``specialized_subnets.json``).

    Devices whose subnets only have FLOPs are skipped; a line saying so is appended to
    ``notes`` when given. Raises ImportDataError (file + field) on bad source files.
    """
    src_dir = Path(src_dir)
    src = load_json(src_dir / "specialized_subnets.json")
    notes = [] if notes is None else notes
    entries = _checked(src)
    wanted = select_devices([e["device"] for e in entries], devices, _KNOWN_NAMES, src.path)
    groups = sorted(_entries(entries, wanted, notes).items())
    for device in sorted({dev for (dev, _), _ in groups}):
        device_name(device, _KNOWN_NAMES, src.path)  # every name checked before building
    out = []
    for (device, family), group in groups:
        with building(src.path, f"device {excerpt(device)}, {family}"):
            profile = _profile(src, src_dir, device, family, group)
        out.append((f"{profile.device.name}/{family}.json", profile))
    return out


def import_ofa(src_dir: Path, out_dir: Path, notes: list[str] | None = None, *,
               devices: Sequence[str] | None = None, force: bool = False) -> list[Path]:
    """Write the profiles of :func:`build_ofa` to ``out_dir/<device>/<family>.json``; returns
    the paths written, in order. Without ``force`` nothing is written when any of them exists
    (ImportDataError naming it)."""
    planned = build_ofa(src_dir, notes, devices=devices)
    return write_profiles([(Path(out_dir) / rel, p) for rel, p in planned], force)
