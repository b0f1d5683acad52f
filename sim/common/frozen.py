"""Deeply immutable containers, so a scheduler's read-only view is read-only all the way down.

Pydantic's ``frozen`` stops attribute assignment but leaves dicts and lists inside a model
mutable; a scheduler could then edit a profile that every later decision (and every other
scheduler of a comparison) reads. Profiles therefore hold tuples instead of lists and
:class:`FrozenDict` instead of dicts. ``FrozenDict`` is a ``dict`` subclass, so JSON
serialisation and ``isinstance(x, dict)`` keep working.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NoReturn

__all__ = ["FrozenDict", "deep_freeze"]


class FrozenDict(dict):  # type: ignore[type-arg]
    """A dict that refuses every change after construction (hashable by content)."""

    __slots__ = ()

    def _refuse(self, *_args: Any, **_kwargs: Any) -> NoReturn:
        raise TypeError("this mapping is read-only (part of a frozen profile or view)")

    __setitem__ = __delitem__ = _refuse
    clear = pop = popitem = setdefault = update = _refuse
    __ior__ = _refuse  # type: ignore[assignment]

    def __hash__(self) -> int:  # type: ignore[override]
        return hash(tuple(sorted(self.items(), key=lambda kv: repr(kv[0]))))

    def __reduce__(self) -> tuple[type[FrozenDict], tuple[dict[Any, Any]]]:
        return FrozenDict, (dict(self),)

    def __copy__(self) -> FrozenDict:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> FrozenDict:
        return self


def deep_freeze(value: Any) -> Any:
    """Lists/tuples become tuples and mappings FrozenDicts, recursively; scalars pass through."""
    if isinstance(value, FrozenDict):
        return value
    if isinstance(value, Mapping):
        return FrozenDict({k: deep_freeze(v) for k, v in value.items()})
    if isinstance(value, list | tuple):
        return tuple(deep_freeze(v) for v in value)
    return value
