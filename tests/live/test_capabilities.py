"""What each model accepts, and every refusal: its option and its exact message."""

from __future__ import annotations

import pytest

from gateway.live import setup as live_setup
from gateway.live.capabilities import (
    CLASSIC_VOICES,
    NATIVE_AUDIO_VOICES,
    LiveOptionError,
    ModelCapabilities,
    canonical_voice,
    capabilities,
    check_live_config,
)
from gateway.live.setup import FunctionDeclaration, LiveConfig, VadConfig

NATIVE = "models/gemini-2.5-flash-native-audio-preview-12-2025"
VERTEX_NATIVE = (
    "projects/p/locations/us-central1/publishers/google/models/gemini-live-2.5-flash-native-audio"
)
LIVE_31 = "models/gemini-3.1-flash-live-preview"
HALF_25 = "models/gemini-live-2.5-flash-preview"
HALF_20 = "models/gemini-2.0-flash-live-001"
UNKNOWN = "models/some-tuned-live-model"


def test_voice_lists() -> None:
    assert len(NATIVE_AUDIO_VOICES) == len(set(NATIVE_AUDIO_VOICES)) == 30
    assert set(CLASSIC_VOICES) < set(NATIVE_AUDIO_VOICES)
    assert len(CLASSIC_VOICES) == 8


def test_native_audio_25() -> None:
    both = ModelCapabilities(
        name="gemini-2.5-flash-native-audio-preview-12-2025",
        family="2.5",
        native_audio=True,
        half_cascade=False,
        thinking_budget=True,
        thinking_level=False,
        affective_dialog=True,
        proactive_audio=True,
        non_blocking_tools=True,
        turn_coverages=frozenset({"ONLY_ACTIVITY", "ALL_INPUT"}),
        voices=NATIVE_AUDIO_VOICES,
        language_code_honoured=False,
    )
    assert capabilities(NATIVE) == both
    assert capabilities(NATIVE.removeprefix("models/")) == both
    vertex = capabilities(VERTEX_NATIVE)
    assert vertex.name == "gemini-live-2.5-flash-native-audio"
    assert (vertex.family, vertex.native_audio, vertex.affective_dialog) == ("2.5", True, True)


def test_gemini_31_flash_live() -> None:
    assert capabilities(LIVE_31) == ModelCapabilities(
        name="gemini-3.1-flash-live-preview",
        family="3",
        native_audio=False,
        half_cascade=False,
        thinking_budget=False,
        thinking_level=True,
        affective_dialog=False,
        proactive_audio=False,
        non_blocking_tools=False,
        turn_coverages=frozenset({"ONLY_ACTIVITY", "ALL_INPUT", "AUDIO_ACTIVITY_AND_ALL_VIDEO"}),
        voices=NATIVE_AUDIO_VOICES,
        language_code_honoured=False,
    )


@pytest.mark.parametrize(("model", "family"), [(HALF_25, "2.5"), (HALF_20, "other")])
def test_half_cascade_models(model: str, family: str) -> None:
    caps = capabilities(model)
    assert (caps.family, caps.native_audio, caps.half_cascade) == (family, False, True)
    assert (caps.affective_dialog, caps.proactive_audio) == (False, False)
    assert caps.voices == CLASSIC_VOICES
    assert caps.language_code_honoured is True
    assert caps.non_blocking_tools


def test_unknown_models_accept_any_voice() -> None:
    caps = capabilities(UNKNOWN)
    assert (caps.family, caps.native_audio, caps.half_cascade) == ("other", False, False)
    assert caps.voices is None
    assert caps.language_code_honoured is None
    assert LiveConfig(model=UNKNOWN, voice="Whoever").voice == "Whoever"


def test_model_family_is_reexported_from_setup() -> None:
    assert live_setup.model_family(LIVE_31) == "3"
    assert live_setup.LiveOptionError is LiveOptionError
    assert live_setup.canonical_voice is canonical_voice


@pytest.mark.parametrize(
    ("model", "given", "expected"),
    [
        (NATIVE, "kore", "Kore"),
        (NATIVE, " SULAFAT ", "Sulafat"),
        (LIVE_31, "zubenelgenubi", "Zubenelgenubi"),
        (HALF_25, "puck", "Puck"),
        (UNKNOWN, "aoede", "Aoede"),
        (UNKNOWN, "custom-voice", "custom-voice"),
    ],
)
def test_canonical_voice(model: str, given: str, expected: str) -> None:
    assert canonical_voice(model, given) == expected


def test_canonical_voice_refuses_a_voice_the_model_lacks() -> None:
    with pytest.raises(LiveOptionError) as caught:
        canonical_voice(HALF_25, "sulafat")
    assert caught.value.option == "voice"
    assert str(caught.value) == (
        "voice 'sulafat' is not a prebuilt voice of gemini-live-2.5-flash-preview (half-cascade "
        "models have 8 voices; the others need a native-audio model); choose one of Puck, "
        "Charon, Kore, Fenrir, Aoede, Leda, Orus, Zephyr"
    )
    with pytest.raises(LiveOptionError) as caught:
        canonical_voice(NATIVE, "Nobody")
    assert str(caught.value) == (
        "voice 'Nobody' is not a prebuilt voice of gemini-2.5-flash-native-audio-preview-12-2025; "
        f"choose one of {', '.join(NATIVE_AUDIO_VOICES)}"
    )


