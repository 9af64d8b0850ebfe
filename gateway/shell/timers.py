"""Named one-shot timers on the event loop: the shell side of StartTimer / CancelTimer."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

__all__ = ["TimerSet"]


class TimerSet:
    """At most one pending timer per name; `fire(name)` runs on the loop when one is due.

    Times are the loop's clock in ms (`loop.time() * 1000`), the clock the bridge is fed.
    `fire` runs as a bare loop callback, where an exception would only reach the loop's
    exception handler: the runner's `fire` (`CallRunner._handle`) never raises, it handles an
    internal error itself, as for an event from a reader.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop, fire: Callable[[str], None]) -> None:
        self._loop = loop
        self._fire = fire
        self._handles: dict[str, asyncio.TimerHandle] = {}

    def start(self, name: str, at_ms: float) -> None:
        """Arm `name` for `at_ms`, replacing a pending timer of that name."""
        self.cancel(name)
        self._handles[name] = self._loop.call_at(at_ms / 1000.0, self._due, name)

    def cancel(self, name: str) -> None:
        handle = self._handles.pop(name, None)
        if handle is not None:
            handle.cancel()

    def cancel_all(self) -> None:
        for handle in self._handles.values():
            handle.cancel()
        self._handles.clear()

    def __len__(self) -> int:
        return len(self._handles)

    def _due(self, name: str) -> None:
        self._handles.pop(name, None)
        self._fire(name)
