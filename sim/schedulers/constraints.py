"""Declared constraints on scheduler parameters, after scikit-learn's ``_param_validation`` in
small: a scheduler declares, once per parameter, the values it accepts, and
:func:`sim.schedulers.registry.create_scheduler` refuses anything else in one line naming the
scheduler, the parameter, the value and what is allowed. ``mvsched schedulers -v`` and the
parameter table of scenarios/README.md show the same declarations.

    class MyScheduler(Scheduler):
        param_constraints = {
            "alpha": Interval(0, 1, closed="right"),          # (0, 1]
            "solver": Options({"exact", "greedy", "ilp"}),
            "threshold": [None, Interval(0, 1)],              # null, or in [0, 1]
        }

A declaration is one constraint or a list of them (any one accepting the value will do;
``None`` in the list accepts null). Types are the signature's business (its annotations are
checked first); constraints say which values of that type mean something.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from sim.config.limits import number_text

__all__ = ["Constraint", "Declaration", "Interval", "Options", "Text", "allowed",
           "constraints_of", "shown", "violation"]

_REPR_CHARS = 30


class Constraint(ABC):
    """What values of one parameter are accepted."""

    @abstractmethod
    def accepts(self, value: object) -> bool:
        """Whether ``value`` is allowed."""

    @abstractmethod
    def describe(self) -> str:
        """The allowed values, as they follow "must be": ``in [0, 1]``, ``one of 'a', 'b'``."""


Declaration = Constraint | None | Sequence[Constraint | None]
"""What a scheduler declares for one parameter: a constraint, None (null only), or a list of
them (any one will do)."""


@dataclass(frozen=True)
class Interval(Constraint):
    """A finite real number (no bool) between ``lo`` and ``hi`` (None: unbounded on that
    side); ``closed`` says which ends belong: "both", "left", "right" or "neither"."""

    lo: float | None
    hi: float | None
    closed: Literal["both", "left", "right", "neither"] = "both"
    unit: str = ""
    """shown after the interval (``[0.001, 2,592,000] s``), written as the scenario's ranges
    are (:class:`sim.config.limits.Range`)"""

    def __post_init__(self) -> None:
        if self.closed not in ("both", "left", "right", "neither"):
            raise ValueError(f"closed must be 'both', 'left', 'right' or 'neither', got "
                             f"{self.closed!r}")
        if self.lo is not None and self.hi is not None and self.lo > self.hi:
            raise ValueError(f"empty interval: lo {self.lo} > hi {self.hi}")

    def accepts(self, value: object) -> bool:
        if not isinstance(value, int | float) or isinstance(value, bool):
            return False
        if isinstance(value, float) and not math.isfinite(value):
            return False
        lo_ok = self.lo is None or (value >= self.lo if self.closed in ("both", "left")
                                    else value > self.lo)
        hi_ok = self.hi is None or (value <= self.hi if self.closed in ("both", "right")
                                    else value < self.hi)
        return lo_ok and hi_ok

    def __str__(self) -> str:
        left = "[" if self.closed in ("both", "left") and self.lo is not None else "("
        right = "]" if self.closed in ("both", "right") and self.hi is not None else ")"
        lo = "-inf" if self.lo is None else number_text(self.lo)
        hi = "inf" if self.hi is None else number_text(self.hi)
        return f"{left}{lo}, {hi}{right}" + (f" {self.unit}" if self.unit else "")

    def describe(self) -> str:
        return f"in {self}"


@dataclass(frozen=True, init=False)
class Options(Constraint):
    """One of a few values (of the same type: ``True`` is not ``1``)."""

    values: tuple[object, ...]

    def __init__(self, values: Iterable[object]) -> None:
        vals = tuple(sorted(set(values), key=repr))
        if not vals:
            raise ValueError("Options needs at least one value")
        object.__setattr__(self, "values", vals)

    def accepts(self, value: object) -> bool:
        return any(type(value) is type(v) and value == v for v in self.values)

    def describe(self) -> str:
        shown = ", ".join(repr(v) for v in self.values)
        return f"one of {shown}" if len(self.values) > 1 else shown


@dataclass(frozen=True)
class Text(Constraint):
    """A non-empty string; ``what`` names what it is (``a variant id``)."""

    what: str = ""

    def accepts(self, value: object) -> bool:
        return isinstance(value, str) and value != ""

    def describe(self) -> str:
        return f"{self.what} (a non-empty string)" if self.what else "a non-empty string"


@dataclass(frozen=True)
class _Null(Constraint):
    def accepts(self, value: object) -> bool:
        return value is None

    def describe(self) -> str:
        return "null"


def constraints_of(declaration: Declaration) -> tuple[Constraint, ...]:
    """A declaration as a tuple of constraints (None as null)."""
    items = (declaration if isinstance(declaration, Sequence) and not isinstance(declaration, str)
             else [declaration])
    out: list[Constraint] = []
    for item in items:
        if item is None:
            out.append(_Null())
        elif isinstance(item, Constraint):
            out.append(item)
        else:
            raise TypeError(f"not a parameter constraint: {item!r}")
    return tuple(out)


def allowed(declaration: Declaration) -> str:
    """What a declaration allows, in words: ``null or in [0, 1]``."""
    parts = [c.describe() for c in constraints_of(declaration)]
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " or " + parts[-1]


def violation(constraints: Mapping[str, Declaration], given: Mapping[str, object]) -> str | None:
    """``NAME must be ALLOWED, got VALUE`` for the first given value that its declaration
    refuses (parameters without one are not checked), or None."""
    for name, value in given.items():
        if name not in constraints:
            continue
        if not any(c.accepts(value) for c in constraints_of(constraints[name])):
            return f"{name} must be {allowed(constraints[name])}, got {shown(value)}"
    return None


def shown(value: object) -> str:
    """``repr(value)`` for a message, cut when long (a 400-digit integer, a long list)."""
    got = repr(value)
    return got if len(got) <= _REPR_CHARS else f"{got[:12]}... ({len(got)} characters)"
