"""Post-call webhook deliveries kept in a real Redis (gateway.shell.cluster_outbox): claimed by
one replica at a time, retried, taken over when a claim's lease ends, bounded across the
cluster, kept in memory while Redis is unavailable, left in Redis for the others at shutdown."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import redis.asyncio as aioredis

from gateway.cluster.link import RedisLink
from gateway.shell.call_webhooks import CallWebhooks, WebhookPolicy
from gateway.shell.cluster_outbox import CLAIMED, DOCS, DUE, RedisOutbox
from gateway.shell.webhook_outbox import Delivery
from tests.loopback import serve_app
from tests.redis_server import RedisServer
from tests.webhook_receiver import Receiver

SECRET = "whsec-0123456789abcdef"
FAST = WebhookPolicy(timeout_s=2.0, backoff_s=0.02, backoff_max_s=0.1, shutdown_s=1.0)


def _delivery(n: int, due_s: float = 100.0, url: str = "http://127.0.0.1:9/hook") -> Delivery:
    body = json.dumps({"delivery_id": f"d{n}", "text": "héllo"}).encode()
    return Delivery(f"d{n}", url, body, created_s=due_s, due_s=due_s)


@asynccontextmanager
async def two_replicas(redis_server: RedisServer) -> AsyncIterator[list[RedisOutbox]]:
    """Two replicas' outboxes on the same Redis, each with its own link."""
    made = [RedisOutbox(RedisLink(redis_server.url), 3, lease_s=5.0) for _ in range(2)]
    try:
        yield made
    finally:
        for outbox in made:
            await outbox.aclose()


async def _keys(url: str) -> dict[str, Any]:
    client = aioredis.Redis.from_url(url, decode_responses=True)
    try:
        return {
            "docs": sorted(await client.hkeys(DOCS)),
            "due": await client.zrange(DUE, 0, -1, withscores=True),
            "claimed": await client.zrange(CLAIMED, 0, -1, withscores=True),
        }
    finally:
        await client.aclose()


async def test_add_claim_by_due_time_and_done(redis_server: RedisServer) -> None:
    async with two_replicas(redis_server) as (a, b):
        assert await a.add(_delivery(1, due_s=110.0))
        assert await a.add(_delivery(2, due_s=100.0))
        assert await b.depth() == 2
        assert await b.next_due_s() == 100.0
        assert await b.claim(99.0) is None  # nothing due yet
        claimed = await b.claim(105.0)
        assert claimed == _delivery(2, due_s=100.0)  # url, body (bytes, utf-8 kept), times
        assert await a.claim(105.0) is None  # d1 is not due, d2 is b's
        assert await a.depth() == 1
        assert await _keys(redis_server.url) == {
            "docs": ["d1", "d2"],
            "due": [("d1", 110.0)],
            "claimed": [("d2", 110.0)],  # 105 + the 5 s lease
        }
        await b.done(claimed)
        assert (await _keys(redis_server.url))["docs"] == ["d1"]


async def test_two_replicas_never_claim_the_same_delivery(redis_server: RedisServer) -> None:
    async with two_replicas(redis_server) as (a, b):
        for n in range(3):
            assert await a.add(_delivery(n))
        claims = await asyncio.gather(*(box.claim(200.0) for box in (a, b, a, b, a, b)))
        taken = sorted(c.delivery_id for c in claims if c is not None)
        assert taken == ["d0", "d1", "d2"]


async def test_a_retry_waits_for_its_due_time_with_its_attempts(redis_server: RedisServer) -> None:
    async with two_replicas(redis_server) as (a, b):
        await a.add(_delivery(1))
        claimed = await a.claim(100.0)
        assert claimed is not None
        claimed.attempts, claimed.due_s, claimed.last_error = 2, 130.0, "status 503"
        await a.retry(claimed)
        assert await b.claim(129.0) is None
        again = await b.claim(130.0)
        assert again is not None
        assert (again.attempts, again.due_s, again.last_error) == (2, 130.0, "status 503")


async def test_a_claim_whose_lease_ended_is_taken_by_another_replica(
    redis_server: RedisServer,
) -> None:
    async with two_replicas(redis_server) as (a, b):
        await a.add(_delivery(1))
        first = await a.claim(100.0)  # a "dies" mid-attempt: never retried nor done
        assert first is not None
        assert await b.claim(104.9) is None  # the lease (5 s) still holds
        taken = await b.claim(105.0)
        assert taken is not None
        assert taken.delivery_id == "d1"
        assert await a.claim(109.0) is None  # b holds it now (its lease: 110)


