"""The Redis parts against a real redis-server: the link's timeouts and health, single-use
tokens across replicas, and the call state store with its owner lease."""

from __future__ import annotations

import asyncio

import pytest

from gateway.cluster.call_state import CallStateStore
from gateway.cluster.link import ClusterUnavailableError, RedisLink
from gateway.cluster.tokens import ClusterTokens
from gateway.core.carry_on import ENDED, HANDED_OVER, CallSnapshot
from gateway.core.stream_tokens import StreamTokens, token_id
from tests.redis_server import RedisServer

SNAPSHOT = CallSnapshot(profile="sales", handle="h-1", transcript=(("agent", "Hello."),))


async def test_a_token_is_claimed_once_across_replicas_until_it_expires(
    redis_server: RedisServer,
) -> None:
    links = [RedisLink(redis_server.url), RedisLink(redis_server.url)]
    a, b = ClusterTokens(links[0], "a"), ClusterTokens(links[1], "b")
    try:
        assert await a.claim("t1", 300) is True
        assert await b.claim("t1", 300) is False
        assert await a.claim("t1", 300) is False
        await asyncio.sleep(0.4)  # expired: Redis forgot it (the token is dead anyway)
        assert await b.claim("t1", 300) is True
    finally:
        for link in links:
            await link.aclose()


def test_a_tokens_id_ignores_its_base64_spelling() -> None:
    tokens = StreamTokens(b"k" * 32, ttl_s=60)
    token = tokens.issue("CA1", 1_000.0, b"n" * 16, profile="sales")
    named = token_id(token)
    assert named is not None
    assert named[1] == 1_060
    assert token_id(token + "x") is None or token_id(token + "x") != named
    assert token_id("not a token") is None
    assert token_id(None) is None


async def test_the_call_state_and_its_owner(redis_server: RedisServer) -> None:
    link = RedisLink(redis_server.url)
    store = CallStateStore(link, "a", lease_ms=300)
    try:
        assert await store.load("CA1") is None
        assert await store.save("CA1", SNAPSHOT) is True
        assert await store.load("CA1") == SNAPSHOT
        assert await store.owner("CA1") == "a"
        await asyncio.sleep(0.4)
        assert await store.owner("CA1") is None  # the owner stopped renewing (died)
        assert await store.load("CA1") == SNAPSHOT  # the state outlives the owner's lease
        assert await store.mark("CA1", HANDED_OVER) is True
        stored = await store.load("CA1")
        assert stored is not None
        assert stored.status == HANDED_OVER
        assert await store.mark("CA1", ENDED, "stop") is True
        stored = await store.load("CA1")
        assert stored is not None
        assert (stored.status, stored.end_reason, stored.handle) == (ENDED, "stop", "h-1")
    finally:
        await link.aclose()


async def test_the_link_reports_redis_down_and_up(redis_server: RedisServer) -> None:
    changes: list[bool] = []
    link = RedisLink(redis_server.url, op_timeout_s=0.3, on_change=changes.append)
    try:
        assert await link.ping() is True
        redis_server.stop()
        with pytest.raises(ClusterUnavailableError):
            await link.call(lambda client: client.get("x"))
        assert await link.ping() is False
        assert link.healthy is False
        assert link.failures == 2
        redis_server.start()
        assert await link.ping() is True
        assert changes == [True, False, True]  # each change once
    finally:
        await link.aclose()


async def test_a_redis_that_does_not_answer_times_out() -> None:
    # A listening socket that never answers: the call gives up after its timeout.
    writers: list[asyncio.StreamWriter] = []

    def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writers.append(writer)

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    link = RedisLink(f"redis://127.0.0.1:{port}/0", op_timeout_s=0.2)
    try:
        with pytest.raises(ClusterUnavailableError):
            await link.call(lambda client: client.get("x"))
        assert link.healthy is False
    finally:
        await link.aclose()
        for writer in writers:
            writer.close()
        server.close()
        await server.wait_closed()
