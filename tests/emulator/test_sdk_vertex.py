"""The official google-genai SDK with `vertexai=True` against the emulator's Vertex mode over TLS.

The SDK (3.4.0) builds the Vertex URL from `http_options.base_url`
(`/ws/google.cloud.aiplatform.v1beta1.LlmBidiService/BidiGenerateContent`), sends
`Authorization: Bearer <token>` from its credentials, and names the model
`projects/P/locations/L/publishers/google/models/M` (google/genai/live.py, `connect`). The
emulator's Vertex mode refuses anything else, so these sessions prove both ends speak Vertex;
then our own client's Vertex setup and tool response are compared with the SDK's.
"""

from __future__ import annotations

import asyncio
import json

import google.oauth2.credentials
from google import genai
from google.genai import types

from gateway.emulator import EmulatorConfig, LiveEmulator, Scenario, ToolCallRule
from gateway.emulator.config import Backend
from gateway.emulator.schema import normalise_client_message
from gateway.live.endpoints import vertex_endpoint
from gateway.live.protocol import ToolResult, encode_setup, encode_tool_response
from gateway.live.setup import LiveConfig, VadConfig, normalise_model
from gateway.shell.live_client import ClientOptions, connect
from tests.emulator.test_sdk import Heard, live_config, read_until, send_utterance

MODEL = "gemini-live-2.5-flash-native-audio"
PROJECT, LOCATION = "test-project", "us-central1"
TOKEN = "ya29.emulator-test-token"


def vertex_client(emulator: LiveEmulator) -> genai.Client:
    return genai.Client(
        vertexai=True,
        project=PROJECT,
        location=LOCATION,
        credentials=google.oauth2.credentials.Credentials(token=TOKEN),  # type: ignore[no-untyped-call]
        http_options=types.HttpOptions(
            base_url=emulator.base_url,
            api_version="v1beta1",
            async_client_args={"ssl": emulator.client_ssl_context()},
        ),
    )


def vertex_emulator(scenario: Scenario | None = None) -> LiveEmulator:
    config = EmulatorConfig(tls=True, speed=10, backend=Backend.VERTEX, api_keys=frozenset({TOKEN}))
    return LiveEmulator(config, scenario)


def test_sdk_vertex_session_completes_against_the_vertex_mode() -> None:
    async def scenario() -> None:
        async with vertex_emulator() as emulator:
            client = vertex_client(emulator)
            heard = Heard()
            async with client.aio.live.connect(model=MODEL, config=live_config()) as session:
                await send_utterance(session)
                await read_until(session, heard, lambda h: h.turn_complete)
        assert heard.audio_bytes >= 0.8 * 24_000 * 2
        assert heard.input_text == ["[caller turn 1, 0.8 s]"]
        assert "".join(heard.output_text) == "[model turn 1]"
        assert heard.usage is not None
        assert emulator.recorder.refused == []
        (record,) = emulator.recorder.sessions
        assert record.setups[0]["model"] == (
            f"projects/{PROJECT}/locations/{LOCATION}/publishers/google/models/{MODEL}"
        )

    asyncio.run(scenario())


def test_sdk_vertex_tool_round_trip_without_ids() -> None:
    """Vertex mode sends the call without an id; the SDK answers it without one (it allows that
    on Vertex only), and the emulator matches the answer to the call."""
    rule = ToolCallRule(
        name="menu_choice", args={"digit": "5"}, on_text="pressed 5", say_text="Five"
    )

    async def scenario() -> None:
        async with vertex_emulator(Scenario(tool_calls=(rule,))) as emulator:
            client = vertex_client(emulator)
            async with client.aio.live.connect(model=MODEL, config=live_config()) as session:
                await session.send_realtime_input(text="Caller pressed 5")
                call: types.FunctionCall | None = None
                async with asyncio.timeout(30):
                    while call is None:
                        async for message in session.receive():
                            if message.tool_call and message.tool_call.function_calls:
                                call = message.tool_call.function_calls[0]
                                break
                assert (call.name, call.args, call.id) == ("menu_choice", {"digit": "5"}, None)
                await session.send_tool_response(
                    function_responses=[
                        types.FunctionResponse(name="menu_choice", response={"output": "ok"})
                    ]
                )
                heard = Heard()
                await read_until(session, heard, lambda h: h.turn_complete)
        assert "".join(heard.output_text) == "Five"
        (record,) = emulator.recorder.sessions
        assert record.tool_responses == [{"name": "menu_choice", "response": {"output": "ok"}}]
        assert record.closes == [(1, 1000, "")]  # the SDK closed it; nothing was refused

        # Our Vertex tool response for the same answer is the SDK's, byte for byte once parsed.
        ours = json.loads(
            encode_tool_response([ToolResult(None, "menu_choice", {"output": "ok"})], vertex=True)
        )
        assert normalise_client_message(ours) == (
            "toolResponse",
            {"functionResponses": record.tool_responses},
        )

    asyncio.run(scenario())


def test_our_vertex_setup_and_session_match_the_sdks() -> None:
    """The same configuration, built by us (Vertex model path) and by the SDK with
    `vertexai=True`, is the same setup; and our client opens a session in the Vertex mode."""
    ours = LiveConfig(
        model=normalise_model(MODEL, vertex_project=PROJECT, vertex_location=LOCATION),
        voice="Kore",
        language="en-US",
        instructions="You are a phone agent.",
        vad=VadConfig(start_sensitivity="LOW", silence_duration_ms=300),
        thinking_budget=0,
    )

    async def scenario() -> None:
        async with vertex_emulator() as emulator:
            async with vertex_client(emulator).aio.live.connect(model=MODEL, config=live_config()):
                pass
            endpoint = vertex_endpoint(
                TOKEN, location=LOCATION, url=emulator.base_url.replace("https", "wss")
            )
            assert endpoint.url == emulator.url
            options = ClientOptions(ssl_context=emulator.client_ssl_context())
            session = await connect(endpoint, ours, options=options)
            assert session.vertex
            await session.close()
        sdk, gateway = emulator.recorder.sessions
        kind, expected = normalise_client_message(json.loads(encode_setup(ours)))
        assert kind == "setup"
        assert sdk.setups[0] == expected
        assert gateway.setups[0] == expected
        assert emulator.recorder.refused == []

    asyncio.run(scenario())
