"""Trace specs as a scenario YAML writes them: a union of pydantic models tagged by ``kind``
(constant, step, inline, csv, markov); :func:`build_trace` turns a validated spec into a
:class:`sim.traces.trace.Trace`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from sim.common.paths import path_problem
from sim.traces.limits import (
    MAX_VALUE,
    TOO_BIG,
    TraceError,
    check_dwell,
    check_transition,
    points_problem,
)
from sim.traces.trace import Trace

NonNegFloat = Annotated[float, Field(ge=0, allow_inf_nan=False)]
PosFloat = Annotated[float, Field(gt=0, allow_inf_nan=False)]
Point = tuple[NonNegFloat, NonNegFloat]



def _check_spec_points(points: tuple[Point, ...]) -> None:
    problem = points_problem(points, "point {i}")
    if problem is not None:
        raise ValueError(problem)
    for i, (_, v) in enumerate(points):
        if v > MAX_VALUE:
            raise ValueError(f"point {i}: value {TOO_BIG}, got {v:g}")


def _at_most_max(v: float) -> float:
    if v > MAX_VALUE:
        raise ValueError(f"{TOO_BIG}, got {v:g}")
    return v


TraceValue = Annotated[float, Field(ge=0, allow_inf_nan=False), AfterValidator(_at_most_max)]


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class ConstantTraceSpec(_Spec):
    """``{kind: constant, value: 0.2}``."""

    kind: Literal["constant"] = "constant"
    value: TraceValue


class StepTraceSpec(_Spec):
    """``{kind: step, steps: [[0, 0.0], [300, 0.4]]}``: value from each time on."""

    kind: Literal["step"] = "step"
    steps: tuple[Point, ...]

    @field_validator("steps")
    @classmethod
    def _increasing(cls, v: tuple[Point, ...]) -> tuple[Point, ...]:
        _check_spec_points(v)
        return v


class InlineTraceSpec(_Spec):
    """``{kind: inline, points: [[0, 5.0], [1.5, 3.2]]}``: a short trace written in place."""

    kind: Literal["inline"] = "inline"
    points: tuple[Point, ...]

    @field_validator("points")
    @classmethod
    def _increasing(cls, v: tuple[Point, ...]) -> tuple[Point, ...]:
        _check_spec_points(v)
        return v


class CsvTraceSpec(_Spec):
    """``{kind: csv, path: traces/x.csv, column: value, loop: true, scale: 1.0}``.

    ``path`` is relative to the scenario file's folder. ``format`` defaults by extension:
    ``.csv`` is CSV with header, anything else two whitespace columns (Norway 3G logs).
    """

    kind: Literal["csv"] = "csv"
    path: Path
    format: Literal["csv", "whitespace"] | None = None
    column: str | None = None
    loop: bool = False
    scale: PosFloat = 1.0

    @field_validator("path", mode="before")
    @classmethod
    def _path_usable(cls, v: Any) -> Any:
        problem = path_problem(v) if isinstance(v, str) else None
        if problem:
            raise ValueError(problem)
        return v

    @property
    def resolved_format(self) -> Literal["csv", "whitespace"]:
        """``format`` if given, else decided by the file extension."""
        if self.format is not None:
            return self.format
        return "csv" if self.path.suffix.lower() == ".csv" else "whitespace"

    @model_validator(mode="after")
    def _column_only_for_csv(self) -> CsvTraceSpec:
        if self.column is not None and self.resolved_format == "whitespace":
            raise ValueError(
                "column applies only to format 'csv' (whitespace traces have no header)"
            )
        return self


class MarkovTraceSpec(_Spec):
    """``{kind: markov, states: [1.0, 5.0, 20.0], mean_dwell_s: 10, transition: [[...]]}``."""

    kind: Literal["markov"] = "markov"
    states: tuple[TraceValue, ...] = Field(min_length=1)
    mean_dwell_s: PosFloat | tuple[PosFloat, ...]
    transition: tuple[tuple[float, ...], ...] | None = None

    @field_validator("mean_dwell_s")
    @classmethod
    def _one_dwell_or_per_state(
        cls, v: float | tuple[float, ...], info: ValidationInfo
    ) -> float | tuple[float, ...]:
        if "states" in info.data:  # else states failed and is reported on its own
            check_dwell(len(info.data["states"]), v)
        return v

    @field_validator("transition")
    @classmethod
    def _row_stochastic(
        cls, v: tuple[tuple[float, ...], ...] | None, info: ValidationInfo
    ) -> tuple[tuple[float, ...], ...] | None:
        if v is not None and "states" in info.data:
            check_transition(len(info.data["states"]), v)
        return v


TraceSpec = Annotated[
    ConstantTraceSpec | StepTraceSpec | InlineTraceSpec | CsvTraceSpec | MarkovTraceSpec,
    Field(discriminator="kind"),
]


def as_trace_spec(v: Any) -> Any:
    """Turn a bare number into ``{kind: constant, value: v}`` so YAML can say
    ``background_load: 0.3``; anything else passes through to the tagged union."""
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return {"kind": "constant", "value": v}
    return v


TraceSpecOrNumber = Annotated[TraceSpec, BeforeValidator(as_trace_spec)]


def build_trace(
    spec: TraceSpec, base_dir: Path, duration_s: float, rng: np.random.Generator
) -> Trace:
    """Build the Trace a validated spec describes. File paths resolve against ``base_dir``
    (the scenario's folder); ``duration_s`` sizes looped and generated traces; ``rng`` is
    used only by generators."""
    if isinstance(spec, ConstantTraceSpec):
        return Trace.constant(spec.value)
    if isinstance(spec, StepTraceSpec):
        return Trace.step(spec.steps)
    if isinstance(spec, InlineTraceSpec):
        return Trace.from_points(spec.points)
    if isinstance(spec, CsvTraceSpec):
        path = spec.path if spec.path.is_absolute() else Path(base_dir) / spec.path
        if spec.resolved_format == "csv":
            trace = Trace.from_csv(path, spec.column or "value")
        else:
            trace = Trace.from_whitespace(path)
        if spec.scale != 1.0:
            peak = float(trace.values.max(initial=0.0))
            if peak * spec.scale > MAX_VALUE:
                raise TraceError(f"{path}: scale {spec.scale:g} makes values up to "
                                 f"{peak * spec.scale:g}; a value {TOO_BIG}")
            trace = trace.scaled(spec.scale)
        return trace.looped(duration_s) if spec.loop else trace
    if isinstance(spec, MarkovTraceSpec):
        return Trace.markov(spec.states, spec.mean_dwell_s, duration_s, rng, spec.transition)
    raise TypeError(f"not a trace spec: {spec!r}")
