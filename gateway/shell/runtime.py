"""The gateway's process-wide state: the calls it holds (registry) and its lifecycle (drain).

One `GatewayRuntime` lives on `app.state.gateway` for the life of the server. A carrier's voice
webhook asks it to take a call (`admit_call`: the admission decision, the agent answering the
dialed number, a stream token, a pre-warmed Live session); its media route asks it for the
stream's grant (`grant`) and the call's Live session (`claim_session`), and holds a `call_slot`
while the call runs. `drain` stops taking calls and ends the running ones.

What is decided elsewhere: whether a call is taken is `gateway.core.admission.decide` over the
load measured here (the calls running now plus the calls answered at a webhook whose stream has
not started yet, their token neither redeemed nor expired: a burst of webhooks cannot admit more
than GATEWAY_MAX_CALLS between the answer and the stream) and the limits built from the settings
and the drain; what a refused caller hears is `gateway.carriers.refusal`; what happened is
counted by `gateway.shell.counters` (`counters`), which the metrics read.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

import structlog

from gateway.agents.loader import profile_from_settings
from gateway.agents.profile import AgentDirectory, AgentProfile
from gateway.carriers.refusal import FALLBACK_MESSAGE, FALLBACK_TRANSFER_MESSAGE, Refusal, refusal
from gateway.core.admission import NO_AGENT, Limit, Load, MaxCalls, NotDraining, Refuse, decide
from gateway.core.events import CallStarted
from gateway.core.stream_tokens import STREAM_TOKEN_PARAMETER, StreamTokens, TokenCheck
from gateway.core.transcript import TranscriptLine
from gateway.live.setup import LiveConfig
from gateway.log import get_logger
from gateway.settings import Settings
from gateway.shell.connector import LiveConnector
from gateway.shell.counters import GatewayCounters
from gateway.shell.latency import LatencySamples
from gateway.shell.live_client import LiveConnectError, LiveSession
from gateway.shell.prewarm import PrewarmPool

if TYPE_CHECKING:
    from gateway.shell.http_guard import ConnectionGuard

__all__ = [
    "FALLBACK_MESSAGE",
    "FALLBACK_TRANSFER_MESSAGE",
    "Admitted",
    "CallObserver",
    "CallRecord",
    "GatewayRuntime",
    "Refusal",
    "RunningCall",
    "StreamGrant",
]

_log = get_logger(component="gateway")
DRAIN_END_GRACE_S = 10.0
"""After `request_end("draining")`, how long the remaining calls get to close before shutdown
goes on without them (their goodbye, the Live close, the carrier close: each bounded itself)."""


@dataclass(frozen=True)
class CallRecord:
    """A finished call, as observers see it: the `call.ended` summary and the transcript."""

    carrier: str
    call_id: str
    summary: Mapping[str, Any]
    transcript: Sequence[TranscriptLine]
    latency_ms: Mapping[str, LatencySamples] = field(default_factory=dict)
    """The gateway's added latency samples by direction (`uplink`, `downlink`, `clear`)."""
    profile: str = "default"
    """The agent profile that answered the call (docs/agents.md)."""


@dataclass(frozen=True)
class Admitted:
    """A webhook's call was taken: its stream token names the agent that answers it."""

    token: str
    profile: str
    prewarming: bool


@dataclass(frozen=True)
class StreamGrant:
    """A stream whose token held: the agent answering it, and who called whom (when known)."""

    profile: AgentProfile
    from_number: str | None = None
    to_number: str | None = None


CallObserver = Callable[[CallRecord], None]


class RunningCall(Protocol):
    """A media stream holding a call slot, as the drain sees it."""

    @property
    def call_id(self) -> str | None:
        """The carrier's call id once the stream's `start` came (None before)."""
        ...

    def request_end(self, reason: str) -> None:
        """End the call cleanly (or stop waiting for its start)."""
        ...


