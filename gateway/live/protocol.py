"""The Live translator: server frames -> typed events, and client messages -> text frames.

Pure: no I/O, no clock. `parse_server_message` accepts binary (production) and text frames, both
key casings and both base64 alphabets, and never raises: whatever it cannot use becomes `Ignored`.
Text in its events holds no lone surrogate (an escaped `"\\ud800"` becomes U+FFFD, gateway.text).
The `encode_*` functions return the exact JSON text frame a client sends (camelCase, compact).
"""

from __future__ import annotations

import binascii
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from gateway.live.events import (
    AudioChunk,
    FunctionCall,
    GenerationComplete,
    GoAway,
    Ignored,
    InputTranscript,
    Interrupted,
    LiveEvent,
    ModelText,
    OutputTranscript,
    Scheduling,
    SessionResumptionUpdate,
    SetupComplete,
    ToolCall,
    ToolCallCancellation,
    ToolResult,
    TurnComplete,
    UsageMetadata,
    VoiceActivity,
    WaitingForInput,
)
from gateway.live.setup import LiveConfig, build_setup
from gateway.live.wire import (
    b64decode_any,
    get_field,
    parse_duration_s,
    parse_int64,
    pcm_rate_hz,
)
from gateway.text import clean_json, may_hold_surrogates

__all__ = [
    "MAX_FRAME_BYTES",
    "OUTPUT_RATE_HZ",
    "Scheduling",
    "ToolResult",
    "encode_activity_end",
    "encode_activity_start",
    "encode_audio",
    "encode_audio_stream_end",
    "encode_client_content",
    "encode_setup",
    "encode_text",
    "encode_tool_response",
    "parse_server_message",
]

MAX_FRAME_BYTES = 8 * 1024 * 1024
"""The largest Live message taken (a 24 kHz audio chunk of 60 s is ~3.9 MB). The client's socket
refuses a larger one with close 1009, which the gateway treats as a resumable failure (the session
is replaced, the message lost: gateway.shell.live_client); the parser ignores a larger frame
unparsed should one reach it by another way."""

OUTPUT_RATE_HZ = 24_000
"""Live output audio rate, assumed when an audio MIME type carries no rate."""

_KNOWN_TOP_LEVEL = (
    "setupComplete",
    "serverContent",
    "toolCall",
    "toolCallCancellation",
    "goAway",
    "sessionResumptionUpdate",
    "voiceActivity",
    "voiceActivityDetectionSignal",
    "usageMetadata",
)


# --------------------------------------------------------------------------------------- parser


def _as_dict(value: Any) -> Mapping[str, Any] | None:
    return value if isinstance(value, Mapping) else None


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _parse_parts(content: Mapping[str, Any]) -> list[LiveEvent]:
    parts = get_field(content, "parts")
    if not isinstance(parts, list):
        return []
    events: list[LiveEvent] = []
    for part in parts:
        if not isinstance(part, Mapping):
            events.append(Ignored("part is not an object"))
            continue
        inline = _as_dict(get_field(part, "inlineData"))
        if inline is not None:
            mime = get_field(inline, "mimeType")
            rate = pcm_rate_hz(mime, OUTPUT_RATE_HZ)
            if rate is None:
                events.append(Ignored("inline data is not PCM audio", str(mime)[:80]))
                continue
            pcm = b64decode_any(get_field(inline, "data") or "")
            if pcm is None:
                events.append(Ignored("audio data is not base64"))
                continue
            if len(pcm) % 2:
                events.append(Ignored("odd audio byte count", str(len(pcm))))
                pcm = pcm[:-1]
            if pcm:
                events.append(AudioChunk(pcm=pcm, rate_hz=rate))
            continue
        text = get_field(part, "text")
        if isinstance(text, str):
            events.append(ModelText(text=text, thought=get_field(part, "thought") is True))
            continue
        events.append(Ignored("unsupported part", ",".join(sorted(map(str, part)))[:80]))
    return events


def _transcript(value: Any) -> tuple[str, bool] | None:
    body = _as_dict(value)
    if body is None:
        return None
    return _text(get_field(body, "text")), get_field(body, "finished") is True


def _parse_server_content(content: Mapping[str, Any]) -> list[LiveEvent]:
    events: list[LiveEvent] = []
    model_turn = _as_dict(get_field(content, "modelTurn"))
    if model_turn is not None:
        events.extend(_parse_parts(model_turn))
    output = _transcript(get_field(content, "outputTranscription"))
    if output is not None:
        events.append(OutputTranscript(text=output[0], finished=output[1]))
    heard = _transcript(get_field(content, "inputTranscription"))
    if heard is not None:
        events.append(InputTranscript(text=heard[0], finished=heard[1]))
    interim = _transcript(get_field(content, "interimInputTranscription"))
    if interim is not None:
        events.append(InputTranscript(text=interim[0], finished=interim[1], interim=True))
    if get_field(content, "interrupted") is True:
        events.append(Interrupted())
    if get_field(content, "waitingForInput") is True:
        events.append(WaitingForInput())
    if get_field(content, "generationComplete") is True:
        events.append(GenerationComplete())
    if get_field(content, "turnComplete") is True:
        reason = get_field(content, "turnCompleteReason")
        events.append(TurnComplete(reason=reason if isinstance(reason, str) else None))
    return events


