"""LiveConnector per backend: Vertex tokens from Application Default Credentials (and their
failure), the fixed token, and the API version a session's options need."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import google.auth
import google.auth.exceptions
import pytest
from structlog.testing import capture_logs

from gateway.emulator import EmulatorConfig, LiveEmulator
from gateway.emulator.config import Backend
from gateway.live.closes import CloseKind
from gateway.settings import load_settings
from gateway.shell.connector import LiveConnector
from gateway.shell.live_client import LiveConnectError

TOKEN = "ya29.adc-token"
VERTEX = {"GOOGLE_GENAI_USE_VERTEXAI": "true", "GOOGLE_CLOUD_PROJECT": "p1"}


class _Credentials:
    token: str | None = None

    def refresh(self, request: object) -> None:
        self.token = TOKEN


def test_vertex_sessions_take_a_token_from_adc(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(google.auth, "default", lambda scopes: (_Credentials(), "p1"))

    async def body() -> None:
        config = EmulatorConfig(backend=Backend.VERTEX, api_keys=frozenset({TOKEN}))
        async with LiveEmulator(config) as emulator:
            settings = load_settings({**VERTEX, "GATEWAY_LIVE_URL": emulator.url}, env_file=None)
            connector = LiveConnector.from_settings(settings)
            session = await connector.open()
            assert session.vertex
            await session.close()
        assert emulator.recorder.refused == []
        assert connector.opened == 1

    asyncio.run(body())


def test_a_failing_adc_token_is_a_fatal_connect_error(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_credentials(scopes: list[str]) -> object:
        raise google.auth.exceptions.DefaultCredentialsError("no credentials found")

    monkeypatch.setattr(google.auth, "default", no_credentials)
    settings = load_settings({**VERTEX, "GATEWAY_LIVE_URL": "ws://127.0.0.1:9"}, env_file=None)
    connector = LiveConnector.from_settings(settings)
    with capture_logs() as logs, pytest.raises(LiveConnectError) as caught:
        asyncio.run(connector.open())
    assert caught.value.close.kind is CloseKind.FATAL_CONFIG
    assert connector.failed == 1
    assert [(line["event"], line["error"]) for line in logs] == [
        ("live.vertex_token_failed", "DefaultCredentialsError")
    ]


def test_a_profile_with_affective_dialog_goes_to_v1alpha_and_others_stay() -> None:
    """The agent's setup stays on v1beta; a profile with affective dialog on gets v1alpha (the
    emulator refuses the field elsewhere), and the choice is logged once."""

    async def body() -> list[str]:
        async with LiveEmulator(EmulatorConfig()) as emulator:
            base = f"ws://127.0.0.1:{emulator.port}"
            settings = load_settings({"GATEWAY_LIVE_URL": base}, env_file=None)
            connector = LiveConnector.from_settings(settings)
            warm = replace(settings.live, affective_dialog=True, proactive_audio=True)
            for config in (None, warm, warm):
                session = await connector.open(config=config)
                await session.close()
        assert emulator.recorder.refused == []
        return [str(s.setups[0]["generationConfig"].get("enableAffectiveDialog")) for s in
                emulator.recorder.sessions]  # fmt: skip

    with capture_logs() as logs:
        assert asyncio.run(body()) == ["None", "True", "True"]
    assert [line for line in logs if line["event"] == "live.api_version_selected"] == [
        {
            "event": "live.api_version_selected",
            "log_level": "info",
            "component": "live",
            "api_version": "v1alpha",
            "model": "models/gemini-2.5-flash-native-audio-preview-12-2025",
            "because": "affective dialog and proactive audio",
        }
    ]
