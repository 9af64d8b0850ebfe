"""The call bridge's vocabulary: events in (past-tense facts), commands out (imperatives).

Carrier translators (`gateway.carriers`) turn wire messages into the carrier events below and
turn the carrier commands back into wire messages; vendor field names never get past them. Live
events come from `gateway.live.events` unchanged. The shell feeds both, plus its own facts
(`LiveOpened`, `LiveClosed`, `CarrierClosed`, `TimerFired`), to `CallBridge.handle(event, now_ms)`
and executes the commands it returns, in order.

All payloads are bytes in the carrier's own encoding (`CarrierFormat` of the call) on the carrier
side, and 16-bit little-endian PCM on the Live side.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from gateway.audio.paths import CarrierFormat
from gateway.live.closes import CloseInfo
from gateway.live.events import FunctionCall, LiveEvent, Scheduling, ToolResult

# --------------------------------------------------------------------------- carrier events


@dataclass(frozen=True, slots=True)
class StreamConnected:
    """The carrier opened the media stream (Twilio `connected`); no call identity yet."""

    protocol: str = ""
    version: str = ""


@dataclass(frozen=True, slots=True)
class CallStarted:
    """The stream's metadata arrived (Twilio `start`): who the call is and how audio travels."""

    call_id: str
    stream_id: str
    account_id: str = ""
    media_format: CarrierFormat = field(default_factory=CarrierFormat)
    custom_parameters: Mapping[str, str] = field(default_factory=dict)
    tracks: tuple[str, ...] = ("inbound",)


@dataclass(frozen=True, slots=True)
class CallerAudio:
    """One inbound media frame: `payload` in the call's carrier encoding (any length)."""

    payload: bytes
    timestamp_ms: int | None = None
    """The carrier's media timestamp (ms since stream start) when it sends one."""


@dataclass(frozen=True, slots=True)
class DtmfPressed:
    digit: str


@dataclass(frozen=True, slots=True)
class PlaybackMarked:
    """The carrier echoed a mark: the audio queued before it has played, or was cleared."""

    name: str


@dataclass(frozen=True, slots=True)
class CallStopped:
    """The carrier ended the stream (Twilio `stop`): the call is over or moved elsewhere."""

    reason: str = "carrier stop"


@dataclass(frozen=True, slots=True)
class MessagesMissed:
    """A gap in the carrier's sequence numbers: `count` messages never arrived (or came late)."""

    expected: int
    received: int

    @property
    def count(self) -> int:
        return self.received - self.expected


@dataclass(frozen=True, slots=True)
class MessageIgnored:
    """A carrier message the translator could not use, and why (for one log line)."""

    reason: str
    detail: str = ""


CarrierEvent = (
    StreamConnected
    | CallStarted
    | CallerAudio
    | DtmfPressed
    | PlaybackMarked
    | CallStopped
    | MessagesMissed
    | MessageIgnored
)

# ----------------------------------------------------------------------------- shell events


@dataclass(frozen=True, slots=True)
class LiveOpened:
    """A Live session is ready for this call (pre-warmed and claimed, or freshly connected)."""

    session_id: str | None = None
    resumed: bool = False


@dataclass(frozen=True, slots=True)
class LiveClosed:
    """The call's Live session closed (or could not be opened); `close` classifies how."""

    close: CloseInfo


@dataclass(frozen=True, slots=True)
class CarrierClosed:
    """The carrier's socket closed without a `stop` (network loss, carrier error), or the
    gateway's own WebSocket layer closed it: then `refused` says why (a message over the size
    limit), and the call's end reason says the gateway closed it."""

    code: int | None = None
    refused: str = ""


@dataclass(frozen=True, slots=True)
class TimerFired:
    """A timer the bridge asked for with `StartTimer` is due."""

    name: str


@dataclass(frozen=True, slots=True)
class Transfer:
    """Move the caller to `target` (a number or SIP URI from configuration, never from the model).

    `announcement` is spoken by the carrier before it dials (fallbacks); `label` names the
    destination in logs (`sales`)."""

    target: str
    label: str = ""
    announcement: str | None = None


@dataclass(frozen=True, slots=True)
class HangUp:
    """End the phone call; `announcement` is spoken by the carrier first (fallback goodbyes)."""

    announcement: str | None = None


CallAction = Transfer | HangUp


@dataclass(frozen=True, slots=True)
class ToolFinished:
    """A tool the bridge asked for with `RunTool` finished (never sent for a cancelled one).

    `response` is the JSON object for the model (`{"output": ...}` or `{"error": ...}`);
    `outcome` is `ok`, `error` or `timeout`; `action` is set by the built-in transfer and
    hang-up tools: the bridge performs it once what the agent is saying has been heard."""

    call_id: str
    name: str
    response: Mapping[str, Any]
    outcome: str = "ok"
    duration_ms: float = 0.0
    action: CallAction | None = None
    scheduling: Scheduling | None = None


