"""Parser and encoder: exact events out of the parser, exact JSON out of the encoder."""

from __future__ import annotations

import base64
import json

import pytest

from gateway.live.events import (
    AudioChunk,
    FunctionCall,
    GenerationComplete,
    GoAway,
    Ignored,
    InputTranscript,
    Interrupted,
    ModelText,
    OutputTranscript,
    SessionResumptionUpdate,
    SetupComplete,
    ToolCall,
    ToolCallCancellation,
    TurnComplete,
    UsageMetadata,
    VoiceActivity,
    WaitingForInput,
)
from gateway.live.protocol import (
    MAX_FRAME_BYTES,
    Scheduling,
    ToolResult,
    encode_activity_end,
    encode_activity_start,
    encode_audio,
    encode_audio_stream_end,
    encode_client_content,
    encode_text,
    encode_tool_response,
    parse_server_message,
)

PCM = bytes([0xFF, 0xD8, 0x01, 0x02])  # b64: "/9gBAg==" standard, "_9gBAg==" URL-safe


def frame(message: object) -> bytes:
    return json.dumps(message).encode()


def test_setup_complete_binary_and_text_frames() -> None:
    assert parse_server_message(b'{"setupComplete":{}}') == [SetupComplete()]
    assert parse_server_message('{"setupComplete":{"sessionId":"s1"}}') == [SetupComplete("s1")]


@pytest.mark.parametrize("data", ["/9gBAg==", "_9gBAg==", "_9gBAg"])
def test_audio_chunk_with_either_base64_alphabet(data: str) -> None:
    message = {
        "serverContent": {
            "modelTurn": {
                "parts": [{"inlineData": {"mimeType": "audio/pcm;rate=24000", "data": data}}]
            }
        }
    }
    assert parse_server_message(frame(message)) == [AudioChunk(pcm=PCM, rate_hz=24000)]


def test_audio_rate_comes_from_the_mime_type_and_defaults_to_24k() -> None:
    data = base64.b64encode(PCM).decode()
    parts = [
        {"inlineData": {"mimeType": "audio/pcm;rate=16000", "data": data}},
        {"inlineData": {"mimeType": "audio/pcm", "data": data}},
        {"text": "hello"},
        {"text": "hmm", "thought": True},
    ]
    events = parse_server_message(frame({"serverContent": {"modelTurn": {"parts": parts}}}))
    assert events == [
        AudioChunk(PCM, 16000),
        AudioChunk(PCM, 24000),
        ModelText("hello"),
        ModelText("hmm", thought=True),
    ]
    assert events[0] == AudioChunk(PCM, 16000)
    assert AudioChunk(PCM, 16000).duration_ms == 0.125


def test_bad_parts_are_ignored_not_raised() -> None:
    parts = [
        {"inlineData": {"mimeType": "image/jpeg", "data": "AAAA"}},
        {"inlineData": {"mimeType": "audio/pcm;rate=24000", "data": "!!!"}},
        {"inlineData": {"mimeType": "audio/pcm;rate=24000", "data": "AAAA"}},
        {"executableCode": {}},
        "nope",
    ]
    events = parse_server_message(frame({"serverContent": {"modelTurn": {"parts": parts}}}))
    assert events == [
        Ignored("inline data is not PCM audio", "image/jpeg"),
        Ignored("audio data is not base64"),
        Ignored("odd audio byte count", "3"),
        AudioChunk(b"\x00\x00", 24000),
        Ignored("unsupported part", "executableCode"),
        Ignored("part is not an object"),
    ]


def test_server_content_flags_in_fixed_order() -> None:
    message = {
        "serverContent": {
            "turnComplete": True,
            "turnCompleteReason": "NEED_MORE_INPUT",
            "generationComplete": True,
            "outputTranscription": {"text": "Hi there"},
            "inputTranscription": {"text": "hello", "finished": True},
            "interimInputTranscription": {"text": "hel"},
            "waitingForInput": True,
        }
    }
    assert parse_server_message(frame(message)) == [
        OutputTranscript("Hi there"),
        InputTranscript("hello", finished=True),
        InputTranscript("hel", interim=True),
        WaitingForInput(),
        GenerationComplete(),
        TurnComplete("NEED_MORE_INPUT"),
    ]


def test_interrupted_then_turn_complete() -> None:
    assert parse_server_message(b'{"serverContent":{"interrupted":true}}') == [Interrupted()]
    assert parse_server_message(b'{"serverContent":{"turnComplete":true}}') == [TurnComplete()]


def test_snake_case_keys_are_accepted_too() -> None:
    message = {"server_content": {"output_transcription": {"text": "x"}, "turn_complete": True}}
    assert parse_server_message(frame(message)) == [OutputTranscript("x"), TurnComplete()]