class GatewayRuntime:
    def __init__(
        self,
        settings: Settings,
        connector: LiveConnector,
        *,
        agents: AgentDirectory | None = None,
        wall_clock_s: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self.connector = connector
        self.agents = agents or AgentDirectory.single(profile_from_settings(settings, None))
        self._wall_clock_s = wall_clock_s
        self.tokens = StreamTokens(settings.server.secret, ttl_s=settings.server.stream_token_ttl_s)
        self.prewarm = PrewarmPool(connector.open, hold_s=settings.server.prewarm_hold_s)
        self.counters = GatewayCounters()
        self.calls: set[RunningCall] = set()
        """The calls running now (each holds a `call_slot`)."""
        self._awaiting_stream: dict[str, float] = {}
        """Calls answered at the webhook whose stream has not started: call id -> token expiry."""
        self._parties: dict[str, tuple[str | None, str | None]] = {}
        """Calls answered here whose stream has not started: call id -> (from, to) numbers."""
        self.draining = False
        self._hurry = False
        self.observers: list[CallObserver] = []
        """Called with each finished call (metrics, transcripts, tests); must not block."""
        self.http_guard: ConnectionGuard | None = None
        """The server's guard on connections waiting for a request (its counts are metrics)."""

    @property
    def active_calls(self) -> int:
        """Media streams holding a call slot now (awaiting their start, or running)."""
        return len(self.calls)

    # Read-only views of the counters (kept for the callers that read them off the runtime).

    @property
    def calls_total(self) -> int:
        return self.counters.calls_ended

    @property
    def webhooks_rejected(self) -> int:
        return self.counters.webhooks_rejected

    @property
    def streams_rejected(self) -> int:
        return self.counters.streams_rejected

    @property
    def refused(self) -> dict[str, int]:
        return dict(self.counters.refused)

    @asynccontextmanager
    async def call_slot(self, call: RunningCall) -> AsyncIterator[None]:
        """Count `call` as an active call while the block runs (the drain may end it)."""
        self.calls.add(call)
        try:
            yield
        finally:
            self.calls.discard(call)

    def call_ended(self, record: CallRecord) -> None:
        """Log the call's summary line and tell the observers."""
        self.counters.call_ended()
        _log.info("call.ended", carrier=record.carrier, **record.summary)
        for observer in self.observers:
            try:
                observer(record)
            except Exception:  # an observer's bug must not break the call path
                _log.exception("call.observer_failed")

    @property
    def load(self) -> int:
        """Calls counted against GATEWAY_MAX_CALLS: running, or answered and awaiting a stream."""
        return self.current_load().calls

    def current_load(self) -> Load:
        """The load now (answered calls whose token expired unused no longer count)."""
        now = self._wall_clock_s()
        expired = [call for call, until in self._awaiting_stream.items() if until <= now]
        for call in expired:
            del self._awaiting_stream[call]
            self._parties.pop(call, None)
        return Load(running=len(self.calls), awaiting_stream=len(self._awaiting_stream))

    def limits(self) -> tuple[Limit, ...]:
        """What a new call must meet now, in order (the first refusal names the reason)."""
        return (NotDraining(self.draining), MaxCalls(self.settings.server.max_calls))

    @property
    def ready(self) -> bool:
        """Whether a new call would be admitted now (what `GET /readyz` answers)."""
        return not isinstance(decide(self.current_load(), self.limits()), Refuse)

    def admission(self) -> Refusal | None:
        """None when a webhook may take its call (then `issue_token`), else the fallback to answer.

        A refused call opens no Live session and gets no token: the carrier plays the message and
        dials GATEWAY_FALLBACK_NUMBER when it is set, else hangs up.
        """
        decision = decide(self.current_load(), self.limits())
        return self._refusal(decision.reason) if isinstance(decision, Refuse) else None

    def _refusal(self, reason: str) -> Refusal:
        self.counters.call_refused(reason)
        return refusal(reason, self.settings.server.fallback_number)

    def admit_call(
        self, call_id: str, *, to_number: str = "", from_number: str = ""
    ) -> Admitted | Refusal:
        """Take a webhook's call or refuse it: `admission`, then the agent profile answering
        `to_number` (none: refused as `no agent`), a stream token naming it, and its Live
        session pre-warmed with that profile's setup."""
        refusal = self.admission()
        if refusal is not None:
            return refusal
        profile = self.agents.select(to_number)
        if profile is None:
            return self._refusal(NO_AGENT)
        token = self.issue_token(
            call_id, profile=profile.name, parties=(from_number or None, to_number or None)
        )
        live = profile.live

        def open_session() -> Awaitable[LiveSession]:
            return self.connector.open(config=live)

        prewarming = self.prewarm.start(call_id, open_session)
        return Admitted(token, profile.name, prewarming)

    def issue_token(
        self,
        call_id: str,
        *,
        profile: str = "",
        parties: tuple[str | None, str | None] = (None, None),
    ) -> str:
        """A fresh single-use stream token for `call_id` (the call now counts as admitted)."""
        now = self._wall_clock_s()
        self._awaiting_stream[call_id] = now + self.settings.server.stream_token_ttl_s
        self._parties[call_id] = parties
        return self.tokens.issue(call_id, now, secrets.token_bytes(16), profile=profile)

    def authorize(self, started: CallStarted) -> str | None:
        """None when the stream's `start` carries a valid, unused token for its call."""
        grant = self.grant(started)
        return grant if isinstance(grant, str) else None

    def grant(self, started: CallStarted) -> StreamGrant | str:
        """The agent for a stream whose `start` carries a valid, unused token for its call, else
        why the stream is refused. The profile comes from the signed token (any replica sharing
        GATEWAY_SECRET agrees); the numbers only from this process's webhook, when it had it."""
        token = started.custom_parameters.get(STREAM_TOKEN_PARAMETER)
        check, name = self.tokens.redeem_profile(token, started.call_id, self._wall_clock_s())
        if check is not TokenCheck.VALID:
            self.counters.stream_rejected()
            return f"token {check.name.lower()}"
        self._awaiting_stream.pop(started.call_id, None)  # it is in `calls` now
        from_number, to_number = self._parties.pop(started.call_id, (None, None))
        profile = self.agents.get(name) if name else None
        if profile is None:
            default = self.agents.select(None)
            if default is None:
                self.counters.stream_rejected()
                return f"unknown profile {name!r}"
            if name:  # a replica with another profiles file issued it
                _log.warning("stream.unknown_profile", profile=name, using=default.name)
            profile = default
        return StreamGrant(profile, from_number, to_number)

    async def claim_session(self, call_id: str, config: LiveConfig | None = None) -> LiveSession:
        """The pre-warmed session of `call_id`, else (or if its connect failed) a fresh one
        (with `config`: the call's profile; default: the connector's)."""
        try:
            session = await self.prewarm.claim(call_id)
        except LiveConnectError as exc:
            _log.info("live.prewarm_unusable", code=exc.close.code, kind=exc.close.kind.value)
            session = None
        if session is not None:
            return session
        return await self.connector.open(config=config)

    async def drain(self, timeout_s: float, *, end_grace_s: float = DRAIN_END_GRACE_S) -> int:
        """Stop taking calls, let the running ones finish for up to `timeout_s` (or until
        `hurry_drain`), then end the rest (`request_end("draining")`) and give them `end_grace_s`
        to close. Returns how many calls had to be ended. Readiness is false and webhooks get the
        fallback from the first moment.
        """
        self.draining = True
        _log.info(
            "gateway.draining",
            active_calls=len(self.calls),
            awaiting_stream=self.load - len(self.calls),
            timeout_s=timeout_s,
        )
        # Calls answered just before the drain still get their stream: wait for them too.
        finished = await self._wait_idle(timeout_s, include_awaiting=True, hurriable=True)
        ended = 0
        if not finished:
            ended = len(self.calls)
            _log.warning("gateway.drain_ending_calls", calls=ended, timeout_s=timeout_s)
            for runner in list(self.calls):
                # What the call logs as it ends carries its id, not the drain's empty context.
                with structlog.contextvars.bound_contextvars(call_sid=runner.call_id):
                    runner.request_end("draining")
            if not await self._wait_idle(end_grace_s, include_awaiting=False, hurriable=False):
                _log.error("gateway.drain_incomplete", calls_left=len(self.calls))
        _log.info("gateway.drained", ended_calls=ended)
        return ended

    def hurry_drain(self) -> None:
        """End the drain's wait now (a second signal): running calls are ended at once."""
        self._hurry = True

    async def _wait_idle(
        self, timeout_s: float, *, include_awaiting: bool, hurriable: bool
    ) -> bool:
        """Poll until no call runs (nor, with `include_awaiting`, waits for its stream)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while self.calls or (include_awaiting and self.load > 0):
            left = deadline - loop.time()
            if left <= 0 or (hurriable and self._hurry):
                return False
            await asyncio.sleep(min(0.1, left))
        return True

    async def aclose(self) -> None:
        await self.prewarm.aclose()
