"""Slowdown of a variant when other models time-share the cores (measured factors,
interpolated in the number of co-runners)."""

from __future__ import annotations

from typing import Annotated

from pydantic import (
    Field,
    model_validator,
)

from sim.profile.base import Frozen, FrozenModel


def _check_factors(name: str, factors: tuple[float, ...], ks: tuple[int, ...]) -> None:
    if len(factors) != len(ks):
        raise ValueError(f"{name} needs one factor per co_runners entry")
    if any(not (1.0 <= f < 100.0) for f in factors):
        raise ValueError(f"{name} factors must be in [1, 100), got {list(factors)}")


def _interpolate(factors: tuple[float, ...], ks: tuple[int, ...], k: float) -> float:
    if k <= 0.0:
        return 1.0
    xs, ys = (0, *ks), (1.0, *factors)
    for (x0, y0), (x1, y1) in zip(zip(xs, ys), zip(xs[1:], ys[1:])):
        if k <= x1:
            return y0 + (y1 - y0) * (k - x0) / (x1 - x0)
    return ys[-1]


class VariantInterference(FrozenModel):
    """One variant's own co-run slowdown and after-idle factor: a small model loses more to
    cold caches and context switches, relative to its run time, than a large one."""

    slowdown: tuple[float, ...] = Field(description="factor >= 1 at each co_runners entry")
    after_idle: float = Field(default=1.0, ge=1.0, lt=100.0,
                              description="slowdown of an inference after its process slept")


class Interference(FrozenModel):
    """How much slower the family's model runs while other models time-share its cores:
    CPU time per inference with ``k`` co-running processes over that alone (AdaptiveNet's
    artifact measures the same with 1, 2 and 4 co-running processes)."""

    co_runners: tuple[int, ...] = Field(min_length=1, description="k, increasing, each >= 1")
    slowdown: tuple[float, ...] = Field(description="factor >= 1 at each k (1 at k = 0)")
    after_idle: float = Field(
        default=1.0, ge=1.0, lt=100.0,
        description="slowdown of an inference that starts after its process slept (waiting "
                    "for a camera frame): cold caches")
    variant: str = Field(description="variant timed for slowdown and after_idle (they apply "
                                     "to every variant without its own entry in per_variant)")
    per_variant: Annotated[dict[str, VariantInterference], Frozen] = Field(
        default_factory=dict, description="variant id -> its own measured factors")
    co_runner: str = Field(description="what the co-running processes ran")
    method: str = Field(description="how it was measured")

    @model_validator(mode="after")
    def _shape(self) -> Interference:
        ks = self.co_runners
        if ks[0] < 1 or any(b <= a for a, b in zip(ks, ks[1:])):
            raise ValueError(f"co_runners must increase from >= 1, got {list(ks)}")
        _check_factors("slowdown", self.slowdown, ks)
        for vid, v in self.per_variant.items():
            _check_factors(f"per_variant.{vid}.slowdown", v.slowdown, ks)
        return self

    def factor(self, k: float, variant: str | None = None) -> float:
        """The slowdown of ``variant`` at ``k`` co-runners (linear between measured points,
        1 at 0, the last factor beyond the last point)."""
        own = self.per_variant.get(variant) if variant is not None else None
        return _interpolate(own.slowdown if own else self.slowdown, self.co_runners, k)

    def idle_factor(self, variant: str | None = None) -> float:
        """The after-idle factor of ``variant`` (its own when measured)."""
        own = self.per_variant.get(variant) if variant is not None else None
        return own.after_idle if own else self.after_idle


