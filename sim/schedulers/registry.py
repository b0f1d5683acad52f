"""Scheduler registry: built-ins (every module of :mod:`sim.schedulers.builtin`) register with
``@register_scheduler(name)``, other packages
through the ``mvsched.schedulers`` entry point group, without touching the engine. The same
shape as the model family registry (``models.registry``); the mechanism is
:class:`sim.common.plugins.Registry`, which checks each plug-in as it loads."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, overload

from sim.common.plugins import Registry
from sim.schedulers.base import Scheduler
from sim.schedulers.builtin import BUILTIN_MODULES

__all__ = [
    "ENTRY_POINT_GROUP",
    "SCHEDULERS",
    "SchedulerError",
    "create_scheduler",
    "get_scheduler",
    "list_scheduler_problems",
    "list_schedulers",
    "register_scheduler",
]

ENTRY_POINT_GROUP = "mvsched.schedulers"
S = TypeVar("S", bound=type[Scheduler])


class SchedulerError(ValueError):
    """Unknown scheduler, a broken plug-in or bad parameters; the message says what is valid."""


SCHEDULERS: Registry[type[Scheduler]] = Registry(
    "scheduler", ENTRY_POINT_GROUP, Scheduler, builtins=BUILTIN_MODULES, error=SchedulerError)


@overload
def register_scheduler(name: S) -> S: ...
@overload
def register_scheduler(name: str | None = None) -> Callable[[S], S]: ...


def register_scheduler(name: str | S | None = None) -> S | Callable[[S], S]:
    """Class decorator: ``@register_scheduler("nestdnn-mintotal")`` (or bare, for a class
    that sets ``name`` itself), as ``register_family``."""
    return SCHEDULERS.register(name)  # type: ignore[return-value]


def list_schedulers() -> list[str]:
    """Names of every registered scheduler, sorted."""
    return SCHEDULERS.names()


def list_scheduler_problems() -> list[str]:
    """One line per ``mvsched.schedulers`` entry point that could not be registered."""
    SCHEDULERS.load()
    return [SCHEDULERS.problems[k] for k in sorted(SCHEDULERS.problems)]


def get_scheduler(name: str) -> type[Scheduler]:
    """The class registered as ``name``; SchedulerError listing the known names otherwise."""
    return SCHEDULERS.get(name)


def create_scheduler(name: str, **params: Any) -> Scheduler:
    """Instantiate by name; unknown names and parameters, values of the wrong type and values
    their declared constraints refuse are errors that say what is valid."""
    cls = get_scheduler(name)
    from sim.schedulers.params import param_problem

    problem = param_problem(name, cls, params)
    if problem:
        raise SchedulerError(problem)
    try:
        return cls(**params)
    except TypeError as exc:
        raise SchedulerError(f"scheduler {name!r}: bad parameters {params}: {exc}") from None
    except ValueError as exc:
        raise SchedulerError(f"scheduler {name!r}: {exc}") from None
