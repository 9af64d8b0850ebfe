"""The profiles file: profiles by number, defaults, every Live option, and refusals that name the
profile and the field (a model's unsupported option is refused here, not met as a 1007)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from gateway.agents.loader import ProfilesFileError, load_agents, profile_from_settings
from gateway.agents.profile import DEFAULT_GREETING_PROMPT, AgentDirectory, normalise_number
from gateway.live.setup import VadConfig, build_setup
from gateway.settings import Settings, load_settings
from gateway.tools.config import load_toolbox
from gateway.tools.toolbox import Toolbox

NATIVE = "gemini-2.5-flash-native-audio-preview-12-2025"
FLASH_31 = "gemini-3.1-flash-live-preview"

TOOLS = """
[[tools]]
name = "business_hours"
kind = "python"
description = "Opening hours."
function = "gateway.examples.tools:business_hours"

[[tools]]
name = "end_call"
kind = "hang_up"
description = "End the call."
"""

AGENTS = f"""
default = "support"

[defaults]
language = "en-US"
voice = "kore"
tools = ["business_hours"]

[profiles.sales]
numbers = ["+1 (555) 000-1111", "sip:sales@example.com"]
model = "{NATIVE}"
instructions = "You sell."
greeting = "agent"
greeting_prompt = "Say hello to the buyer."
affective_dialog = true
proactive_audio = true
turn_coverage = "all_input"
barge_in = false
temperature = 0.6
thinking_budget = 512
include_thoughts = true
google_search = true
record = ["transcript", "audio"]
vad = {{ start_sensitivity = "low", silence_duration_ms = 700 }}
compression = {{ trigger_tokens = 20000, target_tokens = 10000 }}

