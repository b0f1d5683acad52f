"""Scheduler registry: built-ins register with a decorator, third parties through the
``mvsched.schedulers`` entry point group, without touching the engine."""

from __future__ import annotations

from collections.abc import Callable
from importlib.metadata import entry_points
from typing import Any, TypeVar

from sim.schedulers.base import Scheduler

__all__ = ["SchedulerError", "create_scheduler", "list_schedulers", "register_scheduler"]

_REGISTRY: dict[str, type[Scheduler]] = {}
_ENTRY_POINTS_LOADED = False
S = TypeVar("S", bound=type[Scheduler])


class SchedulerError(ValueError):
    """Unknown scheduler or bad parameters; the message lists what is known."""


def register_scheduler(name: str) -> Callable[[S], S]:
    """Class decorator: ``@register_scheduler("nestdnn-mintotal")``."""

    def deco(cls: S) -> S:
        if name in _REGISTRY and _REGISTRY[name] is not cls:
            raise SchedulerError(f"scheduler name {name!r} registered twice")
        cls.name = name
        _REGISTRY[name] = cls
        return cls

    return deco


def _load_entry_points() -> None:
    global _ENTRY_POINTS_LOADED
    if _ENTRY_POINTS_LOADED:
        return
    _ENTRY_POINTS_LOADED = True
    import sim.schedulers.builtin  # noqa: F401  (registers the built-ins)

    for ep in entry_points(group="mvsched.schedulers"):
        cls = ep.load()
        if ep.name not in _REGISTRY:
            register_scheduler(ep.name)(cls)


def list_schedulers() -> list[str]:
    """Names of every registered scheduler, sorted."""
    _load_entry_points()
    return sorted(_REGISTRY)


def create_scheduler(name: str, **params: Any) -> Scheduler:
    """Instantiate by name; unknown names and parameters are errors that say what is valid."""
    _load_entry_points()
    try:
        cls = _REGISTRY[name]
    except KeyError:
        raise SchedulerError(
            f"unknown scheduler {name!r}; known: {', '.join(sorted(_REGISTRY))}"
        ) from None
    from sim.schedulers.params import unknown_param_message

    unknown = unknown_param_message(name, cls, params)
    if unknown:
        raise SchedulerError(unknown)
    try:
        return cls(**params)
    except TypeError as exc:
        raise SchedulerError(f"scheduler {name!r}: bad parameters {params}: {exc}") from None
    except ValueError as exc:
        raise SchedulerError(f"scheduler {name!r}: {exc}") from None
