"""One call's link to Live: the current session, what goes out to it, and its replacements.

`LiveLink.run()` is one task of the call's task group. It claims the call's first session, then
drains the Live queue in order: audio, text and tool responses go to the current session;
`ReconnectLive` closes the current session (a resume is refused while it is open), waits the
bridge's backoff and opens the next one (resuming the handle, or fresh with the conversation as
context); `CLOSE_LIVE` closes the session and ends the task. Each session gets a reader task
that feeds its events to the bridge.

No caller audio is lost or sent twice across a replacement: everything queued before the
`ReconnectLive` goes to the old session (or, if that socket is already gone, is kept and sent
first to the new one); everything after it goes to the new one. A reader whose session was
replaced on purpose does not report its close: the bridge asked for it.

Queue policy (`LIVE_QUEUE_MAX` items, about 10 s of caller audio): drop-oldest, counted. The
send timeout closes a stuck session (1011), which the bridge then replaces.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any, Final

import structlog

from gateway.core.events import (
    BridgeEvent,
    LiveClosed,
    LiveOpened,
    ReconnectLive,
    SendAudio,
    SendText,
    SendToolResponse,
)
from gateway.live.closes import close_info
from gateway.shell.latency import LatencySamples
from gateway.shell.live_client import LiveClosedError, LiveConnectError, LiveSession

__all__ = ["CLOSE_LIVE", "LIVE_QUEUE_MAX", "LiveLink", "OpenSession"]

LIVE_QUEUE_MAX: Final = 500
CLOSE_LIVE: Final = object()
"""Queue sentinel: close the session after what is queued, and stop."""

OpenSession = Callable[[str | None, str | None], Awaitable[LiveSession]]
"""Opens a new session: (resume handle, conversation context) -> a ready session."""
Handle = Callable[[BridgeEvent, float], None]


class LiveLink:
    def __init__(
        self,
        *,
        claim: Callable[[], Awaitable[LiveSession]],
        open_session: OpenSession | None,
        handle: Handle,
        connect_timeout_s: float,
        close_timeout_s: float,
        log: Any,
    ) -> None:
        self._claim = claim
        self._open_session = open_session
        self._handle = handle
        self._connect_timeout_s = connect_timeout_s
        self._close_timeout_s = close_timeout_s
        self._log = log
        self.queue: asyncio.Queue[tuple[object, float]] = asyncio.Queue(LIVE_QUEUE_MAX)
        self.session: LiveSession | None = None
        self._usable = False  # the current session can take sends
        self._generation = 0  # bumped when a session is replaced on purpose
        self._group: asyncio.TaskGroup | None = None
        self.readers: set[asyncio.Task[None]] = set()
        """The session reader tasks still running (the call cancels them when it ends)."""
        self.dropped = 0
        self.uplink_ms = LatencySamples()

    # ------------------------------------------------------------------------ queue

    def enqueue(self, item: object, stamp: float = 0.0) -> None:
        """Queue a Live command (or `CLOSE_LIVE`); a full queue drops its oldest item."""
        queue = self.queue
        if queue.full():
            queue.get_nowait()  # drop-oldest (see the module docstring)
            if self.dropped == 0:
                self._log.warning("live.queue_overflow", policy="drop-oldest")
            self.dropped += 1
        queue.put_nowait((item, stamp))

    # -------------------------------------------------------------------------- run

    async def run(self, group: asyncio.TaskGroup) -> None:
        """Claim the first session, then send, replace and close as the queue says."""
        self._group = group
        await self._connect(self._claim, resumed=False)
        unsent: deque[tuple[object, float]] = deque()
        while True:
            carried = bool(unsent) and self._usable
            item, stamp = unsent.popleft() if carried else await self.queue.get()
            if item is CLOSE_LIVE:
                await self.close()
                return
            if isinstance(item, ReconnectLive):
                await self._replace(item)
                continue
            if not self._usable or not await self._send(item, stamp):
                # Kept for the next session, in order: a carried item goes back to the front.
                if carried:
                    unsent.appendleft((item, stamp))
                else:
                    unsent.append((item, stamp))

    async def _send(self, item: object, stamp: float) -> bool:
        """Send one command; False when the session could not take it (kept for the next)."""
        session = self.session
        assert session is not None
        try:
            if isinstance(item, SendAudio):
                await session.send_audio(item.pcm, item.rate_hz)
                if stamp:
                    self.uplink_ms.add((time.perf_counter() - stamp) * 1000)
            elif isinstance(item, SendText):
                await session.send_text(item.text)
            elif isinstance(item, SendToolResponse):
                await session.send_tool_response(item.results)
        except LiveClosedError:
            self._usable = False  # the reader reports the close to the bridge
            return False
        except TimeoutError:
            self._usable = False
            self._log.warning("live.send_timeout")
            await self._close_session(session, 1011, "send timeout")  # the reader reports it
            return False
        return True

    async def _replace(self, command: ReconnectLive) -> None:
        self._generation += 1  # the old reader's close is not news: the bridge asked for it
        old, self.session, self._usable = self.session, None, False
        if old is not None:
            await self._close_session(old, 1000, "handover")
        if command.delay_ms > 0:
            await asyncio.sleep(command.delay_ms / 1000)
        opener = self._open_session
        if opener is None:
            closed = close_info(1011, "reconnecting is not configured", go_away_seen=False)
            self._handle(LiveClosed(closed), 0.0)
            return

        def reopen() -> Awaitable[LiveSession]:
            assert opener is not None
            return opener(command.handle, command.context)

        await self._connect(reopen, resumed=command.handle is not None)

    async def _connect(
        self, opener: Callable[[], Awaitable[LiveSession]], *, resumed: bool
    ) -> None:
        try:
            async with asyncio.timeout(self._connect_timeout_s):
                session = await opener()
        except LiveConnectError as exc:
            self._handle(LiveClosed(exc.close), 0.0)
            return
        except TimeoutError:
            self._handle(LiveClosed(close_info(None, "connect timeout", go_away_seen=False)), 0.0)
            return
        self.session, self._usable = session, True
        session_id = session.setup.session_id
        structlog.contextvars.bind_contextvars(live_session=session_id)
        assert self._group is not None
        reader = self._group.create_task(self._read(session, self._generation), name="live-reader")
        self.readers.add(reader)
        reader.add_done_callback(self.readers.discard)
        self._handle(LiveOpened(session_id=session_id, resumed=resumed), 0.0)

    async def _read(self, session: LiveSession, generation: int) -> None:
        while True:
            try:
                events = await session.recv()
            except LiveClosedError as exc:
                if generation == self._generation:
                    self._usable = False
                    self._handle(LiveClosed(exc.close), 0.0)
                return
            if generation != self._generation and self.session is not None:
                return  # a newer session is live: this one's leftovers are stale
            stamp = session.frame_received_s
            for event in events:
                self._handle(event, stamp)

    # ------------------------------------------------------------------------ close

    async def close(self, code: int = 1000, reason: str = "") -> None:
        """Close the current session (if any); the reader then ends quietly."""
        session, self.session, self._usable = self.session, None, False
        self._generation += 1
        if session is not None:
            await self._close_session(session, code, reason)

    async def _close_session(self, session: LiveSession, code: int, reason: str) -> None:
        with contextlib.suppress(Exception):
            async with asyncio.timeout(self._close_timeout_s):
                await session.close(code, reason)
