"""PrewarmPool: sessions opened at the webhook, claimed by the stream, closed when unclaimed."""

from __future__ import annotations

import asyncio
from typing import Any, cast

import pytest

from gateway.live.closes import close_info
from gateway.shell.live_client import LiveConnectError, LiveSession
from gateway.shell.prewarm import PrewarmPool


class FakeSession:
    def __init__(self, number: int) -> None:
        self.number = number
        self.closed = False

    async def close(self, code: int = 1000, reason: str = "") -> Any:
        self.closed = True


class Opener:
    """Opens FakeSessions; `gate` (when set) holds every open until released."""

    def __init__(self, *, fail: bool = False, gate: asyncio.Event | None = None) -> None:
        self.opened: list[FakeSession] = []
        self.fail = fail
        self.gate = gate

    async def __call__(self) -> LiveSession:
        if self.gate is not None:
            await self.gate.wait()
        if self.fail:
            raise LiveConnectError("refused", close_info(1008, "no", go_away_seen=False))
        session = FakeSession(len(self.opened) + 1)
        self.opened.append(session)
        return cast(LiveSession, session)


async def test_claim_returns_the_prewarmed_session_and_leaves_it_open() -> None:
    opener = Opener()
    pool = PrewarmPool(opener, hold_s=5)
    assert pool.start("CA1")
    session = await pool.claim("CA1")
    assert session is not None
    assert cast(FakeSession, session).number == 1
    await asyncio.sleep(0)
    assert not opener.opened[0].closed
    assert len(pool) == 0
    assert await pool.claim("CA1") is None  # single claim
    await pool.aclose()
    assert not opener.opened[0].closed  # the claimer owns it now


async def test_claim_waits_for_a_connect_in_flight() -> None:
    gate = asyncio.Event()
    opener = Opener(gate=gate)
    pool = PrewarmPool(opener, hold_s=5)
    pool.start("CA1")
    claim = asyncio.create_task(pool.claim("CA1"))
    await asyncio.sleep(0.01)
    assert not claim.done()
    gate.set()
    session = await asyncio.wait_for(claim, 2)
    assert cast(FakeSession, session).number == 1
    await pool.aclose()


async def test_an_unclaimed_session_is_closed_after_the_hold() -> None:
    opener = Opener()
    pool = PrewarmPool(opener, hold_s=0.05)
    pool.start("CA1")
    for _ in range(100):
        await asyncio.sleep(0.01)
        if opener.opened and opener.opened[0].closed:
            break
    assert opener.opened[0].closed
    assert pool.expired == 1
    assert await pool.claim("CA1") is None
    await pool.aclose()


async def test_a_failed_prewarm_raises_to_the_claimer() -> None:
    pool = PrewarmPool(Opener(fail=True), hold_s=5)
    pool.start("CA1")
    with pytest.raises(LiveConnectError):
        await pool.claim("CA1")
    await pool.aclose()


async def test_a_repeated_webhook_keeps_one_session_and_closes_the_other() -> None:
    opener = Opener()
    pool = PrewarmPool(opener, hold_s=5)
    pool.start("CA1")
    await asyncio.sleep(0.01)
    pool.start("CA1")
    session = await pool.claim("CA1")
    await asyncio.sleep(0.01)
    assert cast(FakeSession, session).number == 2
    assert opener.opened[0].closed
    assert not opener.opened[1].closed
    await pool.aclose()


async def test_aclose_closes_unclaimed_sessions_and_leaves_no_task() -> None:
    opener = Opener()
    pool = PrewarmPool(opener, hold_s=5)
    pool.start("CA1")
    pool.start("CA2")
    await asyncio.sleep(0.01)
    before = len(asyncio.all_tasks())
    await pool.aclose()
    assert all(s.closed for s in opener.opened)
    assert len(asyncio.all_tasks()) == before - 2


async def test_a_claimer_cancelled_while_connecting_does_not_leak_the_session() -> None:
    gate = asyncio.Event()
    opener = Opener(gate=gate)
    pool = PrewarmPool(opener, hold_s=5)
    pool.start("CA1")
    claim = asyncio.create_task(pool.claim("CA1"))
    await asyncio.sleep(0.01)
    claim.cancel()
    with pytest.raises(asyncio.CancelledError):
        await claim
    gate.set()
    for _ in range(100):
        await asyncio.sleep(0.01)
        if opener.opened and opener.opened[0].closed:
            break
    assert opener.opened[0].closed
    await pool.aclose()


async def test_zero_hold_disables_prewarming() -> None:
    opener = Opener()
    pool = PrewarmPool(opener, hold_s=0)
    assert not pool.start("CA1")
    assert await pool.claim("CA1") is None
    assert opener.opened == []
