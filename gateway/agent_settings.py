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
from gateway.options import core as opt
from gateway.options.core import CORE

__all__ = ["AgentExtras", "read_agent_extras", "read_live_config"]


def _instructions(reader: EnvReader) -> str | None:
    inline = reader.get_text(opt.INSTRUCTIONS)
    path = reader.get_text(opt.INSTRUCTIONS_FILE)
    if inline and path:
        raise SettingsError("set GATEWAY_INSTRUCTIONS or GATEWAY_INSTRUCTIONS_FILE, not both")
    if path:
        try:
            return Path(path).read_text(encoding="utf-8").strip() or None
        except OSError as exc:
            raise SettingsError(f"GATEWAY_INSTRUCTIONS_FILE cannot be read: {exc}") from None
    return inline


def _thinking(reader: EnvReader, model: str) -> tuple[int | None, str | None]:
    value = reader.get_text(opt.THINKING)
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
    **{o.live_field: o.env for o in CORE if o.live_field and o.env},
    "thinking_level": str(opt.THINKING.env),  # one variable sets either thinking field
}
"""The variable behind each LiveConfig option, so a refused option names what to change."""


def _live_option_error(exc: LiveOptionError) -> SettingsError:
    return SettingsError(f"{_LIVE_OPTION_VARIABLES.get(exc.option, exc.option)}: {exc}")


def _voice(reader: EnvReader, model: str) -> str | None:
    value = reader.get_text(opt.VOICE)
    return None if value is None else canonical_voice(model, value)


def read_live_config(
    reader: EnvReader, *, vertex_project: str | None, vertex_location: str
) -> LiveConfig:
    """The agent's LiveConfig; `vertex_project` is set when the model is reached through Vertex."""
    model = normalise_model(
        reader.get_text(opt.MODEL) or default_model(vertex=vertex_project is not None),
        vertex_project=vertex_project,
        vertex_location=vertex_location,
    )
    budget, level = _thinking(reader, model)
    start = reader.get_text(opt.VAD_START_SENSITIVITY)
    end = reader.get_text(opt.VAD_END_SENSITIVITY)
    compression = reader.get_bool(opt.CONTEXT_COMPRESSION)
    coverage = reader.get_text(opt.TURN_COVERAGE)
    try:
        return LiveConfig(
            model=model,
            voice=_voice(reader, model),
            language=reader.get_text(opt.LANGUAGE),
            instructions=_instructions(reader),
            vad=VadConfig(
                start_sensitivity=start.upper() if start else None,
                end_sensitivity=end.upper() if end else None,
                prefix_padding_ms=reader.get_int(opt.VAD_PREFIX_PADDING_MS),
                silence_duration_ms=reader.get_int(opt.VAD_SILENCE_MS),
            ),
            barge_in=reader.get_bool(opt.BARGE_IN),
            thinking_budget=budget,
            thinking_level=level,
            include_thoughts=reader.get_flag(opt.INCLUDE_THOUGHTS),
            temperature=reader.get_float(opt.TEMPERATURE),
            compression=compression,
            compression_trigger_tokens=reader.get_int(opt.COMPRESSION_TRIGGER_TOKENS),
            compression_target_tokens=reader.get_int(opt.COMPRESSION_TARGET_TOKENS),
            transcribe_input=reader.get_bool(opt.TRANSCRIBE_INPUT),
            transcribe_output=reader.get_bool(opt.TRANSCRIBE_OUTPUT),
            turn_coverage=coverage.upper() if coverage else None,
            affective_dialog=reader.get_flag(opt.AFFECTIVE_DIALOG),
            proactive_audio=reader.get_flag(opt.PROACTIVE_AUDIO),
            google_search=reader.get_bool(opt.GOOGLE_SEARCH),
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
    directory = reader.get_text(opt.RECORDINGS_DIR)
    if directory is not None and Path(directory).exists() and not Path(directory).is_dir():
        raise SettingsError(f"GATEWAY_RECORDINGS_DIR is not a directory: {directory}")
    retention = reader.get_float(opt.RECORDINGS_RETENTION_DAYS)
    record = {part.lower() for part in reader.get_strings(opt.RECORD)}
    if record and directory is None:
        raise SettingsError("GATEWAY_RECORD needs GATEWAY_RECORDINGS_DIR (where files go)")
    greeting = reader.get_text(opt.GREETING) or "caller"
    return AgentExtras(
        recordings_dir=Path(directory) if directory else None,
        recordings_retention_days=retention or None,
        record=frozenset(record),
        greeting_agent=greeting == "agent",
        greeting_prompt=reader.get_text(opt.GREETING_PROMPT),
    )
