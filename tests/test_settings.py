"""Settings from the environment and `.env`."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.live.setup import DEFAULT_MODEL, VadConfig
from gateway.settings import SettingsError, load_settings, parse_dotenv


def test_parse_dotenv() -> None:
    text = """
# comment
export GEMINI_API_KEY=abc123
GATEWAY_VOICE = Kore   # trailing comment
GATEWAY_INSTRUCTIONS="Line one\\nSay \\"hi\\""
SINGLE='kept # as is'
not an assignment
1BAD=x
EMPTY=
"""
    assert parse_dotenv(text) == {
        "GEMINI_API_KEY": "abc123",
        "GATEWAY_VOICE": "Kore",
        "GATEWAY_INSTRUCTIONS": 'Line one\nSay "hi"',
        "SINGLE": "kept # as is",
        "EMPTY": "",
    }


def test_defaults_mean_the_embedded_emulator() -> None:
    settings = load_settings({}, env_file=None)
    assert settings.use_embedded_emulator
    assert settings.live.model == DEFAULT_MODEL
    assert settings.live.thinking_budget == 0
    assert settings.live.thinking_level is None
    assert settings.live.compression
    assert settings.live.vad == VadConfig()
    assert settings.live_api_version == "v1beta"
    assert settings.live_ping_interval_s == 30.0
    assert settings.live_ping_timeout_s == 60.0


def test_environment_wins_over_dotenv(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("GATEWAY_VOICE=Puck\nGATEWAY_LANGUAGE=de-DE\nGEMINI_API_KEY=fromfile\n")
    settings = load_settings({"GATEWAY_VOICE": "Kore"}, env_file=env_file)
    assert settings.live.voice == "Kore"
    assert settings.live.language == "de-DE"
    assert settings.gemini_api_key == "fromfile"
    assert not settings.use_embedded_emulator
    assert "fromfile" not in repr(settings)


def test_model_and_thinking_per_family() -> None:
    settings = load_settings(
        {"GATEWAY_MODEL": "gemini-3.1-flash-live-preview", "GATEWAY_THINKING": "low"},
        env_file=None,
    )
    assert settings.live.model == "models/gemini-3.1-flash-live-preview"
    assert settings.live.thinking_level == "LOW"
    settings = load_settings({"GATEWAY_THINKING": "256"}, env_file=None)
    assert settings.live.thinking_budget == 256
    settings = load_settings({"GATEWAY_THINKING": "default"}, env_file=None)
    assert settings.live.thinking_budget is None


def test_instructions_from_file(tmp_path: Path) -> None:
    path = tmp_path / "prompt.txt"
    path.write_text("  Be brief.\n")
    settings = load_settings({"GATEWAY_INSTRUCTIONS_FILE": str(path)}, env_file=None)
    assert settings.live.instructions == "Be brief."


def test_vad_barge_in_compression_and_pings() -> None:
    settings = load_settings(
        {
            "GATEWAY_VAD_START_SENSITIVITY": "low",
            "GATEWAY_VAD_END_SENSITIVITY": "HIGH",
            "GATEWAY_VAD_SILENCE_MS": "600",
            "GATEWAY_VAD_PREFIX_PADDING_MS": "40",
            "GATEWAY_BARGE_IN": "false",
            "GATEWAY_CONTEXT_COMPRESSION": "off",
            "GATEWAY_LIVE_PING_INTERVAL_S": "0",
            "GATEWAY_LIVE_URL": "ws://127.0.0.1:9/live",
        },
        env_file=None,
    )
    assert settings.live.vad == VadConfig(
        start_sensitivity="LOW",
        end_sensitivity="HIGH",
        prefix_padding_ms=40,
        silence_duration_ms=600,
    )
    assert not settings.live.barge_in
    assert not settings.live.compression
    assert settings.live_ping_interval_s is None
    assert settings.live_url == "ws://127.0.0.1:9/live"


def test_vertex_needs_a_project() -> None:
    settings = load_settings(
        {"GOOGLE_GENAI_USE_VERTEXAI": "true", "GOOGLE_CLOUD_PROJECT": "p1"}, env_file=None
    )
    assert settings.vertex
    assert settings.live.model.startswith("projects/p1/locations/us-central1/publishers/google/")
    assert settings.live_api_version == "v1beta1"
    with pytest.raises(SettingsError, match="GOOGLE_CLOUD_PROJECT"):
        load_settings({"GOOGLE_GENAI_USE_VERTEXAI": "1"}, env_file=None)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"GATEWAY_BARGE_IN": "maybe"}, "GATEWAY_BARGE_IN"),
        ({"GATEWAY_VAD_SILENCE_MS": "x"}, "integer"),
        ({"GATEWAY_VAD_SILENCE_MS": "-5"}, "at least"),
        ({"GATEWAY_VAD_START_SENSITIVITY": "mid"}, "one of"),
        ({"GATEWAY_THINKING": "lots"}, "budget"),
        ({"GATEWAY_MODEL": "gemini-3.1-flash-live-preview", "GATEWAY_THINKING": "9"}, "minimal"),
        ({"GATEWAY_MODEL": "gemini-2.0-flash-live-001", "GATEWAY_THINKING": "9"}, "not supported"),
        ({"GATEWAY_INSTRUCTIONS": "a", "GATEWAY_INSTRUCTIONS_FILE": "b"}, "not both"),
        ({"GATEWAY_INSTRUCTIONS_FILE": "/nonexistent/x"}, "cannot be read"),
        ({"GATEWAY_LIVE_SETUP_TIMEOUT_S": "-1"}, "negative"),
        ({"GATEWAY_LIVE_SETUP_TIMEOUT_S": "soon"}, "number"),
    ],
)
def test_bad_values_name_the_variable(env: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        load_settings(env, env_file=None)


def test_env_example_is_a_valid_configuration() -> None:
    example = Path(__file__).resolve().parents[1] / ".env.example"
    settings = load_settings(parse_dotenv(example.read_text()), env_file=None)
    assert settings.use_embedded_emulator
    assert settings.live.model == DEFAULT_MODEL


def test_server_and_twilio_defaults() -> None:
    settings = load_settings({}, env_file=None)
    server = settings.server
    assert (server.host, server.port, server.public_url) == ("0.0.0.0", 8080, None)
    assert server.secret_generated
    assert len(server.secret) == 32
    assert server.playback_lead_ms == 400
    assert settings.twilio.auth_token is None
    assert settings.twilio.api_base == "https://api.twilio.com"


def test_server_and_twilio_from_environment_never_print_secrets() -> None:
    settings = load_settings(
        {
            "GATEWAY_HOST": "127.0.0.1",
            "GATEWAY_PORT": "9000",
            "GATEWAY_PUBLIC_URL": "https://gw.example.com/",
            "GATEWAY_SECRET": "a-long-secret-value-here",
            "GATEWAY_PLAYBACK_LEAD_MS": "300",
            "TWILIO_ACCOUNT_SID": "AC123",
            "TWILIO_AUTH_TOKEN": "twilio-token-value",
            "TWILIO_API_BASE": "http://127.0.0.1:9999/",
        },
        env_file=None,
    )
    assert settings.server.public_url == "https://gw.example.com"
    assert settings.server.secret == b"a-long-secret-value-here"
    assert not settings.server.secret_generated
    assert settings.server.port == 9000
    assert settings.server.playback_lead_ms == 300
    assert settings.twilio.api_base == "http://127.0.0.1:9999"
    text = repr(settings.server) + repr(settings.twilio)
    assert "a-long-secret-value-here" not in text
    assert "twilio-token-value" not in text


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("GATEWAY_SECRET", "short"),
        ("GATEWAY_PUBLIC_URL", "gw.example.com"),
        ("GATEWAY_PUBLIC_URL", "https://gw.example.com/?x=1"),
        ("GATEWAY_PORT", "70000"),
        ("GATEWAY_PLAYBACK_LEAD_MS", "5"),
        ("TWILIO_API_BASE", "api.twilio.com"),
    ],
)
def test_bad_server_values_name_the_variable(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name):
        load_settings({name: value}, env_file=None)
