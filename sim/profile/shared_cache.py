"""A cache of immutable values derived from profiles, keyed by the profiles' content
(:mod:`sim.profile.digest`): one copy however many apps run the same profile, which a
per-app cache would multiply (routes of 2,250 samples cost about half a megabyte each)."""

from __future__ import annotations

import weakref
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

__all__ = ["SharedCache"]

V = TypeVar("V")


class SharedCache(Generic[V]):
    """Values shared while anything holds them (weak references), and the most recently
    stored ones kept besides, up to ``budget`` in total ``size`` (say, samples), so that a
    later run of the same process finds them too without the cache growing without end."""

    def __init__(self, budget: int, size: Callable[[V], int]) -> None:
        self._live: weakref.WeakValueDictionary[Hashable, V] = weakref.WeakValueDictionary()
        self._recent: OrderedDict[Hashable, tuple[V, int]] = OrderedDict()
        self._budget, self._size, self._held = budget, size, 0

    def get(self, key: Hashable) -> V | None:
        hit = self._recent.get(key)
        if hit is not None:
            self._recent.move_to_end(key)
            return hit[0]
        return self._live.get(key)

    def put(self, key: Hashable, value: V) -> V:
        """Store ``value`` (which must support weak references) and return it."""
        self._live[key] = value
        size = max(int(self._size(value)), 1)
        old = self._recent.pop(key, None)
        if old is not None:
            self._held -= old[1]
        if size <= self._budget:
            self._recent[key] = (value, size)
            self._held += size
            while self._held > self._budget:
                _, (_, dropped) = self._recent.popitem(last=False)
                self._held -= dropped
        return value

    def clear(self) -> None:
        self._live.clear()
        self._recent.clear()
        self._held = 0
