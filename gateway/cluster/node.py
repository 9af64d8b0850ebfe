"""The replica's cluster: Redis link, tokens, slots and call state, started and stopped together.

`Cluster` is built by the runtime when GATEWAY_REDIS_URL is set. Its background tasks ping Redis
(`RedisLink.watch`) and renew the slots this replica holds (`ClusterSlots.run`, which also gives
back the slots of calls answered here whose token expired unused). Each running call has a
`CallKeeper` task: it writes the call's snapshot to Redis when it changes and renews the owner
lease, and at the end marks the call `ended` when it ended on purpose. The drain hands calls
over (`hand_over`): at the next turn boundary, or at once when the deadline comes.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import socket
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any, Protocol

from gateway.cluster.call_state import CallStateStore
from gateway.cluster.link import ClusterUnavailableError, RedisLink
from gateway.cluster.slots import ClusterSlots
from gateway.cluster.tokens import ClusterTokens
from gateway.core.bridge import CallBridge
from gateway.core.carry_on import (
    ENDED,
    HANDED_OVER,
    CallSnapshot,
    ended_on_purpose,
    snapshot,
    turn_boundary,
)
from gateway.log import get_logger

__all__ = ["CallKeeper", "Cluster", "KeptCall"]

_log = get_logger(component="cluster")
KEEPER_TICK_S = 0.2
"""How often a call's keeper compares its snapshot (a string and a few counts, not audio)."""
HAND_OVER_MARGIN_S = 3.0
"""A drain hands a call over at once this long before its timeout, boundary or not."""


class KeptCall(Protocol):
    """A running call as its keeper sees it (`gateway.shell.call_runner.CallRunner`)."""

    @property
    def bridge(self) -> CallBridge: ...

    @property
    def end_reason(self) -> str | None: ...

    def hand_over_now(self, reason: str) -> None: ...


def replica_name() -> str:
    return f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(3)}"


