"""Our Live client against the emulator (and two misbehaving servers): events and closes."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from http import HTTPStatus

import numpy as np
import pytest
from websockets.asyncio.server import ServerConnection, serve
from websockets.http11 import Request, Response

from gateway.emulator import (
    EmulatorConfig,
    LiveEmulator,
    ReplyMode,
    Scenario,
    SetupRejection,
    TimedAction,
)
from gateway.live.closes import CloseInfo, CloseKind
from gateway.live.endpoints import Backend, custom_endpoint, developer_endpoint
from gateway.live.events import (
    AudioChunk,
    GenerationComplete,
    GoAway,
    InputTranscript,
    LiveEvent,
    OutputTranscript,
    SessionResumptionUpdate,
    SetupComplete,
    TurnComplete,
    UsageMetadata,
)
from gateway.live.setup import LiveConfig
from gateway.settings import load_settings
from gateway.shell.live_client import (
    ClientOptions,
    LiveClosedError,
    LiveConnectError,
    LiveSession,
    connect,
    endpoint_from_settings,
    vertex_access_token,
)

CONFIG = LiveConfig()


def tone(seconds: float, rate_hz: int = 16_000) -> bytes:
    t = np.arange(round(seconds * rate_hz)) / rate_hz
    return (6000 * np.sin(2 * np.pi * 220 * t)).astype("<i2").tobytes()


def silence(seconds: float, rate_hz: int = 16_000) -> bytes:
    return bytes(2 * round(seconds * rate_hz))


async def send_utterance(session: LiveSession, speech_s: float = 0.5) -> None:
    audio = tone(speech_s) + silence(0.6)
    for start in range(0, len(audio), 640):
        await session.send_audio(audio[start : start + 640])


async def events_until(session: LiveSession, done: Callable[[LiveEvent], bool]) -> list[LiveEvent]:
    seen: list[LiveEvent] = []
    async with asyncio.timeout(20):
        async for event in session:
            seen.append(event)
            if done(event):
                break
    return seen


def run(coro: Callable[[], Awaitable[None]]) -> None:
    asyncio.run(coro())  # type: ignore[arg-type]


def test_a_turn_yields_the_production_event_sequence() -> None:
    async def body() -> None:
        config = EmulatorConfig(speed=20, mode=ReplyMode.TONE)
        async with LiveEmulator(config) as emulator:
            session = await connect(custom_endpoint(emulator.url), CONFIG)
            async with session:
                assert session.setup == SetupComplete()
                await send_utterance(session)
                seen = await events_until(
                    session, lambda e: isinstance(e, SessionResumptionUpdate) and e.resumable
                )
                seen += await events_until(
                    session, lambda e: isinstance(e, SessionResumptionUpdate) and e.resumable
                )
        first, *turn = seen
        assert isinstance(first, SessionResumptionUpdate)
        assert first.resumable
        assert first.new_handle
        last = turn.pop()
        assert isinstance(last, SessionResumptionUpdate)
        assert last.resumable
        assert last.new_handle != first.new_handle
        audio = [e for e in turn if isinstance(e, AudioChunk)]
        assert sum(chunk.sample_count for chunk in audio) == 12_000  # 0.5 s at 24 kHz
        assert {chunk.rate_hz for chunk in audio} == {24_000}
        shape = [type(e).__name__ if not isinstance(e, AudioChunk) else "A" for e in turn]
        assert shape == (
            ["InputTranscript", "SessionResumptionUpdate"]
            + ["A"] * 5
            + ["OutputTranscript"]
            + ["A"] * 4
            + ["OutputTranscript"]
            + ["A"] * 4
            + ["OutputTranscript", "GenerationComplete", "TurnComplete", "UsageMetadata"]
        )
        texts = [e for e in turn if isinstance(e, InputTranscript | OutputTranscript)]
        assert texts == [
            InputTranscript("[caller turn 1, 0.5 s]"),
            OutputTranscript("[model "),
            OutputTranscript("turn "),
            OutputTranscript("1]"),
        ]
        assert turn[1] == SessionResumptionUpdate(None, False)
        assert isinstance(turn[-3], GenerationComplete)
        assert turn[-2] == TurnComplete()
        assert turn[-1] == UsageMetadata(
            prompt_token_count=12,
            response_token_count=12,
            total_token_count=24,
            prompt_tokens_by_modality={"AUDIO": 12},
            response_tokens_by_modality={"AUDIO": 12},
        )

    run(body)


def test_tls_connection_with_a_given_trust() -> None:
    async def body() -> None:
        async with LiveEmulator(EmulatorConfig(tls=True)) as emulator:
            options = ClientOptions(ssl_context=emulator.client_ssl_context())
            session = await connect(custom_endpoint(emulator.plain_url), CONFIG, options=options)
            info = await session.close()
        assert info == CloseInfo(1000, "", CloseKind.NORMAL)

    run(body)


def test_setup_timeout_is_a_resumable_connect_error() -> None:
    async def silent(connection: ServerConnection) -> None:
        await connection.wait_closed()

    async def body() -> None:
        async with serve(silent, "127.0.0.1", 0) as server:
            port = next(iter(server.sockets)).getsockname()[1]
            options = ClientOptions(setup_timeout_s=0.2, close_timeout_s=0.5)
            with pytest.raises(LiveConnectError) as caught:
                await connect(custom_endpoint(f"ws://127.0.0.1:{port}/"), CONFIG, options=options)
        assert str(caught.value) == "no setupComplete within 0.2 s"
        assert caught.value.close == CloseInfo(1006, "setupComplete timeout", CloseKind.RESUMABLE)

    run(body)


def test_connection_refused_is_a_resumable_connect_error() -> None:
    async def body() -> None:
        async with serve(lambda c: c.wait_closed(), "127.0.0.1", 0) as server:
            port = next(iter(server.sockets)).getsockname()[1]
        with pytest.raises(LiveConnectError) as caught:
            await connect(custom_endpoint(f"ws://127.0.0.1:{port}/"), CONFIG)
        assert caught.value.close.kind is CloseKind.RESUMABLE
        assert caught.value.close.code == 1006

    run(body)


@pytest.mark.parametrize(
    ("code", "reason", "kind"),
    [
        (1007, "Request contains an invalid argument.", CloseKind.FATAL_CONFIG),
        (1008, "Operation is not implemented, or supported, or enabled.", CloseKind.FATAL_CONFIG),
        (1011, "Quota exceeded: RESOURCE_EXHAUSTED", CloseKind.QUOTA),
        (1011, "The service is currently unavailable.", CloseKind.RESUMABLE),
    ],
)
def test_setup_refusals_are_classified(code: int, reason: str, kind: CloseKind) -> None:
    async def body() -> None:
        scenario = Scenario(reject_setups=SetupRejection(count=1, code=code, reason=reason))
        async with LiveEmulator(scenario=scenario) as emulator:
            with pytest.raises(LiveConnectError) as caught:
                await connect(custom_endpoint(emulator.url), CONFIG)
            assert caught.value.close == CloseInfo(code, reason, kind)
            # The rejection was for the first setup only.
            session = await connect(custom_endpoint(emulator.url), CONFIG)
            await session.close()

    run(body)


def test_unknown_model_is_fatal_1008() -> None:
    async def body() -> None:
        config = EmulatorConfig(models=frozenset({"models/gemini-live-only"}))
        async with LiveEmulator(config) as emulator:
            with pytest.raises(LiveConnectError) as caught:
                await connect(custom_endpoint(emulator.url), CONFIG)
        assert caught.value.close.code == 1008
        assert caught.value.close.kind is CloseKind.FATAL_CONFIG
        assert caught.value.close.reason.startswith(
            "models/gemini-2.5-flash-native-audio-preview-12-2025 is not found for API version"
        )

    run(body)


def test_bad_key_is_fatal_and_never_echoed() -> None:
    async def body() -> None:
        config = EmulatorConfig(api_keys=frozenset({"good-key-123"}))
        async with LiveEmulator(config) as emulator:
            with pytest.raises(LiveConnectError) as caught:
                await connect(custom_endpoint(emulator.url, api_key="bad-key-456"), CONFIG)
            assert caught.value.close == CloseInfo(
                1007, "API key not valid. Please pass a valid API key.", CloseKind.FATAL_CONFIG
            )
            assert "bad-key-456" not in str(caught.value)
            session = await connect(custom_endpoint(emulator.url, api_key="good-key-123"), CONFIG)
            await session.close()

    run(body)


def test_server_close_1011_mid_session_is_resumable_and_sends_fail_after() -> None:
    async def body() -> None:
        reason = "The service is currently unavailable."
        scenario = Scenario(actions=(TimedAction(at_s=1.0, action="close", reason=reason),))
        async with LiveEmulator(EmulatorConfig(speed=10), scenario) as emulator:
            session = await connect(custom_endpoint(emulator.url), CONFIG)
            await events_until(session, lambda e: False)
            assert session.close_info == CloseInfo(1011, reason, CloseKind.RESUMABLE)
            with pytest.raises(LiveClosedError):
                await session.send_text("hello?")
            with pytest.raises(LiveClosedError):
                await session.recv()
            assert await session.close() == CloseInfo(1011, reason, CloseKind.RESUMABLE)

    run(body)


def test_go_away_then_deadline_close_is_resumable() -> None:
    async def body() -> None:
        config = EmulatorConfig(speed=10, connection_lifetime_s=2.0, go_away_lead_s=1.0)
        async with LiveEmulator(config) as emulator:
            session = await connect(custom_endpoint(emulator.url), CONFIG)
            seen = await events_until(session, lambda e: False)
        assert [e for e in seen if isinstance(e, GoAway)] == [GoAway(time_left_s=1.0)]
        assert session.go_away_seen
        assert session.close_info == CloseInfo(
            1011,
            "Deadline expired before operation could complete.",
            CloseKind.RESUMABLE,
            go_away_seen=True,
        )

    run(body)


def test_abrupt_drop_is_1006_resumable() -> None:
    async def dropper(connection: ServerConnection) -> None:
        await connection.recv()
        await connection.send(b'{"setupComplete":{}}')
        assert connection.transport is not None
        connection.transport.abort()

    async def body() -> None:
        async with serve(dropper, "127.0.0.1", 0) as server:
            port = next(iter(server.sockets)).getsockname()[1]
            session = await connect(custom_endpoint(f"ws://127.0.0.1:{port}/"), CONFIG)
            await events_until(session, lambda e: False)
        assert session.close_info == CloseInfo(1006, "", CloseKind.RESUMABLE)

    run(body)


def test_resume_is_refused_while_the_old_socket_is_open() -> None:
    async def body() -> None:
        async with LiveEmulator() as emulator:
            endpoint = custom_endpoint(emulator.url)
            old = await connect(endpoint, CONFIG)
            (update,) = await old.recv()
            assert isinstance(update, SessionResumptionUpdate)
            assert update.new_handle is not None
            with pytest.raises(LiveConnectError) as caught:
                await connect(endpoint, CONFIG, resume_handle=update.new_handle)
            assert caught.value.close.code == 1011
            assert caught.value.close.kind is CloseKind.RESUMABLE
            await old.close()
            resumed = await connect(endpoint, CONFIG, resume_handle=update.new_handle)
            await resumed.close()
        (record,) = emulator.recorder.sessions
        assert record.connections == 2

    run(body)


def test_endpoint_from_settings() -> None:
    url = "ws://127.0.0.1:9/live"
    assert endpoint_from_settings(
        load_settings({"GATEWAY_LIVE_URL": url, "GEMINI_API_KEY": "k" * 10}, env_file=None)
    ) == custom_endpoint(url, api_key="k" * 10)
    developer = endpoint_from_settings(load_settings({"GEMINI_API_KEY": "AIza1"}, env_file=None))
    assert developer.backend is Backend.DEVELOPER
    assert "v1beta.GenerativeService" in developer.url
    vertex_settings = load_settings(
        {
            "GOOGLE_GENAI_USE_VERTEXAI": "1",
            "GOOGLE_CLOUD_PROJECT": "p",
            "GOOGLE_CLOUD_LOCATION": "eu",
        },
        env_file=None,
    )
    vertex = endpoint_from_settings(vertex_settings, access_token="ya29.x")
    assert vertex.url.startswith("wss://aiplatform.eu.rep.googleapis.com/ws/")
    with pytest.raises(ValueError, match="access token"):
        endpoint_from_settings(vertex_settings)
    with pytest.raises(ValueError, match="embedded emulator"):
        endpoint_from_settings(load_settings({}, env_file=None))


@pytest.mark.parametrize(
    ("status", "close"),
    [
        (404, CloseInfo(1008, "HTTP 404 at the opening handshake", CloseKind.FATAL_CONFIG)),
        (403, CloseInfo(1008, "HTTP 403 at the opening handshake", CloseKind.FATAL_CONFIG)),
        (429, CloseInfo(1011, "HTTP 429 RESOURCE_EXHAUSTED", CloseKind.QUOTA)),
        (503, CloseInfo(1006, "HTTP 503 at the opening handshake", CloseKind.RESUMABLE)),
    ],
)
def test_refused_handshakes_are_classified(status: int, close: CloseInfo) -> None:
    def refuse(connection: ServerConnection, request: Request) -> Response:
        return connection.respond(HTTPStatus(status), "no\n")

    async def body() -> None:
        async with serve(
            lambda c: c.wait_closed(), "127.0.0.1", 0, process_request=refuse
        ) as server:
            port = next(iter(server.sockets)).getsockname()[1]
            with pytest.raises(LiveConnectError) as caught:
                await connect(custom_endpoint(f"ws://127.0.0.1:{port}/live"), CONFIG)
        assert caught.value.close == close

    run(body)


def test_invalid_url_is_fatal() -> None:
    async def body() -> None:
        with pytest.raises(LiveConnectError) as caught:
            await connect(custom_endpoint("ws://[::1/oops"), CONFIG)
        assert caught.value.close.kind is CloseKind.FATAL_CONFIG

    run(body)


@pytest.mark.parametrize("key", ["AIzaTESTKEY", "auth_tokens/ephemeral-1"])
def test_developer_and_ephemeral_endpoints_reach_the_emulator(key: str) -> None:
    async def body() -> None:
        config = EmulatorConfig(tls=True, api_keys=frozenset({key}))
        async with LiveEmulator(config) as emulator:
            endpoint = developer_endpoint(key, host=f"127.0.0.1:{emulator.port}")
            options = ClientOptions(ssl_context=emulator.client_ssl_context())
            session = await connect(endpoint, CONFIG, options=options)
            await session.close()
        assert emulator.recorder.refused == []
        (record,) = emulator.recorder.sessions
        assert record.setups[0]["model"] == CONFIG.model

    run(body)


def test_vertex_access_token_comes_from_application_default_credentials(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import google.auth

    class FakeCredentials:
        token: str | None = None

        def refresh(self, request: object) -> None:
            self.token = "ya29.fake-token"

    scopes_seen: list[list[str]] = []

    def fake_default(scopes: list[str]) -> tuple[FakeCredentials, str]:
        scopes_seen.append(scopes)
        return FakeCredentials(), "project"

    monkeypatch.setattr(google.auth, "default", fake_default)
    assert asyncio.run(vertex_access_token()) == "ya29.fake-token"
    assert scopes_seen == [["https://www.googleapis.com/auth/cloud-platform"]]
