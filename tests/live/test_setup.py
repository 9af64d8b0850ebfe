"""The setup builder: exact layout per protocols.md A.5.1."""

from __future__ import annotations

import json

import pytest

from gateway.live.protocol import encode_setup
from gateway.live.setup import (
    DEFAULT_MODEL,
    FunctionDeclaration,
    LiveConfig,
    LiveOptionError,
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
    with pytest.raises(ValueError, match="between 0 and 10000 ms"):
        VadConfig(silence_duration_ms=-1)


NATIVE = "models/gemini-2.5-flash-native-audio-preview-12-2025"
LIVE_31 = "models/gemini-3.1-flash-live-preview"


def setup_of(**kwargs: object) -> dict[str, object]:
    """The `setup` body for LiveConfig(**kwargs) with thinking and compression left out."""
    kwargs.setdefault("compression", False)
    kwargs.setdefault("transcribe_input", False)
    kwargs.setdefault("transcribe_output", False)
    setup = build_setup(LiveConfig(**kwargs))["setup"]  # type: ignore[arg-type]
    assert isinstance(setup, dict)
    return setup


BARE_REALTIME = {
    "automaticActivityDetection": {"disabled": False},
    "activityHandling": "START_OF_ACTIVITY_INTERRUPTS",
}


def test_unset_new_options_put_nothing_new_on_the_wire() -> None:
    assert setup_of(model=NATIVE) == {
        "model": NATIVE,
        "generationConfig": {"responseModalities": ["AUDIO"]},
        "realtimeInputConfig": BARE_REALTIME,
        "sessionResumption": {},
    }


@pytest.mark.parametrize(
    ("model", "coverage"),
    [
        (NATIVE, "ONLY_ACTIVITY"),
        (NATIVE, "ALL_INPUT"),
        (LIVE_31, "ONLY_ACTIVITY"),
        (LIVE_31, "ALL_INPUT"),
        (LIVE_31, "AUDIO_ACTIVITY_AND_ALL_VIDEO"),
    ],
)
def test_turn_coverage_goes_into_the_realtime_input_config(model: str, coverage: str) -> None:
    assert setup_of(model=model, turn_coverage=coverage)["realtimeInputConfig"] == {
        **BARE_REALTIME,
        "turnCoverage": f"TURN_INCLUDES_{coverage}",
    }


@pytest.mark.parametrize("value", [True, False])
def test_affective_dialog_goes_into_the_generation_config(value: bool) -> None:
    assert setup_of(model=NATIVE, affective_dialog=value)["generationConfig"] == {
        "responseModalities": ["AUDIO"],
        "enableAffectiveDialog": value,
    }


@pytest.mark.parametrize("value", [True, False])
def test_proactive_audio_goes_into_setup_proactivity(value: bool) -> None:
    assert setup_of(model=NATIVE, proactive_audio=value) == {
        "model": NATIVE,
        "generationConfig": {"responseModalities": ["AUDIO"]},
        "realtimeInputConfig": BARE_REALTIME,
        "sessionResumption": {},
        "proactivity": {"proactiveAudio": value},
    }


def test_google_search_alone_is_the_only_tool() -> None:
    setup = setup_of(model=LIVE_31, google_search=True)
    assert setup["tools"] == [{"googleSearch": {}}]


def test_google_search_comes_before_the_declarations_as_in_the_sdk() -> None:
    tool = FunctionDeclaration(name="lookup", description="Look up an order")
    setup = setup_of(model=NATIVE, tools=(tool,), google_search=True)
    assert setup["tools"] == [
        {"googleSearch": {}},
        {"functionDeclarations": [{"name": "lookup", "description": "Look up an order"}]},
    ]


def test_include_thoughts_temperature_and_transcription_switches() -> None:
    setup = setup_of(
        model=LIVE_31,
        thinking_level="LOW",
        include_thoughts=True,
        temperature=2.0,
        transcribe_input=True,
    )
    assert setup["generationConfig"] == {
        "responseModalities": ["AUDIO"],
        "temperature": 2.0,
        "thinkingConfig": {"thinkingLevel": "LOW", "includeThoughts": True},
    }
    assert setup["inputAudioTranscription"] == {}
    assert "outputAudioTranscription" not in setup


def test_every_new_option_at_once_matches_the_documented_layout() -> None:
    """protocols.md A.5.1's example, new keys included, in the SDK's places."""
    config = LiveConfig(
        model=NATIVE,
        voice="Kore",
        language="en-US",
        thinking_budget=0,
        include_thoughts=False,
        temperature=0.7,
        affective_dialog=True,
        proactive_audio=True,
        turn_coverage="ONLY_ACTIVITY",
        google_search=True,
    )
    assert build_setup(config) == {
        "setup": {
            "model": NATIVE,
            "generationConfig": {
                "responseModalities": ["AUDIO"],
                "temperature": 0.7,
                "speechConfig": {
                    "voiceConfig": {"prebuiltVoiceConfig": {"voiceName": "Kore"}},
                    "languageCode": "en-US",
                },
                "thinkingConfig": {"thinkingBudget": 0, "includeThoughts": False},
                "enableAffectiveDialog": True,
            },
            "tools": [{"googleSearch": {}}],
            "realtimeInputConfig": {**BARE_REALTIME, "turnCoverage": "TURN_INCLUDES_ONLY_ACTIVITY"},
            "sessionResumption": {},
            "contextWindowCompression": {"slidingWindow": {}},
            "inputAudioTranscription": {},
            "outputAudioTranscription": {},
            "proactivity": {"proactiveAudio": True},
        }
    }


def test_live_option_error_is_exported_and_a_value_error() -> None:
    with pytest.raises(LiveOptionError) as caught:
        LiveConfig(model=LIVE_31, affective_dialog=True)
    assert isinstance(caught.value, ValueError)
    assert caught.value.option == "affective_dialog"
    assert str(caught.value) == (
        "affective dialog is supported only by native-audio 2.5 models, not "
        "gemini-3.1-flash-live-preview; remove the setting"
    )
