"""Client-message validation as the production server does it (protocols.md A.4, A.5).

Proto3 JSON rules: every field may be spelled snake_case or lowerCamelCase; an unknown field name
is an error (`Invalid JSON payload received. Unknown name "X" at 'setup': Cannot find field.`,
close 1007). `normalise_client_message` returns the message kind and its body with every known
key in camelCase; free-form subtrees (tool parameter schemas, tool responses) are left as sent.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from gateway.live.wire import camel_to_snake, snake_to_camel

__all__ = ["ClientMessageError", "normalise_client_message"]


class _Opaque:
    """A free-form value (google.protobuf.Struct, an OpenAPI schema, a map)."""


OPAQUE = _Opaque()
STR, BOOL, INT, NUM = "str", "bool", "int", "num"

_BLOB = {"mime_type": STR, "data": STR, "display_name": STR}
_PART = {
    "text": STR,
    "inline_data": _BLOB,
    "thought": BOOL,
    "thought_signature": STR,
    "file_data": OPAQUE,
    "function_call": OPAQUE,
    "function_response": OPAQUE,
    "executable_code": OPAQUE,
    "code_execution_result": OPAQUE,
    "video_metadata": OPAQUE,
    "media_resolution": OPAQUE,
}
_CONTENT = {"role": STR, "parts": _PART}
_TRANSCRIPTION = {
    "language_codes": STR,
    "language_auto": BOOL,
    "language_hints": OPAQUE,
    "custom_vocabulary": OPAQUE,
    "adaptation_phrases": OPAQUE,
    "word_timestamp": BOOL,
    "diarization": OPAQUE,
    "mode": STR,
    "source_text": OPAQUE,
}
_TOOL = {
    "function_declarations": {
        "name": STR,
        "description": STR,
        "parameters": OPAQUE,
        "parameters_json_schema": OPAQUE,
        "response": OPAQUE,
        "response_json_schema": OPAQUE,
        "behavior": frozenset({"BEHAVIOR_UNSPECIFIED", "BLOCKING", "NON_BLOCKING"}),
    },
    "google_search": OPAQUE,
    "google_search_retrieval": OPAQUE,
    "code_execution": OPAQUE,
    "url_context": OPAQUE,
    "google_maps": OPAQUE,
    "enterprise_web_search": OPAQUE,
    "retrieval": OPAQUE,
    "computer_use": OPAQUE,
    "file_search": OPAQUE,
    "mcp_servers": OPAQUE,
}
_SENSITIVITY_START = frozenset(
    {"START_SENSITIVITY_UNSPECIFIED", "START_SENSITIVITY_HIGH", "START_SENSITIVITY_LOW"}
)
_SENSITIVITY_END = frozenset(
    {"END_SENSITIVITY_UNSPECIFIED", "END_SENSITIVITY_HIGH", "END_SENSITIVITY_LOW"}
)
_GENERATION = {
    "candidate_count": INT,
    "max_output_tokens": INT,
    "temperature": NUM,
    "top_p": NUM,
    "top_k": NUM,
    "presence_penalty": NUM,
    "frequency_penalty": NUM,
    "seed": INT,
    "response_modalities": frozenset({"MODALITY_UNSPECIFIED", "TEXT", "IMAGE", "AUDIO"}),
    "media_resolution": STR,
    "speech_config": {
        "voice_config": {
            "prebuilt_voice_config": {"voice_name": STR},
            "replicated_voice_config": OPAQUE,
        },
        "language_code": STR,
        "multi_speaker_voice_config": OPAQUE,
    },
    "thinking_config": {
        "include_thoughts": BOOL,
        "thinking_budget": INT,
        "thinking_level": frozenset(
            {"THINKING_LEVEL_UNSPECIFIED", "MINIMAL", "LOW", "MEDIUM", "HIGH"}
        ),
    },
    "enable_affective_dialog": BOOL,
    "translation_config": OPAQUE,
    "stop_sequences": STR,
    "response_mime_type": STR,
    "response_logprobs": BOOL,
    "logprobs": INT,
}
SETUP_SCHEMA: dict[str, Any] = {
    "model": STR,
    "generation_config": _GENERATION,
    "system_instruction": _CONTENT,
    "tools": _TOOL,
    "realtime_input_config": {
        "automatic_activity_detection": {
            "disabled": BOOL,
            "start_of_speech_sensitivity": _SENSITIVITY_START,
            "end_of_speech_sensitivity": _SENSITIVITY_END,
            "prefix_padding_ms": INT,
            "silence_duration_ms": INT,
        },
        "activity_handling": frozenset(
            {"ACTIVITY_HANDLING_UNSPECIFIED", "START_OF_ACTIVITY_INTERRUPTS", "NO_INTERRUPTION"}
        ),
        "turn_coverage": frozenset(
            {
                "TURN_COVERAGE_UNSPECIFIED",
                "TURN_INCLUDES_ONLY_ACTIVITY",
                "TURN_INCLUDES_ALL_INPUT",
                "TURN_INCLUDES_AUDIO_ACTIVITY_AND_ALL_VIDEO",
            }
        ),
        "interim_transcript_timestamp_enabled": BOOL,
    },
    "session_resumption": {"handle": STR, "transparent": BOOL},
    "context_window_compression": {"trigger_tokens": INT, "sliding_window": {"target_tokens": INT}},
    "input_audio_transcription": _TRANSCRIPTION,
    "output_audio_transcription": _TRANSCRIPTION,
    "proactivity": {"proactive_audio": BOOL, "proactive_video": BOOL},
    "history_config": {"initial_history_in_client_content": BOOL},
    "explicit_vad_signal": BOOL,
    "safety_settings": OPAQUE,
    "labels": OPAQUE,
    "avatar_config": OPAQUE,
}
_MESSAGES: dict[str, Any] = {
    "setup": SETUP_SCHEMA,
    "client_content": {"turns": _CONTENT, "turn_complete": BOOL},
    "realtime_input": {
        "media_chunks": _BLOB,
        "audio": _BLOB,
        "video": _BLOB,
        "text": STR,
        "audio_stream_end": BOOL,
        "activity_start": {},
        "activity_end": {},
    },
    "tool_response": {
        "function_responses": {
            "id": STR,
            "name": STR,
            "response": OPAQUE,
            "parts": OPAQUE,
            "scheduling": frozenset({"SCHEDULING_UNSPECIFIED", "SILENT", "WHEN_IDLE", "INTERRUPT"}),
            "will_continue": BOOL,
        }
    },
    "context_update": {"system_instruction": _CONTENT, "tools": _TOOL},
}


@dataclass
class ClientMessageError(Exception):
    """A message the server refuses: close with `code` and `reason`."""

    code: int
    reason: str

    def __str__(self) -> str:
        return f"{self.code} {self.reason}"


def _unknown(name: str, path: str) -> ClientMessageError:
    return ClientMessageError(
        1007,
        f"Invalid JSON payload received. Unknown name \"{name}\" at '{path}': Cannot find field.",
    )


def _invalid(path: str, value: Any) -> ClientMessageError:
    shown = str(value)[:40]
    return ClientMessageError(1007, f"Invalid value at '{path}', \"{shown}\"")


def _scalar(kind: Any, value: Any, path: str) -> Any:
    if isinstance(kind, frozenset):
        if not isinstance(value, str) or value.upper() not in kind:
            raise _invalid(path, value)
        return value.upper()
    ok = {
        STR: isinstance(value, str),
        BOOL: isinstance(value, bool),
        INT: (isinstance(value, int) and not isinstance(value, bool))
        or (isinstance(value, str) and value.strip().lstrip("-").isdigit())
        or (isinstance(value, float) and value.is_integer()),
        NUM: isinstance(value, int | float | str) and not isinstance(value, bool),
    }[kind]
    if not ok:
        raise _invalid(path, value)
    return value


def _walk(schema: Any, value: Any, path: str) -> Any:
    if schema is OPAQUE:
        return value
    if isinstance(value, list):
        return [_walk(schema, item, f"{path}[{i}]") for i, item in enumerate(value)]
    if not isinstance(schema, dict):
        return _scalar(schema, value, path)
    if not isinstance(value, Mapping):
        raise _invalid(path, value)
    result: dict[str, Any] = {}
    for key, item in value.items():
        snake = camel_to_snake(str(key))
        if snake not in schema:
            raise _unknown(str(key), path)
        result[snake_to_camel(snake)] = _walk(schema[snake], item, f"{path}.{snake}")
    return result


_AUDIO_KEYS = {"mimeType": "mimeType", "mime_type": "mimeType", "data": "data"}


def _plain_audio(key: Any, body: Any) -> dict[str, Any] | None:
    """The common case, an audio-only realtimeInput, validated without the generic walk."""
    if key not in ("realtimeInput", "realtime_input") or not isinstance(body, dict):
        return None
    blob = body.get("audio")
    if len(body) != 1 or not isinstance(blob, dict):
        return None
    result: dict[str, Any] = {}
    for name, value in blob.items():
        camel = _AUDIO_KEYS.get(name)
        if camel is None or not isinstance(value, str):
            return None  # the walk gives the precise error
        result[camel] = value
    return {"audio": result}


def normalise_client_message(message: Any) -> tuple[str, dict[str, Any]]:
    """(kind, body) of one client message; kind is camelCase (`setup`, `realtimeInput`, ...).

    Raises ClientMessageError (1007) for anything production refuses: not an object, not exactly
    one message type, an unknown field name anywhere, a value of the wrong type.
    """
    if not isinstance(message, Mapping):
        raise ClientMessageError(1007, "Invalid JSON payload received. Expected an object.")
    if len(message) != 1:
        names = ", ".join(sorted(map(str, message)))[:60] or "nothing"
        raise ClientMessageError(
            1007, f"Request contains an invalid argument. One message type expected, got {names}."
        )
    ((key, body),) = message.items()
    fast = _plain_audio(key, body)
    if fast is not None:
        return "realtimeInput", fast
    snake = camel_to_snake(str(key))
    if snake not in _MESSAGES:
        raise _unknown(str(key), "")
    normalised = _walk(_MESSAGES[snake], body, snake)
    if not isinstance(normalised, dict):
        raise _invalid(snake, body)
    return snake_to_camel(snake), normalised
