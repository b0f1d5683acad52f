"""Once-for-all's deployment (ALGORITHMS 4): one subnet per app, specialised for a device
before deployment from what is known there and then, never changed afterwards, whatever the
load or later goal changes (the pre-deployment baseline that AdaptiveNet's on-device
adaptation is compared with).

Rule, at an app's first decision: among its candidate subnets, the most accurate whose latency
*known before deployment* meets the app's latency goal (ties: the faster, then the id); when
none does, the fastest by that latency. The subnet then runs at the latency the deployed
profile measured on the scenario's device, which may miss the goal the prediction met. Shares
are priority-weighted; apps whose subnets do not fit memory are left out, lowest priority
first. The timeline notes each deployment with the latency it was chosen by.

What is known before deployment, parameter ``predict``:

- ``lut`` (default): the lookup table's prediction (OFA's efficiency predictor, ALGORITHMS
  4.4), read from the deployed profile, per variant:

  1. the ``predicted_ms`` of the ``lookup_table.samples`` entry whose ``id`` is the variant's
     (the published AdaptiveNet and Note10 tables);
  2. otherwise the table summed along the subnet: ``lookup_table.stem_ms + head_ms`` plus the
     ``lookup_table.blocks`` entry of each of its block keys, which are the variant's
     ``blocks`` (``stem`` and ``head`` there are the two fixed terms) or, in the once-for-all
     profiles ``mvsched profile`` writes, ``arch.table_keys``; every key must be in the table.

  A variant with neither is not a candidate: the table cannot place it (on Note10, 5 of the 8
  published subnets). A profile with no predictable variant is refused (``misfit``).
- ``measured``: the profile's measured median latency, only when the scenario says so (the
  published phone profiles give one latency per subnet, the figure each was specialised with,
  and no table, except Note10's partial one).

Cross-device deployment, parameter ``specialised_for`` (a device name; null: the device the
app runs on, as does the deployed profile's own ``device.name``): deploy the subnet specialised
for that other device, chosen by the same rule with that device's numbers, and run it here. A
scheduler sees only the profiles of the device it runs on (``SystemView``), so the deployed
profile must carry them: the candidates are its variants whose ``arch.specialised_for`` names
the device, each with ``arch.predicted_ms``, its lookup-table latency there (the number it was
specialised with); it then runs at the latency this profile measured for it. No shipped
profile has such variants (each holds only the subnets specialised for its own device), so
there any other device is refused by ``misfit`` in one line; ``predict: measured`` with another
device is refused too (no profile holds a measurement made elsewhere).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from sim.common.paths import name_problem
from sim.profile import Profile, Variant
from sim.schedulers.allocation import fit_memory, priority_shares
from sim.schedulers.base import AppPlan, AppView, Plan, Scheduler, SystemView
from sim.schedulers.constraints import Constraint, Declaration, Options
from sim.schedulers.contract import memory_bytes
from sim.schedulers.registry import register_scheduler

__all__ = ["OfaStatic", "known_latencies", "predicted_ms", "specialise"]

_FIXED_BLOCKS = ("stem", "head")
"""block keys of ``variants[].blocks`` timed by ``lookup_table.stem_ms`` / ``head_ms``"""


@dataclass(frozen=True)
class DeviceName(Constraint):
    """A device name as scenarios write it: a profile folder name."""

    def accepts(self, value: object) -> bool:
        return isinstance(value, str) and name_problem(value) is None

    def describe(self) -> str:
        return "a device name (a profile folder: 1-100 letters, digits and '._+-')"


def _ms(value: Any) -> float | None:
    """A latency in ms read from a free-form record: a finite number > 0, else None."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) and value > 0 else None


def _table_keys(variant: Variant) -> tuple[str, ...] | None:
    """The variant's block keys: ``blocks``, or ``arch.table_keys`` (once-for-all profiles)."""
    if variant.blocks is not None:
        return variant.blocks
    keys = variant.arch.get("table_keys") if isinstance(variant.arch, Mapping) else None
    if isinstance(keys, Sequence) and not isinstance(keys, str) \
            and all(isinstance(k, str) for k in keys):
        return tuple(keys)
    return None


def predicted_ms(profile: Profile, variant: Variant) -> float | None:
    """The deployed profile's lookup-table latency of ``variant`` (see the module docstring),
    or None when its table cannot place it."""
    table = profile.lookup_table
    if table is None:
        return None
    for sample in table.samples:
        if sample.get("id") == variant.id:
            found = _ms(sample.get("predicted_ms"))
            if found is not None:
                return found
    keys = _table_keys(variant)
    if not keys:
        return None
    terms = [k for k in keys if k not in _FIXED_BLOCKS]
    if not terms or any(k not in table.blocks for k in terms):
        return None
    return table.stem_ms + table.head_ms + sum(table.blocks[k] for k in terms)


def _specialised_for(variant: Variant) -> tuple[str, float] | None:
    """(device, lookup-table ms there) that a subnet specialised elsewhere records."""
    arch = variant.arch
    if not isinstance(arch, Mapping) or not isinstance(arch.get("specialised_for"), str):
        return None
    ms = _ms(arch.get("predicted_ms"))
    return None if ms is None else (arch["specialised_for"], ms)


