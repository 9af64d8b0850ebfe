"""What a call is built from once its stream's `start` was authorized: the opened stream and
the plan its agent profile decides. `CallRunner` takes both in its constructor and changes
neither afterwards."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from gateway.core.events import BridgeEvent, CallStarted, CarrierEvent
from gateway.core.options import BridgeOptions
from gateway.shell.call_recording import CallRecording
from gateway.shell.call_tasks import CallServices
from gateway.shell.live_client import LiveSession

__all__ = ["CallPlan", "ClaimSession", "OpenedStream"]

ClaimSession = Callable[[str], Awaitable[LiveSession]]
"""Hands a call (by id) its first Live session: the pre-warmed one, else a fresh connect."""


@dataclass(frozen=True)
class CallPlan:
    """The agent's bridge options, the call's services and session, and its recording (if the
    profile asked for one)."""

    profile: str
    bridge_options: BridgeOptions
    services: CallServices
    claim_session: ClaimSession
    recording: CallRecording | None = None
    from_number: str | None = None
    to_number: str | None = None
    direction: str = "inbound"
    """`outbound` for a call the gateway placed (in its logs and `call.ended`)."""


@dataclass(frozen=True)
class OpenedStream:
    """A carrier stream that sent its `start` (see `gateway.shell.stream_opening`)."""

    started: CallStarted
    after: tuple[CarrierEvent, ...]
    """The events parsed from the start's own message after it (fed right after the start)."""
    before: tuple[tuple[BridgeEvent, int], ...]
    """What the stream sent before its start, as (event, times): the call's bridge is fed it
    first, so its counters (`caller_frames_before_start`, `messages_ignored`, ...) are the
    whole stream's. Its log lines were written as it came."""
