"""The profiles file (`GATEWAY_AGENTS_FILE`, TOML) read and checked into an `AgentDirectory`.

The format is documented in docs/agents.md. Every profile is the `[defaults]` table overlaid by
its own `[profiles.NAME]` table; keys left unset take the gateway's defaults (not the
environment's agent variables: a profiles file describes its agents completely). Every mistake
stops start-up with a `ProfilesFileError` naming the file, the profile and the field, including
a Live option the profile's model does not accept (the same check the setup message gets, so it
is found here and not as a 1007 close in the middle of a call).
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any, Final, NoReturn

from gateway.agents.profile import (
    DEFAULT_GREETING_PROMPT,
    DEFAULT_PROFILE,
    PROFILE_NAME,
    AgentDirectory,
    AgentProfile,
)
from gateway.live.models import default_model
from gateway.live.setup import (
    FunctionDeclaration,
    LiveConfig,
    LiveOptionError,
    VadConfig,
    canonical_voice,
    default_thinking,
    normalise_model,
)
from gateway.live.versions import VersionError, api_version_for
from gateway.options import core as opt
from gateway.options import dial as dial_options
from gateway.options.conduct import (
    CALL_WEBHOOK_URL,
    CONDUCT_OPTIONS,
    HOLD_AFTER_MS,
    HOLD_AUDIO_FILE,
    SILENCE_HANGUP_S,
    SILENCE_PROMPT_S,
)
from gateway.options.core import CORE
from gateway.options.dial import DIAL_OPTIONS
from gateway.options.option import (
    Option,
    OptionValueError,
    Value,
    as_bool,
    as_float,
    as_int,
    as_strings,
    as_text,
    from_toml,
)
from gateway.settings import Settings
from gateway.tools.toolbox import Toolbox

__all__ = ["ProfilesFileError", "load_agents", "profile_from_settings"]

_TOP: Final = frozenset({"default", "defaults", "profiles"})
_PROFILE_OPTIONS: Final = tuple(o for o in (*CORE, *CONDUCT_OPTIONS, *DIAL_OPTIONS) if o.profile)
_PROFILE_KEYS: Final = frozenset(str(o.profile).split(".")[0] for o in _PROFILE_OPTIONS)
_VAD_KEYS: Final = frozenset(
    str(o.profile).split(".", 1)[1] for o in _PROFILE_OPTIONS if str(o.profile).startswith("vad.")
)
_COMPRESSION_KEYS: Final = frozenset(
    str(o.profile).split(".", 1)[1]
    for o in _PROFILE_OPTIONS
    if str(o.profile).startswith("compression.")
)
_RECORD: Final = frozenset({"transcript", "audio"})
_OPTION_KEYS: Final = {o.live_field: str(o.profile) for o in _PROFILE_OPTIONS if o.live_field}
"""The profile key behind each LiveConfig option, so a refused option names what to change."""
MAX_INSTRUCTIONS_BYTES: Final = 256 * 1024


class ProfilesFileError(ValueError):
    """The profiles file cannot be used; the message names the file, the profile and the field."""


class _Profile:
    """One profile's merged table, read with errors that name the profile and the field."""

    def __init__(self, where: str, name: str, table: Mapping[str, Any]) -> None:
        self.where = where
        self.name = name
        self.table = table

    def fail(self, key: str, message: str) -> NoReturn:
        raise ProfilesFileError(f'{self.where}: profile "{self.name}": {key}: {message}')

    def get(self, option: Option) -> Value:
        """The option's typed value from its key (`vad.silence_duration_ms`: in `[vad]`)."""
        key = str(option.profile)
        table: Any = self.table
        for part in key.split(".")[:-1]:
            table = table.get(part, {}) if isinstance(table, dict) else {}
        try:
            return from_toml(option, table.get(key.rsplit(".", 1)[-1]))
        except OptionValueError as exc:
            self.fail(key, str(exc))

    def override(self, option: Option) -> Value:
        """The option's typed value when the profile sets it, else None (the variable's)."""
        if self.table.get(str(option.profile)) is None:
            return None
        return self.get(option)

    def subtable(self, key: str, allowed: frozenset[str]) -> Mapping[str, Any]:
        value = self.table.get(key, {})
        if not isinstance(value, dict):
            self.fail(key, "must be a table")
        unknown = sorted(set(value) - allowed)
        if unknown:
            self.fail(f"{key}.{unknown[0]}", f"unknown field (known: {', '.join(sorted(allowed))})")
        return value


