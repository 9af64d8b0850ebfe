"""Cluster mode's decisions about carrying a call on elsewhere (pure, clock-free).

A call in cluster mode keeps what another replica needs to carry it on in Redis
(`gateway.cluster.call_state`): a `CallSnapshot`. This module decides, without I/O:

* what a snapshot of a running call holds (`snapshot`): the agent profile, the newest resumable
  Live handle, the conversation heard so far, the tool calls still pending, the recording's
  offset;
* whether a call's end was on purpose (`ended_on_purpose`): a hang-up, the caller hanging up, a
  transfer, the fallback end the call; a dropped carrier socket, a hand-over at drain or a dead
  replica do not;
* what the carrier's "stream ended" request (Twilio's `<Connect action>`) gets (`after_stream`):
  a new stream (`Reconnect`) or the end (`Finish`);
* whether a draining replica may hand a call over now (`turn_boundary`): the model finished its
  turn and everything it said was played, its handle is fresh, no tool call runs, and the caller
  is not waiting for an answer.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final

from gateway.core.bridge import CallBridge
from gateway.core.states import CallState

__all__ = [
    "ENDED",
    "HANDED_OVER",
    "LIVE",
    "CallSnapshot",
    "Finish",
    "Reconnect",
    "after_stream",
    "ended_on_purpose",
    "snapshot",
    "turn_boundary",
]

LIVE: Final = "live"
"""The call runs on its owner."""
HANDED_OVER: Final = "handed_over"
"""Its owner closed the stream on purpose (drain) so that another replica takes it."""
ENDED: Final = "ended"
"""The call ended on purpose: the carrier's stream-ended request gets the end."""

_NOT_ON_PURPOSE: Final = frozenset(
    {"carrier closed", "carrier stalled", "handover", "draining", "internal error"}
)
"""End reasons after which the call is carried on if the carrier asks: the carrier's socket
dropped or stalled, the replica handed it over or was stopping."""
MAX_SNAPSHOT_LINES: Final = 200
"""Transcript lines kept in a snapshot (the newest): enough for a recap, bounded in Redis."""


@dataclass(frozen=True)
class CallSnapshot:
    """What another replica needs to carry a call on."""

    profile: str = ""
    handle: str | None = None
    transcript: tuple[tuple[str, str], ...] = ()
    """(role, text) heard so far, oldest first (the recap of a fresh session)."""
    pending_tools: tuple[str, ...] = ()
    """Names of the tool calls asked and not answered (they are asked again by the model)."""
    recording_ms: float = 0.0
    """How far the call's audio went on the replicas before (the recording's offset)."""
    status: str = LIVE
    end_reason: str = ""
    legs: int = 1
    """Media streams the call has had (1: the first)."""
    started_at_s: float = 0.0
    """Wall-clock seconds when the call's first leg started (0: unknown)."""

    def encode(self) -> dict[str, str]:
        """The Redis hash fields."""
        return {
            "profile": self.profile,
            "handle": self.handle or "",
            "transcript": json.dumps([list(line) for line in self.transcript]),
            "pending_tools": json.dumps(list(self.pending_tools)),
            "recording_ms": f"{self.recording_ms:.0f}",
            "status": self.status,
            "end_reason": self.end_reason,
            "legs": str(self.legs),
            "started_at": f"{self.started_at_s:.3f}",
        }

    @staticmethod
    def decode(fields: Mapping[str, str]) -> CallSnapshot | None:
        """A snapshot from its hash fields; None when empty or malformed."""
        if not fields or "status" not in fields:
            return None
        try:
            lines = json.loads(fields.get("transcript", "[]"))
            tools = json.loads(fields.get("pending_tools", "[]"))
            transcript = tuple((str(role), str(text)) for role, text in lines)
            return CallSnapshot(
                profile=fields.get("profile", ""),
                handle=fields.get("handle") or None,
                transcript=transcript,
                pending_tools=tuple(str(name) for name in tools),
                recording_ms=float(fields.get("recording_ms", "0") or 0),
                status=fields["status"],
                end_reason=fields.get("end_reason", ""),
                legs=int(fields.get("legs", "1") or 1),
                started_at_s=float(fields.get("started_at", "0") or 0),
            )
        except (ValueError, TypeError):
            return None


def snapshot(
    bridge: CallBridge,
    *,
    profile: str,
    before: CallSnapshot | None = None,
    audio_ms: float = 0.0,
    started_at_s: float = 0.0,
) -> CallSnapshot:
    """The running call as another replica would carry it on. `before`: the snapshot this leg
    started from (its conversation comes first); `audio_ms`: this leg's audio so far;
    `started_at_s`: when this leg started (kept only for the call's first leg)."""
    earlier = before.transcript if before is not None else ()
    lines = (*earlier, *bridge.heard_transcript())[-MAX_SNAPSHOT_LINES:]
    pending = tuple(call.name for call in bridge.call.tools.calls.pending.values())
    handle = bridge.resume_handle or (before.handle if before is not None else None)
    return CallSnapshot(
        profile=profile,
        handle=handle,
        transcript=tuple(lines),
        pending_tools=pending,
        recording_ms=(before.recording_ms if before is not None else 0.0) + audio_ms,
        status=LIVE,
        legs=before.legs + 1 if before is not None else 1,
        started_at_s=before.started_at_s if before and before.started_at_s else started_at_s,
    )


def ended_on_purpose(end_reason: str | None) -> bool:
    """Whether a call that ended with `end_reason` is over (not to be carried on)."""
    return bool(end_reason) and end_reason not in _NOT_ON_PURPOSE


@dataclass(frozen=True)
class Reconnect:
    """Answer the carrier with a new stream for the call (a fresh single-use token)."""

    profile: str
    snapshot: CallSnapshot = field(default_factory=CallSnapshot)


@dataclass(frozen=True)
class Finish:
    """Answer the carrier with the end (an empty document: the call hangs up)."""

    reason: str


def after_stream(stored: CallSnapshot | None) -> Reconnect | Finish:
    """The answer to the carrier's stream-ended request for a call whose stored state is
    `stored` (None: unknown to the cluster, or its state expired)."""
    if stored is None:
        return Finish("unknown call")
    if stored.status == ENDED:
        return Finish(stored.end_reason or "ended")
    return Reconnect(stored.profile, stored)


def turn_boundary(bridge: CallBridge) -> bool:
    """A draining replica may hand the call over now: it is LIVE, the model's turn is over and
    played, its handle is fresh, no tool call runs and the caller awaits no answer (caller
    speech since the model's last answer starts the stall watch: `stall.since_ms`)."""
    if bridge.state is not CallState.LIVE:
        return False
    call = bridge.call
    return (
        call.keeper.handle_fresh
        and not call.model_turn_open
        and not call.tools.running
        and call.ledger.all_settled
        and call.stall.since_ms is None
    )
