"""The emulator's Developer and Vertex modes: what each refuses, on the wire and in the logic."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from gateway.emulator import EmulatorConfig, LiveEmulator, Scenario, ToolCallRule
from gateway.emulator.config import Backend, ReplyMode
from gateway.emulator.dialect import (
    check_client_message,
    check_model,
    check_setup_version,
    path_status,
)
from gateway.emulator.schema import ClientMessageError
from gateway.live.protocol import Scheduling, ToolResult, encode_setup, encode_tool_response
from gateway.live.setup import LiveConfig, normalise_model
from tests.emulator.test_conversation import CONFIG, audio, make, show, tone

PLAIN = ("/", "/live")
DEV_PATH = "/ws/google.ai.generativelanguage.{v}.GenerativeService.BidiGenerateContent"
VERTEX_PATH = "/ws/google.cloud.aiplatform.v1beta1.LlmBidiService/BidiGenerateContent"
VERTEX_MODEL = normalise_model("gemini-live-2.5-flash-native-audio", vertex_project="p1")
VERTEX_SETUP = encode_setup(LiveConfig(model=VERTEX_MODEL))
DEV_SETUP = encode_setup(LiveConfig())
BEARER = {"Authorization": "Bearer ya29.test-token"}


@pytest.mark.parametrize(
    ("backend", "path", "status"),
    [
        (Backend.DEVELOPER, DEV_PATH.format(v="v1beta"), None),
        (Backend.DEVELOPER, DEV_PATH.format(v="v1alpha") + "Constrained", None),
        (Backend.DEVELOPER, DEV_PATH.format(v="v1beta") + "Constrained", 404),
        (Backend.DEVELOPER, VERTEX_PATH, 404),
        (Backend.DEVELOPER, "/live", None),
        (Backend.VERTEX, VERTEX_PATH, None),
        (Backend.VERTEX, DEV_PATH.format(v="v1beta"), 404),
        (Backend.VERTEX, "/", None),
    ],
)
def test_paths_per_backend(backend: Backend, path: str, status: int | None) -> None:
    assert path_status(backend, path, PLAIN) == status


@pytest.mark.parametrize(
    ("backend", "model", "reason"),
    [
        (Backend.DEVELOPER, "models/gemini-2.5-flash-native-audio-preview-12-2025", None),
        (
            Backend.DEVELOPER,
            "models/gemini-live-2.5-flash-native-audio",
            "models/gemini-live-2.5-flash-native-audio is not found for API version v1beta, or "
            "is not supported for bidiGenerateContent.",
        ),
        (Backend.VERTEX, VERTEX_MODEL, None),
        (Backend.VERTEX, "publishers/google/models/gemini-live-2.5-flash-native-audio", None),
        (
            Backend.VERTEX,
            "projects/p1/locations/us-central1/publishers/google/models/"
            "gemini-2.5-flash-native-audio-preview-12-2025",
            "Publisher Model `projects/p1/locations/us-central1/publishers/google/models/"
            "gemini-2.5-flash-native-audio-preview-12-2025` was not found or your project does "
            "not have access to it.",
        ),
        (
            Backend.VERTEX,
            "models/gemini-live-2.5-flash-native-audio",
            "Publisher Model `models/gemini-live-2.5-flash-native-audio` was not found or your "
            "project does not have access to it.",
        ),
    ],
)
def test_model_names_per_backend(backend: Backend, model: str, reason: str | None) -> None:
    if reason is None:
        check_model(backend, model, "v1beta", None)
        return
    with pytest.raises(ClientMessageError) as caught:
        check_model(backend, model, "v1beta", None)
    assert (caught.value.code, caught.value.reason) == (1008, reason)


@pytest.mark.parametrize(
    ("setup", "name", "where"),
    [
        (
            {"generationConfig": {"enableAffectiveDialog": False}},
            "enableAffectiveDialog",
            "setup.generation_config",
        ),
        ({"proactivity": {"proactiveAudio": True}}, "proactivity", "setup"),
    ],
)
def test_affective_dialog_and_proactivity_only_over_v1alpha(
    setup: dict[str, Any], name: str, where: str
) -> None:
    check_setup_version(Backend.DEVELOPER, setup, "v1alpha")
    check_setup_version(Backend.VERTEX, setup, "v1beta1")
    with pytest.raises(ClientMessageError) as caught:
        check_setup_version(Backend.DEVELOPER, setup, "v1beta")
    assert caught.value.code == 1007
    assert caught.value.reason == (
        f"Invalid JSON payload received. Unknown name \"{name}\" at '{where}': Cannot find field."
    )


@pytest.mark.parametrize("field", ["scheduling", "willContinue"])
def test_vertex_refuses_scheduling_and_will_continue(field: str) -> None:
    ok = {"name": "x", "response": {}}
    body = {"functionResponses": [ok, {**ok, field: "SILENT" if field == "scheduling" else True}]}
    check_client_message(Backend.DEVELOPER, "toolResponse", body)
    check_client_message(Backend.VERTEX, "toolResponse", {"functionResponses": [ok]})
    with pytest.raises(ClientMessageError) as caught:
        check_client_message(Backend.VERTEX, "toolResponse", body)
    assert caught.value.code == 1007
    assert caught.value.reason == (
        f'Invalid JSON payload received. Unknown name "{field}" at '
        "'tool_response.function_responses[1]': Cannot find field."
    )


VERTEX = EmulatorConfig(
    backend=Backend.VERTEX, mode=ReplyMode.TONE, chunk_ms=100, lead_ms=0, reply_delay_ms=300
)


def test_vertex_tool_calls_go_out_without_an_id_and_are_answered_by_name() -> None:
    rule = ToolCallRule(name="menu", on_text="pressed 5", say_text="Five")
    conversation = make(Scenario(tool_calls=(rule,)), config=VERTEX)
    conversation.start()
    conversation.receive("realtimeInput", {"text": "Caller pressed 5"}, 0.0)
    assert show(conversation.tick(0.3))[1] == (
        '{"toolCall":{"functionCalls":[{"name":"menu","args":{}}]}}'
    )
    wrong = {"functionResponses": [{"name": "other", "response": {}}]}
    right = {"functionResponses": [{"name": "menu", "response": {"output": 5}}]}
    assert conversation.receive("toolResponse", right, 0.4) == []
    assert conversation.memory.heard[-1] == "tool menu (None): {'output': 5}"
    assert not conversation.closed
    assert show(conversation.receive("toolResponse", wrong, 0.5)) == [
        "close:1007:Request contains an invalid argument. Unknown function call id."
    ]


def test_vertex_cancels_an_id_less_call_by_naming_no_ids_and_ignores_its_late_answer() -> None:
    rule = ToolCallRule(name="menu", on_text="pressed 5")
    conversation = make(Scenario(tool_calls=(rule,)), config=VERTEX)
    conversation.start()
    conversation.receive("realtimeInput", {"text": "Caller pressed 5"}, 0.0)
    conversation.tick(0.3)
    assert show(conversation.receive("realtimeInput", audio(tone(0.1)), 0.5)) == [
        '{"toolCallCancellation":{}}'
    ]
    late = {"functionResponses": [{"name": "menu", "response": {}}]}
    assert conversation.receive("toolResponse", late, 0.6) == []
    assert not conversation.closed


def test_vertex_mode_with_call_ids_gives_ids() -> None:
    rule = ToolCallRule(name="menu", on_text="pressed 5")
    config = EmulatorConfig(backend=Backend.VERTEX, vertex_call_ids=True, reply_delay_ms=300)
    conversation = make(Scenario(tool_calls=(rule,)), config=config)
    conversation.start()
    conversation.receive("realtimeInput", {"text": "Caller pressed 5"}, 0.0)
    assert show(conversation.tick(0.3))[1].startswith('{"toolCall":{"functionCalls":[{"id":')
    assert CONFIG.backend is Backend.DEVELOPER  # the default mode


# ------------------------------------------------------------------------------- on the wire


def run(
    body: Callable[[LiveEmulator], Awaitable[None]], config: EmulatorConfig, scenario: Scenario
) -> LiveEmulator:
    async def main() -> LiveEmulator:
        async with LiveEmulator(config, scenario) as emulator:
            await body(emulator)
        return emulator

    return asyncio.run(main())


async def closed_with(ws: ClientConnection) -> tuple[int | None, str]:
    async def drain() -> None:
        async with asyncio.timeout(10):
            while True:
                await ws.recv()

    with pytest.raises(ConnectionClosed):
        await drain()
    return ws.close_code, ws.close_reason or ""


def host(emulator: LiveEmulator) -> str:
    return f"ws://127.0.0.1:{emulator.port}"


@pytest.mark.parametrize(
    "headers",
    [{}, {"x-goog-api-key": "AIzaKEY"}, {"Authorization": "Token x"}, {"Authorization": "Bearer"}],
)
def test_vertex_mode_needs_a_bearer_token(headers: dict[str, str]) -> None:
    async def body(emulator: LiveEmulator) -> None:
        with pytest.raises(InvalidStatus) as caught:
            async with connect(emulator.url, additional_headers=headers):
                pass
        assert caught.value.response.status_code == 401

    emulator = run(body, EmulatorConfig(backend=Backend.VERTEX), Scenario())
    assert emulator.recorder.refused == [(401, "Vertex AI needs a valid bearer token")]


def test_vertex_mode_refuses_the_developer_path_and_the_developer_model() -> None:
    async def body(emulator: LiveEmulator) -> None:
        assert emulator.url == host(emulator) + VERTEX_PATH
        with pytest.raises(InvalidStatus) as caught:
            async with connect(
                host(emulator) + DEV_PATH.format(v="v1beta"), additional_headers=BEARER
            ):
                pass
        assert caught.value.response.status_code == 404
        async with connect(emulator.url, additional_headers=BEARER) as ws:
            await ws.send(DEV_SETUP.replace("models/", "publishers/google/models/"))
            code, reason = await closed_with(ws)
        assert code == 1008
        assert reason.startswith("Publisher Model `publishers/google/models/gemini-2.5-flash")

    run(body, EmulatorConfig(backend=Backend.VERTEX), Scenario())  # fmt: skip


def test_vertex_mode_closes_1007_on_scheduling_in_a_tool_response() -> None:
    """What a non-blocking tool's answer did to a Vertex call before the gateway dropped the
    field (livekit/agents#3784); without the field the same answer goes through."""
    rule = ToolCallRule(name="lookup", on_text="go")

    async def body(emulator: LiveEmulator) -> None:
        for vertex in (True, False):
            async with connect(emulator.url, additional_headers=BEARER) as ws:
                await ws.send(VERTEX_SETUP)
                assert json.loads(await ws.recv()) == {"setupComplete": {}}
                await ws.send(json.dumps({"realtimeInput": {"text": "go"}}))
                while "toolCall" not in (message := json.loads(await ws.recv())):
                    pass
                assert message == {"toolCall": {"functionCalls": [{"name": "lookup", "args": {}}]}}
                answer = ToolResult(None, "lookup", {"output": 1}, Scheduling.WHEN_IDLE, True)
                await ws.send(encode_tool_response([answer], vertex=vertex))
                if vertex:
                    while "serverContent" not in json.loads(await ws.recv()):
                        pass
                    continue
                assert await closed_with(ws) == (
                    1007,
                    'Invalid JSON payload received. Unknown name "scheduling" at '
                    "'tool_response.function_responses[0]': Cannot find field.",
                )

    emulator = run(body, EmulatorConfig(backend=Backend.VERTEX), Scenario(tool_calls=(rule,)))
    first, second = emulator.recorder.sessions
    assert first.tool_responses == [{"name": "lookup", "response": {"output": 1}}]
    assert [code for _, code, _ in first.closes] == [1000]  # ours, once the answer came
    assert second.tool_responses == []
    assert [code for _, code, _ in second.closes] == [1007]


@pytest.mark.parametrize(("version", "accepted"), [("v1alpha", True), ("v1beta", False)])
def test_developer_mode_takes_affective_dialog_only_over_v1alpha(
    version: str, accepted: bool
) -> None:
    setup = encode_setup(LiveConfig(affective_dialog=True, proactive_audio=True))

    async def body(emulator: LiveEmulator) -> None:
        async with connect(host(emulator) + DEV_PATH.format(v=version)) as ws:
            await ws.send(setup)
            if accepted:
                assert await ws.recv() == b'{"setupComplete":{}}'
                return
            assert await closed_with(ws) == (
                1007,
                'Invalid JSON payload received. Unknown name "enableAffectiveDialog" at '
                "'setup.generation_config': Cannot find field.",
            )

    run(body, EmulatorConfig(), Scenario())
