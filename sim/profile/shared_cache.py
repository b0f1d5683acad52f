"""A cache of immutable values derived from profiles, keyed by the profiles' content
(:mod:`sim.profile.digest`): one copy however many apps run the same profile, which a
per-app cache would multiply (routes of 2,250 samples cost about half a megabyte each).
Every such cache registers with :func:`on_clear`, so :func:`clear_derived` can empty them
all (a benchmark of first decisions, say)."""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

__all__ = ["SharedCache", "clear_derived", "on_clear"]

V = TypeVar("V")

_CLEARERS: list[Callable[[], None]] = []


def on_clear(clear: Callable[[], None]) -> None:
    """Have :func:`clear_derived` call ``clear`` (a cache of what is derived from profiles)."""
    _CLEARERS.append(clear)


def clear_derived() -> None:
    """Empty every cache of what is derived from profiles in this process, so that the next
    decision works it all out again, as the first of a fresh process does (``mvsched bench``
    times it so)."""
    for clear in _CLEARERS:
        clear()


class SharedCache(Generic[V]):
    """Values shared while anything holds them (weak references), and the most recently
    stored ones kept besides, up to ``budget`` in total ``size`` (say, samples), so that a
    later run of the same process finds them too without the cache growing without end."""

    def __init__(self, budget: int, size: Callable[[V], int]) -> None:
        self._live: weakref.WeakValueDictionary[Hashable, V] = weakref.WeakValueDictionary()
        self._recent: OrderedDict[Hashable, tuple[V, int]] = OrderedDict()
        self._budget, self._size, self._held = budget, size, 0
        self._lock = threading.Lock()  # runs in threads of one process may share it
        on_clear(self.clear)

    def get(self, key: Hashable) -> V | None:
        with self._lock:
            hit = self._recent.get(key)
            if hit is not None:
                self._recent.move_to_end(key)
                return hit[0]
            return self._live.get(key)

    def put(self, key: Hashable, value: V) -> V:
        """Store ``value`` (which must support weak references) and return it."""
        size = max(int(self._size(value)), 1)
        with self._lock:
            self._live[key] = value
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
        with self._lock:
            self._live.clear()
            self._recent.clear()
            self._held = 0
