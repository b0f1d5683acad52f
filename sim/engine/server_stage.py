"""One app's server stage: its job on the shared server, and the frames that wait for it
(the app's server jobs run in order, one at a time)."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

from sim.engine.frames import SERVER, Frame
from sim.engine.processor import Job
from sim.engine.server import Server

__all__ = ["ServerStage"]


class ServerStage:
    """The app's slot on the server."""

    __slots__ = ("name", "server", "done", "frame", "queue")

    def __init__(self, name: str, server: Server | None, done: Callable[[Job], None]) -> None:
        self.name = name
        self.server = server
        self.done = done
        self.frame: Frame | None = None
        """the frame being served"""
        self.queue: deque[Frame] = deque()
        """frames at the server waiting for it, in order"""

    def serve(self, frame: Frame) -> None:
        server = self.server
        assert server is not None
        frame.state = SERVER
        self.frame = frame
        server.submit(Job(self.name, frame.route.server_work, self.done))

    def cancel(self) -> None:
        """Stop the job and forget the waiting frames."""
        if self.server is not None:
            self.server.cancel(self.name)
        self.frame = None
        self.queue.clear()
