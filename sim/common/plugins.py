"""One registration style for every pluggable kind (schedulers here, model families in
``models.registry``): a decorator for classes of this project, an entry point group for other
packages, and checks when a plug-in loads, so that a broken one is one line naming its entry
point (``mvsched.schedulers: 'foo = pkg.mod:Cls': not a Scheduler subclass``), never a
traceback and never a silently missing name.

Built-in modules are imported by name on the first lookup: they import the registry to
register themselves, so the registry must not import them back.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable, Sequence
from importlib.metadata import EntryPoint, entry_points
from typing import Any, Generic, TypeVar, overload

__all__ = ["Registry", "describe_entry_point", "exception_line", "load_entry_point"]

C = TypeVar("C", bound=type)


def describe_entry_point(ep: EntryPoint) -> str:
    """``group: 'name = module:attr'``, how every message names a plug-in."""
    return f"{ep.group}: '{ep.name} = {ep.value}'"


def exception_line(exc: BaseException) -> str:
    """``Type: first line of the message``, for messages that must stay on one line."""
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


def load_entry_point(ep: EntryPoint) -> tuple[Any, str | None]:
    """``(object, None)``, or ``(None, why)`` when importing it fails (one line, to follow
    :func:`describe_entry_point`)."""
    try:
        return ep.load(), None
    except Exception as exc:  # plug-in code may raise anything while importing
        return None, f"cannot be imported: {exception_line(exc)}"


class Registry(Generic[C]):
    """Classes of one kind by name: ``register`` (decorator), ``names``, ``get``.

    ``base`` is the class every entry must subclass; ``required`` names class attributes it
    must set (besides implementing every abstract method); ``error`` is raised for unknown
    or broken names and for a name registered twice.
    """

    def __init__(self, kind: str, group: str, base: type, *, builtins: Sequence[str],
                 required: Sequence[str] = (), error: type[Exception] = ValueError) -> None:
        self.kind, self.group, self.base = kind, group, base
        self.required, self.error = tuple(required), error
        self.classes: dict[str, C] = {}
        self.problems: dict[str, str] = {}
        """entry point name -> why it was not registered (one line)"""
        self._builtins = tuple(builtins)
        self._loaded = False

    # -- registration ---------------------------------------------------------------------
    def check(self, cls: object, name: str) -> str | None:
        """Why ``cls`` cannot be registered as ``name`` (None when it can)."""
        if not (isinstance(cls, type) and issubclass(cls, self.base)):
            return f"not a {self.base.__name__} subclass"
        declared = vars(cls).get("name", "")
        if declared and declared != name:
            return f"declares name {declared!r}, registered as {name!r}"
        missing = [a for a in self.required if getattr(cls, a, None) in (None, "")]
        if missing:
            return f"lacks required attribute {', '.join(map(repr, missing))}"
        if inspect.isabstract(cls):
            return f"does not implement {', '.join(sorted(getattr(cls, '__abstractmethods__', ())))}"
        return None

    def add(self, name: str, cls: C) -> C:
        """Register ``cls`` as ``name`` (its ``name`` attribute is set to it)."""
        problem = self.check(cls, name) if name else f"{cls!r}: needs a non-empty name"
        if problem:
            raise self.error(f"{self.kind} {cls.__qualname__}: {problem}")
        old = self.classes.get(name)
        if old is not None and (old.__module__, old.__qualname__) != (cls.__module__,
                                                                      cls.__qualname__):
            raise self.error(f"{self.kind} name {name!r} registered twice: "
                             f"{old.__module__}.{old.__qualname__} and "
                             f"{cls.__module__}.{cls.__qualname__}")
        cls.name = name  # type: ignore[attr-defined]
        self.classes[name] = cls
        return cls

    @overload
    def register(self, name: C) -> C: ...
    @overload
    def register(self, name: str | None = None) -> Callable[[C], C]: ...

    def register(self, name: str | C | None = None) -> C | Callable[[C], C]:
        """Class decorator, ``@register("my-name")`` or bare ``@register`` (the class's own
        ``name`` attribute)."""
        if isinstance(name, type):
            return self.add(vars(name).get("name", ""), name)

        def deco(cls: C) -> C:
            return self.add(name or vars(cls).get("name", ""), cls)

        return deco

    # -- lookup ---------------------------------------------------------------------------
    def load(self) -> None:
        """Import the built-ins, then every entry point of the group (once)."""
        if self._loaded:
            return
        self._loaded = True
        for module in self._builtins:
            try:
                importlib.import_module(module)
            except ModuleNotFoundError as exc:
                if exc.name != module:  # it exists but something it imports is missing
                    raise
        # built-in: registered from the built-ins' own package (a plug-in imported before
        # the first lookup, in a notebook say, is registered too but is no built-in)
        ours = {m.split(".")[0] for m in self._builtins}
        builtin = {n for n, c in self.classes.items() if c.__module__.split(".")[0] in ours}
        for ep in entry_points(group=self.group):
            obj, problem = load_entry_point(ep)
            if problem is None:
                problem = self._entry_point_problem(ep.name, obj, builtin)
            if problem is not None:
                self.problems.setdefault(ep.name, f"{describe_entry_point(ep)}: {problem}")
            elif self.classes.get(ep.name) is not obj:
                obj.name = ep.name
                self.classes[ep.name] = obj

    def _entry_point_problem(self, name: str, obj: Any, builtin: set[str]) -> str | None:
        if name in builtin:
            return f"clashes with the built-in {self.kind} {name!r}"
        if name in self.classes and self.classes[name] is not obj:
            return f"{self.kind} name {name!r} is already registered"
        return self.check(obj, name)

    def names(self) -> list[str]:
        """Every usable name, sorted (broken plug-ins are in :attr:`problems`)."""
        self.load()
        return sorted(self.classes)

    def get(self, name: str) -> C:
        """The class registered as ``name``; ``error`` naming the known ones, or the reason
        when ``name`` is a plug-in that failed to load."""
        self.load()
        if name in self.classes:
            return self.classes[name]
        if name in self.problems:
            raise self.error(self.problems[name])
        broken = f"; {len(self.problems)} plug-in(s) failed to load" if self.problems else ""
        raise self.error(f"unknown {self.kind} {name!r}; known: "
                         f"{', '.join(sorted(self.classes))}{broken}")
