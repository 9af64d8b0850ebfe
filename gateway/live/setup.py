"""The Live session configuration and the `setup` message built from it (protocols.md A.5.1).

Pure: no I/O. `build_setup(config, resume_handle=...)` returns the JSON-ready dict; the encoder in
`gateway.live.protocol` turns it into a text frame. Keys are lowerCamelCase throughout and sit
exactly where SDK 3.4.0 puts them: sampling, speech and thinking under `generationConfig`,
everything else directly under `setup`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "DEFAULT_MODEL",
    "FunctionDeclaration",
    "LiveConfig",
    "VadConfig",
    "build_setup",
    "default_thinking",
    "model_family",
    "normalise_model",
]

DEFAULT_MODEL = "models/gemini-2.5-flash-native-audio-preview-12-2025"

_TOOL_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.:-]{0,127}$")
_THINKING_LEVELS = frozenset({"MINIMAL", "LOW", "MEDIUM", "HIGH"})
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


def model_family(model: str) -> str:
    """`"2.5"`, `"3"` or `"other"`, from the model's base name (decides the thinking fields)."""
    base = model.rsplit("/", 1)[-1].lower()
    if re.match(r"^gemini-(live-)?2\.5", base):
        return "2.5"
    if re.match(r"^gemini-(live-)?3", base):
        return "3"
    return "other"


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
            raise ValueError(f"invalid tool name {self.name!r} (a-zA-Z0-9_.:-, at most 128)")


@dataclass(frozen=True)
class VadConfig:
    """Server-side automatic activity detection (A.5.1 `realtimeInputConfig`); None: default."""

    disabled: bool = False
    start_sensitivity: str | None = None  # "HIGH" | "LOW"
    end_sensitivity: str | None = None  # "HIGH" | "LOW"
    prefix_padding_ms: int | None = None
    silence_duration_ms: int | None = None

    def __post_init__(self) -> None:
        for value in (self.start_sensitivity, self.end_sensitivity):
            if value is not None and value not in _SENSITIVITIES:
                raise ValueError(f"VAD sensitivity must be HIGH or LOW, not {value!r}")
        for number in (self.prefix_padding_ms, self.silence_duration_ms):
            if number is not None and number < 0:
                raise ValueError("VAD durations must not be negative")


@dataclass(frozen=True)
class LiveConfig:
    """What the gateway asks of a Live session. `model` is the wire string (see normalise_model)."""

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

    def __post_init__(self) -> None:
        family = model_family(self.model)
        if self.thinking_budget is not None and family == "3":
            raise ValueError("3.x Live models take a thinking level, not a thinking budget")
        if self.thinking_level is not None:
            if family == "2.5":
                raise ValueError("2.5 Live models take a thinking budget, not a thinking level")
            if self.thinking_level not in _THINKING_LEVELS:
                raise ValueError(f"thinking level must be one of {sorted(_THINKING_LEVELS)}")
        if family == "3" and any(tool.non_blocking for tool in self.tools):
            raise ValueError("3.x Live models do not support NON_BLOCKING (asynchronous) tools")
        if self.compression_target_tokens is not None and self.compression_trigger_tokens is None:
            raise ValueError("a compression target needs a compression trigger")
        names = [tool.name for tool in self.tools]
        if len(names) != len(set(names)):
            raise ValueError("tool names must be unique")


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
    return generation


def _tools(config: LiveConfig) -> list[dict[str, Any]]:
    declarations: list[dict[str, Any]] = []
    for tool in config.tools:
        entry: dict[str, Any] = {"name": tool.name, "description": tool.description}
        if tool.parameters is not None:
            entry["parameters"] = dict(tool.parameters)
        if tool.non_blocking:
            entry["behavior"] = "NON_BLOCKING"
        declarations.append(entry)
    return [{"functionDeclarations": declarations}]


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
    return {"automaticActivityDetection": detection, "activityHandling": handling}


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
    if config.tools:
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
    return {"setup": setup}
