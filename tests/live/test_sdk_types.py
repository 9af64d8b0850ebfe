"""Our client messages validate against the official SDK's own pydantic types (extra=forbid)."""

from __future__ import annotations

import json

import pytest
from google.genai import types

from gateway.live.protocol import (
    Scheduling,
    ToolResult,
    encode_activity_end,
    encode_activity_start,
    encode_audio,
    encode_audio_stream_end,
    encode_client_content,
    encode_setup,
    encode_text,
    encode_tool_response,
)
from gateway.live.setup import FunctionDeclaration, LiveConfig, VadConfig

FULL = LiveConfig(
    voice="Kore",
    language="en-US",
    instructions="You are a phone agent.",
    tools=(
        FunctionDeclaration(
            name="transfer_call",
            description="Transfer the caller",
            parameters={
                "type": "OBJECT",
                "properties": {"dept": {"type": "STRING"}},
                "required": ["dept"],
            },
            non_blocking=True,
        ),
    ),
    vad=VadConfig(
        start_sensitivity="LOW",
        end_sensitivity="HIGH",
        prefix_padding_ms=20,
        silence_duration_ms=500,
    ),
    thinking_budget=0,
    include_thoughts=False,
    temperature=0.7,
    compression_trigger_tokens=25600,
    compression_target_tokens=12800,
)


def inner(frame: str, key: str) -> str:
    message = json.loads(frame)
    assert list(message) == [key]
    return json.dumps(message[key])


def split_setup(frame: str) -> tuple[str, str]:
    """(setup without realtimeInputConfig, realtimeInputConfig) as JSON texts.

    SDK 3.4.0 puts `realtimeInputConfig` under `setup` on the wire (its converter does), but its
    `LiveClientSetup` type lacks the field, so that part is validated with `RealtimeInputConfig`.
    """
    setup = json.loads(frame)["setup"]
    realtime = setup.pop("realtimeInputConfig")
    return json.dumps(setup), json.dumps(realtime)


@pytest.mark.parametrize(
    "config",
    [
        FULL,
        LiveConfig(),
        LiveConfig(model="models/gemini-3.1-flash-live-preview", thinking_level="MINIMAL"),
    ],
)
def test_setup_validates_as_live_client_setup(config: LiveConfig) -> None:
    setup_json, realtime_json = split_setup(encode_setup(config, resume_handle="h"))
    setup = types.LiveClientSetup.model_validate_json(setup_json)
    types.RealtimeInputConfig.model_validate_json(realtime_json)
    assert setup.model == config.model
    assert setup.session_resumption == types.SessionResumptionConfig(handle="h")
    assert setup.input_audio_transcription == types.AudioTranscriptionConfig()
    assert setup.generation_config is not None
    assert setup.generation_config.response_modalities == [types.Modality.AUDIO]


def test_full_setup_fields_land_where_the_sdk_expects_them() -> None:
    setup_json, realtime_json = split_setup(encode_setup(FULL))
    setup = types.LiveClientSetup.model_validate_json(setup_json)
    realtime = types.RealtimeInputConfig.model_validate_json(realtime_json)
    generation = setup.generation_config
    assert generation is not None
    assert generation.speech_config == types.SpeechConfig(
        voice_config=types.VoiceConfig(
            prebuilt_voice_config=types.PrebuiltVoiceConfig(voice_name="Kore")
        ),
        language_code="en-US",
    )
    assert generation.thinking_config == types.ThinkingConfig(
        thinking_budget=0, include_thoughts=False
    )
    assert realtime == types.RealtimeInputConfig(
        automatic_activity_detection=types.AutomaticActivityDetection(
            disabled=False,
            start_of_speech_sensitivity=types.StartSensitivity.START_SENSITIVITY_LOW,
            end_of_speech_sensitivity=types.EndSensitivity.END_SENSITIVITY_HIGH,
            prefix_padding_ms=20,
            silence_duration_ms=500,
        ),
        activity_handling=types.ActivityHandling.START_OF_ACTIVITY_INTERRUPTS,
    )
    assert setup.context_window_compression == types.ContextWindowCompressionConfig(
        trigger_tokens=25600, sliding_window=types.SlidingWindow(target_tokens=12800)
    )
    assert setup.tools is not None
    (tool,) = setup.tools
    assert isinstance(tool, types.Tool)
    assert tool.function_declarations is not None
    assert tool.function_declarations[0].behavior == types.Behavior.NON_BLOCKING


def test_realtime_input_messages_validate() -> None:
    audio = types.LiveClientRealtimeInput.model_validate_json(
        inner(encode_audio(b"\x01\x00\xff\x7f"), "realtimeInput")
    )
    assert audio.audio == types.Blob(data=b"\x01\x00\xff\x7f", mime_type="audio/pcm;rate=16000")
    text = types.LiveClientRealtimeInput.model_validate_json(
        inner(encode_text("pressed 5"), "realtimeInput")
    )
    assert text.text == "pressed 5"
    end = types.LiveClientRealtimeInput.model_validate_json(
        inner(encode_audio_stream_end(), "realtimeInput")
    )
    assert end.audio_stream_end is True
    start = types.LiveClientRealtimeInput.model_validate_json(
        inner(encode_activity_start(), "realtimeInput")
    )
    assert start.activity_start == types.ActivityStart()
    stop = types.LiveClientRealtimeInput.model_validate_json(
        inner(encode_activity_end(), "realtimeInput")
    )
    assert stop.activity_end == types.ActivityEnd()


def test_tool_response_validates() -> None:
    frame = encode_tool_response(
        [ToolResult("fc-1", "lookup", {"output": {"ok": True}}, Scheduling.INTERRUPT, True)]
    )
    response = types.LiveClientToolResponse.model_validate_json(inner(frame, "toolResponse"))
    assert response.function_responses == [
        types.FunctionResponse(
            id="fc-1",
            name="lookup",
            response={"output": {"ok": True}},
            scheduling=types.FunctionResponseScheduling.INTERRUPT,
            will_continue=True,
        )
    ]


def test_client_content_validates() -> None:
    frame = encode_client_content([("user", "Caller is Jane")], turn_complete=True)
    content = types.LiveClientContent.model_validate_json(inner(frame, "clientContent"))
    assert content.turn_complete is True
    assert content.turns == [types.Content(role="user", parts=[types.Part(text="Caller is Jane")])]


def test_every_client_frame_is_one_sdk_client_message() -> None:
    frames = [
        encode_audio(b"\x00\x00"),
        encode_text("x"),
        encode_tool_response([ToolResult("a", "b", {})]),
        encode_client_content([("model", "ok")], turn_complete=False),
    ]
    for frame in frames:
        message = types.LiveClientMessage.model_validate_json(frame)
        assert len(message.model_dump(exclude_none=True)) == 1
