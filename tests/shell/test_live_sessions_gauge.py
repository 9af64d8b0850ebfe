"""`gateway_live_sessions` is exact without garbage collection: sessions whose task is cancelled
while they close, while they connect, or while they wait to be claimed stop counting.

Real sessions against the emulator, through the real connector, link and pre-warm pool. Garbage
collection is off and every session stays referenced, so only the sessions' own state can bring
the gauge down (before the fix it fell only when the collector freed a session). What the Live
side still holds open is counted from the emulator's record of connections and their closes.
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import pytest

from gateway.core.events import BridgeEvent, LiveOpened
from gateway.emulator import EmulatorConfig, LiveEmulator
from gateway.live.endpoints import LiveEndpoint, custom_endpoint
from gateway.live.setup import LiveConfig
from gateway.shell.connector import LiveConnector
from gateway.shell.live_client import ClientOptions, LiveSession
from gateway.shell.live_link import CLOSE_LIVE, LiveLink
from gateway.shell.prewarm import PrewarmPool
from tests.e2e.harness import wait_for

CONFIG = LiveConfig(model="models/gemini-live-test")


class Sessions:
    """A connector against the emulator that keeps every session it opened referenced."""

    def __init__(self, emulator: LiveEmulator) -> None:
        self.emulator = emulator
        endpoint = custom_endpoint(emulator.url)

        async def constant() -> LiveEndpoint:
            return endpoint

        self.connector = LiveConnector(constant, CONFIG, ClientOptions())
        self.kept: list[LiveSession] = []

    async def open(self) -> LiveSession:
        session = await self.connector.open()
        self.kept.append(session)
        return session

    @property
    def gauge(self) -> int:
        return self.connector.open_sessions

    @property
    def live_side_open(self) -> int:
        records = self.emulator.recorder.sessions
        return sum(r.connections for r in records) - sum(len(r.closes) for r in records)


@asynccontextmanager
async def sessions(config: EmulatorConfig | None = None) -> AsyncIterator[Sessions]:
    gc.collect()
    gc.disable()
    try:
        async with LiveEmulator(config) as emulator:
            yield Sessions(emulator)
    finally:
        gc.enable()


async def _cancelled(task: asyncio.Task[object]) -> None:
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_a_session_whose_close_is_cancelled_stops_counting_at_once() -> None:
    async with sessions() as live:
        session = await live.open()
        assert (live.gauge, live.connector.opened) == (1, 1)
        closing: asyncio.Task[object] = asyncio.create_task(session.close())
        await asyncio.sleep(0)  # the close frame is out; the reply is awaited
        await _cancelled(closing)
        assert live.gauge == 0
        assert session.close_info is not None
        assert session.close_info.code == 1000
        await wait_for(lambda: live.live_side_open == 0)


async def test_a_link_cancelled_while_it_closes_its_session_leaves_no_session_counted() -> None:
    # What a call's end does: the bridge's CloseLive, then the finisher cancels the link task.
    async with sessions() as live:
        opened = asyncio.Event()

        def handle(event: BridgeEvent, stamp: float) -> None:
            if isinstance(event, LiveOpened):
                opened.set()

        link = LiveLink(
            claim=live.open,
            open_session=None,
            handle=handle,
            connect_timeout_s=10,
            close_timeout_s=5,
            log=None,
        )
        async with asyncio.TaskGroup() as group:
            runner = group.create_task(link.run(group))
            await opened.wait()
            assert live.gauge == 1
            link.enqueue(CLOSE_LIVE)
            await asyncio.sleep(0)  # the link takes CLOSE_LIVE and starts closing
            await asyncio.sleep(0)
            for task in (runner, *link.readers):
                task.cancel()
        assert live.gauge == 0
        await wait_for(lambda: live.live_side_open == 0)


async def test_a_link_cancelled_mid_session_is_closed_by_the_call_and_stops_counting() -> None:
    async with sessions() as live:
        opened = asyncio.Event()
        link = LiveLink(
            claim=live.open,
            open_session=None,
            handle=lambda event, stamp: opened.set(),
            connect_timeout_s=10,
            close_timeout_s=5,
            log=None,
        )
        async with asyncio.TaskGroup() as group:
            runner = group.create_task(link.run(group))
            await opened.wait()
            for task in (runner, *link.readers):
                task.cancel()
        assert live.gauge == 1  # still open: the call's own `finally` closes it
        closing = asyncio.create_task(link.close())
        await asyncio.sleep(0)
        await _cancelled(closing)  # even that close cancelled half-way
        assert live.gauge == 0
        await wait_for(lambda: live.live_side_open == 0)


async def test_a_claim_cancelled_while_its_session_connects_closes_it_once_open() -> None:
    async with sessions() as live:
        pool = PrewarmPool(live.open, hold_s=30)
        assert pool.start("CA1")
        claim: asyncio.Task[object] = asyncio.create_task(pool.claim("CA1"))
        await asyncio.sleep(0)
        assert live.connector.opened == 0  # mid-connect
        await _cancelled(claim)
        await wait_for(lambda: live.connector.opened == 1)
        await wait_for(lambda: live.gauge == 0)
        await wait_for(lambda: live.live_side_open == 0)
        await pool.aclose()


async def test_prewarms_cancelled_mid_connect_or_while_held_leave_nothing_open() -> None:
    async with sessions() as live:
        pool = PrewarmPool(live.open, hold_s=30)
        # CA1 is replaced mid-connect by a repeated webhook; CA2 opens and waits for its stream.
        assert pool.start("CA1")
        assert pool.start("CA2")
        await asyncio.sleep(0)
        assert pool.start("CA1")
        await wait_for(lambda: live.connector.opened == 2)
        assert live.gauge == 2
        await pool.aclose()  # shutdown: the held ones are closed, connects in flight stopped
        assert live.gauge == 0
        await wait_for(lambda: live.live_side_open == 0)


async def test_a_connect_cancelled_before_setup_complete_leaves_no_socket() -> None:
    # The emulator answers setup only after its reply delay would allow: cancel in between.
    async with sessions() as live:
        started: list[asyncio.Task[object]] = []
        for _ in range(5):
            task: asyncio.Task[object] = asyncio.create_task(live.open())
            started.append(task)
        await wait_for(lambda: live.emulator.recorder.sessions != [])  # a setup arrived
        for task in started:
            if not task.done():
                await _cancelled(task)
        await wait_for(lambda: live.live_side_open == live.gauge)
        opened: Callable[[], int] = lambda: sum(1 for s in live.kept if s.is_open)  # noqa: E731
        assert live.gauge == opened()
        for session in live.kept:
            await session.close()
        assert live.gauge == 0
        await wait_for(lambda: live.live_side_open == 0)
