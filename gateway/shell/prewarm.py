"""Live sessions opened while the webhook is answered, waiting for their media stream.

Opening a Live session takes a TLS handshake and a setup round trip (hundreds of ms). The webhook
starts it (`start(call_id)`) and answers Twilio at once; by the time the media stream's `start`
arrives the session is usually ready, so the caller's first words go straight to the model.
`claim(call_id)` hands the session (or the connect still in flight) to the stream. A session no
stream claims within `hold_s` is closed, so an abandoned call never holds a paid session.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import structlog

from gateway.live.closes import close_info
from gateway.log import get_logger
from gateway.shell.live_client import LiveConnectError, LiveSession

__all__ = ["PrewarmPool"]

_log = get_logger(component="prewarm")
_CLOSE_TIMEOUT_S = 5.0


@dataclass
class _Entry:
    session: asyncio.Future[LiveSession]
    claimed: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task[None] | None = None


class PrewarmPool:
    """Pre-warmed Live sessions by call id. Use inside a running loop; `aclose()` at shutdown."""

    def __init__(
        self,
        open_session: Callable[[], Awaitable[LiveSession]],
        *,
        hold_s: float,
        max_pending: int = 1000,
    ) -> None:
        self._open = open_session
        self._hold_s = hold_s
        self._max_pending = max_pending
        self._entries: dict[str, _Entry] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self.expired = 0

    def __len__(self) -> int:
        return len(self._entries)

    def start(
        self, call_id: str, open_session: Callable[[], Awaitable[LiveSession]] | None = None
    ) -> bool:
        """Begin opening a session for `call_id` (replacing an unclaimed one); False when full.

        `open_session` opens it (the call's agent profile); default: the pool's opener."""
        if self._hold_s <= 0:
            return False
        previous = self._entries.pop(call_id, None)
        if previous is not None and previous.task is not None:
            previous.task.cancel()  # a repeated webhook for the same call: keep one session
        if len(self._entries) >= self._max_pending:
            _log.warning("live.prewarm_refused", call_sid=call_id, pending=len(self._entries))
            return False
        entry = _Entry(session=asyncio.get_running_loop().create_future())
        opener = open_session or self._open
        entry.task = asyncio.create_task(
            self._run(call_id, entry, opener), name=f"prewarm-{call_id}"
        )
        self._tasks.add(entry.task)
        entry.task.add_done_callback(self._tasks.discard)
        self._entries[call_id] = entry
        return True

    async def claim(self, call_id: str) -> LiveSession | None:
        """The call's pre-warmed session, waiting for its connect if needed; None if there is none.

        Raises LiveConnectError when the pre-warm connect failed (the caller decides whether a
        fresh attempt is worth it). The caller owns (and must close) the returned session.
        """
        entry = self._entries.pop(call_id, None)
        if entry is None:
            return None
        entry.claimed.set()
        try:
            return await asyncio.shield(entry.session)
        except asyncio.CancelledError:
            if not entry.session.cancelled():
                # Our own task is being cancelled: whoever opens the session must close it.
                entry.session.add_done_callback(self._close_orphan)
                raise
            raise LiveConnectError(
                "pre-warm cancelled", close_info(None, "pre-warm cancelled", go_away_seen=False)
            ) from None

    def discard(self, call_id: str) -> None:
        """Close `call_id`'s unclaimed session now (its stream went to another replica)."""
        entry = self._entries.pop(call_id, None)
        if entry is not None and entry.task is not None and not entry.claimed.is_set():
            entry.task.cancel()
            _log.info("live.prewarm_discarded", call_sid=call_id)

    async def _run(
        self, call_id: str, entry: _Entry, opener: Callable[[], Awaitable[LiveSession]]
    ) -> None:
        # This task's own context: the Live client's lines about this session carry the call.
        structlog.contextvars.bind_contextvars(call_sid=call_id)
        log = _log
        try:
            session = await opener()
        except LiveConnectError as exc:
            log.warning("live.prewarm_failed", code=exc.close.code, kind=exc.close.kind.value)
            entry.session.set_exception(exc)
            entry.session.exception()  # retrieved: an unclaimed failure is not "never retrieved"
            self._forget(call_id, entry)
            return
        except asyncio.CancelledError:
            entry.session.cancel()
            raise
        entry.session.set_result(session)
        try:
            async with asyncio.timeout(self._hold_s):
                await entry.claimed.wait()
            return
        except TimeoutError:
            if entry.claimed.is_set():  # claimed as the hold ran out: the claimer owns it
                return
            self.expired += 1
            log.warning("live.prewarm_expired", hold_s=self._hold_s)
        except asyncio.CancelledError:
            if entry.claimed.is_set():
                raise
            await _close(session)
            raise
        self._forget(call_id, entry)
        await _close(session)

    def _close_orphan(self, future: asyncio.Future[LiveSession]) -> None:
        if future.cancelled() or future.exception() is not None:
            return
        task = asyncio.get_running_loop().create_task(_close(future.result()))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _forget(self, call_id: str, entry: _Entry) -> None:
        if self._entries.get(call_id) is entry:
            del self._entries[call_id]

    async def aclose(self) -> None:
        """Close every unclaimed session and stop every pending connect."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._entries.clear()


async def _close(session: LiveSession) -> None:
    with contextlib.suppress(Exception):
        async with asyncio.timeout(_CLOSE_TIMEOUT_S):
            await session.close()
