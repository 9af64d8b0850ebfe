"""Our client messages validate against the official SDK's own pydantic types (extra=forbid)."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from unittest import mock

import pytest
from google import genai
from google.genai import live as genai_live
from google.genai import types

from gateway.emulator.schema import normalise_client_message
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

EVERY_OPTION = LiveConfig(
    model="models/gemini-2.5-flash-native-audio-preview-12-2025",
    voice="Kore",
    language="en-US",
    instructions="You are a phone agent.",
    tools=(
        FunctionDeclaration(
            name="lookup",
            description="Look up an order",
            parameters={"type": "OBJECT", "properties": {"order": {"type": "STRING"}}},
            non_blocking=True,
        ),
    ),
    vad=VadConfig(start_sensitivity="HIGH", silence_duration_ms=700),
    barge_in=False,
    thinking_budget=512,
    include_thoughts=True,
    temperature=0.4,
    compression_trigger_tokens=20000,
    compression_target_tokens=10000,
    turn_coverage="ALL_INPUT",
    affective_dialog=True,
    proactive_audio=True,
    google_search=True,
)
"""Every LiveConfig option set (a native-audio 2.5 model accepts them all)."""

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
        EVERY_OPTION,
        LiveConfig(
            model="models/gemini-3.1-flash-live-preview",
            turn_coverage="AUDIO_ACTIVITY_AND_ALL_VIDEO",
            google_search=True,
        ),
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


def test_every_new_option_lands_in_its_sdk_field() -> None:
    setup_json, realtime_json = split_setup(encode_setup(EVERY_OPTION))
    setup = types.LiveClientSetup.model_validate_json(setup_json)
    realtime = types.RealtimeInputConfig.model_validate_json(realtime_json)
    assert setup.proactivity == types.ProactivityConfig(proactive_audio=True)
    assert setup.generation_config is not None
    assert setup.generation_config.enable_affective_dialog is True
    assert setup.generation_config.temperature == 0.4
    assert setup.generation_config.thinking_config == types.ThinkingConfig(
        thinking_budget=512, include_thoughts=True
    )
    assert realtime.turn_coverage == types.TurnCoverage.TURN_INCLUDES_ALL_INPUT
    assert realtime.activity_handling == types.ActivityHandling.NO_INTERRUPTION
    assert setup.tools is not None
    search, functions = setup.tools
    assert isinstance(search, types.Tool)
    assert search.google_search == types.GoogleSearch()
    assert search.function_declarations is None
    assert isinstance(functions, types.Tool)
    assert functions.google_search is None
    assert functions.function_declarations is not None
    assert [d.name for d in functions.function_declarations] == ["lookup"]


def test_every_option_is_what_the_sdk_itself_sends() -> None:
    """The SDK's own setup frame for the same options (captured without a socket, A.10) equals
    ours once both are put in one casing: same keys, same places, same values."""
    sent: list[str] = []

    class Socket:
        async def send(self, message: str) -> None:
            sent.append(message)

        async def recv(self, decode: bool = False) -> bytes:
            return b'{"setupComplete": {}}'

        async def close(self) -> None:
            return None

    @contextlib.asynccontextmanager
    async def connect(*args: object, **kwargs: object) -> AsyncIterator[Socket]:
        yield Socket()

    sdk_config = types.LiveConnectConfig(
        response_modalities=[types.Modality.AUDIO],
        temperature=0.4,
        speech_config=types.SpeechConfig(
            voice_config=types.VoiceConfig(
                prebuilt_voice_config=types.PrebuiltVoiceConfig(voice_name="Kore")
            ),
            language_code="en-US",
        ),
        thinking_config=types.ThinkingConfig(thinking_budget=512, include_thoughts=True),
        enable_affective_dialog=True,
        system_instruction="You are a phone agent.",
        tools=[
            types.Tool(
                function_declarations=[
                    types.FunctionDeclaration(
                        name="lookup",
                        description="Look up an order",
                        parameters=types.Schema(
                            type=types.Type.OBJECT,
                            properties={"order": types.Schema(type=types.Type.STRING)},
                        ),
                        behavior=types.Behavior.NON_BLOCKING,
                    )
                ]
            ),
            types.Tool(google_search=types.GoogleSearch()),
        ],
        realtime_input_config=types.RealtimeInputConfig(
            automatic_activity_detection=types.AutomaticActivityDetection(
                disabled=False,
                start_of_speech_sensitivity=types.StartSensitivity.START_SENSITIVITY_HIGH,
                silence_duration_ms=700,
            ),
            activity_handling=types.ActivityHandling.NO_INTERRUPTION,
            turn_coverage=types.TurnCoverage.TURN_INCLUDES_ALL_INPUT,
        ),
        session_resumption=types.SessionResumptionConfig(),
        context_window_compression=types.ContextWindowCompressionConfig(
            trigger_tokens=20000, sliding_window=types.SlidingWindow(target_tokens=10000)
        ),
        input_audio_transcription=types.AudioTranscriptionConfig(),
        output_audio_transcription=types.AudioTranscriptionConfig(),
        proactivity=types.ProactivityConfig(proactive_audio=True),
    )

    async def scenario() -> None:
        client = genai.Client(
            api_key="TESTKEY", http_options=types.HttpOptions(api_version="v1beta")
        )
        async with client.aio.live.connect(
            model="gemini-2.5-flash-native-audio-preview-12-2025", config=sdk_config
        ):
            pass

    with mock.patch.object(genai_live, "ws_connect", connect):
        asyncio.run(scenario())
    assert normalise_client_message(json.loads(sent[0])) == normalise_client_message(
        json.loads(encode_setup(EVERY_OPTION))
    )
