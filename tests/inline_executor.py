"""An executor that runs each sweep task when it is submitted, in the test's own process, so
monkeypatches apply and failures surface in place (sweep tests only)."""

from __future__ import annotations

from concurrent.futures import Executor, Future

__all__ = ["Inline"]


class Inline(Executor):
    """Runs each task when it is submitted, in this process (so monkeypatches apply)."""

    def submit(self, fn, /, *args, **kwargs):  # type: ignore[no-untyped-def]
        fut: Future = Future()
        try:
            fut.set_result(fn(*args, **kwargs))
        except Exception as exc:
            fut.set_exception(exc)
        return fut