def _parse_tool_call(body: Mapping[str, Any]) -> LiveEvent:
    raw_calls = get_field(body, "functionCalls")
    if not isinstance(raw_calls, list):
        return Ignored("toolCall without functionCalls")
    calls: list[FunctionCall] = []
    for raw in raw_calls:
        if not isinstance(raw, Mapping) or not isinstance(get_field(raw, "name"), str):
            return Ignored("malformed function call")
        args = get_field(raw, "args")
        call_id = get_field(raw, "id")
        calls.append(
            FunctionCall(
                call_id=call_id if isinstance(call_id, str) and call_id else None,
                name=get_field(raw, "name"),
                args=dict(args) if isinstance(args, Mapping) else {},
            )
        )
    return ToolCall(calls=tuple(calls))


def _details(value: Any) -> dict[str, int]:
    result: dict[str, int] = {}
    if isinstance(value, list):
        for item in value:
            if isinstance(item, Mapping) and isinstance(get_field(item, "modality"), str):
                count = parse_int64(get_field(item, "tokenCount")) or 0
                modality = get_field(item, "modality")
                result[modality] = result.get(modality, 0) + count
    return result


def _parse_usage(body: Mapping[str, Any]) -> UsageMetadata:
    def count(*names: str) -> int:
        for name in names:
            value = parse_int64(get_field(body, name))
            if value is not None:
                return value
        return 0

    response_details = get_field(body, "responseTokensDetails")
    if response_details is None:
        response_details = get_field(body, "candidatesTokensDetails")
    traffic = get_field(body, "trafficType")
    return UsageMetadata(
        prompt_token_count=count("promptTokenCount"),
        cached_content_token_count=count("cachedContentTokenCount"),
        response_token_count=count("responseTokenCount", "candidatesTokenCount"),
        tool_use_prompt_token_count=count("toolUsePromptTokenCount"),
        thoughts_token_count=count("thoughtsTokenCount"),
        total_token_count=count("totalTokenCount"),
        prompt_tokens_by_modality=_details(get_field(body, "promptTokensDetails")),
        response_tokens_by_modality=_details(response_details),
        cached_tokens_by_modality=_details(get_field(body, "cacheTokensDetails")),
        tool_use_prompt_tokens_by_modality=_details(get_field(body, "toolUsePromptTokensDetails")),
        traffic_type=traffic if isinstance(traffic, str) else None,
    )


def _parse_resumption(body: Mapping[str, Any]) -> SessionResumptionUpdate:
    handle = get_field(body, "newHandle")
    return SessionResumptionUpdate(
        new_handle=handle if isinstance(handle, str) and handle else None,
        resumable=get_field(body, "resumable") is True,
        last_consumed_client_message_index=parse_int64(
            get_field(body, "lastConsumedClientMessageIndex")
        ),
    )


def _parse_voice_activity(body: Mapping[str, Any]) -> LiveEvent:
    kind = get_field(body, "voiceActivityType") or get_field(body, "type")
    offset = parse_duration_s(get_field(body, "audioOffset"))
    if kind == "ACTIVITY_START":
        return VoiceActivity(started=True, audio_offset_s=offset)
    if kind == "ACTIVITY_END":
        return VoiceActivity(started=False, audio_offset_s=offset)
    return Ignored("unknown voice activity type", str(kind)[:80])


def _parse_message(message: Mapping[str, Any]) -> list[LiveEvent]:
    events: list[LiveEvent] = []
    setup = get_field(message, "setupComplete")
    if isinstance(setup, Mapping):
        session_id = get_field(setup, "sessionId")
        events.append(SetupComplete(session_id=session_id if isinstance(session_id, str) else None))
    content = _as_dict(get_field(message, "serverContent"))
    if content is not None:
        events.extend(_parse_server_content(content))
    tool_call = _as_dict(get_field(message, "toolCall"))
    if tool_call is not None:
        events.append(_parse_tool_call(tool_call))
    cancellation = _as_dict(get_field(message, "toolCallCancellation"))
    if cancellation is not None:
        ids = get_field(cancellation, "ids")
        valid = tuple(i for i in ids if isinstance(i, str)) if isinstance(ids, list) else ()
        events.append(ToolCallCancellation(call_ids=valid))
    go_away = _as_dict(get_field(message, "goAway"))
    if go_away is not None:
        events.append(GoAway(time_left_s=parse_duration_s(get_field(go_away, "timeLeft"))))
    resumption = _as_dict(get_field(message, "sessionResumptionUpdate"))
    if resumption is not None:
        events.append(_parse_resumption(resumption))
    activity = _as_dict(get_field(message, "voiceActivity"))
    if activity is not None:
        events.append(_parse_voice_activity(activity))
    if get_field(message, "voiceActivityDetectionSignal") is not None:
        events.append(Ignored("voiceActivityDetectionSignal not used"))
    usage = _as_dict(get_field(message, "usageMetadata"))
    if usage is not None:
        events.append(_parse_usage(usage))
    if not events:
        known = any(get_field(message, name) is not None for name in _KNOWN_TOP_LEVEL)
        if known:
            events.append(Ignored("empty message"))
        else:
            names = ",".join(sorted(map(str, message)))[:80]
            events.append(Ignored("unknown message", names))
    return events


