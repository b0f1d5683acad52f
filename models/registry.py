"""Model family registry (timm-style): register by decorator, list, create by name.

A family knows how to train its networks (resumable, seeded) and how to measure them into a
:class:`sim.profile.Profile`. Built-ins register with ``@register_family``, other packages
through the ``mvsched.families`` entry point group; both go through
:class:`sim.common.plugins.Registry`, as schedulers do. The built-in family packages are imported
lazily by :func:`list_families`, so a missing optional family never breaks the others.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from pathlib import Path
from typing import ClassVar, TypeVar, overload

from torch import nn

from models.data import DataSplits
from models.measure import MeasureSettings
from sim.common.plugins import Registry
from sim.profile import Profile

__all__ = [
    "BUILTIN_PACKAGES",
    "ENTRY_POINT_GROUP",
    "FAMILIES",
    "Family",
    "ModelsUserError",
    "create_family",
    "family_class",
    "get_family",
    "list_families",
    "list_family_problems",
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


ENTRY_POINT_GROUP = "mvsched.families"
FAMILIES: Registry[type[Family]] = Registry(
    "model family", ENTRY_POINT_GROUP, Family, builtins=BUILTIN_PACKAGES, required=("kind",),
    error=ModelsUserError)
_REGISTRY = FAMILIES.classes
F = TypeVar("F", bound=type[Family])


@overload
def register_family(name: F) -> F: ...
@overload
def register_family(name: str | None = None) -> Callable[[F], F]: ...


def register_family(name: str | F | None = None) -> F | Callable[[F], F]:
    """Class decorator: bare ``@register_family`` (the class's ``name``) or
    ``@register_family("my-family")``, as ``register_scheduler``."""
    return FAMILIES.register(name)  # type: ignore[return-value]


def list_families() -> list[str]:
    """Names of all registered families (built-ins that exist in this tree included)."""
    return FAMILIES.names()


def list_family_problems() -> list[str]:
    """One line per ``mvsched.families`` entry point that could not be registered."""
    FAMILIES.load()
    return [FAMILIES.problems[k] for k in sorted(FAMILIES.problems)]


def get_family(name: str) -> type[Family]:
    """The class registered as ``name``; ModelsUserError listing the known names otherwise."""
    return FAMILIES.get(name)


family_class = get_family
"""the older name of :func:`get_family`"""


def create_family(name: str, **kw: object) -> Family:
    """Instantiate family ``name`` with ``kw`` (scale checked here, at the edge)."""
    fam = get_family(name)(**kw)  # type: ignore[arg-type]
    fam.check_scale()
    return fam
