"""Cluster-wide slots against a real redis-server: the limit, leases that end when a replica
stops renewing (kill -9), slots taken by another replica, release by the holder only."""

from __future__ import annotations

import asyncio

from gateway.cluster.link import RedisLink
from gateway.cluster.slots import ClusterSlots
from tests.redis_server import RedisServer


def _slots(
    url: str, replica: str, lease_ms: int = 9_000, lost: list[str] | None = None
) -> ClusterSlots:
    def on_lost(call_id: str) -> None:
        if lost is not None:
            lost.append(call_id)

    return ClusterSlots(RedisLink(url), replica, lease_ms=lease_ms, on_lost=on_lost)


async def _close(*slots: ClusterSlots) -> None:
    for each in slots:
        await each.link.aclose()


async def test_the_cluster_limit_counts_every_replica(redis_server: RedisServer) -> None:
    a, b = _slots(redis_server.url, "a"), _slots(redis_server.url, "b")
    assert await a.reserve("CA1", 2) is True
    assert await b.reserve("CA2", 2) is True
    assert await b.reserve("CA3", 2) is False
    assert await a.reserve("CA1", 2) is True  # the same call again: already counted
    await a.release("CA1")
    assert await b.reserve("CA3", 2) is True
    assert await a.count() == 2
    assert b.held == {"CA2", "CA3"}
    await _close(a, b)


async def test_a_dead_replicas_slots_end_with_their_lease(redis_server: RedisServer) -> None:
    dead, alive = _slots(redis_server.url, "dead", lease_ms=300), _slots(redis_server.url, "b")
    assert await dead.reserve("CA1", 1) is True
    assert await alive.reserve("CA2", 1) is False
    await asyncio.sleep(0.5)  # the dead replica renews nothing
    assert await alive.reserve("CA2", 1) is True
    assert await alive.count() == 1
    await _close(dead, alive)


async def test_renewal_keeps_slots_and_reports_those_taken_elsewhere(
    redis_server: RedisServer,
) -> None:
    lost: list[str] = []
    a = _slots(redis_server.url, "a", lease_ms=300, lost=lost)
    b = _slots(redis_server.url, "b", lease_ms=300)
    assert await a.reserve("CA1", 5) is True
    assert await a.reserve("CA2", 5) is True
    for _ in range(4):
        await asyncio.sleep(0.1)
        await a.renew()
    assert await b.count() == 2  # renewed past the lease
    assert await b.take("CA2") is True  # its stream went to b
    await a.renew()
    assert lost == ["CA2"]
    assert a.held == {"CA1"}
    await a.release("CA2")  # not a's any more: b keeps it
    assert await b.count() == 2
    await _close(a, b)


async def test_redis_down_then_back_puts_held_slots_back(redis_server: RedisServer) -> None:
    a = _slots(redis_server.url, "a")
    assert await a.reserve("CA1", 5) is True
    redis_server.stop()
    assert await a.reserve("CA2", 5) is None
    assert a.link.healthy is False
    redis_server.start()  # empty: Redis lost every slot
    await a.renew()
    assert await a.count() == 1
    assert await a.reserve("CA3", 1) is False
    await _close(a)


async def test_a_ringing_slot_counts_is_taken_over_by_the_answer_and_freed_by_any_replica(
    redis_server: RedisServer,
) -> None:
    a, b = _slots(redis_server.url, "a"), _slots(redis_server.url, "b")
    assert await a.reserve_ringing("dial_1", 2, 60_000) is True
    assert a.held == set()  # nobody renews it
    assert await b.reserve("CA2", 2) is True
    assert await b.reserve_ringing("dial_3", 2, 60_000) is False  # the cluster is full
    # the answer webhook, on b, takes the ringing slot over whatever the count
    assert await a.reserve_ringing("CA1", None, 60_000) is True
    await a.release_ringing("dial_1")
    assert await a.count() == 2
    assert await b.reserve("CA1", 2) is True
    assert await a.reserve_ringing("CA1", None, 60_000) is True  # a late move changes nothing
    await a.release_ringing("CA1")  # no longer ringing: b's call keeps it
    assert await a.count() == 2
    await b.release("CA1")
    # a dial-out that ends unanswered: any replica gives its slot back
    assert await a.reserve_ringing("CA4", 2, 60_000) is True
    await b.release_ringing("CA4")
    assert await b.count() == 1
    await _close(a, b)


async def test_a_ringing_slot_whose_callbacks_never_come_ends_with_its_lease(
    redis_server: RedisServer,
) -> None:
    a = _slots(redis_server.url, "a")
    assert await a.reserve_ringing("CA1", 1, 200) is True
    assert await a.reserve_ringing("CA2", 1, 200) is False
    await asyncio.sleep(0.3)
    assert await a.reserve_ringing("CA2", 1, 200) is True
    await _close(a)