async def test_the_bound_is_across_the_cluster_and_the_same_id_replaces(
    redis_server: RedisServer,
) -> None:
    async with two_replicas(redis_server) as (a, b):  # max_pending 3, waiting or claimed
        assert await a.add(_delivery(1))
        assert await b.add(_delivery(2))
        assert await a.claim(100.0) is not None  # claimed ones count too
        assert await b.add(_delivery(3))
        assert not await a.add(_delivery(4))  # full
        replacement = _delivery(3, due_s=500.0)
        assert await b.add(replacement)  # the same id: replaced, not counted twice
        keys = await _keys(redis_server.url)
        assert keys["docs"] == ["d1", "d2", "d3"]
        assert ("d3", 500.0) in keys["due"]
        assert await a.discard("d3")
        assert not await a.discard("d3")
        assert (await _keys(redis_server.url))["docs"] == ["d1", "d2"]


async def test_redis_unavailable_keeps_new_deliveries_in_memory(
    redis_server: RedisServer,
) -> None:
    outbox = RedisOutbox(RedisLink(redis_server.url, op_timeout_s=0.3), 3)
    try:
        redis_server.stop()
        assert await outbox.add(_delivery(1))  # never refused for want of Redis
        assert outbox.fallbacks == 1
        assert await outbox.depth() == 1
        assert await outbox.next_due_s() == 100.0
        claimed = await outbox.claim(100.0)
        assert claimed is not None
        assert claimed.delivery_id == "d1"
        assert not await outbox.hand_back(claimed)  # no other replica can see it
        await outbox.retry(claimed)
        assert [d.delivery_id for d in await outbox.drain()] == ["d1"]  # its last try is here
        assert outbox.link.failures > 0
    finally:
        await outbox.aclose()


async def test_a_stopping_replica_leaves_its_deliveries_to_the_other(
    redis_server: RedisServer,
) -> None:
    """Replica A's receiver hangs; A stops: nothing abandoned, its pending documents stay in
    Redis (the one cut short handed back); replica B delivers each exactly once."""
    hanging, receiver = Receiver(hang=True), Receiver()
    policy = WebhookPolicy(timeout_s=30.0, concurrency=1, shutdown_s=0.5)
    async with (
        serve_app(hanging.app()) as dead_base,
        serve_app(receiver.app()) as base,
        httpx.AsyncClient() as http,
    ):
        first = RedisOutbox(RedisLink(redis_server.url), 10)
        a = CallWebhooks(http, SECRET, first, policy)
        a.start()
        for n in range(3):
            assert await a.submit(f"{dead_base}/hook", {"delivery_id": f"d{n}", "n": n})
        async with asyncio.timeout(10):
            while not hanging.received:  # noqa: ASYNC110 - another component's state
                await asyncio.sleep(0.01)
        await a.close()
        await first.aclose()
        assert a.counts["abandoned"] == 0
        assert a.counts["delivered"] == 0
        keys = await _keys(redis_server.url)
        assert keys["docs"] == ["d0", "d1", "d2"]
        assert keys["claimed"] == []

        # Replica B takes them (the documents moved: same bytes, new receiver URL).
        client = aioredis.Redis.from_url(redis_server.url, decode_responses=True)
        for key, text in (await client.hgetall(DOCS)).items():
            fields = json.loads(text)
            fields["url"] = f"{base}/hook"
            await client.hset(DOCS, key, json.dumps(fields))
        await client.aclose()
        second = RedisOutbox(RedisLink(redis_server.url), 10)
        b = CallWebhooks(http, SECRET, second, FAST)
        b.start()
        async with asyncio.timeout(10):
            while b.counts["delivered"] < 3:  # noqa: ASYNC110 - another component's state
                await asyncio.sleep(0.01)
        await b.close()
        await second.aclose()
    assert sorted(r.headers["gateway-delivery"] for r in receiver.received) == ["d0", "d1", "d2"]
    assert json.loads(receiver.documents["d1"]) == {"delivery_id": "d1", "n": 1}
    assert (await _keys(redis_server.url))["docs"] == []
    assert b.counts["abandoned"] == 0


async def test_a_late_document_of_an_earlier_leg_never_replaces_the_calls(
    redis_server: RedisServer,
) -> None:
    async with two_replicas(redis_server) as (a, b):
        first_leg = _delivery(1, due_s=160.0)
        first_leg.leg = 1
        assert await a.add(first_leg)  # leg 1 ended without ending the call: it waits
        assert await b.discard("d1", leg=2)  # leg 2 began on b: leg 1's document withdrawn
        assert await a.claim(1_000.0) is None
        late = _delivery(1, due_s=160.0)
        late.leg = 1
        assert await a.add(late)  # leg 1's document came after leg 2 began: not kept
        assert await a.depth() == 0
        whole = _delivery(1, due_s=200.0)
        whole.leg = 2
        assert await b.add(whole)  # leg 2 ended the call: the call's document
        claimed = await a.claim(200.0)
        assert claimed == whole
        again = _delivery(1, due_s=260.0)
        again.leg = 1
        assert await a.add(again)  # still refused while leg 2's is being sent
        await a.done(claimed)
        assert await a.depth() == 0
        assert await a.claim(1_000.0) is None