def _instructions(fields: _Profile, base_dir: Path) -> str | None:
    inline = as_text(fields.get(opt.INSTRUCTIONS))
    path_text = as_text(fields.get(opt.INSTRUCTIONS_FILE))
    if inline and path_text:
        fields.fail("instructions_file", "set instructions or instructions_file, not both")
    if path_text is None:
        return inline
    path = Path(path_text)
    if not path.is_absolute():
        path = base_dir / path  # relative to the profiles file, wherever the gateway runs
    try:
        data = path.read_bytes()
    except OSError as exc:
        fields.fail("instructions_file", f"cannot be read: {exc.strerror or exc}")
    if len(data) > MAX_INSTRUCTIONS_BYTES:
        fields.fail("instructions_file", f"is larger than {MAX_INSTRUCTIONS_BYTES} bytes")
    try:
        return data.decode("utf-8").strip() or None
    except UnicodeDecodeError:
        fields.fail("instructions_file", "is not UTF-8 text")


def _live(
    fields: _Profile, settings: Settings, toolbox: Toolbox | None, base_dir: Path
) -> LiveConfig:
    try:
        model = normalise_model(
            as_text(fields.get(opt.MODEL)) or default_model(vertex=settings.vertex),
            vertex_project=settings.vertex_project if settings.vertex else None,
            vertex_location=settings.vertex_location,
        )
    except ValueError as exc:
        fields.fail("model", str(exc))
    tools = _tools(fields, toolbox)
    fields.subtable("vad", _VAD_KEYS)  # a table of known keys (its values: fields.get)
    fields.subtable("compression", _COMPRESSION_KEYS)
    budget = as_int(fields.get(opt.THINKING_BUDGET))
    level = as_text(fields.get(opt.THINKING_LEVEL))
    if budget is None and level is None:
        budget, level_default = default_thinking(model)
        level = level_default.lower() if level_default else None
    temperature = as_float(fields.get(opt.TEMPERATURE))
    coverage = as_text(fields.get(opt.TURN_COVERAGE))
    voice = as_text(fields.get(opt.VOICE))
    try:
        if voice is not None:
            voice = canonical_voice(model, voice)
        config = LiveConfig(
            model=model,
            voice=voice,
            language=as_text(fields.get(opt.LANGUAGE)),
            instructions=_instructions(fields, base_dir),
            tools=toolbox_declarations(toolbox, tools),
            vad=VadConfig(
                start_sensitivity=_upper(as_text(fields.get(opt.VAD_START_SENSITIVITY))),
                end_sensitivity=_upper(as_text(fields.get(opt.VAD_END_SENSITIVITY))),
                prefix_padding_ms=as_int(fields.get(opt.VAD_PREFIX_PADDING_MS)),
                silence_duration_ms=as_int(fields.get(opt.VAD_SILENCE_MS)),
            ),
            barge_in=bool(fields.get(opt.BARGE_IN)),
            turn_coverage=_upper(coverage),
            thinking_budget=budget,
            thinking_level=_upper(level),
            include_thoughts=as_bool(fields.get(opt.INCLUDE_THOUGHTS)),
            temperature=temperature,
            compression=bool(fields.get(opt.CONTEXT_COMPRESSION)),
            compression_trigger_tokens=as_int(fields.get(opt.COMPRESSION_TRIGGER_TOKENS)),
            compression_target_tokens=as_int(fields.get(opt.COMPRESSION_TARGET_TOKENS)),
            transcribe_input=bool(fields.get(opt.TRANSCRIBE_INPUT)),
            transcribe_output=bool(fields.get(opt.TRANSCRIBE_OUTPUT)),
            affective_dialog=as_bool(fields.get(opt.AFFECTIVE_DIALOG)),
            proactive_audio=as_bool(fields.get(opt.PROACTIVE_AUDIO)),
            google_search=bool(fields.get(opt.GOOGLE_SEARCH)),
        )
    except LiveOptionError as exc:
        fields.fail(_OPTION_KEYS.get(exc.option, exc.option), str(exc))
    try:
        api_version_for(
            config,
            settings.live_api_version,
            explicit=settings.live_api_version_explicit,
            vertex=settings.vertex,
        )
    except VersionError as exc:
        fields.fail("affective_dialog" if config.affective_dialog else "proactive_audio", str(exc))
    return config


