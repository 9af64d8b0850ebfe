"""Where post-call webhook deliveries wait: a small storage protocol and its in-memory store.

A `Delivery` is one signed-later JSON document for one receiver, with its attempts so far and
when it is next due. `CallWebhooks` (gateway.shell.call_webhooks) adds ended calls, claims the
due ones, puts failed attempts back with their next due time and asks the depth for the metrics.
The store is the only place deliveries wait, behind the `OutboxStore` protocol, so that a shared
store (Redis, in cluster mode) can keep pending deliveries where another replica can claim and
finish them; `MemoryOutbox` is the one-process store.

Bounded: `add` refuses a delivery once `max_pending` wait (the caller counts the overflow), so a
slow or dead receiver never grows memory without bound.
"""

from __future__ import annotations

import heapq
import itertools
from dataclasses import dataclass, field
from typing import Protocol

__all__ = ["Delivery", "MemoryOutbox", "OutboxStore"]


@dataclass(slots=True)
class Delivery:
    delivery_id: str
    """Unique per document, the same on every attempt (`Gateway-Delivery`: receivers dedupe)."""
    url: str
    body: bytes
    """The JSON document, exactly as signed and sent."""
    created_s: float
    """Wall-clock seconds when the call ended (the retry budget counts from here)."""
    attempts: int = 0
    due_s: float = 0.0
    """Not tried again before this (wall-clock seconds)."""
    leg: int = 0
    """Cluster mode: the number of the call's leg that made it (a later leg's supersedes it);
    0: not a call's leg."""
    last_error: str = field(default="", compare=False)


class OutboxStore(Protocol):
    """Pending deliveries (see the module doc). Every method is bounded in time."""

    async def add(self, delivery: Delivery) -> bool:
        """Keep `delivery` until it is claimed (replacing a waiting one of the same id);
        False when full (it is not kept)."""
        ...

    async def claim(self, now_s: float) -> Delivery | None:
        """Take out the delivery due soonest, if one is due at `now_s`."""
        ...

    async def retry(self, delivery: Delivery) -> None:
        """Put a claimed delivery back, due at its `due_s` (never refused: it was counted)."""
        ...

    async def done(self, delivery: Delivery) -> None:
        """A claimed delivery is over (delivered, or failed for good): forget it."""
        ...

    async def discard(self, delivery_id: str, leg: int = 0) -> bool:
        """Drop a waiting delivery (superseded: its call went on to leg `leg`, whose document
        replaces it; a shared store then refuses the earlier legs' documents of that id);
        False: none waited."""
        ...

    async def hand_back(self, delivery: Delivery) -> bool:
        """At shutdown, leave a claimed delivery for another process (False: none can take
        it, it gets the last try here)."""
        ...

    async def next_due_s(self) -> float | None:
        """When the next delivery is due (None: none waits)."""
        ...

    async def depth(self) -> int:
        """Deliveries waiting (not the ones being sent)."""
        ...

    async def drain(self) -> list[Delivery]:
        """Take out every waiting delivery no other process can take (the last try at
        shutdown)."""
        ...


class MemoryOutbox:
    """The one-process store: a heap by due time, at most `max_pending` deliveries."""

    def __init__(self, max_pending: int) -> None:
        if max_pending < 1:
            raise ValueError(f"max_pending must be >= 1, got {max_pending}")
        self.max_pending = max_pending
        self._heap: list[tuple[float, int, Delivery]] = []
        self._order = itertools.count()  # ties in due time go first come, first served

    async def add(self, delivery: Delivery) -> bool:
        await self.discard(delivery.delivery_id)  # the same id again replaces it
        if len(self._heap) >= self.max_pending:
            return False
        heapq.heappush(self._heap, (delivery.due_s, next(self._order), delivery))
        return True

    async def claim(self, now_s: float) -> Delivery | None:
        if not self._heap or self._heap[0][0] > now_s:
            return None
        return heapq.heappop(self._heap)[2]

    async def retry(self, delivery: Delivery) -> None:
        heapq.heappush(self._heap, (delivery.due_s, next(self._order), delivery))

    async def done(self, delivery: Delivery) -> None:
        return None  # claimed deliveries are out of the heap already

    async def discard(self, delivery_id: str, leg: int = 0) -> bool:
        kept = [entry for entry in self._heap if entry[2].delivery_id != delivery_id]
        if len(kept) == len(self._heap):
            return False
        self._heap = kept
        heapq.heapify(self._heap)
        return True

    async def hand_back(self, delivery: Delivery) -> bool:
        return False  # no other process sees this store

    async def next_due_s(self) -> float | None:
        return self._heap[0][0] if self._heap else None

    async def depth(self) -> int:
        return len(self._heap)

    async def drain(self) -> list[Delivery]:
        taken = [entry[2] for entry in sorted(self._heap)]
        self._heap.clear()
        return taken