def test_tool_call_and_cancellation() -> None:
    message = {
        "toolCall": {
            "functionCalls": [
                {"id": "fc-1", "name": "lookup", "args": {"order": 42}},
                {"name": "hang_up"},
            ]
        }
    }
    assert parse_server_message(frame(message)) == [
        ToolCall(
            calls=(
                FunctionCall(call_id="fc-1", name="lookup", args={"order": 42}),
                FunctionCall(call_id=None, name="hang_up", args={}),
            )
        )
    ]
    cancel = {"toolCallCancellation": {"ids": ["fc-1", 7]}}
    assert parse_server_message(frame(cancel)) == [ToolCallCancellation(call_ids=("fc-1",))]
    assert parse_server_message(b'{"toolCall":{}}') == [Ignored("toolCall without functionCalls")]
    bad = {"toolCall": {"functionCalls": [{"args": {}}]}}
    assert parse_server_message(frame(bad)) == [Ignored("malformed function call")]


@pytest.mark.parametrize(
    ("time_left", "seconds"), [("50s", 50.0), ("1.5s", 1.5), ("0s", 0.0), ("soon", None)]
)
def test_go_away_durations(time_left: str, seconds: float | None) -> None:
    message = {"goAway": {"timeLeft": time_left}}
    assert parse_server_message(frame(message)) == [GoAway(time_left_s=seconds)]


def test_session_resumption_update_with_int64_strings() -> None:
    message = {
        "sessionResumptionUpdate": {
            "newHandle": "h-123",
            "resumable": True,
            "lastConsumedClientMessageIndex": "123456789012",
        }
    }
    assert parse_server_message(frame(message)) == [
        SessionResumptionUpdate("h-123", True, 123456789012)
    ]
    not_resumable = {"sessionResumptionUpdate": {"resumable": False}}
    assert parse_server_message(frame(not_resumable)) == [SessionResumptionUpdate(None, False)]
    assert parse_server_message(b'{"sessionResumptionUpdate":{}}') == [
        SessionResumptionUpdate(None, False)
    ]


def test_usage_metadata_developer_api_spelling_next_to_server_content() -> None:
    message = {
        "serverContent": {"turnComplete": True},
        "usageMetadata": {
            "promptTokenCount": 100,
            "responseTokenCount": "40",
            "totalTokenCount": 140,
            "thoughtsTokenCount": 3,
            "promptTokensDetails": [
                {"modality": "AUDIO", "tokenCount": 90},
                {"modality": "TEXT", "tokenCount": "10"},
            ],
            "responseTokensDetails": [{"modality": "AUDIO", "tokenCount": 40}],
        },
    }
    assert parse_server_message(frame(message)) == [
        TurnComplete(),
        UsageMetadata(
            prompt_token_count=100,
            response_token_count=40,
            thoughts_token_count=3,
            total_token_count=140,
            prompt_tokens_by_modality={"AUDIO": 90, "TEXT": 10},
            response_tokens_by_modality={"AUDIO": 40},
        ),
    ]


def test_usage_metadata_vertex_spelling() -> None:
    message = {
        "usageMetadata": {
            "promptTokenCount": 5,
            "candidatesTokenCount": 7,
            "candidatesTokensDetails": [{"modality": "AUDIO", "tokenCount": 7}],
            "totalTokenCount": 12,
            "trafficType": "ON_DEMAND",
        }
    }
    assert parse_server_message(frame(message)) == [
        UsageMetadata(
            prompt_token_count=5,
            response_token_count=7,
            total_token_count=12,
            response_tokens_by_modality={"AUDIO": 7},
            traffic_type="ON_DEMAND",
        )
    ]


def test_usage_metadata_cache_and_tool_use_details() -> None:
    message = {
        "usageMetadata": {
            "promptTokenCount": 50,
            "cachedContentTokenCount": 20,
            "toolUsePromptTokenCount": 8,
            "totalTokenCount": 58,
            "cacheTokensDetails": [{"modality": "TEXT", "tokenCount": 20}],
            "tool_use_prompt_tokens_details": [
                {"modality": "TEXT", "tokenCount": "6"},
                {"modality": "TEXT", "tokenCount": 2},
            ],
        }
    }
    assert parse_server_message(frame(message)) == [
        UsageMetadata(
            prompt_token_count=50,
            cached_content_token_count=20,
            tool_use_prompt_token_count=8,
            total_token_count=58,
            cached_tokens_by_modality={"TEXT": 20},
            tool_use_prompt_tokens_by_modality={"TEXT": 8},
        )
    ]