def _upper(value: str | None) -> str | None:
    return value.upper() if value is not None else None


def _tools(fields: _Profile, toolbox: Toolbox | None) -> tuple[str, ...]:
    names = as_strings(fields.get(opt.TOOLS))
    known = toolbox.names if toolbox is not None else ()
    for name in names:
        if name not in known:
            where = "no tools file is configured (GATEWAY_TOOLS_FILE)"
            if toolbox is not None:
                where = f"the tools file has {', '.join(known) or 'no tools'}"
            fields.fail("tools", f'unknown tool "{name}": {where}')
    if len(set(names)) != len(names):
        fields.fail("tools", "names a tool twice")
    return names


def toolbox_declarations(
    toolbox: Toolbox | None, names: tuple[str, ...]
) -> tuple[FunctionDeclaration, ...]:
    """The Live declarations of the named tools, in the order named."""
    if toolbox is None or not names:
        return ()
    wanted = set(names)
    by_name = {d.name: d for d in toolbox.declarations() if d.name in wanted}
    return tuple(by_name[name] for name in names)


def _profile(
    where: str,
    name: str,
    table: Mapping[str, Any],
    settings: Settings,
    toolbox: Toolbox | None,
    base_dir: Path,
) -> AgentProfile:
    fields = _Profile(where, name, table)
    if not PROFILE_NAME.fullmatch(name):
        fields.fail("name", "profile names are 1-32 of a-z 0-9 _ - (starting with a letter/digit)")
    unknown = sorted(set(table) - _PROFILE_KEYS)
    if unknown:
        fields.fail(unknown[0], "unknown field (see docs/agents.md)")
    live = _live(fields, settings, toolbox, base_dir)
    greeting = as_text(fields.get(opt.GREETING)) or "caller"
    record = set(as_strings(fields.get(opt.RECORD)))
    if record - _RECORD:
        fields.fail("record", f"may hold {' and '.join(sorted(_RECORD))} only")
    if record and settings.recordings_dir is None:
        fields.fail("record", "recording needs GATEWAY_RECORDINGS_DIR (where files go)")
    if "transcript" in record and not (live.transcribe_input and live.transcribe_output):
        fields.fail("record", "a transcript needs transcribe_input and transcribe_output on")
    numbers = as_strings(fields.get(opt.NUMBERS))
    return AgentProfile(
        name=name,
        live=live,
        tool_names=tuple(d.name for d in live.tools),
        numbers=numbers,
        speaks_first=greeting == "agent",
        greeting_prompt=as_text(fields.get(opt.GREETING_PROMPT)) or DEFAULT_GREETING_PROMPT,
        record_transcript="transcript" in record,
        record_audio="audio" in record,
        silence_prompt_s=as_float(fields.override(SILENCE_PROMPT_S)),
        silence_hangup_s=as_float(fields.override(SILENCE_HANGUP_S)),
        hold_after_ms=as_float(fields.override(HOLD_AFTER_MS)),
        hold_audio_file=_hold_file(fields, base_dir),
        call_webhook_url=_webhook_url(fields, settings),
        voicemail_message=as_text(fields.get(dial_options.VOICEMAIL_MESSAGE)),
        hello_timeout_ms=float(as_int(fields.get(dial_options.HELLO_TIMEOUT_MS)) or 4000),
    )


