"""A deadline for one task's waits on a connection, with one timer for all of them.

`asyncio.timeout()` around every receive and send of a media stream costs a `Timeout` object, a
timer handle scheduled and cancelled, and three running-loop look-ups (each a `getpid` system
call on Python 3.11) per message: about 75 times a second per carrier leg. A `Deadline` is made
once per connection and task; `with deadline.bound(timeout_s): await ...` only moves its expiry
(a float), and its one timer is re-armed lazily: when it fires before the current expiry (the
deadline moved on since), it schedules itself again for that expiry, so a busy connection costs
one timer handle per timeout period, not one per message.

When a bound wait outlives its expiry, the task is cancelled and the `with` block raises
`TimeoutError`, exactly as `asyncio.timeout` does (a cancellation from elsewhere stays a
`CancelledError`). One `Deadline` serves one task: the task that first enters `bound()`, or the
one given.
"""

from __future__ import annotations

import asyncio
from types import TracebackType
from typing import Any

__all__ = ["Deadline"]


class Deadline:
    """Bounds the waits of one task; create once per connection (and task), use per wait."""

    __slots__ = ("_at", "_expired", "_handle", "_loop", "_task")

    def __init__(
        self, loop: asyncio.AbstractEventLoop, task: asyncio.Task[Any] | None = None
    ) -> None:
        self._loop = loop
        self._task = task
        self._at: float | None = None
        """Loop time the current wait expires at; None: no wait is bound."""
        self._handle: asyncio.TimerHandle | None = None
        self._expired = False

    def bound(self, timeout_s: float) -> Deadline:
        """`with deadline.bound(timeout_s): await ...`: the wait may take `timeout_s` at most."""
        if self._task is None:
            self._task = asyncio.current_task()
        at = self._loop.time() + timeout_s
        self._at = at
        handle = self._handle
        if handle is None or handle.when() > at:
            if handle is not None:
                handle.cancel()
            self._handle = self._loop.call_at(at, self._fire)
        return self

    def __enter__(self) -> None:
        return None

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._at = None
        if self._expired:
            self._expired = False
            task = self._task
            if task is not None and task.uncancel() == 0 and exc_type is asyncio.CancelledError:
                raise TimeoutError from exc

    def _fire(self) -> None:
        self._handle = None
        at = self._at
        if at is None:
            return  # no wait bound now: the next one schedules the timer again
        if self._loop.time() < at:
            self._handle = self._loop.call_at(at, self._fire)  # the deadline moved on
            return
        self._at = None
        if self._task is not None and not self._task.done():
            self._expired = True
            self._task.cancel()

    def close(self) -> None:
        """Drop the timer (the connection is done)."""
        self._at = None
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
