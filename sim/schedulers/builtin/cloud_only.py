"""Cloud-only baseline: every camera frame (``apps[].upload_bytes``) goes to the server,
which runs the whole network. A cloud-only system has no model on the device, so by default
a frame whose answer times out, or that meets a dead link, is lost (``local_fallback: false``);
``local_fallback: true`` finishes it on the device instead."""

from __future__ import annotations

from typing import ClassVar

from sim.profile.routes import CLOUD
from sim.schedulers.allocation import fit_memory, priority_shares
from sim.schedulers.base import AppPlan, Plan, Scheduler, SystemView
from sim.schedulers.registry import register_scheduler

__all__ = ["CloudOnly"]


@register_scheduler("cloud-only")
class CloudOnly(Scheduler):
    """Send every frame to the server."""

    kinds: ClassVar[frozenset[str] | None] = frozenset({"progressive"})
    needs_server: ClassVar[bool] = True

    param_docs: ClassVar[dict[str, str]] = {
        'local_fallback': 'true: a frame whose offload fails is finished on the device',
    }

    def __init__(self, local_fallback: bool = False) -> None:
        self.local_fallback = local_fallback

    def decide(self, view: SystemView) -> Plan:
        notes: dict[str, str] = {}
        apps = fit_memory(view, notes=notes)
        shares = priority_shares(apps) if apps else {}
        return Plan({a.name: AppPlan(a.profile.variants[0].id, shares[a.name], CLOUD, None,
                                     local_fallback=self.local_fallback) for a in apps},
                    notes=notes)
