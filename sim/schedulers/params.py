"""What parameters a scheduler takes, so users can find them without reading its code.

A scheduler's parameters are its ``__init__`` keyword arguments (type and default read from
the signature), its ``param_docs`` (a one-line doc per parameter) and its
``param_constraints`` (the values each accepts, :mod:`sim.schedulers.constraints`).
``mvsched schedulers -v`` prints them, ``metrics.json`` records the values a run used, a
typo is refused with the valid names, a value of the wrong type or outside its constraint
in one line (:func:`param_problem`), and the contract tests require a doc for each. The
README's table of them is :mod:`sim.schedulers.param_table` (it reads the registry, which
uses this module).
"""

from __future__ import annotations

import difflib
import inspect
from dataclasses import dataclass
from typing import Any

from sim.common.messages import one_line
from sim.schedulers.base import Scheduler
from sim.schedulers.constraints import allowed, shown, violation

__all__ = ["Param", "describe", "param_problem", "resolved_params"]


@dataclass(frozen=True)
class Param:
    """One parameter: its name, its type as written, its default, its doc, and the values
    it accepts in words ("" when it declares no constraint)."""

    name: str
    type: str
    default: Any
    doc: str
    allowed: str = ""


def describe(cls: type[Scheduler]) -> list[Param]:
    """Every parameter of a scheduler class, in signature order."""
    sig = inspect.signature(cls.__init__)
    docs = getattr(cls, "param_docs", {})
    constraints = getattr(cls, "param_constraints", {})
    out = []
    for name, p in sig.parameters.items():
        if name == "self" or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            continue
        ann = p.annotation
        typ = ann if isinstance(ann, str) else getattr(ann, "__name__", str(ann))
        default = None if p.default is p.empty else p.default
        out.append(Param(name, "" if ann is p.empty else typ, default, docs.get(name, ""),
                         allowed(constraints[name]) if name in constraints else ""))
    return out


def resolved_params(cls: type[Scheduler], given: dict[str, Any]) -> dict[str, Any]:
    """The defaults overlaid with the values given: what the run really used."""
    out = {p.name: p.default for p in describe(cls)}
    out.update(given)
    return {k: list(v) if isinstance(v, tuple) else v for k, v in out.items()}


def param_problem(name: str, cls: type[Scheduler], given: dict[str, Any]) -> str | None:
    """One line naming each unknown parameter (a close match, the valid ones); or else the
    first value whose type the signature does not allow; or else the first value its
    declared constraint refuses (``scheduler 'NAME': PARAM must be ALLOWED, got VALUE``)."""
    valid = [p.name for p in describe(cls)]
    unknown = [k for k in given if k not in valid]
    if not unknown:
        typed = _type_message(name, cls, given)
        if typed:
            return typed
        refused = violation(getattr(cls, "param_constraints", {}), given)
        return one_line(f"scheduler {name!r}: {refused}") if refused else None
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
                            f"{err['msg'].lower()} (got {shown(value)})")
        except Exception:  # noqa: BLE001 (a type pydantic cannot check)
            continue
    return None
