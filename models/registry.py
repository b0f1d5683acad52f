"""Model family registry (timm-style): register by decorator, list, create by name.

A family knows how to train its networks (resumable, seeded) and how to measure them into a
:class:`sim.profile.Profile`. The built-in family packages are imported lazily by
:func:`list_families`, so a missing optional family never breaks the others.
"""

from __future__ import annotations

import importlib
from abc import ABC, abstractmethod
from pathlib import Path
from typing import ClassVar, TypeVar

from torch import nn

from models.data import DataSplits
from models.measure import MeasureSettings
from sim.profile import Profile

__all__ = [
    "BUILTIN_PACKAGES",
    "Family",
    "ModelsUserError",
    "create_family",
    "family_class",
    "list_families",
    "register_family",
]

BUILTIN_PACKAGES = ("models.nestdnn", "models.spinn", "models.ofa", "models.adaptivenet")


class ModelsUserError(ValueError):
    """A user mistake (unknown family, bad scale, unusable checkpoint); one-line message."""


class Family(ABC):
    """One model family: trains its networks and measures them into a profile.

    Contract for subclasses: ``__init__`` only stores parameters; ``train`` is seeded and
    resumable (finished stages found in ``ckpt_dir`` are skipped; checkpoints are written
    atomically); ``build_profile`` loads the trained networks from ``ckpt_dir`` and measures
    them with ``settings``. Its provenance may be a placeholder: the profiler replaces it.
    """

    name: ClassVar[str]
    kind: ClassVar[str]
    scales: ClassVar[tuple[str, ...]] = ("tiny", "standard")

    def __init__(
        self, scale: str = "tiny", seed: int = 0, classes: int = 10,
        input_shape: tuple[int, int, int] = (1, 32, 32),
    ) -> None:
        self.scale = scale
        self.seed = seed
        self.classes = classes
        self.input_shape = tuple(input_shape)

    def check_scale(self) -> None:
        """ModelsUserError unless ``self.scale`` is one of ``self.scales``."""
        if self.scale not in self.scales:
            raise ModelsUserError(
                f"family {self.name!r}: unknown scale {self.scale!r}; expected one of "
                f"{list(self.scales)}"
            )

    def _check_data(self, data: DataSplits) -> None:
        """ModelsUserError when the data does not match the classes and input shape."""
        if data.classes != self.classes or tuple(data.input_shape) != self.input_shape:
            raise ModelsUserError(
                f"family {self.name!r} was set up for {self.classes} classes of "
                f"{list(self.input_shape)} inputs, but data {data.name!r} has {data.classes} "
                f"classes of {list(data.input_shape)}"
            )

    @abstractmethod
    def train(self, data: DataSplits, ckpt_dir: Path, *, progress: bool = True) -> None:
        """Train every network of the family into ``ckpt_dir`` (resumable, seeded)."""

    def emulation_module(self, profile: Profile, variant_id: str,
                         ckpt_dir: Path | None) -> nn.Module:
        """The torch module of one profiled variant, for ``mvsched emulate``: the trained one
        from ``ckpt_dir``, or (``None``) the same architecture freshly initialised, since
        latency does not depend on the weights."""
        raise ModelsUserError(
            f"family {self.name!r} cannot be emulated: it does not build a module for a "
            "profiled variant (emulate runs nestdnn-vgg and nestdnn-resnet)")

    @abstractmethod
    def build_profile(
        self, data: DataSplits, ckpt_dir: Path, settings: MeasureSettings
    ) -> Profile:
        """Measure the trained networks in ``ckpt_dir`` into a profile."""


_REGISTRY: dict[str, type[Family]] = {}
F = TypeVar("F", bound=type[Family])


def register_family(cls: F) -> F:
    """Class decorator: make ``cls`` creatable by its ``name``."""
    name = getattr(cls, "name", None)
    if not isinstance(name, str) or not name:
        raise TypeError(f"{cls.__qualname__}: a family needs a non-empty class attribute 'name'")
    if not isinstance(getattr(cls, "kind", None), str):
        raise TypeError(f"{cls.__qualname__}: a family needs a class attribute 'kind'")
    old = _REGISTRY.get(name)
    if old is not None and old.__qualname__ != cls.__qualname__:
        raise TypeError(f"family name {name!r} is already registered by {old.__qualname__}")
    _REGISTRY[name] = cls
    return cls


def _import_builtins() -> None:
    for pkg in BUILTIN_PACKAGES:
        try:
            importlib.import_module(pkg)
        except ModuleNotFoundError as exc:
            if exc.name != pkg:  # the package exists but something it imports is missing
                raise


def list_families() -> list[str]:
    """Names of all registered families (built-ins that exist in this tree included)."""
    _import_builtins()
    return sorted(_REGISTRY)


def family_class(name: str) -> type[Family]:
    """The class registered as ``name``; ModelsUserError listing the known names otherwise."""
    known = list_families()
    if name not in _REGISTRY:
        raise ModelsUserError(f"unknown model family {name!r}; known: {known}")
    return _REGISTRY[name]


def create_family(name: str, **kw: object) -> Family:
    """Instantiate family ``name`` with ``kw`` (scale checked here, at the edge)."""
    fam = family_class(name)(**kw)  # type: ignore[arg-type]
    fam.check_scale()
    return fam
