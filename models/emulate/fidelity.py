"""Simulated vs emulated, per app: the figures the simulator predicts and their errors."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from sim.common.atomic import write_text_atomic

__all__ = ["FIDELITY_KEYS", "fidelity_rows", "write_fidelity"]

FIDELITY_KEYS = ("fps", "latency_ms_mean", "latency_ms_p95", "dropped")
"""compared per app; the relative error is (emulated - simulated) / simulated"""


def _err(sim: float | None, emu: float | None) -> float | None:
    if sim is None or emu is None:
        return None
    if sim == 0:
        return 0.0 if emu == 0 else None
    return round((emu - sim) / sim, 4)


def fidelity_rows(sim: dict[str, Any], emu: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per app (and one for all apps): each key simulated, emulated, relative error."""
    rows = []
    blocks = [(name, sim["apps"][name], emu["apps"].get(name, {})) for name in sim["apps"]]
    blocks.append(("(all)", sim["overall"], emu["overall"]))
    for name, s, e in blocks:
        row: dict[str, Any] = {"app": name}
        for k in FIDELITY_KEYS:
            row[f"sim_{k}"] = s.get(k)
            row[f"emu_{k}"] = e.get(k)
            row[f"err_{k}"] = _err(s.get(k), e.get(k))
        rows.append(row)
    return rows


def write_fidelity(path: Path, rows: list[dict[str, Any]]) -> Path:
    buf = io.StringIO()
    keys = ["app"] + [f"{p}_{k}" for k in FIDELITY_KEYS for p in ("sim", "emu", "err")]
    w = csv.DictWriter(buf, fieldnames=keys, lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    return write_text_atomic(path, buf.getvalue())
