"""The single, environment-configured agent: its Live options, greeting and recordings.

`read_live_config` reads the model, voice, instructions, VAD, thinking, compression,
transcription and the other Live options into a `LiveConfig`; a refused option is reported under
the variable that set it. `read_agent_extras` reads the greeting and recording variables. With
GATEWAY_AGENTS_FILE set, agent profiles replace all of these.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from gateway.env_reader import EnvReader, SettingsError
from gateway.live.models import default_model
from gateway.live.setup import (
    LiveConfig,
    LiveOptionError,
    VadConfig,
    canonical_voice,
    default_thinking,
    model_family,
    normalise_model,
)

__all__ = ["AgentExtras", "read_agent_extras", "read_live_config"]


def _instructions(reader: EnvReader) -> str | None:
    inline = reader.text("GATEWAY_INSTRUCTIONS")
    path = reader.text("GATEWAY_INSTRUCTIONS_FILE")
    if inline and path:
        raise SettingsError("set GATEWAY_INSTRUCTIONS or GATEWAY_INSTRUCTIONS_FILE, not both")
    if path:
        try:
            return Path(path).read_text(encoding="utf-8").strip() or None
        except OSError as exc:
            raise SettingsError(f"GATEWAY_INSTRUCTIONS_FILE cannot be read: {exc}") from None
    return inline


def _thinking(reader: EnvReader, model: str) -> tuple[int | None, str | None]:
    value = reader.text("GATEWAY_THINKING")
    family = model_family(model)
    if value is None:
        return default_thinking(model)
    if value.lower() in {"default", "server"}:
        return None, None
    if family == "2.5":
        try:
            return int(value), None
        except ValueError:
            raise SettingsError(
                f"GATEWAY_THINKING for a 2.5 model is a token budget (integer), not {value!r}"
            ) from None
    if family == "3":
        level = value.upper()
        if level not in {"MINIMAL", "LOW", "MEDIUM", "HIGH"}:
            raise SettingsError(
                f"GATEWAY_THINKING for a 3.x model is minimal|low|medium|high, not {value!r}"
            )
        return None, level
    raise SettingsError(f"GATEWAY_THINKING is not supported for model {model!r}")


_LIVE_OPTION_VARIABLES = {
    "model": "GATEWAY_MODEL",
    "voice": "GATEWAY_VOICE",
    "language": "GATEWAY_LANGUAGE",
    "instructions": "GATEWAY_INSTRUCTIONS",
    "tools": "GATEWAY_TOOLS_FILE",
    "vad.start_sensitivity": "GATEWAY_VAD_START_SENSITIVITY",
    "vad.end_sensitivity": "GATEWAY_VAD_END_SENSITIVITY",
    "vad.prefix_padding_ms": "GATEWAY_VAD_PREFIX_PADDING_MS",
    "vad.silence_duration_ms": "GATEWAY_VAD_SILENCE_MS",
    "barge_in": "GATEWAY_BARGE_IN",
    "thinking_budget": "GATEWAY_THINKING",
    "thinking_level": "GATEWAY_THINKING",
    "include_thoughts": "GATEWAY_INCLUDE_THOUGHTS",
    "temperature": "GATEWAY_TEMPERATURE",
    "compression": "GATEWAY_CONTEXT_COMPRESSION",
    "compression_trigger_tokens": "GATEWAY_COMPRESSION_TRIGGER_TOKENS",
    "compression_target_tokens": "GATEWAY_COMPRESSION_TARGET_TOKENS",
    "transcribe_input": "GATEWAY_TRANSCRIBE_INPUT",
    "transcribe_output": "GATEWAY_TRANSCRIBE_OUTPUT",
    "turn_coverage": "GATEWAY_TURN_COVERAGE",
    "affective_dialog": "GATEWAY_AFFECTIVE_DIALOG",
    "proactive_audio": "GATEWAY_PROACTIVE_AUDIO",
    "google_search": "GATEWAY_GOOGLE_SEARCH",
}
"""The variable behind each LiveConfig option, so a refused option names what to change."""


def _live_option_error(exc: LiveOptionError) -> SettingsError:
    return SettingsError(f"{_LIVE_OPTION_VARIABLES.get(exc.option, exc.option)}: {exc}")


def _optional_flag(reader: EnvReader, name: str) -> bool | None:
    """True/False when set, None when unset (the option is then left off the wire)."""
    return None if reader.text(name) is None else reader.boolean(name, False)


def _temperature(reader: EnvReader) -> float | None:
    value = reader.text("GATEWAY_TEMPERATURE")
    if value is None:
        return None
    try:
        return float(value)  # the range (0-2) is LiveConfig's check
    except ValueError:
        raise SettingsError(f"GATEWAY_TEMPERATURE must be a number, not {value!r}") from None


def _voice(reader: EnvReader, model: str) -> str | None:
    value = reader.text("GATEWAY_VOICE")
    return None if value is None else canonical_voice(model, value)


def read_live_config(
    reader: EnvReader, *, vertex_project: str | None, vertex_location: str
) -> LiveConfig:
    """The agent's LiveConfig; `vertex_project` is set when the model is reached through Vertex."""
    model = normalise_model(
        reader.text("GATEWAY_MODEL") or default_model(vertex=vertex_project is not None),
        vertex_project=vertex_project,
        vertex_location=vertex_location,
    )
    budget, level = _thinking(reader, model)
    start = reader.choice("GATEWAY_VAD_START_SENSITIVITY", ("high", "low"))
    end = reader.choice("GATEWAY_VAD_END_SENSITIVITY", ("high", "low"))
    compression = reader.boolean("GATEWAY_CONTEXT_COMPRESSION", True)
    coverage = reader.choice(
        "GATEWAY_TURN_COVERAGE", ("only_activity", "all_input", "audio_activity_and_all_video")
    )
    try:
        return LiveConfig(
            model=model,
            voice=_voice(reader, model),
            language=reader.text("GATEWAY_LANGUAGE"),
            instructions=_instructions(reader),
            vad=VadConfig(
                start_sensitivity=start.upper() if start else None,
                end_sensitivity=end.upper() if end else None,
                prefix_padding_ms=reader.integer("GATEWAY_VAD_PREFIX_PADDING_MS", None),
                silence_duration_ms=reader.integer("GATEWAY_VAD_SILENCE_MS", None),
            ),
            barge_in=reader.boolean("GATEWAY_BARGE_IN", True),
            thinking_budget=budget,
            thinking_level=level,
            include_thoughts=_optional_flag(reader, "GATEWAY_INCLUDE_THOUGHTS"),
            temperature=_temperature(reader),
            compression=compression,
            compression_trigger_tokens=reader.integer(
                "GATEWAY_COMPRESSION_TRIGGER_TOKENS", None, minimum=1
            ),
            compression_target_tokens=reader.integer(
                "GATEWAY_COMPRESSION_TARGET_TOKENS", None, minimum=1
            ),
            transcribe_input=reader.boolean("GATEWAY_TRANSCRIBE_INPUT", True),
            transcribe_output=reader.boolean("GATEWAY_TRANSCRIBE_OUTPUT", True),
            turn_coverage=coverage.upper() if coverage else None,
            affective_dialog=_optional_flag(reader, "GATEWAY_AFFECTIVE_DIALOG"),
            proactive_audio=_optional_flag(reader, "GATEWAY_PROACTIVE_AUDIO"),
            google_search=reader.boolean("GATEWAY_GOOGLE_SEARCH", False),
        )
    except LiveOptionError as exc:
        raise _live_option_error(exc) from None
    except ValueError as exc:
        raise SettingsError(str(exc)) from None


