"""Whether the open Live session still answers: the stall watch of one call.

A session that goes silent is stalled: once the caller spoke, a server message must come within
`timeout_ms` (the "live_stall" timer, armed at the first caller speech after a server message and
re-armed lazily when it fires early, so caller speech costs no timer per frame). A stalled
session is replaced like one that closed abruptly; whether it had answered anything decides if
its replacement continues the outage (see `SessionKeeper.begin`).

Pure and clock-free like the bridge that owns it: time comes in as `now_ms`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from gateway.core.events import StartTimer
from gateway.live.events import (
    AudioChunk,
    GenerationComplete,
    InputTranscript,
    Interrupted,
    ModelText,
    OutputTranscript,
    ToolCall,
    ToolCallCancellation,
    TurnComplete,
    VoiceActivity,
    WaitingForInput,
)

__all__ = ["ANSWER_TYPES", "STALL_TIMER", "StallWatch", "Stalled"]

STALL_TIMER: Final = "live_stall"

ANSWER_TYPES: Final = frozenset(
    {
        AudioChunk,
        ModelText,
        InputTranscript,
        OutputTranscript,
        Interrupted,
        GenerationComplete,
        TurnComplete,
        WaitingForInput,
        VoiceActivity,
        ToolCall,
        ToolCallCancellation,
    }
)
"""Server messages that show the model heard the caller or answered. Set-up, resumption
updates, usage and `goAway` keep a stalled session's clock from running out but do not count:
a session that sends only those has never answered."""


@dataclass(frozen=True, slots=True)
class Stalled:
    """The session sent nothing for `silent_ms` after the caller spoke."""

    silent_ms: float
    answered: bool
    """Whether the session had answered anything before it went silent."""


class StallWatch:
    def __init__(self, timeout_ms: float) -> None:
        self.timeout_ms = timeout_ms
        self.since_ms: float | None = None
        """When the caller's speech that awaits an answer began (None: none awaits one)."""
        self.armed = False
        """Whether the stall timer is pending (it is never cancelled, only re-armed)."""
        self.answered = False
        """Whether the open session has answered anything yet."""

    def new_session(self) -> None:
        self.since_ms, self.answered = None, False

    def stop(self) -> None:
        """The session is being replaced: nothing is awaited of it any more."""
        self.since_ms = None

    def heard(self, event_type: type) -> None:
        """Any server message stops the clock; model output shows the session answers."""
        self.since_ms = None
        if event_type in ANSWER_TYPES:
            self.answered = True

    def caller_spoke(self, now_ms: float) -> StartTimer | None:
        """Caller speech while no answer is awaited: the clock starts (and the timer, if idle)."""
        self.since_ms = now_ms
        if self.armed:
            return None
        self.armed = True
        return StartTimer(STALL_TIMER, now_ms + self.timeout_ms)

    def disarm(self) -> None:
        """The timer fired while no session was open to watch."""
        self.armed = False

    def fired(self, now_ms: float) -> StartTimer | Stalled | None:
        """The timer is due: nothing awaited (None), not yet (the timer again), or stalled."""
        self.armed = False
        since = self.since_ms
        if since is None:
            return None  # answered meanwhile
        due_ms = since + self.timeout_ms
        if now_ms < due_ms:  # the clock restarted after the timer was set: wait for its end
            self.armed = True
            return StartTimer(STALL_TIMER, due_ms)
        return Stalled(now_ms - since, self.answered)
