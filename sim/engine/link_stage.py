"""One app's link stage: its transfer on the shared uplink (at most one at a time)."""

from __future__ import annotations

from sim.engine.frames import Frame
from sim.engine.link import Link
from sim.engine.processor import Job
from sim.engine.records import AppRecord

__all__ = ["LinkStage"]


class LinkStage:
    """The app's slot on the uplink, and the radio time and bytes it is charged."""

    __slots__ = ("name", "link", "record", "frame")

    def __init__(self, name: str, link: Link | None, record: AppRecord) -> None:
        self.name = name
        self.link = link
        self.record = record
        self.frame: Frame | None = None
        """the frame being sent"""

    def charge_radio(self, job: Job | None) -> None:
        """A transfer cut short (timeout, pause, exit): the radio sent what it sent."""
        if job is None:
            return
        self.record.radio_s += job.share_time
        self.record.sent_bytes += job.served

    def charge_sent(self, job: Job) -> None:
        """A transfer completed: all its bytes were sent."""
        self.record.radio_s += job.share_time
        self.record.sent_bytes += job.work

    def cancel(self) -> Job | None:
        """Stop the transfer, charging what it sent; the cut job (None if none)."""
        job = None
        if self.link is not None:
            job = self.link.cancel(self.name)
            self.charge_radio(job)
        self.frame = None
        return job
