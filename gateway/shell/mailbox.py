"""A bounded FIFO with one consumer task, without a running-loop look-up per wait.

`asyncio.Queue.get()` looks the running loop up every time its consumer waits (a `getpid`
system call on Python 3.11), which on a media stream's writer is once per message. A `Mailbox`
takes its loop once, at its first wait, and wakes its one consumer with a future of that loop.
`put_nowait` never blocks: it says False when the mailbox is full, and the producer decides.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Generic, TypeVar

__all__ = ["Mailbox", "Wakeup"]

T = TypeVar("T")


class Wakeup:
    """Wakes one waiting task when something arrived; a `set()` with nobody waiting is a no-op
    (the waiter checks its condition before waiting)."""

    __slots__ = ("_loop", "_waiter")

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._waiter: asyncio.Future[None] | None = None

    def set(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def wait(self) -> None:
        """Wait for the next `set()`."""
        loop = self._loop
        if loop is None:
            loop = self._loop = asyncio.get_running_loop()
        waiter = self._waiter = loop.create_future()
        try:
            await waiter
        finally:
            self._waiter = None


class Mailbox(Generic[T]):
    """At most `maxsize` items, in order, for one consumer."""

    __slots__ = ("_items", "_wakeup", "maxsize")

    def __init__(self, maxsize: int) -> None:
        self.maxsize = maxsize
        self._items: deque[T] = deque()
        self._wakeup = Wakeup()

    def qsize(self) -> int:
        return len(self._items)

    def put_nowait(self, item: T) -> bool:
        """Add `item`; False (and nothing added) when the mailbox is full."""
        if len(self._items) >= self.maxsize:
            return False
        self._items.append(item)
        self._wakeup.set()
        return True

    async def get(self) -> T:
        """The oldest item, waiting for one."""
        items = self._items
        while not items:
            await self._wakeup.wait()
        return items.popleft()
