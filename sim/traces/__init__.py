"""Piecewise-constant time series: link bandwidth (Mbit/s), background load, server load.

A :class:`Trace` is ground truth the engine replays. Value ``values[i]`` holds on
``[times[i], times[i+1])`` and the last value holds forever. Everything is exact: the engine
asks when the next breakpoint is and how long an amount of work or data takes at a varying
rate, and gets closed-form answers segment by segment, never a time-sliced approximation.

Scenario YAML describes traces with the pydantic models of :mod:`sim.traces.specs` (a union tagged by
``kind``); :func:`build_trace` turns a validated spec into a :class:`Trace`.
"""

from sim.traces.limits import MAX_VALUE, TraceError
from sim.traces.specs import (
    ConstantTraceSpec,
    CsvTraceSpec,
    InlineTraceSpec,
    MarkovTraceSpec,
    StepTraceSpec,
    TraceSpec,
    TraceSpecOrNumber,
    as_trace_spec,
    build_trace,
)
from sim.traces.trace import Trace

__all__ = [
    "ConstantTraceSpec",
    "CsvTraceSpec",
    "InlineTraceSpec",
    "MarkovTraceSpec",
    "StepTraceSpec",
    "Trace",
    "TraceError",
    "TraceSpec",
    "TraceSpecOrNumber",
    "MAX_VALUE",
    "as_trace_spec",
    "build_trace",
]