class Cluster:
    def __init__(
        self,
        url: str,
        *,
        max_calls: int | None,
        token_ttl_s: float,
        lease_ms: int = 9_000,
        op_timeout_s: float = 0.5,
        on_lost: Callable[[str], None] | None = None,
    ) -> None:
        self.replica = replica_name()
        self.max_calls = max_calls
        self.link = RedisLink(url, op_timeout_s=op_timeout_s)
        self.tokens = ClusterTokens(self.link, self.replica)
        self.slots = ClusterSlots(self.link, self.replica, lease_ms=lease_ms, on_lost=on_lost)
        self.store = CallStateStore(self.link, self.replica, lease_ms=lease_ms)
        self._token_ttl_s = token_ttl_s
        self._unclaimed: dict[str, float] = {}
        """Calls answered here whose stream has not come (call id -> monotonic expiry)."""
        self._tasks: list[asyncio.Task[None]] = []
        self.handovers = 0
        """Calls this replica handed over while draining (a metric)."""
        self.carried_on = 0
        """Streams that carried on a call another replica had (a metric)."""

    @property
    def available(self) -> bool:
        """Redis answered the last call or ping."""
        return self.link.healthy is True

    async def start(self) -> None:
        await self.link.ping()
        self._tasks = [
            asyncio.create_task(self.link.watch(), name="cluster-ping"),
            asyncio.create_task(self._renew(), name="cluster-slots"),
        ]
        _log.info("cluster.joined", replica=self.replica, redis_up=self.available)

    async def _renew(self) -> None:
        while True:
            await asyncio.sleep(self.slots.lease_ms / 3000)
            now = time.monotonic()
            for call_id in [c for c, until in self._unclaimed.items() if until <= now]:
                del self._unclaimed[call_id]
                await self.slots.release(call_id)
            await self.slots.renew()

    async def aclose(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for call_id in list(self.slots.held):
            await self.slots.release(call_id)
        await self.link.aclose()

    # -- admission and tokens ---------------------------------------------------------------

    async def reserve(self, call_id: str) -> bool | None:
        """A cluster slot for a webhook's call (see `ClusterSlots.reserve`)."""
        reserved = await self.slots.reserve(call_id, self.max_calls)
        if reserved:
            self._unclaimed[call_id] = time.monotonic() + self._token_ttl_s
        return reserved

    def forget(self, call_id: str) -> None:
        """The call's stream went elsewhere: no slot of it to give back here."""
        self._unclaimed.pop(call_id, None)

    async def claim_token(self, token_id: str, expiry_s: int) -> bool | None:
        ttl_ms = int((expiry_s - time.time()) * 1000) + 1000
        return await self.tokens.claim(token_id, ttl_ms)

    async def stream_started(self, call_id: str) -> CallSnapshot | None:
        """The call's stream came here: hold its slot; the snapshot of its earlier legs, if
        another stream of it ran before (None: a new call, or Redis unavailable)."""
        self._unclaimed.pop(call_id, None)
        await self.slots.take(call_id)
        try:
            stored = await self.store.load(call_id)
        except ClusterUnavailableError:
            return None
        if stored is not None and stored.status == ENDED:
            return None
        return stored

    async def call_ended(self, call_id: str) -> None:
        await self.slots.release(call_id)

    # -- the drain ----------------------------------------------------------------------------

    async def hand_over(
        self, call_id: str, keeper: CallKeeper, deadline: float, tick_s: float = 0.1
    ) -> None:
        """Hand the call over at its next turn boundary, or at `deadline` (loop time)."""
        loop = asyncio.get_running_loop()
        forced = True
        while loop.time() < deadline:
            if keeper.call.end_reason is not None:
                return  # it ended meanwhile
            if turn_boundary(keeper.call.bridge):
                forced = False
                break
            await asyncio.sleep(tick_s)
        saved = await keeper.save(status=HANDED_OVER)
        self.handovers += 1
        _log.info("cluster.handing_over", call_sid=call_id, forced=forced, saved=saved)
        keeper.call.hand_over_now("handover")


class CallKeeper:
    """Keeps one running call's snapshot and owner lease in Redis (one task per call)."""

    def __init__(
        self,
        cluster: Cluster,
        call_id: str,
        call: KeptCall,
        *,
        profile: str,
        before: CallSnapshot | None,
        audio_ms: Callable[[], float],
        started_at_s: float = 0.0,
    ) -> None:
        self._cluster = cluster
        self._started_at_s = started_at_s
        self.call_id = call_id
        self.call = call
        self._profile = profile
        self._before = before
        self._audio_ms = audio_ms
        self._last: CallSnapshot | None = None
        self.saved = 0

    def current(self, status: str = "live") -> CallSnapshot:
        taken = snapshot(
            self.call.bridge,
            profile=self._profile,
            before=self._before,
            audio_ms=self._audio_ms(),
            started_at_s=self._started_at_s,
        )
        return taken if status == "live" else _with_status(taken, status)

    async def save(self, status: str = "live") -> bool:
        current = self.current(status)
        ok = await self._cluster.store.save(self.call_id, current, own=status == "live")
        if ok:
            self._last = current
            self.saved += 1
        return ok

    async def run(self) -> None:
        """Write on change (compared every `KEEPER_TICK_S`), and at least every third of the
        lease (the owner lease, and the state back after Redis lost it)."""
        loop = asyncio.get_running_loop()
        renew_s = self._cluster.store.lease_ms / 3000
        written_at = -renew_s
        while True:
            current = self.current()
            stale = self._last is None or _changed(self._last, current)
            if (stale or loop.time() - written_at >= renew_s) and await self.save():
                written_at = loop.time()
            await asyncio.sleep(KEEPER_TICK_S)

    async def finish(self) -> None:
        """The call's stream ended here: mark it ended when it ended on purpose."""
        reason = self.call.end_reason
        if reason == "handover":
            return  # saved as handed over already
        if ended_on_purpose(reason):
            await self._cluster.store.mark(self.call_id, ENDED, reason or "")
        else:
            await self.save()  # the newest state for the replica that carries it on


def _with_status(taken: CallSnapshot, status: str) -> CallSnapshot:
    return replace(taken, status=status)


def _changed(old: CallSnapshot, new: CallSnapshot) -> bool:
    return (old.handle, len(old.transcript), old.transcript[-1:], old.pending_tools) != (
        new.handle,
        len(new.transcript),
        new.transcript[-1:],
        new.pending_tools,
    )


def describe(cluster: Cluster | None) -> dict[str, Any]:
    """What `/readyz` says of the cluster."""
    if cluster is None:
        return {}
    return {
        "cluster": {
            "replica": cluster.replica,
            "redis": "up" if cluster.available else "down",
            "cluster_calls": cluster.slots.cluster_calls,
            "cluster_max_calls": cluster.max_calls,
        }
    }