BLOCKING = FunctionDeclaration(name="lookup", description="d")
ASYNC = FunctionDeclaration(name="lookup", description="d", non_blocking=True)


@pytest.mark.parametrize(
    ("kwargs", "option", "message"),
    [
        (
            {"model": LIVE_31, "affective_dialog": False},
            "affective_dialog",
            "affective dialog is supported only by native-audio 2.5 models, not "
            "gemini-3.1-flash-live-preview; remove the setting",
        ),
        (
            {"model": HALF_25, "affective_dialog": True},
            "affective_dialog",
            "affective dialog is supported only by native-audio 2.5 models, not "
            "gemini-live-2.5-flash-preview; remove the setting",
        ),
        (
            {"model": HALF_20, "proactive_audio": False},
            "proactive_audio",
            "proactive audio is supported only by native-audio 2.5 models, not "
            "gemini-2.0-flash-live-001; remove the setting",
        ),
        (
            {"model": LIVE_31, "proactive_audio": True},
            "proactive_audio",
            "proactive audio is supported only by native-audio 2.5 models, not "
            "gemini-3.1-flash-live-preview; remove the setting",
        ),
        (
            {"model": LIVE_31, "thinking_budget": 0},
            "thinking_budget",
            "gemini-3.1-flash-live-preview takes a thinking level (MINIMAL, LOW, MEDIUM, HIGH), "
            "not a thinking budget; set a level instead",
        ),
        (
            {"model": NATIVE, "thinking_budget": 24577},
            "thinking_budget",
            "thinking budget must be between -1 (the model decides) and 24576 tokens, not 24577",
        ),
        (
            {"model": NATIVE, "thinking_budget": -2},
            "thinking_budget",
            "thinking budget must be between -1 (the model decides) and 24576 tokens, not -2",
        ),
        (
            {"model": NATIVE, "thinking_level": "LOW"},
            "thinking_level",
            "gemini-2.5-flash-native-audio-preview-12-2025 takes a thinking budget (tokens; 0 "
            "turns thinking off), not a thinking level; set a budget instead",
        ),
        (
            {"model": LIVE_31, "thinking_level": "low"},
            "thinking_level",
            "thinking level must be one of MINIMAL, LOW, MEDIUM, HIGH, not 'low'",
        ),
        (
            {"model": LIVE_31, "tools": (ASYNC,)},
            "tools",
            "gemini-3.1-flash-live-preview does not support NON_BLOCKING (asynchronous) tools; "
            "make lookup blocking or choose a 2.5 model",
        ),
        (
            {"model": NATIVE, "tools": (BLOCKING, BLOCKING)},
            "tools",
            "tool names must be unique; lookup is declared twice",
        ),
        (
            {"model": NATIVE, "turn_coverage": "AUDIO_ACTIVITY_AND_ALL_VIDEO"},
            "turn_coverage",
            "turn coverage AUDIO_ACTIVITY_AND_ALL_VIDEO is supported only by 3.x models, not "
            "gemini-2.5-flash-native-audio-preview-12-2025; use ONLY_ACTIVITY or ALL_INPUT",
        ),
        (
            {"model": HALF_20, "turn_coverage": "AUDIO_ACTIVITY_AND_ALL_VIDEO"},
            "turn_coverage",
            "turn coverage AUDIO_ACTIVITY_AND_ALL_VIDEO is supported only by 3.x models, not "
            "gemini-2.0-flash-live-001; use ONLY_ACTIVITY or ALL_INPUT",
        ),
        (
            {"model": LIVE_31, "turn_coverage": "TURN_INCLUDES_ALL_INPUT"},
            "turn_coverage",
            "turn coverage must be one of ONLY_ACTIVITY, ALL_INPUT, AUDIO_ACTIVITY_AND_ALL_VIDEO, "
            "not 'TURN_INCLUDES_ALL_INPUT'",
        ),
        (
            {"model": LIVE_31, "vad": VadConfig(disabled=True)},
            "vad.disabled",
            "automatic activity detection cannot be turned off: the gateway sends no "
            "activityStart/activityEnd, so the model would never hear a turn end; tune the VAD "
            "sensitivities and durations instead",
        ),
        (
            {"model": UNKNOWN, "vad": VadConfig(disabled=True)},
            "vad.disabled",
            "automatic activity detection cannot be turned off: the gateway sends no "
            "activityStart/activityEnd, so the model would never hear a turn end; tune the VAD "
            "sensitivities and durations instead",
        ),
        (
            {"temperature": 2.5},
            "temperature",
            "temperature must be between 0.0 and 2.0, not 2.5",
        ),
        (
            {"temperature": -0.1},
            "temperature",
            "temperature must be between 0.0 and 2.0, not -0.1",
        ),
        (
            {"compression_trigger_tokens": 0},
            "compression_trigger_tokens",
            "the compression trigger must be at least 1 token, not 0",
        ),
        (
            {"compression_target_tokens": 5},
            "compression_target_tokens",
            "a compression target needs a compression trigger; set the trigger too",
        ),
        (
            {"compression_trigger_tokens": 1000, "compression_target_tokens": 1000},
            "compression_target_tokens",
            "the compression target must be at least 1 and below the trigger (1000 tokens), "
            "not 1000",
        ),
        (
            {"compression_trigger_tokens": 1000, "compression_target_tokens": 0},
            "compression_target_tokens",
            "the compression target must be at least 1 and below the trigger (1000 tokens), not 0",
        ),
        (
            {"model": NATIVE, "voice": "kore"},
            "voice",
            "voice 'kore' must be spelled 'Kore'",
        ),
        (
            {"model": HALF_20, "voice": "Nobody"},
            "voice",
            "voice 'Nobody' is not a prebuilt voice of gemini-2.0-flash-live-001; choose one of "
            "Puck, Charon, Kore, Fenrir, Aoede, Leda, Orus, Zephyr",
        ),
        (
            {"language": "English"},
            "language",
            "language 'English' is not a BCP-47 code; use one such as en-US or de-DE",
        ),
        (
            {"language": "en_US"},
            "language",
            "language 'en_US' is not a BCP-47 code; use one such as en-US or de-DE",
        ),
    ],
)
def test_refusals_name_the_option_and_say_what_to_do(
    kwargs: dict[str, object], option: str, message: str
) -> None:
    with pytest.raises(LiveOptionError) as caught:
        LiveConfig(**kwargs)  # type: ignore[arg-type]
    assert caught.value.option == option
    assert str(caught.value) == message


