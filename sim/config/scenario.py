"""Scenario YAML (DESIGN 3.2): validated once at the edge into frozen pydantic models.

Errors name the file, the key path and what was expected, in one line, so that
``mvsched validate`` and ``mvsched run`` can print them without a traceback.

One module because it is one data model: the sections (device, network, server, apps,
events, monitor, engine, metrics) validate against each other in :class:`Scenario`; their
size caps and physical ranges live in :mod:`sim.config.limits`.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)

from sim.common.messages import OneLineError, field_path, one_line
from sim.common.paths import name_problem
from sim.config.limits import (
    MAX_APPS,
    MAX_DURATION_S,
    MAX_EVENTS,
    MAX_MONITOR_SAMPLES,
    MAX_PERIODIC_DECISIONS,
    MAX_WORKLOAD_DRAWS,
    RANGES,
    FileName,
    FilePath,
    ranged,
    short_repr,
    windows_checked,
)
from sim.config.workload import RandomWorkloadSpec
from sim.config.yaml_input import read_yaml
from sim.traces import TraceSpecOrNumber

__all__ = [
    "AppSpec",
    "DeviceSpec",
    "EngineSpec",
    "EventSpec",
    "MetricsSpec",
    "MonitorSpec",
    "NetworkSpec",
    "PowerSpec",
    "Scenario",
    "ScenarioError",
    "SchedulerSpec",
    "ServerSpec",
    "SpinnSpec",
    "load_scenario",
    "format_validation_error",
]


class ScenarioError(OneLineError):
    """A scenario that cannot be run; the message names the file and the field."""


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


PosFloat = Field(gt=0, allow_inf_nan=False)
class SchedulerSpec(_Frozen):
    """A scheduler to run, by registered name, with its hyperparameters."""

    name: str
    params: dict[str, Any] = Field(default_factory=dict)
    label: str | None = Field(default=None, description="name in results; defaults to name")

    @model_validator(mode="after")
    def _safe_key(self) -> SchedulerSpec:
        problem = name_problem(self.key)
        if problem:
            field = "label" if self.label is not None else "name"
            raise ValueError(f"{field} {short_repr(self.key)} {problem}")
        return self

    @property
    def key(self) -> str:
        return self.label if self.label is not None else self.name  # "" is no label


class PowerSpec(_Frozen):
    """Device power model (scenario parameters, not measurements)."""

    idle_w: Annotated[float, ranged("device.power.idle_w")] = 0.5
    busy_w: Annotated[float, ranged("device.power.busy_w")] = 3.0
    radio_j_per_byte: Annotated[float, ranged("device.power.radio_j_per_byte")] = 0.0
    radio_tx_w: Annotated[float, ranged("device.power.radio_tx_w")] = 0.0

    @model_validator(mode="after")
    def _busy_above_idle(self) -> PowerSpec:
        if self.busy_w < self.idle_w:
            raise ValueError(f"busy_w ({self.busy_w}) must be at least idle_w ({self.idle_w})")
        return self


class DeviceSpec(_Frozen):
    """The mobile device: which profiles, how much memory, storage speed, power, load."""

    name: FileName = Field(description="profile folder name under profiles_dir, e.g. cpu-1t")
    memory_mb: float = Field(gt=0, le=1e9,
                             description="memory budget for the apps' models, MB (1e6 B)")
    storage_read_mbps: Annotated[float, ranged("device.storage_read_mbps")] = Field(
        default=200.0, description="model load speed, MB/s")
    cores: int = Field(
        default=1, ge=1, le=256,
        description="processor cores; a model measured at k threads uses at most k of them",
    )
    power: PowerSpec = PowerSpec()
    background_load: TraceSpecOrNumber = Field(
        default=0.0, validate_default=True, description="fraction of the processor taken by other work, in [0, 1)"
    )


class ServerSpec(_Frozen):
    """Optional edge/cloud server: its profile folder, load trace and down windows."""

    name: FileName = Field(description="profile folder of the server, e.g. cpu-2t")
    load: TraceSpecOrNumber = Field(
        default=0.0, validate_default=True, description="fraction of the server taken by others"
    )
    down: list[tuple[float, float]] = Field(
        default_factory=list, description="[start, end) windows in s when the server answers nothing"
    )

    @model_validator(mode="after")
    def _down_ordered(self) -> ServerSpec:
        windows_checked(self.down, "down window")
        return self


class NetworkSpec(_Frozen):
    """Optional device-server link."""

    bandwidth_mbps: TraceSpecOrNumber
    rtt_ms: Annotated[float, ranged("network.rtt_ms")] = 20.0
    outages: list[tuple[float, float]] = Field(
        default_factory=list, description="[start, end) windows in s with no connectivity"
    )
    timeout_factor: Annotated[float, ranged("network.timeout_factor")] = Field(
        default=2.0,
        description="an offloaded frame with no answer after this many times its predicted "
                    "transfer + round trip + server time is finished on the device",
    )

    @model_validator(mode="after")
    def _outages_ordered(self) -> NetworkSpec:
        windows_checked(self.outages, "outage")
        return self


SpinnMetric = Literal["latency_ms", "throughput_fps", "accuracy", "device_ms", "server_ms",
                      "energy_mj"]


class SpinnSpec(_Frozen):
    """SPINN goals: hard constraints [metric, op, value] and ordered soft objectives.

    Metrics are per frame: latency_ms, throughput_fps, accuracy (0..1), device_ms (device
    compute), server_ms (server compute), energy_mj (device compute above idle + radio)."""

    constraints: list[tuple[SpinnMetric, Literal["<=", ">="],
                            Annotated[float, ranged("apps[].spinn.constraints[].value")]]] = Field(
        default_factory=list
    )
    objectives: list[tuple[SpinnMetric, Literal["min", "max"]]] = Field(
        default=[("latency_ms", "min")], min_length=1
    )


class AppSpec(_Frozen):
    """One vision app: which model family, its camera and its goals."""

    name: str = Field(min_length=1)
    family: FileName = Field(description="profile file name (without .json)")
    fps: Annotated[float, ranged("apps[].fps")]
    latency_goal_ms: Annotated[float, ranged("apps[].latency_goal_ms")] | None = Field(
        default=None, description="default 1000/fps")
    accuracy_floor: float = Field(default=0.0, ge=0, le=1)
    priority: Annotated[float, ranged("apps[].priority")] = 1.0
    spinn: SpinnSpec | None = None
    upload_bytes: Annotated[int, ranged("apps[].upload_bytes")] | None = Field(
        default=None,
        description="bytes of one encoded camera frame sent by cloud-only execution "
                    "(default: the profile's raw input size)",
    )

    @property
    def goal_ms(self) -> float:
        return self.latency_goal_ms if self.latency_goal_ms is not None else 1000.0 / self.fps

    @model_validator(mode="after")
    def _default_goal_in_range(self) -> AppSpec:
        if self.latency_goal_ms is None and self.goal_ms not in RANGES["apps[].latency_goal_ms"]:
            raise ValueError(f"fps {self.fps!r} gives a default latency_goal_ms (1000/fps) of "
                             f"{self.goal_ms:g} ms, outside "
                             f"{RANGES['apps[].latency_goal_ms']}; give latency_goal_ms")
        return self


class EventSpec(_Frozen):
    """A timed event: launch/exit an app, or change its priority or latency goal."""

    t: float = Field(ge=0)
    action: Literal["launch", "exit", "priority", "goal"]
    app: str
    value: float | None = None

    @model_validator(mode="after")
    def _value_when_needed(self) -> EventSpec:
        if self.action in ("priority", "goal") and self.value is None:
            raise ValueError(f"action '{self.action}' needs a positive 'value'")
        if self.action in ("launch", "exit") and self.value is not None:
            raise ValueError(f"action '{self.action}' takes no 'value'")
        if self.value is not None:
            what = "a priority" if self.action == "priority" else "a latency goal"
            bound = RANGES[f"events[].value (action {self.action})"]
            if self.value not in bound:
                raise ValueError(f"value: {what} must be in {bound} (got {self.value!r})")
        return self


class MonitorSpec(_Frozen):
    """What the schedulers see: EWMA estimates, drift threshold, decision period."""

    period_s: Annotated[float, ranged("monitor.period_s")] = Field(
        default=1.0, description="monitor sampling period")
    ewma: float = Field(default=0.3, gt=0, le=1, description="weight of the newest sample")
    drift_threshold: Annotated[float, ranged("monitor.drift_threshold")] = Field(
        default=0.1, description="relative change that re-decides")
    decision_period_s: Annotated[float, ranged("monitor.decision_period_s")] | None = Field(
        default=30.0, description="periodic re-decision")
    latency_drift: bool = Field(
        default=False,
        description="also re-decide when an app's observed/expected latency ratio drifts",
    )
    oracle: bool = Field(default=False, description="expose the true traces (upper bounds)")


class EngineSpec(_Frozen):
    """Simulation mechanics."""

    queue_length: Annotated[int, ranged("engine.queue_length")] = Field(
        default=1, description="frames waiting per app (latest kept)")
    work_conserving: bool = True
    pipelined: bool = Field(
        default=True,
        description="device, link and server work on different frames of an app at once",
    )
    interference: bool = Field(
        default=False,
        description="apply the profiles' measured co-run and after-idle slowdowns "
                    "(Profile.interference; every app's profile must have one)",
    )
    latency: Literal["median", "measured"] = Field(
        default="median",
        description="median: every inference takes its variant's median latency (exact, "
                    "reproducible by hand); measured: each inference's device work is drawn "
                    "from the variant's measured p10/median/p90 (sim.engine.latency)",
    )


class MetricsSpec(_Frozen):
    """Output options."""

    timing: bool = Field(
        default=False,
        description="put wall-clock decision times into metrics.json (makes it machine-dependent)",
    )
    frames_csv: bool = Field(default=False, description="also write every frame to frames.csv")


class Scenario(_Frozen):
    """A whole scenario file."""

    name: str = Field(min_length=1)
    seed: int = Field(default=0, ge=0)
    duration_s: float = Field(gt=0, le=MAX_DURATION_S, allow_inf_nan=False)
    profiles_dir: FilePath = Field(default="../profiles", description="relative to the scenario file")
    schedulers: list[SchedulerSpec] = Field(min_length=1)
    device: DeviceSpec
    server: ServerSpec | None = None
    network: NetworkSpec | None = None
    apps: list[AppSpec] = Field(min_length=1, max_length=MAX_APPS)
    events: list[EventSpec] = Field(default_factory=list, max_length=MAX_EVENTS)
    random_workload: RandomWorkloadSpec | None = None
    monitor: MonitorSpec = MonitorSpec()
    engine: EngineSpec = EngineSpec()
    metrics: MetricsSpec = MetricsSpec()

    @model_validator(mode="after")
    def _cross_refs(self) -> Scenario:
        names = [a.name for a in self.apps]
        dup = sorted(n for n, c in Counter(names).items() if c > 1)
        if dup:
            raise ValueError(f"app names must be unique; repeated: {dup}")
        keys = [s.key for s in self.schedulers]
        dup = sorted(k for k, c in Counter(keys).items() if c > 1)
        if dup:
            raise ValueError(f"scheduler labels must be unique; repeated: {dup} (add 'label')")
        known = set(names)
        for i, ev in enumerate(self.events):
            if ev.app not in known:
                shown = names if len(names) <= 10 else [*names[:10], "..."]
                raise ValueError(f"events[{i}].app: unknown app {ev.app!r}; apps are {shown}")
            if ev.t > self.duration_s:
                raise ValueError(f"events[{i}].t: {ev.t} is after duration_s {self.duration_s}")
        self._check_launch_order()
        if self.random_workload is not None:
            rw = self.random_workload
            unknown = sorted(set(rw.pool) - set(names))
            if unknown:
                raise ValueError(f"random_workload.pool: unknown apps {unknown}; apps are {names}")
            expected = len(rw.pool) * self.duration_s / min(rw.mean_on_s, rw.mean_off_s)
            if expected > MAX_WORKLOAD_DRAWS:
                raise ValueError(
                    f"random_workload: ~{expected:.3g} launch/exit draws ({len(rw.pool)} apps x "
                    f"duration_s / the shorter of mean_on_s and mean_off_s), over "
                    f"{MAX_WORKLOAD_DRAWS:,}; are mean_on_s/mean_off_s in seconds?")
        mon = self.monitor
        samples = self.duration_s / mon.period_s
        if samples > MAX_MONITOR_SAMPLES:
            raise ValueError(
                f"monitor.period_s: duration_s {self.duration_s:g} s / {mon.period_s:g} s gives "
                f"~{samples:.3g} monitor samples, over {MAX_MONITOR_SAMPLES:,}")
        if mon.decision_period_s is not None:
            decisions = self.duration_s / mon.decision_period_s
            if decisions > MAX_PERIODIC_DECISIONS:
                raise ValueError(
                    f"monitor.decision_period_s: duration_s {self.duration_s:g} s / "
                    f"{mon.decision_period_s:g} s gives ~{decisions:.3g} periodic decisions, "
                    f"over {MAX_PERIODIC_DECISIONS:,}")
        if not self.events and self.random_workload is None:
            raise ValueError("give 'events' or 'random_workload', else no app ever launches")
        if (self.server is None) != (self.network is None):
            given, missing = ("server", "network") if self.network is None else ("network", "server")
            raise ValueError(f"{given} is given without {missing}: offloading needs both")
        return self

    def _check_launch_order(self) -> None:
        """An exit of an app that is not running would silently do nothing (and an app whose
        first event is its exit never runs): refuse it, naming the event."""
        pooled = set(self.random_workload.pool) if self.random_workload is not None else set()
        running: set[str] = set()
        order = sorted(range(len(self.events)), key=lambda i: self.events[i].t)
        for i in order:
            ev = self.events[i]
            if ev.action == "launch":
                running.add(ev.app)
            elif ev.action == "exit":
                if ev.app not in running and ev.app not in pooled:
                    raise ValueError(f"events[{i}]: exit of {ev.app!r} at t={ev.t:g} s, when it "
                                     f"is not running (launch it at an earlier t)")
                running.discard(ev.app)

    def app(self, name: str) -> AppSpec:
        for a in self.apps:
            if a.name == name:
                return a
        raise KeyError(name)


def format_validation_error(where: str, exc: ValidationError) -> str:
    """One line: file, key path and what was expected (the first error; count of others).
    A missing key beside an unknown one at the same place is most likely a typo: say so."""
    import difflib

    errs = exc.errors()
    err = errs[0]
    missing = [e for e in errs if e["type"] == "missing"]
    extra = [e for e in errs if e["type"] == "extra_forbidden"]
    for m in missing:
        for x in extra:
            if tuple(x["loc"][:-1]) == tuple(m["loc"][:-1]):
                want, typo = str(m["loc"][-1]), str(x["loc"][-1])
                if difflib.get_close_matches(typo, [want], n=1, cutoff=0.6):
                    more = f" [+{len(errs) - 2} more]" if len(errs) > 2 else ""
                    return one_line(f"{where}: {field_path(x['loc'])}: unknown key; did you "
                                     f"mean {want!r}? ({field_path(m['loc'])} is required)"
                                     f"{more}")
    loc = field_path(err["loc"])
    msg = err["msg"].removeprefix("Value error, ")
    got = err.get("input")
    tail = ""
    if err["type"] not in ("missing", "value_error") and not isinstance(got, dict | list):
        tail = f" (got {short_repr(got) if isinstance(got, str) else repr(got)})"
    more = f" [+{len(errs) - 1} more]" if len(errs) > 1 else ""
    if not loc and not re.match(r"[A-Za-z_][\w.\[\]]*: ", msg):
        loc = "(top level)"  # a cross-field check that names no field of its own
    head = f"{where}: {loc}: " if loc else f"{where}: "
    return one_line(f"{head}{msg}{tail}{more}")


def load_scenario(source: str | os.PathLike[str] | dict[str, Any] | Scenario,
                  seed: int | None = None, overrides: Sequence[str] = ()) -> Scenario:
    """Read and validate a scenario: a YAML file, a mapping or a :class:`Scenario`. ``seed``
    overrides its seed and ``overrides`` (``PATH=VALUE``, see :mod:`sim.config.overrides`) any field;
    the result is validated exactly like a file."""
    from sim.config.overrides import OverrideError, apply_overrides

    if isinstance(source, Scenario):
        where, raw = "<scenario>", source.model_dump(mode="json", exclude_unset=True)
    elif isinstance(source, dict):
        where, raw = "<scenario>", source
    else:
        where, raw = str(source), _read_yaml(Path(source))
    try:
        raw = apply_overrides(raw, overrides)
    except OverrideError as exc:
        raise ScenarioError(f"{where}: {exc}") from None
    if seed is not None:
        raw["seed"] = seed
    try:
        return Scenario.model_validate(raw)
    except ValidationError as exc:
        raise ScenarioError(format_validation_error(where, exc)) from None


def _read_yaml(p: Path) -> dict[str, Any]:
    raw = read_yaml(p, "scenario", ScenarioError)
    if not isinstance(raw, dict):
        raise ScenarioError(f"{p}: expected a mapping of scenario keys, got {type(raw).__name__}")
    if "variants" in raw and "family" in raw and "name" not in raw:
        raise ScenarioError(f"{p}: this is a profile (it has 'family' and 'variants'), not a "
                            f"scenario; check it with mvsched validate {p}")
    return raw
