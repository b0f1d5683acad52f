"""The scheduler interface: a read-only view of the system in, a plan out (DESIGN 3.3).

A scheduler never sees the engine, the clock or the true traces (unless the scenario sets
``oracle: true``, which puts the truth into the same fields). Its ``__init__`` only stores
hyperparameters; all it needs arrives in :class:`SystemView`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, ClassVar

from sim.profile import Profile
from sim.scenario import PowerSpec

__all__ = ["AppPlan", "AppView", "Plan", "Scheduler", "SpinnGoals", "SystemView"]


@dataclass(frozen=True)
class SpinnGoals:
    """SPINN service-level goals of one app: hard constraints and ordered soft objectives.

    ``constraints`` holds ``(metric, op, value)`` with op ``"<="`` or ``">="``;
    ``objectives`` holds ``(metric, "min"|"max")`` in priority order. Metrics:
    ``latency_ms``, ``throughput_fps``, ``accuracy``, ``device_ms``, ``server_ms``,
    ``energy_mj`` (see :mod:`sim.schedulers.offload_model`).
    """

    constraints: tuple[tuple[str, str, float], ...] = ()
    objectives: tuple[tuple[str, str], ...] = (("latency_ms", "min"),)


@dataclass(frozen=True)
class AppPlan:
    """What one app runs: variant, share of the available compute, and for progressive
    networks the split point (None = device only, ``"input"`` = cloud only) and the exit
    confidence threshold (None = no early exit runs). ``local_fallback``: an offloaded frame
    whose answer times out (or that finds the link down) is finished on the device; False
    loses it instead (a cloud-only system with no model on the device)."""

    variant: str
    share: float
    split: str | None = None
    threshold: float | None = None
    local_fallback: bool = True


@dataclass(frozen=True)
class Plan:
    """A decision for the running apps. An app left out is paused: its model is unloaded and
    its frames are dropped until a later plan names it again (NestDNN's eviction of the
    lowest-priority app when even the smallest models do not fit)."""

    apps: Mapping[str, AppPlan]
    notes: Mapping[str, str] = field(default_factory=dict)
    """per app, a remark the engine writes into the timeline (e.g. a constraint it had to
    break)"""
    wake_at_s: float | None = None
    """ask to decide again at this simulated time (a search that ends, a monitor loop)"""

    def __post_init__(self) -> None:
        object.__setattr__(self, "apps", MappingProxyType(dict(self.apps)))
        object.__setattr__(self, "notes", MappingProxyType(dict(self.notes)))


@dataclass(frozen=True)
class AppView:
    """One running app as the scheduler sees it."""

    name: str
    family: str
    profile: Profile
    fps: float
    latency_goal_ms: float
    accuracy_floor: float
    priority: float
    current: AppPlan | None
    latency_ratio: float = 1.0
    """EWMA of observed / expected latency for the current plan (1.0 before any frame)."""
    observed_latency_ms: float | None = None
    server_profile: Profile | None = None
    spinn: SpinnGoals | None = None
    device_slowdown: float | None = None
    """EWMA of measured / profiled device time of this app's device work (None before any);
    it carries the background load and the other apps' competition"""
    upload_bytes: float | None = None
    """bytes of one encoded camera frame for cloud-only execution (None: the profile's raw
    input size)"""


@dataclass(frozen=True)
class SystemView:
    """Snapshot handed to :meth:`Scheduler.decide`."""

    time_s: float
    reason: str
    apps: tuple[AppView, ...]
    capacity: float
    """Estimated share of the device available to the apps (1 - background load)."""
    memory_budget_bytes: int
    storage_read_bytes_per_s: float
    bandwidth_mbps: float | None = None
    """estimated uplink bandwidth (the whole link; concurrent transfers share it equally)"""
    rtt_ms: float | None = None
    server_capacity: float | None = None
    """estimated share of the server left by its other load (1 = unloaded)"""
    link_up: bool = True
    """the radio is connected and the server is believed to answer"""
    oracle: bool = False
    power: PowerSpec | None = None
    """the device's power model (idle/busy W, radio J/byte and W while sending)"""
    pipelined: bool = True
    """device, link and server work on different frames of an app at once"""
    extra: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))

    def app(self, name: str) -> AppView:
        for a in self.apps:
            if a.name == name:
                return a
        raise KeyError(name)


class Scheduler(ABC):
    """Base class: subclasses set ``name`` and implement :meth:`decide`.

    Contract: ``decide`` returns a :class:`Plan` whose apps are among ``view.apps``, each with
    a known variant id and a share in (0, 1], shares summing to at most 1, models fitting
    ``view.memory_budget_bytes``. The engine checks this and fails with the scheduler's name,
    the simulated time and the bad value otherwise (a plan over the memory budget is refused
    and counted, and the previous plan stays).
    """

    name: ClassVar[str] = ""
    kinds: ClassVar[frozenset[str] | None] = None
    """profile kinds this scheduler can run (None: any); others are refused at validation"""
    needs_server: ClassVar[bool] = False
    """True when it offloads by design (the scenario must give a server and a network)"""
    param_docs: ClassVar[dict[str, str]] = {}
    """``__init__`` parameter -> one-line doc with its constraints (sim.schedulers.params)"""
    stateful: ClassVar[bool] = False
    """True when past decisions matter (a fixed deployment, a search in progress): the
    contract checks then use a fresh instance per view, and the same sequence of views must
    give the same plans"""

    @abstractmethod
    def decide(self, view: SystemView) -> Plan:
        """Choose variant, share (and split/threshold) for every running app."""

    def misfit(self, profiles: Mapping[str, Profile]) -> str | None:
        """Why this scheduler, as configured, cannot run apps with these profiles (app name ->
        profile), or None. Checked before any run starts, so a parameter that names something
        the profiles lack (a variant id) is refused at validation, not mid-run."""
        return None

    def params(self) -> dict[str, Any]:
        """Hyperparameters as given (recorded in results)."""
        return {k: v for k, v in vars(self).items() if not k.startswith("_")}
