"""What parameters a scheduler takes, so users can find them without reading its code.

A scheduler's parameters are its ``__init__`` keyword arguments (type and default read from
the signature) and its ``param_docs`` (a one-line doc per parameter, constraints included).
``mvsched schedulers -v`` prints them, ``metrics.json`` records the values a run used, a
typo is refused with the valid names, and the contract tests require a doc for each. The
README's table of them is :mod:`sim.schedulers.param_table` (it reads the registry, which
uses this module).
"""

from __future__ import annotations

import difflib
import inspect
from dataclasses import dataclass
from typing import Any

from sim.config.limits import MAX_DURATION_S, Range
from sim.messages import one_line
from sim.schedulers.base import Scheduler

__all__ = ["PARAM_RANGES", "Param", "check_param", "describe", "resolved_params",
           "unknown_param_message"]

PARAM_RANGES: dict[str, Range] = {
    "alpha": Range(0, 1e6, open_lo=True),
    "share_step": Range(0.005, 1),
    "beta": Range(0, 1e6),
    "horizon_s": Range(1e-3, MAX_DURATION_S, "s"),
    "epsilon_ms": Range(0, MAX_DURATION_S * 1000, "ms"),
    "research_after_s": Range(0, MAX_DURATION_S, "s"),
    "monitor_period_s": Range(1e-3, MAX_DURATION_S, "s"),
}
"""The physical ranges of the built-in schedulers' numeric parameters, by name (the
scenario's own are :data:`sim.config.limits.RANGES`). ``share_step`` 0.005 is a grid of 200
steps: the exact NestDNN solver's memory grows with the cube of the grid (a 0.001 step
took 2 GB and 13 s for one decision of six apps; 0.005 takes 17 MB and 0.06 s for twenty).
A monitor period under a millisecond is a hang (1e-300 s never advances the clock); times
are at most the longest scenario (30 days)."""


def check_param(name: str, value: object) -> float:
    """``value`` as a float, or ValueError ``NAME must be in RANGE, got VALUE`` (a bool, a
    string or an infinite number is outside every range)."""
    rng = PARAM_RANGES[name]
    if value not in rng:
        raise ValueError(f"{name} must be in {rng}, got {value!r}")
    return float(value)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Param:
    """One parameter: its name, its type as written, its default, and its doc."""

    name: str
    type: str
    default: Any
    doc: str


def describe(cls: type[Scheduler]) -> list[Param]:
    """Every parameter of a scheduler class, in signature order."""
    sig = inspect.signature(cls.__init__)
    docs = getattr(cls, "param_docs", {})
    out = []
    for name, p in sig.parameters.items():
        if name == "self" or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            continue
        ann = p.annotation
        typ = ann if isinstance(ann, str) else getattr(ann, "__name__", str(ann))
        default = None if p.default is p.empty else p.default
        out.append(Param(name, "" if ann is p.empty else typ, default, docs.get(name, "")))
    return out


def resolved_params(cls: type[Scheduler], given: dict[str, Any]) -> dict[str, Any]:
    """The defaults overlaid with the values given: what the run really used."""
    out = {p.name: p.default for p in describe(cls)}
    out.update(given)
    return {k: list(v) if isinstance(v, tuple) else v for k, v in out.items()}


def unknown_param_message(name: str, cls: type[Scheduler], given: dict[str, Any]) -> str | None:
    """One line naming each unknown parameter (a close match, the valid ones), or else the
    first value whose type the signature does not allow."""
    valid = [p.name for p in describe(cls)]
    unknown = [k for k in given if k not in valid]
    if not unknown:
        return _type_message(name, cls, given)
    parts = []
    for k in unknown:
        close = difflib.get_close_matches(k, valid, n=1)
        parts.append(f"{k!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
    listed = ", ".join(valid) if valid else "none"
    return (f"scheduler {name!r}: unknown parameter {', '.join(parts)}; its parameters: "
            f"{listed} (mvsched schedulers -v)")


def _type_message(name: str, cls: type[Scheduler], given: dict[str, Any]) -> str | None:
    """Check each given value against its annotation (pydantic, strict: no str -> float)."""
    import typing

    from pydantic import ConfigDict, TypeAdapter, ValidationError

    try:
        hints = typing.get_type_hints(cls.__init__)
    except Exception:  # noqa: BLE001 (an unresolvable annotation: leave checks to the class)
        return None
    for key, value in given.items():
        if key not in hints:
            continue
        try:
            TypeAdapter(hints[key], config=ConfigDict(allow_inf_nan=False)).validate_python(
                value, strict=True)
        except ValidationError as exc:
            err = exc.errors()[0]
            where = "".join(f"[{p}]" for p in err["loc"])
            return one_line(f"scheduler {name!r}: parameter {key}{where}: "
                            f"{err['msg'].lower()} (got {value!r})")
        except Exception:  # noqa: BLE001 (a type pydantic cannot check)
            continue
    return None
