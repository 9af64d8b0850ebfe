"""Typed events parsed from Live server messages (protocols.md A.6). Vendor field names stop here.

Every event is a frozen dataclass; one server frame becomes a list of events in a fixed order
(see `gateway.live.protocol.parse_server_message`). Anything the parser does not understand is an
`Ignored` event with a reason, never an exception.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

__all__ = [
    "AudioChunk",
    "FunctionCall",
    "GenerationComplete",
    "GoAway",
    "Ignored",
    "InputTranscript",
    "Interrupted",
    "LiveEvent",
    "ModelText",
    "OutputTranscript",
    "Scheduling",
    "SessionResumptionUpdate",
    "SetupComplete",
    "ToolCall",
    "ToolCallCancellation",
    "ToolResult",
    "TurnComplete",
    "UsageMetadata",
    "VoiceActivity",
    "WaitingForInput",
]


@dataclass(frozen=True, slots=True)
class SetupComplete:
    """The server accepted `setup`; the session is open."""

    session_id: str | None = None


@dataclass(frozen=True, slots=True)
class AudioChunk:
    """Model speech: raw 16-bit little-endian mono PCM at `rate_hz` (24 kHz in practice)."""

    pcm: bytes
    rate_hz: int

    @property
    def sample_count(self) -> int:
        return len(self.pcm) // 2

    @property
    def duration_ms(self) -> float:
        return 1000.0 * self.sample_count / self.rate_hz


@dataclass(frozen=True, slots=True)
class ModelText:
    """A text part of the model's turn (`thought` parts are the model's thinking)."""

    text: str
    thought: bool = False


@dataclass(frozen=True, slots=True)
class InputTranscript:
    """A piece of the caller's transcript (`interim`: a low-latency guess that may change)."""

    text: str
    finished: bool = False
    interim: bool = False


@dataclass(frozen=True, slots=True)
class OutputTranscript:
    """A piece of the transcript of the model's speech."""

    text: str
    finished: bool = False


@dataclass(frozen=True, slots=True)
class Interrupted:
    """Caller activity cut the model's turn short: drop every unplayed byte now."""


@dataclass(frozen=True, slots=True)
class GenerationComplete:
    """The model finished generating this turn (playback may still be under way)."""


@dataclass(frozen=True, slots=True)
class TurnComplete:
    """The model's turn is over. `reason` is the server's enum name when it gave one."""

    reason: str | None = None


@dataclass(frozen=True, slots=True)
class WaitingForInput:
    """The model holds off because it expects the caller to continue."""


@dataclass(frozen=True, slots=True)
class FunctionCall:
    """One call the model asks for; `call_id` must be echoed in the tool response."""

    call_id: str | None
    name: str
    args: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ToolCall:
    calls: tuple[FunctionCall, ...]


@dataclass(frozen=True, slots=True)
class ToolCallCancellation:
    call_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class GoAway:
    """The server will close this connection in `time_left_s` seconds (None if it did not say)."""

    time_left_s: float | None


@dataclass(frozen=True, slots=True)
class SessionResumptionUpdate:
    """Keep `new_handle` when `resumable`; the index is sent only in transparent mode (Vertex)."""

    new_handle: str | None
    resumable: bool
    last_consumed_client_message_index: int | None = None


@dataclass(frozen=True, slots=True)
class UsageMetadata:
    """One generation's token counts; Vertex's `candidates*` spellings map to `response_*`.

    The `*_by_modality` maps are keyed by the wire's modality names (`AUDIO`, `TEXT`, ...).
    """

    prompt_token_count: int = 0
    cached_content_token_count: int = 0
    response_token_count: int = 0
    tool_use_prompt_token_count: int = 0
    thoughts_token_count: int = 0
    total_token_count: int = 0
    prompt_tokens_by_modality: Mapping[str, int] = field(default_factory=dict)
    response_tokens_by_modality: Mapping[str, int] = field(default_factory=dict)
    cached_tokens_by_modality: Mapping[str, int] = field(default_factory=dict)
    tool_use_prompt_tokens_by_modality: Mapping[str, int] = field(default_factory=dict)
    traffic_type: str | None = None


@dataclass(frozen=True, slots=True)
class VoiceActivity:
    """Server VAD: `started` True for ACTIVITY_START, False for ACTIVITY_END."""

    started: bool
    audio_offset_s: float | None = None


@dataclass(frozen=True, slots=True)
class Ignored:
    """A frame or part the parser skipped, and why (for a log line)."""

    reason: str
    detail: str = ""


LiveEvent = (
    SetupComplete
    | AudioChunk
    | ModelText
    | InputTranscript
    | OutputTranscript
    | Interrupted
    | GenerationComplete
    | TurnComplete
    | WaitingForInput
    | ToolCall
    | ToolCallCancellation
    | GoAway
    | SessionResumptionUpdate
    | UsageMetadata
    | VoiceActivity
    | Ignored
)


# ------------------------------------------------------------------ what the client answers


class Scheduling(StrEnum):
    """How a NON_BLOCKING tool's result is taken (A.5.4)."""

    INTERRUPT = "INTERRUPT"
    WHEN_IDLE = "WHEN_IDLE"
    SILENT = "SILENT"


@dataclass(frozen=True)
class ToolResult:
    """The answer to one function call. `response` is a JSON object (`output` or `error` key).

    `call_id` is the call's id as the server sent it; None for a call that came without one
    (Vertex may send those, A.11): the response then carries no `id` either."""

    call_id: str | None
    name: str
    response: Mapping[str, Any]
    scheduling: Scheduling | None = None
    will_continue: bool | None = None
