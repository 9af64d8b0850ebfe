"""The gateway's process-wide state: stream tokens, pre-warmed sessions, active calls.

One `GatewayRuntime` lives on `app.state.gateway` for the life of the server. Routes ask it to
authorize a media stream (`authorize`) and to hand a call its Live session (`claim_session`).
"""

from __future__ import annotations

import secrets
import time
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from gateway.core.events import CallStarted
from gateway.core.stream_tokens import STREAM_TOKEN_PARAMETER, StreamTokens, TokenCheck
from gateway.core.transcript import TranscriptLine
from gateway.log import get_logger
from gateway.settings import Settings
from gateway.shell.connector import LiveConnector
from gateway.shell.live_client import LiveConnectError, LiveSession
from gateway.shell.prewarm import PrewarmPool

if TYPE_CHECKING:
    from gateway.shell.call_runner import CallRunner

__all__ = ["CallObserver", "CallRecord", "GatewayRuntime"]

_log = get_logger(component="gateway")


@dataclass(frozen=True)
class CallRecord:
    """A finished call, as observers see it: the `call.ended` summary and the transcript."""

    carrier: str
    call_id: str
    summary: Mapping[str, Any]
    transcript: Sequence[TranscriptLine]


CallObserver = Callable[[CallRecord], None]


class GatewayRuntime:
    def __init__(
        self,
        settings: Settings,
        connector: LiveConnector,
        *,
        wall_clock_s: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self.connector = connector
        self._wall_clock_s = wall_clock_s
        self.tokens = StreamTokens(settings.server.secret, ttl_s=settings.server.stream_token_ttl_s)
        self.prewarm = PrewarmPool(connector.open, hold_s=settings.server.prewarm_hold_s)
        self.active_calls = 0
        self.calls_total = 0
        self.webhooks_rejected = 0
        self.streams_rejected = 0
        self.calls: set[CallRunner] = set()
        """The calls running now (each holds a `call_slot`)."""
        self.observers: list[CallObserver] = []
        """Called with each finished call (metrics, transcripts, tests); must not block."""

    @asynccontextmanager
    async def call_slot(self, runner: CallRunner) -> AsyncIterator[None]:
        """Count `runner` as an active call while the block runs."""
        self.calls.add(runner)
        self.active_calls += 1
        try:
            yield
        finally:
            self.active_calls -= 1
            self.calls.discard(runner)

    def call_ended(self, record: CallRecord) -> None:
        """Log the call's summary line and tell the observers."""
        self.calls_total += 1
        _log.info("call.ended", carrier=record.carrier, **record.summary)
        for observer in self.observers:
            try:
                observer(record)
            except Exception:  # an observer's bug must not break the call path
                _log.exception("call.observer_failed")

    def issue_token(self, call_id: str) -> str:
        """A fresh single-use stream token for `call_id`."""
        return self.tokens.issue(call_id, self._wall_clock_s(), secrets.token_bytes(16))

    def authorize(self, started: CallStarted) -> str | None:
        """None when the stream's `start` carries a valid, unused token for its call."""
        token = started.custom_parameters.get(STREAM_TOKEN_PARAMETER)
        check = self.tokens.redeem(token, started.call_id, self._wall_clock_s())
        if check is TokenCheck.VALID:
            return None
        self.streams_rejected += 1
        return f"token {check.name.lower()}"

    async def claim_session(self, call_id: str) -> LiveSession:
        """The pre-warmed session of `call_id`, else (or if its connect failed) a fresh one."""
        try:
            session = await self.prewarm.claim(call_id)
        except LiveConnectError as exc:
            _log.info("live.prewarm_unusable", code=exc.close.code, kind=exc.close.kind.value)
            session = None
        if session is not None:
            return session
        return await self.connector.open()

    async def aclose(self) -> None:
        await self.prewarm.aclose()