def known_latencies(profile: Profile, predict: str = "lut",
                    specialised_for: str | None = None) -> dict[str, float]:
    """Variant id -> the latency it is specialised by, for the candidates of the rule (see the
    module docstring); empty when the profile holds none."""
    if specialised_for is not None and specialised_for != profile.device.name:
        out = {}
        for v in profile.variants:
            rec = _specialised_for(v)
            if rec is not None and rec[0] == specialised_for:
                out[v.id] = rec[1]
        return out
    if predict == "measured":
        return {v.id: v.latency_ms.median for v in profile.variants}
    return {v.id: ms for v in profile.variants if (ms := predicted_ms(profile, v)) is not None}


def specialise(app: AppView, known: Mapping[str, float]) -> Variant:
    """The subnet deployed for this app, from the latencies ``known`` before deployment."""
    variants = [app.profile.variant(i) for i in known]
    meets = [v for v in variants if known[v.id] <= app.latency_goal_ms]
    if meets:
        return max(meets, key=lambda v: (v.top1, -known[v.id], v.id))
    return min(variants, key=lambda v: (known[v.id], v.id))


@register_scheduler("ofa-static")
class OfaStatic(Scheduler):
    """OFA: one specialised subnet per app, chosen before deployment, never changed."""

    stateful: ClassVar[bool] = True
    kinds: ClassVar[frozenset[str] | None] = frozenset({"supernet", "elastified"})

    param_docs: ClassVar[dict[str, str]] = {
        'predict': "the latency a subnet is specialised by before deployment: 'lut' the "
                   "profile's lookup-table prediction (refused without one), 'measured' its "
                   "measured latency on the device",
        'specialised_for': "deploy the subnet specialised for this other device (its subnets "
                           "and their lookup-table latency there must be in the deployed "
                           "profile: arch.specialised_for, arch.predicted_ms); null: the "
                           "device the app runs on",
    }
    param_constraints: ClassVar[Mapping[str, Declaration]] = {
        "predict": Options(("lut", "measured")),
        "specialised_for": [None, DeviceName()],
    }

    def __init__(self, predict: str = "lut", specialised_for: str | None = None) -> None:
        self.predict = predict
        self.specialised_for = specialised_for
        self._deployed: dict[str, str] = {}

    def _elsewhere(self, profile: Profile) -> bool:
        return self.specialised_for is not None and self.specialised_for != profile.device.name

    def _refusal(self, app: str, profile: Profile) -> str | None:
        where = f"app {app!r} (profile {profile.device.name}/{profile.family})"
        if self._elsewhere(profile):
            if self.predict == "measured":
                return (f"parameter predict: 'measured' with specialised_for "
                        f"{self.specialised_for!r}: {where} holds no latency measured on "
                        f"{self.specialised_for!r}; use predict: lut")
            if not known_latencies(profile, self.predict, self.specialised_for):
                return (f"parameter specialised_for: {where} holds no subnet specialised for "
                        f"{self.specialised_for!r} (a variant with arch.specialised_for "
                        f"{self.specialised_for!r} and arch.predicted_ms, its lookup-table "
                        f"latency there); its subnets are {profile.device.name}'s")
            return None
        if self.predict == "lut" and not known_latencies(profile):
            return (f"parameter predict: 'lut': {where} has no lookup-table prediction of any "
                    "subnet (lookup_table.samples[].predicted_ms naming a variant, or the "
                    "table's entries for its blocks or arch.table_keys); set predict: measured "
                    "to specialise by its measured latency")
        return None

    def misfit(self, profiles: Mapping[str, Profile]) -> str | None:
        for app, profile in profiles.items():
            problem = self._refusal(app, profile)
            if problem:
                return problem
        return None

    def _deploy(self, a: AppView) -> tuple[str, str]:
        """(variant id, timeline note) specialised for this app."""
        problem = self._refusal(a.name, a.profile)
        if problem:
            raise ValueError(f"ofa-static: {problem}")
        known = known_latencies(a.profile, self.predict, self.specialised_for)
        chosen = specialise(a, known)
        device = self.specialised_for if self._elsewhere(a.profile) else a.profile.device.name
        source = "measured" if self.predict == "measured" and not self._elsewhere(a.profile) \
            else "lookup table"
        ms = known[chosen.id]
        verdict = (f"<= goal {a.latency_goal_ms:g} ms" if ms <= a.latency_goal_ms
                   else f"fastest, none meets goal {a.latency_goal_ms:g} ms")
        return chosen.id, (f"specialised for {device} by {source}: {chosen.id} "
                           f"{ms:.3g} ms {verdict}")

    def decide(self, view: SystemView) -> Plan:
        fresh: dict[str, str] = {}
        for a in view.apps:
            if a.name not in self._deployed:
                self._deployed[a.name], fresh[a.name] = self._deploy(a)
        size = {a.name: memory_bytes(a.profile.variant(self._deployed[a.name]))
                for a in view.apps}
        notes: dict[str, str] = {}
        apps = fit_memory(view, size, notes)
        shares = priority_shares(apps) if apps else {}
        for a in apps:
            if a.name in fresh and a.name not in notes:
                notes[a.name] = fresh[a.name]
        return Plan({a.name: AppPlan(self._deployed[a.name], shares[a.name]) for a in apps},
                    notes=notes)
