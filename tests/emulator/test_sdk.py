"""The official google-genai SDK against the emulator over TLS (protocols.md A.10)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pytest
from google import genai
from google.genai import errors, types
from google.genai.live import AsyncSession

from gateway.emulator import EmulatorConfig, LiveEmulator, Scenario, ToolCallRule
from gateway.emulator.schema import normalise_client_message
from gateway.live.protocol import encode_setup
from gateway.live.setup import LiveConfig, VadConfig

MODEL = "gemini-2.5-flash-native-audio-preview-12-2025"


def speech(seconds: float, rate_hz: int = 16_000) -> bytes:
    t = np.arange(round(seconds * rate_hz)) / rate_hz
    return (6000 * np.sin(2 * np.pi * 220 * t)).astype("<i2").tobytes()


def silence(seconds: float, rate_hz: int = 16_000) -> bytes:
    return bytes(2 * round(seconds * rate_hz))


def sdk_client(emulator: LiveEmulator) -> genai.Client:
    return genai.Client(
        api_key="TESTKEY",
        http_options=types.HttpOptions(
            base_url=emulator.base_url,
            api_version="v1beta",
            async_client_args={"ssl": emulator.client_ssl_context()},
        ),
    )


def live_config(handle: str | None = None) -> types.LiveConnectConfig:
    return types.LiveConnectConfig(
        response_modalities=[types.Modality.AUDIO],
        speech_config=types.SpeechConfig(
            voice_config=types.VoiceConfig(
                prebuilt_voice_config=types.PrebuiltVoiceConfig(voice_name="Kore")
            ),
            language_code="en-US",
        ),
        realtime_input_config=types.RealtimeInputConfig(
            automatic_activity_detection=types.AutomaticActivityDetection(
                disabled=False,
                start_of_speech_sensitivity=types.StartSensitivity.START_SENSITIVITY_LOW,
                silence_duration_ms=300,
            ),
            activity_handling=types.ActivityHandling.START_OF_ACTIVITY_INTERRUPTS,
        ),
        input_audio_transcription=types.AudioTranscriptionConfig(),
        output_audio_transcription=types.AudioTranscriptionConfig(),
        session_resumption=types.SessionResumptionConfig(handle=handle),
        context_window_compression=types.ContextWindowCompressionConfig(
            sliding_window=types.SlidingWindow()
        ),
        thinking_config=types.ThinkingConfig(thinking_budget=0),
        system_instruction="You are a phone agent.",
    )


@dataclass
class Heard:
    audio_bytes: int = 0
    audio_mime_types: set[str] = field(default_factory=set)
    input_text: list[str] = field(default_factory=list)
    output_text: list[str] = field(default_factory=list)
    handles: list[str] = field(default_factory=list)
    go_away: list[str] = field(default_factory=list)
    turn_complete: bool = False
    usage: types.UsageMetadata | None = None


def absorb(heard: Heard, message: types.LiveServerMessage) -> None:
    content = message.server_content
    if content and content.model_turn and content.model_turn.parts:
        for part in content.model_turn.parts:
            if part.inline_data and part.inline_data.data:
                heard.audio_bytes += len(part.inline_data.data)
                heard.audio_mime_types.add(part.inline_data.mime_type or "")
    if content and content.input_transcription and content.input_transcription.text:
        heard.input_text.append(content.input_transcription.text)
    if content and content.output_transcription and content.output_transcription.text:
        heard.output_text.append(content.output_transcription.text)
    update = message.session_resumption_update
    if update and update.resumable and update.new_handle:
        heard.handles.append(update.new_handle)
    if message.go_away is not None:
        heard.go_away.append(str(message.go_away.time_left))
    if content and content.turn_complete:
        heard.turn_complete = True
        heard.usage = message.usage_metadata


async def send_utterance(session: AsyncSession) -> None:
    """0.8 s of speech, then 0.5 s of silence, in 20 ms chunks."""
    audio = speech(0.8) + silence(0.5)
    for start in range(0, len(audio), 640):
        blob = types.Blob(data=audio[start : start + 640], mime_type="audio/pcm;rate=16000")
        await session.send_realtime_input(audio=blob)


async def read_until(session: AsyncSession, heard: Heard, done: Callable[[Heard], bool]) -> None:
    """Read messages (receive() returns after each turnComplete, so loop) until `done`."""
    async with asyncio.timeout(30):
        while not done(heard):
            async for message in session.receive():
                absorb(heard, message)
                if done(heard):
                    return


def test_sdk_session_over_tls_with_go_away_and_resume() -> None:
    async def scenario() -> None:
        # 60 emulated seconds per connection, goAway 30 s before the end, 10x faster than real.
        config = EmulatorConfig(tls=True, speed=10, connection_lifetime_s=60, go_away_lead_s=30)
        async with LiveEmulator(config) as emulator:
            client = sdk_client(emulator)
            first = Heard()
            async with client.aio.live.connect(model=MODEL, config=live_config()) as session:
                await send_utterance(session)
                await read_until(
                    session, first, lambda h: h.turn_complete and len(h.handles) >= 2 and h.go_away
                )
            assert first.turn_complete
            assert first.audio_bytes >= 0.8 * 24_000 * 2
            assert first.audio_mime_types == {"audio/pcm;rate=24000"}
            assert first.input_text == ["[caller turn 1, 0.8 s]"]
            assert "".join(first.output_text) == "[model turn 1]"
            assert first.usage is not None
            assert first.usage.response_token_count is not None
            assert len(first.handles) >= 2
            assert first.go_away == ["30s"]

            second = Heard()
            resume = live_config(handle=first.handles[-1])
            async with client.aio.live.connect(model=MODEL, config=resume) as session:
                await send_utterance(session)
                await read_until(session, second, lambda h: h.turn_complete)
            assert second.input_text == ["[caller turn 2, 0.8 s]"]
            assert "".join(second.output_text) == "[model turn 2]"

        record = emulator.recorder.sessions[0]
        assert len(emulator.recorder.sessions) == 1
        assert record.connections == 2
        assert record.audio_samples == 2 * round(1.3 * 16_000)
        assert record.audio_samples_by_connection == {1: 20_800, 2: 20_800}
        assert record.setups[1]["sessionResumption"] == {"handle": first.handles[-1]}
        assert record.setups[0]["generationConfig"]["speechConfig"] == {
            "voiceConfig": {"prebuiltVoiceConfig": {"voiceName": "Kore"}},
            "languageCode": "en-US",
        }

    asyncio.run(scenario())


def test_sdk_sees_setup_errors_as_api_errors() -> None:
    async def scenario() -> None:
        config = EmulatorConfig(tls=True, models=frozenset({f"models/{MODEL}"}))
        async with LiveEmulator(config) as emulator:
            client = sdk_client(emulator)
            with pytest.raises(errors.APIError) as caught:
                async with client.aio.live.connect(model="gemini-1.0-pro", config=live_config()):
                    pass
            assert caught.value.code == 1008
            assert str(caught.value) == (
                "1008 None. models/gemini-1.0-pro is not found for API version v1beta, or is not "
                "supported for bidiGenerateContent."
            )

    asyncio.run(scenario())


def test_our_setup_is_what_the_sdk_puts_on_the_wire() -> None:
    """The same configuration, built by us and by the SDK, is the same setup (casing aside)."""
    ours = LiveConfig(
        model=f"models/{MODEL}",
        voice="Kore",
        language="en-US",
        instructions="You are a phone agent.",
        vad=VadConfig(start_sensitivity="LOW", silence_duration_ms=300),
        thinking_budget=0,
    )

    async def scenario() -> None:
        async with LiveEmulator(EmulatorConfig(tls=True)) as emulator:
            client = sdk_client(emulator)
            async with client.aio.live.connect(model=MODEL, config=live_config()):
                pass
        (record,) = emulator.recorder.sessions
        kind, expected = normalise_client_message(json.loads(encode_setup(ours)))
        assert kind == "setup"
        assert record.setups[0] == expected

    asyncio.run(scenario())


def test_sdk_tool_call_round_trip_on_dtmf_text() -> None:
    rule = ToolCallRule(
        name="menu_choice", args={"digit": "5"}, on_text="pressed 5", say_text="Option five"
    )

    async def scenario() -> None:
        config = EmulatorConfig(tls=True, speed=10)
        async with LiveEmulator(config, Scenario(tool_calls=(rule,))) as emulator:
            client = sdk_client(emulator)
            async with client.aio.live.connect(model=MODEL, config=live_config()) as session:
                await session.send_realtime_input(text="Caller pressed 5")
                call: types.FunctionCall | None = None
                async with asyncio.timeout(30):
                    while call is None:
                        async for message in session.receive():
                            if message.tool_call and message.tool_call.function_calls:
                                call = message.tool_call.function_calls[0]
                                break
                assert call.name == "menu_choice"
                assert call.args == {"digit": "5"}
                assert call.id is not None
                await session.send_tool_response(
                    function_responses=[
                        types.FunctionResponse(
                            id=call.id, name=call.name, response={"output": "ok"}
                        )
                    ]
                )
                heard = Heard()
                await read_until(session, heard, lambda h: h.turn_complete)
        assert "".join(heard.output_text) == "Option five"
        assert heard.audio_bytes > 0
        (record,) = emulator.recorder.sessions
        assert record.texts == ["Caller pressed 5"]
        assert record.tool_responses == [
            {"id": call.id, "name": "menu_choice", "response": {"output": "ok"}}
        ]

    asyncio.run(scenario())