def parse_server_message(frame: bytes | str) -> list[LiveEvent]:
    """Every event in one server frame (binary or text), in a fixed order; never raises.

    Order: setupComplete; serverContent (model parts, output transcript, input transcript,
    interim transcript, interrupted, waitingForInput, generationComplete, turnComplete); toolCall;
    toolCallCancellation; goAway; sessionResumptionUpdate; voiceActivity; usageMetadata.
    """
    if len(frame) > MAX_FRAME_BYTES:
        return [Ignored("oversized frame", f"{len(frame)} bytes")]
    try:
        message = json.loads(frame)
    except (ValueError, UnicodeDecodeError) as exc:
        return [Ignored("malformed JSON", type(exc).__name__)]
    except RecursionError:
        return [Ignored("malformed JSON", "too deeply nested")]
    if not isinstance(message, dict):
        return [Ignored("message is not a JSON object", type(message).__name__)]
    if may_hold_surrogates(frame):  # no lone surrogate gets past the edge (gateway.text)
        message = clean_json(message)
    return _parse_message(message)


# -------------------------------------------------------------------------------------- encoder


def _dump(message: Mapping[str, Any]) -> str:
    return json.dumps(message, separators=(",", ":"), ensure_ascii=False)


def encode_setup(config: LiveConfig, *, resume_handle: str | None = None) -> str:
    """The `setup` text frame (see gateway.live.setup.build_setup)."""
    return _dump(build_setup(config, resume_handle=resume_handle))


def encode_audio(pcm: bytes, rate_hz: int = 16_000) -> str:
    """Caller audio: raw 16-bit little-endian mono PCM, rate in the MIME type."""
    if len(pcm) % 2:
        raise ValueError("PCM16 audio must have an even number of bytes")
    # The hottest message of the Live leg (50 a second per call), so a template: the same text
    # as `_dump({"realtimeInput": {"audio": {"mimeType": ..., "data": ...}}})` (base64 needs no
    # JSON escaping), without building and walking the dicts.
    data = binascii.b2a_base64(pcm, newline=False).decode("ascii")
    mime = f"audio/pcm;rate={int(rate_hz)}"
    return f'{{"realtimeInput":{{"audio":{{"mimeType":"{mime}","data":"{data}"}}}}}}'


def encode_text(text: str) -> str:
    """Real-time text input (for example a note that the caller pressed a key)."""
    return _dump({"realtimeInput": {"text": text}})


def encode_audio_stream_end() -> str:
    """The audio stream paused: the server flushes what it buffered (automatic VAD only)."""
    return _dump({"realtimeInput": {"audioStreamEnd": True}})


def encode_activity_start() -> str:
    """Manual activity signal (only when automatic activity detection is disabled)."""
    return _dump({"realtimeInput": {"activityStart": {}}})


def encode_activity_end() -> str:
    return _dump({"realtimeInput": {"activityEnd": {}}})


def encode_tool_response(results: Iterable[ToolResult], *, vertex: bool = False) -> str:
    """Answers to tool calls; each echoes its call's id, when the call had one.

    `vertex`: Vertex AI's dialect, which has no `scheduling` nor `willContinue` in a function
    response and closes the session (1007) on either (protocols.md A.11): both are left out.
    """
    responses: list[dict[str, Any]] = []
    for result in results:
        entry: dict[str, Any] = {}
        if result.call_id:
            entry["id"] = result.call_id
        entry["name"] = result.name
        entry["response"] = dict(result.response)
        if result.scheduling is not None and not vertex:
            entry["scheduling"] = result.scheduling.value
        if result.will_continue is not None and not vertex:
            entry["willContinue"] = result.will_continue
        responses.append(entry)
    if not responses:
        raise ValueError("a tool response needs at least one result")
    return _dump({"toolResponse": {"functionResponses": responses}})


def encode_client_content(turns: Sequence[tuple[str, str]], *, turn_complete: bool) -> str:
    """Ordered content: `turns` are (role, text) pairs with role "user" or "model"."""
    body: list[dict[str, Any]] = []
    for role, text in turns:
        if role not in {"user", "model"}:
            raise ValueError(f"role must be user or model, not {role!r}")
        body.append({"role": role, "parts": [{"text": text}]})
    return _dump({"clientContent": {"turns": body, "turnComplete": turn_complete}})
