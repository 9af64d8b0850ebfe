"""A call's keeper and the drain's hand-over against a real redis-server, with a real (pure)
call bridge standing for the running call."""

from __future__ import annotations

import asyncio
import contextlib

from gateway.cluster.node import CallKeeper, Cluster
from gateway.core.bridge import CallBridge
from gateway.core.carry_on import ENDED, HANDED_OVER, LIVE, CallSnapshot
from tests.redis_server import RedisServer

BEFORE = CallSnapshot(profile="sales", handle="h-7", transcript=(("agent", "Hello."),), legs=1)


class _RunningCall:
    """What the keeper reads of a call: its bridge, its end, the hand-over."""

    def __init__(self) -> None:
        self.bridge = CallBridge()
        self.end_reason: str | None = None
        self.handed_over: list[str] = []

    def hand_over_now(self, reason: str) -> None:
        self.handed_over.append(reason)
        self.end_reason = reason


async def test_the_keeper_writes_the_call_and_marks_an_end_on_purpose(
    redis_server: RedisServer,
) -> None:
    cluster = Cluster(redis_server.url, max_calls=None, token_ttl_s=60)
    call = _RunningCall()
    keeper = CallKeeper(cluster, "CA1", call, profile="sales", before=BEFORE, audio_ms=lambda: 0)
    task = asyncio.create_task(keeper.run())
    try:
        while keeper.saved == 0:  # noqa: ASYNC110 (the first write)
            await asyncio.sleep(0.01)
        stored = await cluster.store.load("CA1")
        assert stored == CallSnapshot(
            profile="sales", handle="h-7", transcript=BEFORE.transcript, status=LIVE, legs=2
        )
        assert await cluster.store.owner("CA1") == cluster.replica
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    call.end_reason = "carrier closed"  # dropped: left to carry on
    await keeper.finish()
    stored = await cluster.store.load("CA1")
    assert stored is not None
    assert stored.status == LIVE
    call.end_reason = "stop"  # the caller hung up
    await keeper.finish()
    stored = await cluster.store.load("CA1")
    assert stored is not None
    assert (stored.status, stored.end_reason) == (ENDED, "stop")
    assert await cluster.store.owner("CA1") is None
    await cluster.aclose()


async def test_a_hand_over_past_its_deadline_is_forced_and_saved(
    redis_server: RedisServer,
) -> None:
    cluster = Cluster(redis_server.url, max_calls=None, token_ttl_s=60)
    call = _RunningCall()  # waiting for its start: never at a turn boundary
    keeper = CallKeeper(cluster, "CA2", call, profile="", before=BEFORE, audio_ms=lambda: 0)
    await cluster.hand_over("CA2", keeper, deadline=asyncio.get_running_loop().time())
    assert call.handed_over == ["handover"]
    assert cluster.handovers == 1
    stored = await cluster.store.load("CA2")
    assert stored is not None
    assert (stored.status, stored.handle) == (HANDED_OVER, "h-7")
    await keeper.finish()  # a hand-over's end keeps the handed-over state
    stored = await cluster.store.load("CA2")
    assert stored is not None
    assert stored.status == HANDED_OVER
    await cluster.aclose()
