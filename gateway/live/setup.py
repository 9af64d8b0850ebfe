"""The Live session configuration and the `setup` message built from it (protocols.md A.5.1).

Pure: no I/O. `build_setup(config, resume_handle=...)` returns the JSON-ready dict; the encoder in
`gateway.live.protocol` turns it into a text frame. Keys are lowerCamelCase throughout and sit
exactly where SDK 3.4.0 puts them: sampling, speech, thinking and affective dialog under
`generationConfig`, everything else directly under `setup`. A `LiveConfig` checks itself against
its model on construction (gateway.live.capabilities) and raises `LiveOptionError`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from gateway.live.capabilities import (
    MAX_VAD_MS,
    LiveOptionError,
    canonical_voice,
    check_live_config,
    model_family,
)

__all__ = [
    "DEFAULT_MODEL",
    "FunctionDeclaration",
    "LiveConfig",
    "LiveOptionError",
    "VadConfig",
    "build_setup",
    "canonical_voice",
    "default_thinking",
    "model_family",
    "normalise_model",
]

DEFAULT_MODEL = "models/gemini-2.5-flash-native-audio-preview-12-2025"

_TOOL_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.:-]{0,127}$")
_SENSITIVITIES = frozenset({"HIGH", "LOW"})


def normalise_model(
    name: str, *, vertex_project: str | None = None, vertex_location: str = "us-central1"
) -> str:
    """The `setup.model` string for a bare or qualified model name (A.1).

    Developer API: `models/{name}`. Vertex (when a project is given):
    `projects/{p}/locations/{l}/publishers/google/models/{name}`. Qualified names pass through.
    """
    name = name.strip()
    if not name:
        raise ValueError("the model name is empty")
    if vertex_project is not None:
        if name.startswith("projects/"):
            return name
        base = name.rsplit("/", 1)[-1]
        location = f"projects/{vertex_project}/locations/{vertex_location}"
        return f"{location}/publishers/google/models/{base}"
    if name.startswith(("models/", "tunedModels/", "publishers/", "projects/")):
        return name
    return f"models/{name}"


def default_thinking(model: str) -> tuple[int | None, str | None]:
    """(thinkingBudget, thinkingLevel) for a phone agent: as little thinking as the family allows.

    2.5: budget 0 (thinking off; every thought is dead air on a call). 3.x: level MINIMAL (its
    documented default, made explicit). Other families: nothing (server default).
    """
    family = model_family(model)
    if family == "2.5":
        return 0, None
    if family == "3":
        return None, "MINIMAL"
    return None, None


@dataclass(frozen=True)
class FunctionDeclaration:
    """A tool the model may call. `parameters` is an OpenAPI-subset schema (`type` upper case)."""

    name: str
    description: str
    parameters: Mapping[str, Any] | None = None
    non_blocking: bool = False

    def __post_init__(self) -> None:
        if not _TOOL_NAME.match(self.name):
            raise LiveOptionError(
                "tools",
                f"invalid tool name {self.name!r}: use a-zA-Z0-9_.:- (starting with a letter "
                "or _), at most 128 characters",
            )


@dataclass(frozen=True)
class VadConfig:
    """Server-side automatic activity detection (A.5.1 `realtimeInputConfig`); None: default."""

    disabled: bool = False
    start_sensitivity: str | None = None  # "HIGH" | "LOW"
    end_sensitivity: str | None = None  # "HIGH" | "LOW"
    prefix_padding_ms: int | None = None
    silence_duration_ms: int | None = None

    def __post_init__(self) -> None:
        for option, value in (
            ("start_sensitivity", self.start_sensitivity),
            ("end_sensitivity", self.end_sensitivity),
        ):
            if value is not None and value not in _SENSITIVITIES:
                words = option.replace("_", " ")
                raise LiveOptionError(
                    f"vad.{option}", f"VAD {words} must be HIGH or LOW, not {value!r}"
                )
        for option, number in (
            ("prefix_padding_ms", self.prefix_padding_ms),
            ("silence_duration_ms", self.silence_duration_ms),
        ):
            if number is not None and not 0 <= number <= MAX_VAD_MS:
                words = option.removesuffix("_ms").replace("_", " ")
                raise LiveOptionError(
                    f"vad.{option}",
                    f"VAD {words} must be between 0 and {MAX_VAD_MS} ms, not {number}",
                )


@dataclass(frozen=True)
class LiveConfig:
    """What the gateway asks of a Live session. `model` is the wire string (see normalise_model).

    Every field left at its default puts nothing new on the wire. Construction checks the
    options against the model (`check_live_config`) and raises `LiveOptionError`. `voice` must
    be spelled as the model spells it: `canonical_voice` turns user input into that spelling.
    """

    model: str = DEFAULT_MODEL
    voice: str | None = None
    language: str | None = None
    instructions: str | None = None
    tools: tuple[FunctionDeclaration, ...] = ()
    vad: VadConfig = field(default_factory=VadConfig)
    barge_in: bool = True
    thinking_budget: int | None = None
    thinking_level: str | None = None
    include_thoughts: bool | None = None
    temperature: float | None = None
    compression: bool = True
    compression_trigger_tokens: int | None = None
    compression_target_tokens: int | None = None
    transcribe_input: bool = True
    transcribe_output: bool = True
    turn_coverage: str | None = None
    """`ONLY_ACTIVITY` | `ALL_INPUT` | `AUDIO_ACTIVITY_AND_ALL_VIDEO` (3.x only); None: default."""
    affective_dialog: bool | None = None
    """`generationConfig.enableAffectiveDialog`; native-audio 2.5 models only."""
    proactive_audio: bool | None = None
    """`proactivity.proactiveAudio`; native-audio 2.5 models only."""
    google_search: bool = False
    """Adds the built-in Google Search tool (`{"googleSearch": {}}`)."""

    def __post_init__(self) -> None:
        check_live_config(self)


def _generation_config(config: LiveConfig) -> dict[str, Any]:
    generation: dict[str, Any] = {"responseModalities": ["AUDIO"]}
    if config.temperature is not None:
        generation["temperature"] = config.temperature
    speech: dict[str, Any] = {}
    if config.voice:
        speech["voiceConfig"] = {"prebuiltVoiceConfig": {"voiceName": config.voice}}
    if config.language:
        speech["languageCode"] = config.language
    if speech:
        generation["speechConfig"] = speech
    thinking: dict[str, Any] = {}
    if config.thinking_budget is not None:
        thinking["thinkingBudget"] = config.thinking_budget
    if config.thinking_level is not None:
        thinking["thinkingLevel"] = config.thinking_level
    if config.include_thoughts is not None:
        thinking["includeThoughts"] = config.include_thoughts
    if thinking:
        generation["thinkingConfig"] = thinking
    if config.affective_dialog is not None:
        generation["enableAffectiveDialog"] = config.affective_dialog
    return generation


def _tools(config: LiveConfig) -> list[dict[str, Any]]:
    # The SDK's order: built-in tools first, then one tool holding every declaration.
    tools: list[dict[str, Any]] = [{"googleSearch": {}}] if config.google_search else []
    if not config.tools:
        return tools
    declarations: list[dict[str, Any]] = []
    for tool in config.tools:
        entry: dict[str, Any] = {"name": tool.name, "description": tool.description}
        if tool.parameters is not None:
            entry["parameters"] = dict(tool.parameters)
        if tool.non_blocking:
            entry["behavior"] = "NON_BLOCKING"
        declarations.append(entry)
    return [*tools, {"functionDeclarations": declarations}]


def _realtime_input_config(config: LiveConfig) -> dict[str, Any]:
    vad = config.vad
    detection: dict[str, Any] = {"disabled": vad.disabled}
    if vad.start_sensitivity is not None:
        detection["startOfSpeechSensitivity"] = f"START_SENSITIVITY_{vad.start_sensitivity}"
    if vad.end_sensitivity is not None:
        detection["endOfSpeechSensitivity"] = f"END_SENSITIVITY_{vad.end_sensitivity}"
    if vad.prefix_padding_ms is not None:
        detection["prefixPaddingMs"] = vad.prefix_padding_ms
    if vad.silence_duration_ms is not None:
        detection["silenceDurationMs"] = vad.silence_duration_ms
    handling = "START_OF_ACTIVITY_INTERRUPTS" if config.barge_in else "NO_INTERRUPTION"
    realtime: dict[str, Any] = {
        "automaticActivityDetection": detection,
        "activityHandling": handling,
    }
    if config.turn_coverage is not None:
        realtime["turnCoverage"] = f"TURN_INCLUDES_{config.turn_coverage}"
    return realtime


def build_setup(config: LiveConfig, *, resume_handle: str | None = None) -> dict[str, Any]:
    """The complete `{"setup": {...}}` client message for `config` (A.5.1 layout).

    `sessionResumption` is always present (so the server sends handles); it carries `handle`
    when resuming. Compression is a sliding window unless `config.compression` is off.
    """
    setup: dict[str, Any] = {
        "model": config.model,
        "generationConfig": _generation_config(config),
    }
    if config.instructions:
        setup["systemInstruction"] = {"role": "user", "parts": [{"text": config.instructions}]}
    if config.tools or config.google_search:
        setup["tools"] = _tools(config)
    setup["realtimeInputConfig"] = _realtime_input_config(config)
    setup["sessionResumption"] = {"handle": resume_handle} if resume_handle else {}
    if config.compression:
        window: dict[str, Any] = {}
        if config.compression_target_tokens is not None:
            window["targetTokens"] = config.compression_target_tokens
        compression: dict[str, Any] = {"slidingWindow": window}
        if config.compression_trigger_tokens is not None:
            compression["triggerTokens"] = config.compression_trigger_tokens
        setup["contextWindowCompression"] = compression
    if config.transcribe_input:
        setup["inputAudioTranscription"] = {}
    if config.transcribe_output:
        setup["outputAudioTranscription"] = {}
    if config.proactive_audio is not None:
        setup["proactivity"] = {"proactiveAudio": config.proactive_audio}
    return {"setup": setup}