@dataclass(frozen=True)
class AgentExtras:
    """The single agent's greeting and recording variables."""

    recordings_dir: Path | None
    recordings_retention_days: float | None
    record: frozenset[str]
    greeting_agent: bool
    greeting_prompt: str | None


def read_agent_extras(reader: EnvReader) -> AgentExtras:
    directory = reader.text("GATEWAY_RECORDINGS_DIR")
    if directory is not None and Path(directory).exists() and not Path(directory).is_dir():
        raise SettingsError(f"GATEWAY_RECORDINGS_DIR is not a directory: {directory}")
    retention = reader.number("GATEWAY_RECORDINGS_RETENTION_DAYS", 30.0)
    record = {part.strip().lower() for part in (reader.text("GATEWAY_RECORD") or "").split(",")}
    record.discard("")
    if record - {"transcript", "audio"}:
        raise SettingsError("GATEWAY_RECORD must name transcript, audio or both")
    if record and directory is None:
        raise SettingsError("GATEWAY_RECORD needs GATEWAY_RECORDINGS_DIR (where files go)")
    greeting = reader.choice("GATEWAY_GREETING", ("agent", "caller")) or "caller"
    return AgentExtras(
        recordings_dir=Path(directory) if directory else None,
        recordings_retention_days=retention or None,
        record=frozenset(record),
        greeting_agent=greeting == "agent",
        greeting_prompt=reader.text("GATEWAY_GREETING_PROMPT"),
    )
