"""The gateway's process-wide state: the calls it holds (registry) and its lifecycle (drain).

One `GatewayRuntime` lives on `app.state.gateway` for the life of the server. It holds the calls
(`calls`: every accepted media stream, from its accept to its end, through `call_slot`; and the
calls answered at a webhook whose stream has not started, `awaiting`), decides from them whether
a new call is admitted (`admission`), reports finished calls to its observers (`call_ended`),
and drains (`drain`: stop taking calls, end the running ones).

Decided or done elsewhere: whether a call is taken is `gateway.core.admission.decide` over the
load measured here (running plus awaiting calls: a burst of webhooks cannot admit more than
GATEWAY_MAX_CALLS between the answer and the stream; plus the dial-outs ringing, `ringing`)
and the limits in `limits()` (the drain, GATEWAY_MAX_CALLS; a cluster-wide limit goes there
too); what a refused caller hears is `gateway.carriers.refusal`; tokens, agent profiles and
pre-warmed sessions are the routes' way in, `gateway.shell.reception` (reached through
`admit_call`, `grant`, `claim_session`); what happened is counted by `gateway.shell.counters`
(`counters`), which the metrics read.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

import structlog

from gateway.agents.loader import profile_from_settings
from gateway.agents.profile import AgentDirectory
from gateway.carriers.refusal import FALLBACK_MESSAGE, FALLBACK_TRANSFER_MESSAGE, Refusal, refusal
from gateway.cluster.node import HAND_OVER_MARGIN_S, CallKeeper, Cluster
from gateway.core.admission import ClusterSlot, Limit, Load, MaxCalls, NotDraining, Refuse, decide
from gateway.core.events import CallStarted
from gateway.core.transcript import TranscriptLine
from gateway.live.setup import LiveConfig
from gateway.log import get_logger
from gateway.settings import Settings
from gateway.shell.awaiting_streams import AwaitingStreams
from gateway.shell.connector import LiveConnector
from gateway.shell.counters import GatewayCounters
from gateway.shell.latency import LatencySamples
from gateway.shell.live_client import LiveSession
from gateway.shell.prewarm import PrewarmPool
from gateway.shell.reception import Admitted, Reception, StreamGrant

if TYPE_CHECKING:
    from gateway.shell.dial_share import DialShare
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
HANDOVER_SETTLE_S = 2.0
"""Cluster mode: how long a draining replica waits, unready, before it hands calls over (and how
long it must have had no call before it exits): the load balancer's readiness period, so that
the carried-on streams go to other replicas (docs/operations.md, rolling deploys)."""
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
        self.awaiting = AwaitingStreams(
            settings.server.secret,
            ttl_s=settings.server.stream_token_ttl_s,
            wall_clock_s=wall_clock_s,
        )
        """Calls answered here whose stream has not started: their tokens and numbers."""
        self.prewarm = PrewarmPool(connector.open, hold_s=settings.server.prewarm_hold_s)
        self.counters = GatewayCounters()
        self.reception = Reception(
            self.agents,
            self.awaiting,
            self.prewarm,
            connector,
            self.counters,
            admission=self.admission,
            refuse=self._refusal,
        )
        self.calls: set[RunningCall] = set()
        """The calls running now (each holds a `call_slot`)."""
        self.draining = False
        self._hurry = False
        self._changed = asyncio.Event()
        """Set when a call leaves `calls` or the drain is hurried (the drain's wait wakes)."""
        self.observers: list[CallObserver] = []
        """Called with each finished call (metrics, transcripts, tests); must not block."""
        self.http_guard: ConnectionGuard | None = None
        """The server's guard on connections waiting for a request (its counts are metrics)."""
        server = settings.server
        self.cluster: Cluster | None = None
        """Cluster mode (GATEWAY_REDIS_URL): tokens, admission and call state in Redis."""
        if server.redis_url:
            self.cluster = Cluster(
                server.redis_url,
                max_calls=server.cluster_max_calls,
                token_ttl_s=server.stream_token_ttl_s,
                on_lost=self._slot_taken_elsewhere,
            )
        self.keepers: dict[RunningCall, CallKeeper] = {}
        """Cluster mode: the keeper of each running call (the drain hands them over)."""
        self.dial_share: DialShare | None = None
        self.ringing: Callable[[], int] = lambda: 0
        """Dial-outs ringing, counted in the load (set by the app; cluster mode: they hold a
        cluster-wide slot instead)."""
        """Cluster mode: the dial-outs shared through Redis (set by the app)."""

    async def start(self) -> None:
        """Join the cluster (cluster mode; nothing otherwise)."""
        if self.cluster is not None:
            await self.cluster.start()

    def _slot_taken_elsewhere(self, call_id: str) -> None:
        """Another replica got the stream of a call answered here: its pre-warmed session is
        closed at once (docs/operations.md, pre-warm policy) and it no longer awaits here."""
        self.prewarm.discard(call_id)
        self.awaiting.forget(call_id)
        if self.cluster is not None:
            self.cluster.forget(call_id)

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
            self._changed.set()

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
        return Load(
            running=len(self.calls), awaiting_stream=len(self.awaiting), ringing=self.ringing()
        )

    def limits(self) -> tuple[Limit, ...]:
        """What a new call must meet now, in order (the first refusal names the reason)."""
        limits: tuple[Limit, ...] = (
            NotDraining(self.draining),
            MaxCalls(self.settings.server.max_calls),
        )
        if self.cluster is not None and not self.cluster.available:
            limits += (ClusterSlot(None),)
        return limits

    @property
    def ready(self) -> bool:
        """Whether a new call would be admitted now (what `GET /readyz` answers)."""
        return not isinstance(decide(self.current_load(), self.limits()), Refuse)

    async def admit(
        self, call_id: str, *, to_number: str = "", from_number: str = ""
    ) -> Admitted | Refusal:
        """`admit_call`, and in cluster mode first a cluster-wide slot (GATEWAY_CLUSTER_MAX_CALLS;
        Redis unavailable: the fallback)."""
        cluster = self.cluster
        if cluster is None:
            return self.admit_call(call_id, to_number=to_number, from_number=from_number)
        if self.dial_share is not None:  # a dial-out another replica placed: its agent
            await self.dial_share.pull_call(call_id)
        refusal = self.admission()
        if refusal is not None:
            return refusal
        reserved = await cluster.reserve(call_id)
        decision = decide(self.current_load(), (ClusterSlot(reserved),))
        if isinstance(decision, Refuse):
            return self._refusal(decision.reason)
        taken = self.admit_call(call_id, to_number=to_number, from_number=from_number)
        if isinstance(taken, Refusal):
            cluster.forget(call_id)
            await cluster.call_ended(call_id)
        return taken

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

    # The routes' way in (see `gateway.shell.reception`).

    def admit_call(
        self, call_id: str, *, to_number: str = "", from_number: str = ""
    ) -> Admitted | Refusal:
        """Take a webhook's call or refuse it (`Reception.admit_call`)."""
        return self.reception.admit_call(call_id, to_number=to_number, from_number=from_number)

    def issue_token(
        self,
        call_id: str,
        *,
        profile: str = "",
        parties: tuple[str | None, str | None] = (None, None),
    ) -> str:
        """A fresh single-use stream token for `call_id` (the call now counts as admitted)."""
        return self.awaiting.issue(call_id, profile=profile, parties=parties)

    def authorize(self, started: CallStarted) -> str | None:
        """None when the stream's `start` carries a valid, unused token for its call."""
        grant = self.reception.grant(started)
        return grant if isinstance(grant, str) else None

    def grant(self, started: CallStarted) -> StreamGrant | str:
        """The agent for an authorized stream, else why it is refused (`Reception.grant`)."""
        return self.reception.grant(started)

    async def claim_session(self, call_id: str, config: LiveConfig | None = None) -> LiveSession:
        """The call's Live session (`Reception.claim_session`)."""
        return await self.reception.claim_session(call_id, config)

    async def drain(self, timeout_s: float, *, end_grace_s: float = DRAIN_END_GRACE_S) -> int:
        """Stop taking calls, let the running ones finish for up to `timeout_s` (or until
        `hurry_drain`), then end the rest (`request_end("draining")`) and give them `end_grace_s`
        to close. Returns how many calls had to be ended. Readiness is false and webhooks get the
        fallback from the first moment.
        """
        self.draining = True
        if self.cluster is not None:
            return await self._drain_cluster(self.cluster, timeout_s, end_grace_s)
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

    async def _drain_cluster(self, cluster: Cluster, timeout_s: float, end_grace_s: float) -> int:
        """Cluster mode: hand every call over (at its next turn boundary, or at once near the
        timeout): its state saved, its stream closed, the carrier asks another replica.

        Unready from the first moment; the hand-overs start `HANDOVER_SETTLE_S` later, once the
        load balancer has stopped sending streams here (a carried-on stream would otherwise
        land here again), and the drain ends when no call has run here for that long."""
        loop = asyncio.get_running_loop()
        start = loop.time()
        settle_s = min(HANDOVER_SETTLE_S, timeout_s / 2)
        deadline = start + max(settle_s, timeout_s - HAND_OVER_MARGIN_S)
        _log.info(
            "gateway.draining", active_calls=len(self.calls), timeout_s=timeout_s, cluster=True
        )
        handing: dict[RunningCall, asyncio.Task[None]] = {}
        end_at = start + timeout_s + end_grace_s
        idle_since = start if not self.calls else None
        while loop.time() < end_at:
            now = loop.time()
            if self.calls:
                idle_since = None
            elif idle_since is None:
                idle_since = now
            if idle_since is not None and now - idle_since >= settle_s and now - start >= settle_s:
                break
            if self._hurry:
                deadline = now
            if now - start >= settle_s or self._hurry:
                for call, keeper in list(self.keepers.items()):
                    if call not in handing:
                        handing[call] = asyncio.create_task(
                            cluster.hand_over(keeper.call_id, keeper, deadline)
                        )
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(0.1):
                    await self._changed.wait()
        for task in handing.values():
            task.cancel()
        left = len(self.calls)
        if left:
            _log.error("gateway.drain_incomplete", calls_left=left)
        _log.info("gateway.drained", handed_over=len(handing), ended_calls=0)
        return 0

    def hurry_drain(self) -> None:
        """End the drain's wait now (a second signal): running calls are ended at once."""
        self._hurry = True
        self._changed.set()

    async def _wait_idle(
        self, timeout_s: float, *, include_awaiting: bool, hurriable: bool
    ) -> bool:
        """Wait until no call runs (nor, with `include_awaiting`, waits for its stream): woken
        when a call ends, when the first awaited token expires, or by `hurry_drain`."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while self.calls or (include_awaiting and len(self.awaiting) > 0):
            left = deadline - loop.time()
            if left <= 0 or (hurriable and self._hurry):
                return False
            expiry_s = self.awaiting.seconds_to_next_expiry() if include_awaiting else None
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(left if expiry_s is None else min(left, expiry_s)):
                    await self._changed.wait()
        return True

    async def aclose(self) -> None:
        await self.prewarm.aclose()
        if self.cluster is not None:
            await self.cluster.aclose()
