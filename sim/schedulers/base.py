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

from sim.config.scenario import PowerSpec
from sim.profile import Profile
from sim.schedulers.constraints import Declaration

__all__ = ["AppPlan", "AppView", "Plan", "Scheduler", "SpinnGoals", "SystemView"]


@dataclass(frozen=True)
class SpinnGoals:
    """SPINN service-level goals of one app: hard constraints and ordered soft objectives.

    ``constraints`` holds ``(metric, op, value)`` with op ``"<="`` or ``">="``;
    ``objectives`` holds ``(metric, "min"|"max")`` in priority order. Metrics:
    ``latency_ms``, ``throughput_fps``, ``accuracy``, ``device_ms``, ``server_ms``,
    ``energy_mj`` (see :mod:`sim.schedulers.builtin.spinn.offload_model`).
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
    """id of one of the app's profile variants"""
    share: float
    """share of the available compute, in (0, 1]; the shares of a plan sum to at most 1"""
    split: str | None = None
    """progressive networks: the split point (None: device only, ``"input"``: cloud only)"""
    threshold: float | None = None
    """progressive networks: the exit confidence threshold (None: no early exit runs)"""
    local_fallback: bool = True
    """an offloaded frame whose answer times out (or finds the link down) is finished on the
    device; False loses it"""


@dataclass(frozen=True)
class Plan:
    """A decision for the running apps. An app left out is paused: its model is unloaded and
    its frames are dropped until a later plan names it again (NestDNN's eviction of the
    lowest-priority app when even the smallest models do not fit)."""

    apps: Mapping[str, AppPlan]
    """app name -> what it runs; a running app left out is paused"""
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
    """the app's name in the scenario: its key in ``Plan.apps``"""
    family: str
    """model family of its profile (e.g. ``nestdnn-vgg``)"""
    profile: Profile
    """its family measured on this device: variants with latency, memory, accuracy
    (``sim.profile.Profile``)"""
    fps: float
    """camera frame rate, frames per second"""
    latency_goal_ms: float
    """per-frame latency goal in ms (the scenario's, or 1000 / fps)"""
    accuracy_floor: float
    """lowest acceptable top-1 accuracy in [0, 1] (0: none)"""
    priority: float
    """its priority now, higher weighs more (``priority`` events change it)"""
    current: AppPlan | None
    """what it runs now (None before its first plan)"""
    latency_ratio: float = 1.0
    """EWMA of observed / expected latency for the current plan (1.0 before any frame)"""
    observed_latency_ms: float | None = None
    """EWMA of observed per-frame latency in ms (None before any frame)"""
    server_profile: Profile | None = None
    """its family measured on the server (None without a server or that profile)"""
    spinn: SpinnGoals | None = None
    """SPINN constraints and objectives from the scenario (None when it gives none)"""
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
    """simulated time of the decision, in s"""
    reason: str
    """why the engine asks: an event (``launch (app)``), ``periodic``, ``drift: ...``, a
    link change, ``scheduler wake-up``"""
    apps: tuple[AppView, ...]
    """the launched apps that have not exited (paused ones included)"""
    capacity: float
    """estimated share of the device available to the apps (1 - background load)"""
    memory_budget_bytes: int
    """memory for the apps' models: each chosen variant takes ``weight_bytes +
    peak_activation_bytes``"""
    storage_read_bytes_per_s: float
    """storage read speed in bytes/s; a model switch loads the missing bytes at it"""
    bandwidth_mbps: float | None = None
    """estimated uplink bandwidth (the whole link; concurrent transfers share it equally)"""
    rtt_ms: float | None = None
    """estimated round trip to the server in ms (None without a server)"""
    server_capacity: float | None = None
    """estimated share of the server left by its other load (1 = unloaded)"""
    link_up: bool = True
    """the radio is connected and the server is believed to answer"""
    oracle: bool = False
    """the scenario sets ``oracle: true``: the estimates are the true values"""
    power: PowerSpec | None = None
    """the device's power model (idle/busy W, radio J/byte and W while sending)"""
    pipelined: bool = True
    """device, link and server work on different frames of an app at once"""

    def app(self, name: str) -> AppView:
        for a in self.apps:
            if a.name == name:
                return a
        raise KeyError(name)


class Scheduler(ABC):
    """Base class: subclasses set ``name`` and implement :meth:`decide`.

    What a plan must be, and when a scheduler cannot run a scenario at all, is the contract
    of :mod:`sim.schedulers.contract`: the engine holds every plan to it, and
    :func:`sim.schedulers.checks.check_scheduler` checks a scheduler against it.
    """

    name: ClassVar[str] = ""
    kinds: ClassVar[frozenset[str] | None] = None
    """profile kinds this scheduler can run (None: any); others are refused at validation"""
    needs_server: ClassVar[bool] = False
    """True when it offloads by design (the scenario must give a server and a network)"""
    param_docs: ClassVar[dict[str, str]] = {}
    """``__init__`` parameter -> one-line doc of what it means (sim.schedulers.params)"""
    param_constraints: ClassVar[Mapping[str, Declaration]] = {}
    """``__init__`` parameter -> the values it accepts (:mod:`sim.schedulers.constraints`),
    checked by ``create_scheduler`` and shown by ``mvsched schedulers -v``"""
    stateful: ClassVar[bool] = False
    """True when past decisions matter (a fixed deployment, a search in progress): the
    contract checks then use a fresh instance per view, and the same sequence of views must
    give the same plans"""

    @abstractmethod
    def decide(self, view: SystemView) -> Plan:
        """Choose variant, share (and split/threshold) for every running app."""

    def misfit(self, profiles: Mapping[str, Profile]) -> str | None:
        """Why this scheduler, as configured, cannot run apps with these profiles (app name ->
        profile), or None. Checked before any run starts
        (:func:`sim.schedulers.contract.scheduler_misfit`), so a parameter that names something
        the profiles lack (a variant id) is refused at validation, not mid-run."""
        return None

    def params(self) -> dict[str, Any]:
        """Hyperparameters as given (recorded in results)."""
        return {k: v for k, v in vars(self).items() if not k.startswith("_")}