def test_voice_activity() -> None:
    start = {"voiceActivity": {"voiceActivityType": "ACTIVITY_START", "audioOffset": "1.2s"}}
    assert parse_server_message(frame(start)) == [VoiceActivity(True, 1.2)]
    assert parse_server_message(b'{"voiceActivity":{"type":"ACTIVITY_END"}}') == [
        VoiceActivity(False)
    ]
    assert parse_server_message(b'{"voiceActivity":{"type":"X"}}') == [
        Ignored("unknown voice activity type", "X")
    ]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b"{not json", Ignored("malformed JSON", "JSONDecodeError")),
        (b"\xff\xfe\x00", Ignored("malformed JSON", "UnicodeDecodeError")),
        (b"[1, 2]", Ignored("message is not a JSON object", "list")),
        (b'{"error": {"code": 3}}', Ignored("unknown message", "error")),
        (b'{"newThing": {}, "other": 1}', Ignored("unknown message", "newThing,other")),
        (b'{"serverContent": {}}', Ignored("empty message")),
        (b'{"voiceActivityDetectionSignal": {}}', Ignored("voiceActivityDetectionSignal not used")),
        (b"[" * 100_000, Ignored("malformed JSON", "too deeply nested")),
    ],
)
def test_bad_frames_become_ignored_events(raw: bytes, expected: Ignored) -> None:
    assert parse_server_message(raw) == [expected]


def test_oversized_frames_are_ignored_unparsed() -> None:
    raw = b" " * (MAX_FRAME_BYTES + 1)
    assert parse_server_message(raw) == [Ignored("oversized frame", f"{MAX_FRAME_BYTES + 1} bytes")]


# ---------------------------------------------------------------------------------- encoder


def test_encode_audio() -> None:
    assert encode_audio(PCM) == (
        '{"realtimeInput":{"audio":{"mimeType":"audio/pcm;rate=16000","data":"/9gBAg=="}}}'
    )
    assert json.loads(encode_audio(PCM, 8000))["realtimeInput"]["audio"]["mimeType"] == (
        "audio/pcm;rate=8000"
    )
    with pytest.raises(ValueError, match="even"):
        encode_audio(b"\x00")


def test_encode_realtime_signals() -> None:
    assert encode_text("Caller pressed 5") == '{"realtimeInput":{"text":"Caller pressed 5"}}'
    assert encode_audio_stream_end() == '{"realtimeInput":{"audioStreamEnd":true}}'
    assert encode_activity_start() == '{"realtimeInput":{"activityStart":{}}}'
    assert encode_activity_end() == '{"realtimeInput":{"activityEnd":{}}}'


def test_encode_tool_response() -> None:
    text = encode_tool_response(
        [
            ToolResult("fc-1", "lookup", {"output": {"status": "shipped"}}),
            ToolResult("fc-2", "notify", {"error": "down"}, Scheduling.WHEN_IDLE, False),
        ]
    )
    assert text == (
        '{"toolResponse":{"functionResponses":['
        '{"id":"fc-1","name":"lookup","response":{"output":{"status":"shipped"}}},'
        '{"id":"fc-2","name":"notify","response":{"error":"down"},'
        '"scheduling":"WHEN_IDLE","willContinue":false}]}}'
    )
    # A call that came without an id (Vertex) is answered without one.
    assert encode_tool_response([ToolResult(None, "x", {"output": 1})]) == (
        '{"toolResponse":{"functionResponses":[{"name":"x","response":{"output":1}}]}}'
    )
    with pytest.raises(ValueError, match="at least one"):
        encode_tool_response([])


def test_encode_tool_response_for_vertex_drops_scheduling_and_will_continue() -> None:
    """Vertex closes 1007 on either field (protocols.md A.11); everything else is kept."""
    results = [
        ToolResult("fc-2", "notify", {"error": "down"}, Scheduling.WHEN_IDLE, False),
        ToolResult(None, "lookup", {"output": "ok"}, Scheduling.INTERRUPT, True),
    ]
    assert encode_tool_response(results, vertex=True) == (
        '{"toolResponse":{"functionResponses":['
        '{"id":"fc-2","name":"notify","response":{"error":"down"}},'
        '{"name":"lookup","response":{"output":"ok"}}]}}'
    )


def test_encode_client_content() -> None:
    assert encode_client_content([("user", "Caller is Jane")], turn_complete=True) == (
        '{"clientContent":{"turns":[{"role":"user","parts":[{"text":"Caller is Jane"}]}],'
        '"turnComplete":true}}'
    )
    with pytest.raises(ValueError, match="role"):
        encode_client_content([("system", "x")], turn_complete=False)


def test_encoder_output_round_trips_through_json_with_unicode() -> None:
    assert encode_text("Grüße") == '{"realtimeInput":{"text":"Grüße"}}'


@pytest.mark.parametrize("rate_hz", [8_000, 16_000, 24_000])
@pytest.mark.parametrize("size", [0, 2, 640, 1282])
def test_the_audio_template_writes_what_json_would(rate_hz: int, size: int) -> None:
    pcm = bytes((i * 37 + 11) % 256 for i in range(size))
    message = {"realtimeInput": {"audio": {"mimeType": f"audio/pcm;rate={rate_hz}", "data": ""}}}
    message["realtimeInput"]["audio"]["data"] = base64.b64encode(pcm).decode()
    assert encode_audio(pcm, rate_hz) == json.dumps(message, separators=(",", ":"))
