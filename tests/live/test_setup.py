"""The setup builder: exact layout per protocols.md A.5.1."""

from __future__ import annotations

import json

import pytest

from gateway.live.protocol import encode_setup
from gateway.live.setup import (
    DEFAULT_MODEL,
    FunctionDeclaration,
    LiveConfig,
    VadConfig,
    build_setup,
    default_thinking,
    model_family,
    normalise_model,
)


def test_minimal_config_builds_the_documented_layout() -> None:
    config = LiveConfig(model=DEFAULT_MODEL, thinking_budget=0)
    assert build_setup(config) == {
        "setup": {
            "model": "models/gemini-2.5-flash-native-audio-preview-12-2025",
            "generationConfig": {
                "responseModalities": ["AUDIO"],
                "thinkingConfig": {"thinkingBudget": 0},
            },
            "realtimeInputConfig": {
                "automaticActivityDetection": {"disabled": False},
                "activityHandling": "START_OF_ACTIVITY_INTERRUPTS",
            },
            "sessionResumption": {},
            "contextWindowCompression": {"slidingWindow": {}},
            "inputAudioTranscription": {},
            "outputAudioTranscription": {},
        }
    }


def test_full_config_places_every_field_where_the_sdk_does() -> None:
    config = LiveConfig(
        model="models/gemini-2.5-flash-native-audio-preview-12-2025",
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
            FunctionDeclaration(name="hang_up", description="End the call"),
        ),
        vad=VadConfig(
            start_sensitivity="LOW",
            end_sensitivity="HIGH",
            prefix_padding_ms=20,
            silence_duration_ms=500,
        ),
        barge_in=False,
        thinking_budget=128,
        include_thoughts=False,
        temperature=0.7,
        compression_trigger_tokens=25600,
        compression_target_tokens=12800,
    )
    assert build_setup(config, resume_handle="PREVIOUS_HANDLE") == {
        "setup": {
            "model": "models/gemini-2.5-flash-native-audio-preview-12-2025",
            "generationConfig": {
                "responseModalities": ["AUDIO"],
                "temperature": 0.7,
                "speechConfig": {
                    "voiceConfig": {"prebuiltVoiceConfig": {"voiceName": "Kore"}},
                    "languageCode": "en-US",
                },
                "thinkingConfig": {"thinkingBudget": 128, "includeThoughts": False},
            },
            "systemInstruction": {"role": "user", "parts": [{"text": "You are a phone agent."}]},
            "tools": [
                {
                    "functionDeclarations": [
                        {
                            "name": "transfer_call",
                            "description": "Transfer the caller",
                            "parameters": {
                                "type": "OBJECT",
                                "properties": {"dept": {"type": "STRING"}},
                                "required": ["dept"],
                            },
                            "behavior": "NON_BLOCKING",
                        },
                        {"name": "hang_up", "description": "End the call"},
                    ]
                }
            ],
            "realtimeInputConfig": {
                "automaticActivityDetection": {
                    "disabled": False,
                    "startOfSpeechSensitivity": "START_SENSITIVITY_LOW",
                    "endOfSpeechSensitivity": "END_SENSITIVITY_HIGH",
                    "prefixPaddingMs": 20,
                    "silenceDurationMs": 500,
                },
                "activityHandling": "NO_INTERRUPTION",
            },
            "sessionResumption": {"handle": "PREVIOUS_HANDLE"},
            "contextWindowCompression": {
                "slidingWindow": {"targetTokens": 12800},
                "triggerTokens": 25600,
            },
            "inputAudioTranscription": {},
            "outputAudioTranscription": {},
        }
    }


def test_gemini_3_uses_a_thinking_level() -> None:
    config = LiveConfig(model="models/gemini-3.1-flash-live-preview", thinking_level="MINIMAL")
    setup = build_setup(config)["setup"]
    assert setup["generationConfig"]["thinkingConfig"] == {"thinkingLevel": "MINIMAL"}


def test_compression_can_be_turned_off() -> None:
    setup = build_setup(LiveConfig(compression=False))["setup"]
    assert "contextWindowCompression" not in setup


def test_encode_setup_is_compact_json_of_the_builder() -> None:
    config = LiveConfig(voice="Puck")
    text = encode_setup(config, resume_handle="h1")
    assert json.loads(text) == build_setup(config, resume_handle="h1")
    assert ", " not in text
    assert ": " not in text


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("gemini-2.5-flash-native-audio-preview-12-2025", DEFAULT_MODEL),
        (DEFAULT_MODEL, DEFAULT_MODEL),
        ("  gemini-3.1-flash-live-preview ", "models/gemini-3.1-flash-live-preview"),
        ("publishers/google/models/x", "publishers/google/models/x"),
    ],
)
def test_normalise_model_developer_api(name: str, expected: str) -> None:
    assert normalise_model(name) == expected


def test_normalise_model_vertex() -> None:
    assert (
        normalise_model("models/gemini-live-2.5-flash-native-audio", vertex_project="p1")
        == "projects/p1/locations/us-central1/publishers/google/models/"
        "gemini-live-2.5-flash-native-audio"
    )
    assert normalise_model("projects/a/b", vertex_project="p1") == "projects/a/b"


def test_normalise_model_rejects_empty() -> None:
    with pytest.raises(ValueError, match="empty"):
        normalise_model("  ")


@pytest.mark.parametrize(
    ("model", "family", "thinking"),
    [
        ("models/gemini-2.5-flash-native-audio-preview-12-2025", "2.5", (0, None)),
        ("projects/p/locations/l/publishers/google/models/gemini-live-2.5-flash", "2.5", (0, None)),
        ("models/gemini-3.1-flash-live-preview", "3", (None, "MINIMAL")),
        ("models/gemini-2.0-flash-live-001", "other", (None, None)),
    ],
)
def test_model_family_and_default_thinking(
    model: str, family: str, thinking: tuple[int | None, str | None]
) -> None:
    assert model_family(model) == family
    assert default_thinking(model) == thinking


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"model": "models/gemini-3.1-flash-live-preview", "thinking_budget": 0}, "level"),
        ({"thinking_level": "LOW"}, "budget"),
        ({"model": "models/gemini-3.1-flash-live-preview", "thinking_level": "SOME"}, "one of"),
        ({"compression_target_tokens": 5}, "trigger"),
    ],
)
def test_invalid_configs_are_refused(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        LiveConfig(**kwargs)  # type: ignore[arg-type]


def test_non_blocking_tools_are_refused_on_gemini_3() -> None:
    tool = FunctionDeclaration(name="lookup", description="d", non_blocking=True)
    with pytest.raises(ValueError, match="NON_BLOCKING"):
        LiveConfig(model="models/gemini-3.1-flash-live-preview", tools=(tool,))


def test_duplicate_and_invalid_tool_names_are_refused() -> None:
    tool = FunctionDeclaration(name="lookup", description="d")
    with pytest.raises(ValueError, match="unique"):
        LiveConfig(tools=(tool, tool))
    with pytest.raises(ValueError, match="invalid tool name"):
        FunctionDeclaration(name="9lives", description="d")


def test_vad_config_validates() -> None:
    with pytest.raises(ValueError, match="sensitivity"):
        VadConfig(start_sensitivity="MEDIUM")
    with pytest.raises(ValueError, match="negative"):
        VadConfig(silence_duration_ms=-1)