[profiles.support]
numbers = ["+15550002222"]
model = "{FLASH_31}"
instructions_file = "support.txt"
tools = ["business_hours", "end_call"]
thinking_level = "low"
"""


def _settings(tmp_path: Path, **env: str) -> Settings:
    environ = {"GATEWAY_LIVE_URL": "ws://127.0.0.1:9/live", **env}
    return load_settings(environ, env_file=None)


def _toolbox(tmp_path: Path) -> Toolbox:
    path = tmp_path / "tools.toml"
    path.write_text(TOOLS, encoding="utf-8")
    return load_toolbox(path, {})


def _load(tmp_path: Path, text: str, **env: str) -> AgentDirectory:
    (tmp_path / "support.txt").write_text("You help.\n", encoding="utf-8")
    path = tmp_path / "agents.toml"
    path.write_text(text, encoding="utf-8")
    env.setdefault("GATEWAY_RECORDINGS_DIR", str(tmp_path / "recordings"))
    return load_agents(path, _settings(tmp_path, **env), _toolbox(tmp_path))


def _refusal(tmp_path: Path, text: str, **env: str) -> str:
    with pytest.raises(ProfilesFileError) as caught:
        _load(tmp_path, text, **env)
    return str(caught.value)


def test_profiles_are_selected_by_the_dialed_number(tmp_path: Path) -> None:
    agents = _load(tmp_path, AGENTS)
    assert agents.select("+15550001111").name == "sales"  # type: ignore[union-attr]
    assert agents.select("15550001111").name == "sales"  # type: ignore[union-attr] # Vonage
    assert agents.select("sip:Sales@Example.com;transport=tls").name == "sales"  # type: ignore[union-attr]
    assert agents.select("+15550002222").name == "support"  # type: ignore[union-attr]
    assert agents.select("+15559999999").name == "support"  # type: ignore[union-attr] # default
    assert agents.select(None).name == "support"  # type: ignore[union-attr]


def test_without_a_default_an_unknown_number_has_no_agent(tmp_path: Path) -> None:
    agents = _load(tmp_path, AGENTS.replace('default = "support"', ""))
    assert agents.select("+15559999999") is None
    assert agents.select("+15550002222").name == "support"  # type: ignore[union-attr]


def test_a_profile_carries_every_live_option_to_the_setup(tmp_path: Path) -> None:
    sales = _load(tmp_path, AGENTS).get("sales")
    assert sales is not None
    assert sales.speaks_first
    assert sales.greeting_prompt == "Say hello to the buyer."
    assert (sales.record_transcript, sales.record_audio) == (True, True)
    assert sales.tool_names == ("business_hours",)
    setup: dict[str, Any] = build_setup(sales.live)["setup"]
    assert setup["model"] == f"models/{NATIVE}"
    assert setup["generationConfig"] == {
        "responseModalities": ["AUDIO"],
        "temperature": 0.6,
        "speechConfig": {
            "voiceConfig": {"prebuiltVoiceConfig": {"voiceName": "Kore"}},
            "languageCode": "en-US",
        },
        "thinkingConfig": {"thinkingBudget": 512, "includeThoughts": True},
        "enableAffectiveDialog": True,
    }
    assert setup["systemInstruction"] == {"role": "user", "parts": [{"text": "You sell."}]}
    assert setup["realtimeInputConfig"] == {
        "automaticActivityDetection": {
            "disabled": False,
            "startOfSpeechSensitivity": "START_SENSITIVITY_LOW",
            "silenceDurationMs": 700,
        },
        "activityHandling": "NO_INTERRUPTION",
        "turnCoverage": "TURN_INCLUDES_ALL_INPUT",
    }
    assert setup["proactivity"] == {"proactiveAudio": True}
    assert setup["contextWindowCompression"] == {
        "triggerTokens": 20000,
        "slidingWindow": {"targetTokens": 10000},
    }
    names = [d["name"] for t in setup["tools"] for d in t.get("functionDeclarations", [])]
    assert names == ["business_hours"]
    assert {"googleSearch": {}} in setup["tools"]


def test_defaults_fill_what_a_profile_leaves_unset(tmp_path: Path) -> None:
    support = _load(tmp_path, AGENTS).get("support")
    assert support is not None
    assert support.live.model == f"models/{FLASH_31}"
    assert (support.live.voice, support.live.language) == ("Kore", "en-US")
    assert support.live.instructions == "You help."  # from the file beside the profiles file
    assert (support.live.thinking_budget, support.live.thinking_level) == (None, "LOW")
    assert support.tool_names == ("business_hours", "end_call")
    assert not support.speaks_first
    assert support.greeting_prompt == DEFAULT_GREETING_PROMPT
    assert not support.records
    assert support.live.vad == VadConfig()
    assert support.live.barge_in
    assert support.live.transcribe_input


def test_unset_thinking_is_as_little_as_the_family_allows(tmp_path: Path) -> None:
    text = f'[profiles.a]\nmodel = "{NATIVE}"\n[profiles.b]\nmodel = "{FLASH_31}"\n'
    agents = _load(tmp_path, text)
    a, b = agents.get("a"), agents.get("b")
    assert a is not None
    assert b is not None
    assert (a.live.thinking_budget, a.live.thinking_level) == (0, None)
    assert (b.live.thinking_budget, b.live.thinking_level) == (None, "MINIMAL")


@pytest.mark.parametrize(
    ("profile", "needle"),
    [
        (
            f'model = "{FLASH_31}"\naffective_dialog = true',
            'profile "p": affective_dialog: ',
        ),
        (f'model = "{FLASH_31}"\nproactive_audio = true', 'profile "p": proactive_audio: '),
        (f'model = "{FLASH_31}"\nthinking_budget = 100', 'profile "p": thinking_budget: '),
        (f'model = "{NATIVE}"\nthinking_level = "high"', 'profile "p": thinking_level: '),
        (
            f'model = "{NATIVE}"\nturn_coverage = "audio_activity_and_all_video"',
            'profile "p": turn_coverage: ',
        ),
        ('voice = "Kroe"', 'profile "p": voice: '),
        ("temperature = 3.5", 'profile "p": temperature: '),
        ('vad = { start_sensitivity = "medium" }', 'profile "p": vad.start_sensitivity: '),
        ("vad = { silence = 3 }", 'profile "p": vad.silence: unknown field'),
        (
            "compression = { trigger_tokens = 100, target_tokens = 200 }",
            'profile "p": compression.target_tokens: ',
        ),
        ('tools = ["send_email"]', 'profile "p": tools: unknown tool "send_email"'),
        ('greeting = "both"', 'profile "p": greeting: must be one of agent, caller'),
        ('record = ["video"]', 'profile "p": record: '),
        ("voise = 'Kore'", 'profile "p": voise: unknown field'),
        ('instructions = "a"\ninstructions_file = "support.txt"', "not both"),
        ('instructions_file = "missing.txt"', 'profile "p": instructions_file: cannot be read'),
    ],
)
def test_a_bad_profile_stops_start_up_naming_the_profile_and_the_field(
    tmp_path: Path, profile: str, needle: str
) -> None:
    message = _refusal(tmp_path, f"[profiles.p]\n{profile}\n")
    assert message.startswith("agents.toml: ")
    assert needle in message


def test_the_refusal_says_why_the_model_refuses(tmp_path: Path) -> None:
    message = _refusal(tmp_path, f'[profiles.p]\nmodel = "{FLASH_31}"\naffective_dialog = true\n')
    assert FLASH_31 in message
    assert "native-audio" in message


def test_recording_needs_a_directory(tmp_path: Path) -> None:
    (tmp_path / "agents.toml").write_text('[profiles.p]\nrecord = ["audio"]\n', encoding="utf-8")
    with pytest.raises(ProfilesFileError, match="GATEWAY_RECORDINGS_DIR"):
        load_agents(tmp_path / "agents.toml", _settings(tmp_path), _toolbox(tmp_path))


def test_a_transcript_needs_both_transcriptions(tmp_path: Path) -> None:
    text = '[profiles.p]\nrecord = ["transcript"]\ntranscribe_output = false\n'
    assert 'profile "p": record: a transcript needs' in _refusal(tmp_path, text)


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("", "no profiles"),
        ('[profiles.p]\n[profile.q]\nmodel = "x"\n', "unknown top-level field 'profile'"),
        ('default = "nobody"\n[profiles.p]\n', "default names no profile"),
        ('[defaults]\nnumbers = ["+1555"]\n[profiles.p]\n', "numbers belongs in a profile"),
        (
            '[profiles.a]\nnumbers = ["+15550001111"]\n[profiles.b]\nnumbers = ["15550001111"]\n',
            "answered by both profile 'a' and profile 'b'",
        ),
        ("[profiles.Sales]\n", 'profile "Sales": name: '),
        ("[profiles.p\n", "not valid TOML"),
    ],
)
def test_file_level_mistakes_are_named(tmp_path: Path, text: str, needle: str) -> None:
    assert needle in _refusal(tmp_path, text)


def test_without_a_profiles_file_the_environment_is_the_single_agent(tmp_path: Path) -> None:
    settings = _settings(
        tmp_path,
        GATEWAY_VOICE="Puck",
        GATEWAY_GREETING="agent",
        GATEWAY_RECORD="transcript",
        GATEWAY_RECORDINGS_DIR=str(tmp_path),
    )
    profile = profile_from_settings(settings, _toolbox(tmp_path))
    assert profile.name == "default"
    assert profile.live.voice == "Puck"
    assert profile.tool_names == ("business_hours", "end_call")
    assert [tool.name for tool in profile.live.tools] == ["business_hours", "end_call"]
    assert profile.speaks_first
    assert profile.record_transcript
    assert not profile.record_audio
    agents = AgentDirectory.single(profile)
    assert agents.select("+15550000000") is profile


@pytest.mark.parametrize(
    ("number", "normal"),
    [
        ("+1 (555) 000-1111", "15550001111"),
        ("15550001111", "15550001111"),
        ("sip:Support@Example.com;transport=tls", "support@example.com"),
        ("tel:+1-555-000-1111", "15550001111"),
        ("client:alice", "client:alice"),
    ],
)
def test_numbers_are_compared_in_one_form(number: str, normal: str) -> None:
    assert normalise_number(number) == normal


def test_the_documented_example_loads(tmp_path: Path) -> None:
    docs = Path(__file__).resolve().parents[2] / "docs" / "examples"
    settings = _settings(tmp_path, GATEWAY_RECORDINGS_DIR=str(tmp_path))
    toolbox = load_toolbox(docs / "tools.toml", {"EXAMPLE_BACKEND_TOKEN": "x"})
    agents = load_agents(docs / "agents.toml", settings, toolbox)
    assert list(agents.profiles) == ["sales", "support", "after-hours"]
    assert agents.select("+15550001111").name == "sales"  # type: ignore[union-attr]
    assert agents.select("+15550003333").name == "after-hours"  # type: ignore[union-attr]
    assert agents.select("+15557777777").name == "support"  # type: ignore[union-attr]
    sales = agents.profiles["sales"]
    assert sales.live.instructions is not None
    assert sales.live.instructions.startswith("You are the sales agent")


def test_a_profile_with_the_other_backends_model_is_refused_naming_both(tmp_path: Path) -> None:
    vertex = {"GOOGLE_GENAI_USE_VERTEXAI": "true", "GOOGLE_CLOUD_PROJECT": "p1"}
    message = _refusal(tmp_path, f'[profiles.p]\nmodel = "{NATIVE}"\n', **vertex)
    assert message.startswith(f'agents.toml: profile "p": model: model {NATIVE} is a Gemini ')
    assert "Vertex AI" in message
    assert "gemini-live-2.5-flash-native-audio" in message
    # Unset, a profile's model is the backend's default.
    agents = _load(tmp_path, 'default = "p"\n[profiles.p]\n', **vertex)
    profile = agents.select("+15550001111")
    assert profile is not None
    assert profile.live.model == (
        "projects/p1/locations/us-central1/publishers/google/models/"
        "gemini-live-2.5-flash-native-audio"
    )


def test_a_profile_with_affective_dialog_refuses_an_explicit_v1beta(tmp_path: Path) -> None:
    text = "[profiles.p]\naffective_dialog = true\n"
    message = _refusal(tmp_path, text, GATEWAY_LIVE_API_VERSION="v1beta")
    assert message == (
        'agents.toml: profile "p": affective_dialog: affective dialog needs API version v1alpha '
        "on the Developer API, but GATEWAY_LIVE_API_VERSION is v1beta; unset it (the gateway "
        "then picks v1alpha) or set it to v1alpha"
    )
    _load(tmp_path, text)  # unset: the gateway picks v1alpha for this profile's sessions


def test_silence_keys_override_the_variables_only_where_set(tmp_path: Path) -> None:
    path = tmp_path / "agents.toml"
    path.write_text(
        "[profiles.a]\nsilence_prompt_s = 0\n[profiles.b]\nsilence_hangup_s = 20.5\n[profiles.c]\n",
        encoding="utf-8",
    )
    agents = load_agents(path, load_settings({"GATEWAY_SECRET": "s" * 32}, env_file=None), None)
    got = {n: (p.silence_prompt_s, p.silence_hangup_s) for n, p in agents.profiles.items()}
    assert got == {"a": (0.0, None), "b": (None, 20.5), "c": (None, None)}
    path.write_text("[profiles.a]\nsilence_prompt_s = -1\n", encoding="utf-8")
    with pytest.raises(ProfilesFileError, match="silence_prompt_s: must not be negative"):
        load_agents(path, load_settings({"GATEWAY_SECRET": "s" * 32}, env_file=None), None)


def test_hold_and_webhook_keys(tmp_path: Path) -> None:
    hold = tmp_path / "hold.wav"
    hold.write_bytes(b"RIFF")  # read (and checked) at start-up by the shell
    path = tmp_path / "agents.toml"
    path.write_text(
        '[profiles.a]\nhold_after_ms = 0\nhold_audio_file = "hold.wav"\n'
        'call_webhook_url = "https://crm.example.com/a"\n[profiles.b]\n',
        encoding="utf-8",
    )
    env = {"GATEWAY_SECRET": "s" * 32, "GATEWAY_CALL_WEBHOOK_SECRET": "w" * 20}
    agents = load_agents(path, load_settings(env, env_file=None), None)
    a, b = agents.profiles["a"], agents.profiles["b"]
    assert (a.hold_after_ms, a.hold_audio_file, a.call_webhook_url) == (
        0.0,
        str(hold),
        "https://crm.example.com/a",
    )
    assert (b.hold_after_ms, b.hold_audio_file, b.call_webhook_url) == (None, None, None)
    without_secret = load_settings({"GATEWAY_SECRET": "s" * 32}, env_file=None)
    with pytest.raises(ProfilesFileError, match="call_webhook_url: needs GATEWAY_CALL_WEBHOOK"):
        load_agents(path, without_secret, None)
    path.write_text('[profiles.a]\nhold_audio_file = "missing.wav"\n', encoding="utf-8")
    with pytest.raises(ProfilesFileError, match="hold_audio_file: no such file"):
        load_agents(path, load_settings(env, env_file=None), None)
