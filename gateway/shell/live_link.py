"""One call's link to Live: the current session, what goes out to it, and its replacements.

`LiveLink.run()` is one task of the call's task group. It claims the call's first session, then
drains the Live queue in order: audio, text and tool responses go to the current session;
`ReconnectLive` closes the current session (a resume is refused while it is open), waits the
bridge's backoff and opens the next one (resuming the handle, or fresh with the conversation as
context); `CLOSE_LIVE` closes the session and ends the task. Each session gets a reader task
that feeds its events to the bridge.

Nothing is sent twice across a replacement: everything queued before the `ReconnectLive` goes to
the old session (or, if that socket is already gone, is kept and sent first to the new one);
everything after it goes to the new one. Caller audio is lost in two ways only: frames a dying
socket accepted but the server never read (no client can know them: docs/sessions.md), and the
queue's overflow policy when the Live socket stops taking what it is sent
(`gateway.shell.live_queue`: the oldest caller audio beyond `audio_limit_ms` is dropped, counted
in `dropped`/`dropped_ms`; texts, tool responses and control items are never dropped). A reader
whose session was replaced on purpose does not report its close: the bridge asked for it.

Every line of the call carries the current session's `log_id` as `live_session` from the moment
it opens (`gateway.call_log`), rebound when another session replaces it.

The send timeout closes a stuck session (1011), which the bridge then replaces.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from typing import Any, Final

from gateway.call_log import set_call_field
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
from gateway.shell.deadline import Deadline
from gateway.shell.latency import LatencySamples
from gateway.shell.live_client import LiveClosedError, LiveConnectError, LiveSession
from gateway.shell.live_queue import LIVE_QUEUE_MARGIN_MS, LiveQueue

__all__ = ["CLOSE_LIVE", "LIVE_QUEUE_AUDIO_MS", "LiveLink", "OpenSession"]

LIVE_QUEUE_AUDIO_MS: Final = 30_000.0 + LIVE_QUEUE_MARGIN_MS
"""Default bound of caller audio queued for Live: the bridge's default reconnect buffer (the
most it releases at once) plus the margin. The call runner sizes it from the call's options."""
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
        audio_limit_ms: float = LIVE_QUEUE_AUDIO_MS,
    ) -> None:
        self._claim = claim
        self._open_session = open_session
        self._handle = handle
        self._connect_timeout_s = connect_timeout_s
        self._close_timeout_s = close_timeout_s
        self._log = log
        self.queue = LiveQueue(audio_limit_ms, log)
        self.session: LiveSession | None = None
        self._usable = False  # the current session can take sends
        self._generation = 0  # bumped when a session is replaced on purpose
        self._group: asyncio.TaskGroup | None = None
        self.readers: set[asyncio.Task[None]] = set()
        """The session reader tasks still running (the call cancels them when it ends)."""
        self.uplink_ms = LatencySamples()
        self.live_session: str | None = None
        """The current (or last) session's `log_id`: the `live_session` of the call's lines."""
        self._send_deadline: Deadline | None = None
        """Bounds the sends of `run`'s task, for every session (`LiveSession.send_deadline`)."""

    # ------------------------------------------------------------------------ queue

    def enqueue(self, item: object, stamp: float = 0.0) -> None:
        """Queue a Live command (or `CLOSE_LIVE`); past the audio limit the oldest caller audio
        is dropped, never anything else (see `gateway.shell.live_queue`)."""
        self.queue.put(item, stamp)

    @property
    def dropped(self) -> int:
        """Caller audio items dropped by the queue's overflow policy."""
        return self.queue.dropped

    @property
    def dropped_ms(self) -> float:
        """Caller audio dropped by the queue's overflow policy (ms)."""
        return self.queue.dropped_ms

    # -------------------------------------------------------------------------- run

    async def run(self, group: asyncio.TaskGroup) -> None:
        """Claim the first session, then send, replace and close as the queue says."""
        self._group = group
        self._send_deadline = Deadline(asyncio.get_running_loop(), asyncio.current_task())
        try:
            await self._run()
        finally:
            self._send_deadline.close()

    async def _run(self) -> None:
        await self._connect(self._claim, resumed=False)
        queue = self.queue
        while True:
            carried = queue.has_kept and self._usable
            item, stamp = queue.take_kept() if carried else await queue.get()
            if item is CLOSE_LIVE:
                await self.close()
                return
            if isinstance(item, ReconnectLive):
                await self._replace(item)
                continue
            if not self._usable or not await self._send(item, stamp):
                # Kept for the next session, in order: a carried item goes back to the front.
                queue.keep(item, stamp, first=carried)

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
        session.send_deadline = self._send_deadline
        # Every line of the call carries the session from now on (until the next one).
        session_id = self.live_session = session.log_id
        set_call_field("live_session", session_id)
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