@pytest.mark.parametrize(
    ("kwargs", "option", "message"),
    [
        (
            {"start_sensitivity": "MEDIUM"},
            "vad.start_sensitivity",
            "VAD start sensitivity must be HIGH or LOW, not 'MEDIUM'",
        ),
        (
            {"end_sensitivity": "low"},
            "vad.end_sensitivity",
            "VAD end sensitivity must be HIGH or LOW, not 'low'",
        ),
        (
            {"prefix_padding_ms": -1},
            "vad.prefix_padding_ms",
            "VAD prefix padding must be between 0 and 10000 ms, not -1",
        ),
        (
            {"silence_duration_ms": 10001},
            "vad.silence_duration_ms",
            "VAD silence duration must be between 0 and 10000 ms, not 10001",
        ),
    ],
)
def test_vad_refusals(kwargs: dict[str, object], option: str, message: str) -> None:
    with pytest.raises(LiveOptionError) as caught:
        VadConfig(**kwargs)  # type: ignore[arg-type]
    assert caught.value.option == option
    assert str(caught.value) == message


def test_invalid_tool_name_is_a_tools_error() -> None:
    with pytest.raises(LiveOptionError) as caught:
        FunctionDeclaration(name="9lives", description="d")
    assert caught.value.option == "tools"
    assert str(caught.value) == (
        "invalid tool name '9lives': use a-zA-Z0-9_.:- (starting with a letter or _), at most "
        "128 characters"
    )


@pytest.mark.parametrize(
    "kwargs",
    [
        {"model": NATIVE, "affective_dialog": False, "proactive_audio": False},
        {"model": VERTEX_NATIVE, "affective_dialog": True, "proactive_audio": True},
        {"model": NATIVE, "thinking_budget": -1, "include_thoughts": True},
        {"model": NATIVE, "thinking_budget": 24576},
        {"model": HALF_25, "thinking_budget": 0, "include_thoughts": False, "voice": "Zephyr"},
        {"model": LIVE_31, "thinking_level": "HIGH", "include_thoughts": True},
        {"model": LIVE_31, "turn_coverage": "AUDIO_ACTIVITY_AND_ALL_VIDEO", "voice": "Sulafat"},
        {"model": NATIVE, "tools": (ASYNC,), "google_search": True},
        {"model": HALF_20, "google_search": True, "turn_coverage": "ALL_INPUT"},
        {"temperature": 0.0},
        {"temperature": 2.0},
        {"language": "cmn-Hans-CN"},
        {"language": "de"},
        {"vad": VadConfig(prefix_padding_ms=0, silence_duration_ms=10_000)},
        {"compression_trigger_tokens": 2, "compression_target_tokens": 1},
    ],
)
def test_accepted_configurations(kwargs: dict[str, object]) -> None:
    config = LiveConfig(**kwargs)  # type: ignore[arg-type]
    check_live_config(config)  # idempotent: the constructor ran it already
