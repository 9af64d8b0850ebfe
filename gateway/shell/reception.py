"""The calls' way in: a webhook's call taken or refused, its stream granted its agent and session.

`Reception` is what a carrier's routes reach through the runtime (`GatewayRuntime.admit_call`,
`grant`, `claim_session`). A webhook's call is taken when the admission decision (the runtime's
`admission`, over `gateway.core.admission`) admits it and an agent profile answers the dialed
number; it then gets a stream token naming that profile and its Live session is pre-warmed with
the profile's setup. The stream's `start` redeems the token for the agent (`grant`) and the call
claims the pre-warmed session, else a fresh one (`claim_session`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

from gateway.agents.profile import AgentDirectory, AgentProfile
from gateway.carriers.refusal import Refusal
from gateway.core.admission import NO_AGENT
from gateway.core.answering import OutboundPolicy
from gateway.core.events import CallStarted
from gateway.live.setup import LiveConfig
from gateway.log import get_logger
from gateway.shell.awaiting_streams import AwaitingStreams
from gateway.shell.connector import LiveConnector
from gateway.shell.counters import GatewayCounters
from gateway.shell.live_client import LiveConnectError, LiveSession
from gateway.shell.prewarm import PrewarmPool

__all__ = ["Admitted", "OutboundCalls", "Reception", "StreamGrant"]

_log = get_logger(component="gateway")


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
    direction: str = "inbound"
    """`outbound` for a call the gateway placed (`POST /calls`)."""
    outbound: OutboundPolicy | None = None
    """A placed call's opening: who speaks first, what a machine gets."""


class OutboundCalls(Protocol):
    """The dial-outs in flight (`gateway.shell.dial_api`): a placed call's answer webhook and
    stream get the profile its request chose, its variables filled in."""

    def profile_for(self, call_id: str) -> AgentProfile | None:
        """The agent of the dial-out whose carrier call id is `call_id` (None: not one)."""
        ...

    def policy_for(self, call_id: str) -> OutboundPolicy | None:
        """How the dial-out's call opens (its detection, its voicemail message)."""
        ...

    def answering(self, call_id: str) -> None:
        """The dial-out's answer webhook came: it no longer counts as ringing."""
        ...

    def bridged(self, call_id: str) -> None:
        """The dial-out's media stream started."""
        ...

    def stream_ended(
        self, call_id: str, opening: dict[str, object] | None
    ) -> dict[str, object] | None:
        """The dial-out's media stream ended (`opening`: the bridge's account of the call's
        opening, `Answering.summary`): what `call.ended` says of it (`outbound`)."""
        ...


class _NoOutbound:
    def profile_for(self, call_id: str) -> AgentProfile | None:
        return None

    def policy_for(self, call_id: str) -> OutboundPolicy | None:
        return None

    def answering(self, call_id: str) -> None:
        return None

    def bridged(self, call_id: str) -> None:
        return None

    def stream_ended(
        self, call_id: str, opening: dict[str, object] | None
    ) -> dict[str, object] | None:
        return None


class Reception:
    """Takes webhooks' calls and grants their streams (one per runtime)."""

    def __init__(
        self,
        agents: AgentDirectory,
        awaiting: AwaitingStreams,
        prewarm: PrewarmPool,
        connector: LiveConnector,
        counters: GatewayCounters,
        *,
        admission: Callable[[], Refusal | None],
        refuse: Callable[[str], Refusal],
    ) -> None:
        """`admission`: None when a new call may be taken now, else its refusal (counted);
        `refuse`: the refusal (counted) for a reason decided here (`no agent`)."""
        self._agents = agents
        self._awaiting = awaiting
        self._prewarm = prewarm
        self._connector = connector
        self._counters = counters
        self._admission = admission
        self._refuse = refuse
        self.outbound: OutboundCalls = _NoOutbound()
        """Set by the dial-out API when it is on."""

    def admit_call(
        self, call_id: str, *, to_number: str = "", from_number: str = ""
    ) -> Admitted | Refusal:
        """Take a webhook's call or refuse it: the admission, then the agent profile answering
        `to_number` (none: refused as `no agent`), a stream token naming it, and its Live
        session pre-warmed with that profile's setup."""
        if call_id:  # a dial-out's answer: its own ringing no longer counts against it
            self.outbound.answering(call_id)
        refusal = self._admission()
        if refusal is not None:
            return refusal
        profile = self._outbound_profile(call_id) or self._agents.select(to_number)
        if profile is None:
            return self._refuse(NO_AGENT)
        token = self._awaiting.issue(
            call_id, profile=profile.name, parties=(from_number or None, to_number or None)
        )
        live = profile.live

        def open_session() -> Awaitable[LiveSession]:
            return self._connector.open(config=live)

        prewarming = self._prewarm.start(call_id, open_session)
        return Admitted(token, profile.name, prewarming)

    def grant(self, started: CallStarted) -> StreamGrant | str:
        """The agent for a stream whose `start` carries a valid, unused token for its call, else
        why the stream is refused. The profile comes from the signed token (any replica sharing
        GATEWAY_SECRET agrees); the numbers only from this process's webhook, when it had it."""
        redeemed = self._awaiting.redeem(started)
        if isinstance(redeemed, str):
            self._counters.stream_rejected()
            return redeemed
        outbound = self._outbound_profile(started.call_id)
        if outbound is not None:
            self.outbound.bridged(started.call_id)
            policy = self.outbound.policy_for(started.call_id)
            parties = (redeemed.from_number, redeemed.to_number)
            return StreamGrant(outbound, *parties, direction="outbound", outbound=policy)
        name = redeemed.profile
        profile = self._agents.get(name) if name else None
        if profile is None:
            default = self._agents.select(None)
            if default is None:
                self._counters.stream_rejected()
                return f"unknown profile {name!r}"
            if name:  # a replica with another profiles file issued it
                _log.warning("stream.unknown_profile", profile=name, using=default.name)
            profile = default
        return StreamGrant(profile, redeemed.from_number, redeemed.to_number)

    def _outbound_profile(self, call_id: str) -> AgentProfile | None:
        return self.outbound.profile_for(call_id) if call_id else None

    async def claim_session(self, call_id: str, config: LiveConfig | None = None) -> LiveSession:
        """The pre-warmed session of `call_id`, else (or if its connect failed) a fresh one
        (with `config`: the call's profile; default: the connector's)."""
        try:
            session = await self._prewarm.claim(call_id)
        except LiveConnectError as exc:
            _log.info("live.prewarm_unusable", code=exc.close.code, kind=exc.close.kind.value)
            session = None
        if session is not None:
            return session
        return await self._connector.open(config=config)
