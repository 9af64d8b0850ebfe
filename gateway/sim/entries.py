"""The facts a simulated call records: frozen, plain data (times in call ms, 0 = stream start)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

__all__ = [
    "BargeIn",
    "CallOutcome",
    "ClearRecord",
    "CloseRecord",
    "MarkRecord",
    "ReceivedMessage",
    "Segment",
    "SimError",
    "TimelineEntry",
]


class CallOutcome(StrEnum):
    COMPLETED = "completed"
    """The stream ran to the end of the script: the carrier sent `stop` and closed."""
    GATEWAY_CLOSED = "gateway_closed"
    """The gateway closed the media stream first (a hang-up or a transfer); a normal end."""
    NO_STREAM = "no_stream"
    """The answer was valid but opened no stream (a polite fallback: `Say`, `Dial`, `Hangup`)."""
    WEBHOOK_FAILED = "webhook_failed"
    """The webhook request failed or answered other than 200."""
    TWIML_REFUSED = "twiml_refused"
    """The answer was unusable (bad TwiML, a forbidden stream URL): Twilio 12100/12200/319xx."""
    STREAM_REFUSED = "stream_refused"
    """The WebSocket could not be opened (refused upgrade, TLS or network failure)."""
    PROTOCOL_ERROR = "protocol_error"
    """The gateway sent a message Twilio refuses (31924); the carrier ended the stream."""

    @property
    def ok(self) -> bool:
        """A stream ran and ended normally."""
        return self in (CallOutcome.COMPLETED, CallOutcome.GATEWAY_CLOSED)


@dataclass(frozen=True)
class TimelineEntry:
    t_ms: float
    """Call time; entries before the stream opened (webhook, TwiML) are negative."""
    kind: str
    detail: str


@dataclass(frozen=True)
class MarkRecord:
    """A mark the gateway sent and what became of it."""

    name: str
    sent_ms: float
    queued_ms: float = 0.0
    """Gateway audio queued ahead of it when it arrived."""
    due_ms: float | None = None
    """When its audio finished playing or was flushed (None: the call ended first)."""
    echoed_ms: float | None = None
    """When the simulator sent the echo (None: never echoed)."""
    played: bool | None = None
    """True: all audio before it played; False: a clear flushed it; None: never echoed."""


@dataclass(frozen=True)
class ClearRecord:
    at_ms: float
    dropped_ms: float
    """Queued audio the clear dropped before it could play."""
    flushed_marks: int


@dataclass(frozen=True)
class CloseRecord:
    at_ms: float
    code: int | None
    reason: str
    by: str
    """`gateway` or `simulator`."""


@dataclass(frozen=True)
class SimError:
    at_ms: float
    code: int
    reason: str


@dataclass(frozen=True)
class ReceivedMessage:
    """A control message from the gateway (media frames are counted, not logged)."""

    t_ms: float
    event: str
    text: str


@dataclass(frozen=True)
class Segment:
    """A stretch of speech: the caller's (annotated or detected) or what the caller heard."""

    start_ms: float
    end_ms: float
    text: str = ""

    @property
    def duration_ms(self) -> float:
        return self.end_ms - self.start_ms


@dataclass(frozen=True)
class BargeIn:
    """The caller started speaking while gateway audio was audible."""

    at_ms: float
    agent_stopped_ms: float
    """When the audible gateway audio stopped (a clear, or the end of what was queued)."""
    cleared: bool
    """Whether a clear arrived between the caller's start and the audio's end."""
    text: str = ""

    @property
    def talk_over_ms(self) -> float:
        """How long the caller and the gateway audio overlapped."""
        return self.agent_stopped_ms - self.at_ms
