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
QUOTED="value" # a comment after the closing quote
EMPTY=
"""
    assert parse_dotenv(text) == {
        "GEMINI_API_KEY": "abc123",
        "GATEWAY_VOICE": "Kore",
        "GATEWAY_INSTRUCTIONS": 'Line one\nSay "hi"',
        "SINGLE": "kept # as is",
        "QUOTED": "value",
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


def test_live_options_default_to_nothing_new() -> None:
    live = load_settings({}, env_file=None).live
    assert (live.turn_coverage, live.affective_dialog, live.proactive_audio) == (None, None, None)
    assert (live.google_search, live.include_thoughts, live.temperature) == (False, None, None)
    assert (live.transcribe_input, live.transcribe_output) == (True, True)
    assert live.compression_target_tokens is None


def test_live_options_from_the_environment() -> None:
    live = load_settings(
        {
            "GATEWAY_VOICE": "sulafat",
            "GATEWAY_TURN_COVERAGE": "All_Input",
            "GATEWAY_AFFECTIVE_DIALOG": "true",
            "GATEWAY_PROACTIVE_AUDIO": "no",
            "GATEWAY_GOOGLE_SEARCH": "yes",
            "GATEWAY_INCLUDE_THOUGHTS": "on",
            "GATEWAY_TRANSCRIBE_INPUT": "false",
            "GATEWAY_TRANSCRIBE_OUTPUT": "0",
            "GATEWAY_COMPRESSION_TRIGGER_TOKENS": "20000",
            "GATEWAY_COMPRESSION_TARGET_TOKENS": "8000",
            "GATEWAY_TEMPERATURE": "0.6",
        },
        env_file=None,
    ).live
    assert live.voice == "Sulafat"
    assert live.turn_coverage == "ALL_INPUT"
    assert (live.affective_dialog, live.proactive_audio) == (True, False)
    assert (live.google_search, live.include_thoughts) == (True, True)
    assert (live.transcribe_input, live.transcribe_output) == (False, False)
    assert (live.compression_trigger_tokens, live.compression_target_tokens) == (20000, 8000)
    assert live.temperature == 0.6


def test_video_turn_coverage_on_a_3x_model() -> None:
    live = load_settings(
        {
            "GATEWAY_MODEL": "gemini-3.1-flash-live-preview",
            "GATEWAY_TURN_COVERAGE": "audio_activity_and_all_video",
            "GATEWAY_VOICE": "PUCK",
        },
        env_file=None,
    ).live
    assert live.turn_coverage == "AUDIO_ACTIVITY_AND_ALL_VIDEO"
    assert live.voice == "Puck"


LIVE_31 = {"GATEWAY_MODEL": "gemini-3.1-flash-live-preview"}


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            {**LIVE_31, "GATEWAY_AFFECTIVE_DIALOG": "true"},
            "GATEWAY_AFFECTIVE_DIALOG: affective dialog is supported only by native-audio 2.5 "
            "models, not gemini-3.1-flash-live-preview; remove the setting",
        ),
        (
            {**LIVE_31, "GATEWAY_PROACTIVE_AUDIO": "false"},
            "GATEWAY_PROACTIVE_AUDIO: proactive audio is supported only by native-audio 2.5 "
            "models, not gemini-3.1-flash-live-preview; remove the setting",
        ),
        (
            {"GATEWAY_TURN_COVERAGE": "audio_activity_and_all_video"},
            "GATEWAY_TURN_COVERAGE: turn coverage AUDIO_ACTIVITY_AND_ALL_VIDEO is supported only "
            "by 3.x models, not gemini-2.5-flash-native-audio-preview-12-2025; use ONLY_ACTIVITY "
            "or ALL_INPUT",
        ),
        (
            {"GATEWAY_TURN_COVERAGE": "video"},
            "GATEWAY_TURN_COVERAGE must be one of only_activity, all_input, "
            "audio_activity_and_all_video, not 'video'",
        ),
        (
            {"GATEWAY_TEMPERATURE": "2.5"},
            "GATEWAY_TEMPERATURE: temperature must be between 0.0 and 2.0, not 2.5",
        ),
        (
            {"GATEWAY_TEMPERATURE": "-1"},
            "GATEWAY_TEMPERATURE: temperature must be between 0.0 and 2.0, not -1.0",
        ),
        ({"GATEWAY_TEMPERATURE": "warm"}, "GATEWAY_TEMPERATURE must be a number, not 'warm'"),
        (
            {"GATEWAY_MODEL": "gemini-2.0-flash-live-001", "GATEWAY_VOICE": "sulafat"},
            "GATEWAY_VOICE: voice 'sulafat' is not a prebuilt voice of gemini-2.0-flash-live-001 "
            "(half-cascade models have 8 voices; the others need a native-audio model); choose "
            "one of Puck, Charon, Kore, Fenrir, Aoede, Leda, Orus, Zephyr",
        ),
        (
            {"GATEWAY_LANGUAGE": "english"},
            "GATEWAY_LANGUAGE: language 'english' is not a BCP-47 code; use one such as en-US or "
            "de-DE",
        ),
        (
            {"GATEWAY_COMPRESSION_TARGET_TOKENS": "100"},
            "GATEWAY_COMPRESSION_TARGET_TOKENS: a compression target needs a compression "
            "trigger; set the trigger too",
        ),
        (
            {
                "GATEWAY_COMPRESSION_TRIGGER_TOKENS": "100",
                "GATEWAY_COMPRESSION_TARGET_TOKENS": "100",
            },
            "GATEWAY_COMPRESSION_TARGET_TOKENS: the compression target must be at least 1 and "
            "below the trigger (100 tokens), not 100",
        ),
        (
            {"GATEWAY_VAD_SILENCE_MS": "20000"},
            "GATEWAY_VAD_SILENCE_MS: VAD silence duration must be between 0 and 10000 ms, not "
            "20000",
        ),
        (
            {"GATEWAY_THINKING": "30000"},
            "GATEWAY_THINKING: thinking budget must be between -1 (the model decides) and 24576 "
            "tokens, not 30000",
        ),
        (
            {"GATEWAY_INCLUDE_THOUGHTS": "maybe"},
            "GATEWAY_INCLUDE_THOUGHTS must be true or false, not 'maybe'",
        ),
        (
            {"GATEWAY_GOOGLE_SEARCH": "2"},
            "GATEWAY_GOOGLE_SEARCH must be true or false, not '2'",
        ),
    ],
)
def test_refused_live_options_name_the_variable(env: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings(env, env_file=None)
    assert str(caught.value) == message


# ------------------------------------------------------------ profiles, greeting, recordings


def test_agent_files_greeting_and_recordings_default_to_off() -> None:
    settings = load_settings({}, env_file=None)
    assert (settings.agents_file, settings.prices_file, settings.recordings_dir) == (
        None,
        None,
        None,
    )
    assert settings.recordings_retention_days == 30.0
    assert settings.record == frozenset()
    assert not settings.greeting_agent
    assert settings.greeting_prompt is None


def test_agent_files_greeting_and_recordings_from_the_environment(tmp_path: Path) -> None:
    agents = tmp_path / "agents.toml"
    agents.write_text("", encoding="utf-8")
    settings = load_settings(
        {
            "GATEWAY_AGENTS_FILE": str(agents),
            "GATEWAY_RECORDINGS_DIR": str(tmp_path / "recordings"),
            "GATEWAY_RECORDINGS_RETENTION_DAYS": "0",
            "GATEWAY_RECORD": "Audio, transcript",
            "GATEWAY_GREETING": "agent",
            "GATEWAY_GREETING_PROMPT": "Say hi.",
        },
        env_file=None,
    )
    assert settings.agents_file == agents
    assert settings.recordings_dir == tmp_path / "recordings"
    assert settings.recordings_retention_days is None  # 0: kept forever
    assert settings.record == frozenset({"audio", "transcript"})
    assert settings.greeting_agent
    assert settings.greeting_prompt == "Say hi."


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"GATEWAY_AGENTS_FILE": "/nonexistent/agents.toml"}, "GATEWAY_AGENTS_FILE is not a file"),
        ({"GATEWAY_PRICES_FILE": "/nonexistent/prices.toml"}, "GATEWAY_PRICES_FILE is not a file"),
        ({"GATEWAY_RECORD": "audio"}, "GATEWAY_RECORD needs GATEWAY_RECORDINGS_DIR"),
        (
            {"GATEWAY_RECORD": "video", "GATEWAY_RECORDINGS_DIR": "/tmp"},
            "GATEWAY_RECORD must name transcript, audio or both",
        ),
        ({"GATEWAY_GREETING": "both"}, "GATEWAY_GREETING must be one of agent, caller"),
        ({"GATEWAY_RECORDINGS_RETENTION_DAYS": "-1"}, "must not be negative"),
        ({"GATEWAY_RECORDINGS_DIR": __file__}, "GATEWAY_RECORDINGS_DIR is not a directory"),
    ],
)
def test_bad_agent_file_and_recording_values_name_the_variable(
    env: dict[str, str], message: str
) -> None:
    with pytest.raises(SettingsError, match=message):
        load_settings(env, env_file=None)


def test_call_webhooks_need_their_secret() -> None:
    base = {"GATEWAY_SECRET": "s" * 32}
    assert load_settings(base, env_file=None).call_webhooks.url is None
    with pytest.raises(SettingsError, match="needs GATEWAY_CALL_WEBHOOK_SECRET"):
        load_settings(
            {**base, "GATEWAY_CALL_WEBHOOK_URL": "https://h.example.com/x"}, env_file=None
        )
    hooks = load_settings(
        {
            **base,
            "GATEWAY_CALL_WEBHOOK_URL": "https://h.example.com/x",
            "GATEWAY_CALL_WEBHOOK_SECRET": "w" * 20,
            "GATEWAY_CALL_WEBHOOK_MAX_ATTEMPTS": "3",
        },
        env_file=None,
    ).call_webhooks
    assert (hooks.url, hooks.secret, hooks.max_attempts, hooks.queue_max) == (
        "https://h.example.com/x",
        "w" * 20,
        3,
        1000,
    )
    with pytest.raises(SettingsError, match="GATEWAY_CALL_WEBHOOK_SECRET"):
        load_settings({**base, "GATEWAY_CALL_WEBHOOK_SECRET": "short"}, env_file=None)