def _webhook_url(fields: _Profile, settings: Settings) -> str | None:
    url = as_text(fields.override(CALL_WEBHOOK_URL))
    if url is not None and settings.call_webhooks.secret is None:
        fields.fail("call_webhook_url", "needs GATEWAY_CALL_WEBHOOK_SECRET (the signing key)")
    return url


def _hold_file(fields: _Profile, base_dir: Path) -> str | None:
    """The profile's hold sound, relative to the profiles file (read at start-up)."""
    text = as_text(fields.override(HOLD_AUDIO_FILE))
    if text is None:
        return None
    path = Path(text) if Path(text).is_absolute() else base_dir / text
    if not path.is_file():
        fields.fail("hold_audio_file", f"no such file: {path}")
    return str(path)


def parse_agents(
    document: Mapping[str, Any],
    settings: Settings,
    toolbox: Toolbox | None,
    *,
    where: str,
    base_dir: Path,
) -> AgentDirectory:
    """An `AgentDirectory` from a parsed profiles document (see `load_agents`)."""

    def fail(message: str) -> NoReturn:
        raise ProfilesFileError(f"{where}: {message}")

    unknown = sorted(set(document) - _TOP)
    if unknown:
        fail(f"unknown top-level field {unknown[0]!r} (known: default, defaults, profiles)")
    defaults = document.get("defaults", {})
    profiles = document.get("profiles", {})
    if not isinstance(defaults, dict) or not isinstance(profiles, dict):
        fail("defaults and profiles must be tables")
    if not profiles:
        fail("no profiles: add at least one [profiles.NAME] table")
    if "numbers" in defaults:
        fail("defaults: numbers belongs in a profile (a number has one agent)")
    built: dict[str, AgentProfile] = {}
    for name, table in profiles.items():
        if not isinstance(table, dict):
            fail(f'profile "{name}" must be a table')
        merged = {**defaults, **table}
        for key in ("vad", "compression"):  # sub-tables merge key by key too
            if isinstance(defaults.get(key), dict) and isinstance(table.get(key), dict):
                merged[key] = {**defaults[key], **table[key]}
        built[name] = _profile(where, name, merged, settings, toolbox, base_dir)
    default = document.get("default")
    if default is not None and (not isinstance(default, str) or default not in built):
        fail(f"default names no profile (profiles: {', '.join(built)})")
    try:
        return AgentDirectory(built, default=default, source=where)
    except ValueError as exc:
        fail(str(exc))


def load_agents(path: Path, settings: Settings, toolbox: Toolbox | None) -> AgentDirectory:
    """Read and check the profiles file; raises ProfilesFileError naming what is wrong."""
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ProfilesFileError(f"{path}: cannot be read: {exc.strerror or exc}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ProfilesFileError(f"{path.name}: not valid TOML: {exc}") from None
    return parse_agents(document, settings, toolbox, where=path.name, base_dir=path.parent)


def profile_from_settings(settings: Settings, toolbox: Toolbox | None) -> AgentProfile:
    """The single agent the environment describes (no profiles file): every configured tool."""
    names = toolbox.names if toolbox is not None else ()
    live = settings.live
    if names:
        live = replace(live, tools=toolbox_declarations(toolbox, tuple(names)))
    return AgentProfile(
        name=DEFAULT_PROFILE,
        live=live,
        tool_names=tuple(names),
        speaks_first=settings.greeting_agent,
        greeting_prompt=settings.greeting_prompt or DEFAULT_GREETING_PROMPT,
        record_transcript="transcript" in settings.record,
        record_audio="audio" in settings.record,
    )
