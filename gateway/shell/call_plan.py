"""How an authorized media stream runs: what its agent profile decides for the call runner."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from gateway.core.options import BridgeOptions
from gateway.shell.call_recording import CallRecording
from gateway.shell.call_tasks import CallServices
from gateway.shell.live_client import LiveSession

__all__ = ["CallPlan", "ClaimSession"]

ClaimSession = Callable[[str], Awaitable[LiveSession]]
"""Hands a call (by id) its first Live session: the pre-warmed one, else a fresh connect."""


@dataclass(frozen=True)
class CallPlan:
    """The agent's bridge options, the call's services and session, and its recording (if the
    profile asked for one). `CallRunner` applies it once the stream's `start` is authorized."""

    profile: str
    bridge_options: BridgeOptions
    services: CallServices
    claim_session: ClaimSession | None = None
    recording: CallRecording | None = None