@dataclass(frozen=True, slots=True)
class CallControlled:
    """The carrier's REST API answered a `ControlCall` (`ok`: done, or the call had already
    ended); on failure the bridge ends the stream itself."""

    action: CallAction
    ok: bool
    detail: str = ""


@dataclass(frozen=True, slots=True)
class EndRequested:
    """The gateway wants this call over (drain timeout, shutdown): close Live, end the stream.

    With `fallback` (the shell hit an internal error in this call) the caller is sent to the
    fallback instead, as when Live fails for good, while a Live session is or may be used;
    otherwise, or later in the call, it just ends."""

    reason: str
    fallback: bool = False


@dataclass(frozen=True, slots=True)
class AnswererDetected:
    """The carrier's machine detection said who answered an outbound call (the shell heard its
    callback): `person`, `machine` or `unknown`; `greeting_ended`: a machine's greeting is over
    (its beep), so a message may start."""

    answered_by: str
    greeting_ended: bool = False


BridgeEvent = (
    CarrierEvent
    | LiveEvent
    | LiveOpened
    | LiveClosed
    | CarrierClosed
    | TimerFired
    | ToolFinished
    | CallControlled
    | EndRequested
    | AnswererDetected
)

# ------------------------------------------------------------------------- carrier commands


@dataclass(frozen=True, slots=True)
class PlayAudio:
    """Queue `payload` (carrier encoding, whole frames) for playback after earlier audio."""

    payload: bytes
    hold: bool = False
    """Hold audio while a tool runs (`gateway.core.hold`), not the agent's speech: the
    recording leaves it out of the agent's channel."""


@dataclass(frozen=True, slots=True)
class PlaceMark:
    """Ask the carrier to echo `name` once the audio queued before it has played."""

    name: str


@dataclass(frozen=True, slots=True)
class ClearPlayback:
    """Drop everything queued at the carrier now (barge-in)."""


CarrierCommand = PlayAudio | PlaceMark | ClearPlayback

# ---------------------------------------------------------------------------- Live commands


@dataclass(frozen=True, slots=True)
class SendAudio:
    """Send caller audio to Live as `realtimeInput.audio` (16-bit LE PCM at `rate_hz`)."""

    pcm: bytes
    rate_hz: int = 16_000


@dataclass(frozen=True, slots=True)
class SendText:
    """Send `realtimeInput.text` (DTMF notes, greetings)."""

    text: str


@dataclass(frozen=True, slots=True)
class SendToolResponse:
    results: tuple[ToolResult, ...]


LiveCommand = SendAudio | SendText | SendToolResponse


@dataclass(frozen=True, slots=True)
class ReconnectLive:
    """Replace the call's Live session: after every Live command queued before this one has been
    sent, close the current session, wait `delay_ms`, then open a new one, resuming `handle` when
    given, else fresh with `context` (the conversation so far) added to the system instruction.
    The shell answers with `LiveOpened(resumed=...)` or `LiveClosed`."""

    reason: str
    handle: str | None = None
    delay_ms: float = 0.0
    context: str | None = None
    attempt: int = 1


# --------------------------------------------------------------------------- shell commands


@dataclass(frozen=True, slots=True)
class StartTimer:
    """Deliver `TimerFired(name)` at `at_ms` (same clock as `now_ms`); replaces a timer of that
    name."""

    name: str
    at_ms: float


@dataclass(frozen=True, slots=True)
class CancelTimer:
    name: str


@dataclass(frozen=True, slots=True)
class CloseLive:
    """Close the call's Live session (normal closure)."""

    reason: str = ""


@dataclass(frozen=True, slots=True)
class EndCall:
    """Close the carrier stream and finish the call (the shell then logs `call.ended` with
    `CallBridge.summary()` and drops the call's timers)."""

    reason: str


@dataclass(frozen=True, slots=True)
class Note:
    """A decision worth one log line: `event` is a dotted name, `fields` its structured data."""

    event: str
    fields: Mapping[str, Any] = field(default_factory=dict)
    level: str = "info"


@dataclass(frozen=True, slots=True)
class RunTool:
    """Run the model's function call; the shell answers with `ToolFinished` (unless cancelled)."""

    call: FunctionCall


@dataclass(frozen=True, slots=True)
class CancelTool:
    """Cancel a running tool call; no `ToolFinished` follows."""

    call_id: str


@dataclass(frozen=True, slots=True)
class ControlCall:
    """Transfer or hang up the phone call through the carrier's REST API; the shell answers with
    `CallControlled`."""

    action: CallAction


ShellCommand = (
    StartTimer
    | CancelTimer
    | CloseLive
    | EndCall
    | Note
    | ReconnectLive
    | RunTool
    | CancelTool
    | ControlCall
)

Command = CarrierCommand | LiveCommand | ShellCommand
