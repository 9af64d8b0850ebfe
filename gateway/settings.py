"""Frozen settings read once from the environment (and a `.env` file, if present).

The process environment wins over `.env`. `Settings` holds the Live side, `ServerSettings` the
call server (listen address, public URL, stream tokens, playback) and `TwilioSettings` the Twilio
account. Every variable is documented in `.env.example` and docs/configuration.md.
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from gateway.live.setup import (
    DEFAULT_MODEL,
    LiveConfig,
    LiveOptionError,
    VadConfig,
    canonical_voice,
    default_thinking,
    model_family,
    normalise_model,
)
from gateway.log import register_secret

__all__ = [
    "ExotelSettings",
    "PlivoSettings",
    "ServerSettings",
    "Settings",
    "SettingsError",
    "SignalWireSettings",
    "TelnyxSettings",
    "TwilioSettings",
    "VonageSettings",
    "load_settings",
    "parse_dotenv",
]


class SettingsError(ValueError):
    """A variable has a value the gateway cannot use (the message names the variable)."""


def parse_dotenv(text: str) -> dict[str, str]:
    """Parse `.env` text: `KEY=VALUE` lines, optional `export `, `#` comments, optional quotes.

    Values in double quotes understand `\\n`, `\\"` and `\\\\`; single quotes are literal; an
    unquoted value ends at ` #`. Lines that are not assignments are skipped.
    """
    result: dict[str, str] = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("export "):
            line = line[len("export ") :].lstrip()
        key, sep, value = line.partition("=")
        key = key.strip()
        if not sep or not key.isidentifier():
            continue
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] == '"':
            body = value[1:-1]
            out: list[str] = []
            i = 0
            while i < len(body):
                ch = body[i]
                if ch == "\\" and i + 1 < len(body):
                    nxt = body[i + 1]
                    out.append({"n": "\n", '"': '"', "\\": "\\"}.get(nxt, "\\" + nxt))
                    i += 2
                    continue
                out.append(ch)
                i += 1
            value = "".join(out)
        elif len(value) >= 2 and value[0] == value[-1] == "'":
            value = value[1:-1]
        else:
            hash_at = value.find(" #")
            if hash_at >= 0:
                value = value[:hash_at].rstrip()
        result[key] = value
    return result


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


class _Reader:
    def __init__(self, env: Mapping[str, str]) -> None:
        self._env = env

    def text(self, name: str) -> str | None:
        value = self._env.get(name, "").strip()
        return value or None

    def boolean(self, name: str, default: bool) -> bool:
        value = self.text(name)
        if value is None:
            return default
        if value.lower() in _TRUE:
            return True
        if value.lower() in _FALSE:
            return False
        raise SettingsError(f"{name} must be true or false, not {value!r}")

    def integer(self, name: str, default: int | None, *, minimum: int = 0) -> int | None:
        value = self.text(name)
        if value is None:
            return default
        try:
            number = int(value)
        except ValueError:
            raise SettingsError(f"{name} must be an integer, not {value!r}") from None
        if number < minimum:
            raise SettingsError(f"{name} must be at least {minimum}")
        return number

    def number(self, name: str, default: float) -> float:
        value = self.text(name)
        if value is None:
            return default
        try:
            number = float(value)
        except ValueError:
            raise SettingsError(f"{name} must be a number, not {value!r}") from None
        if number < 0:
            raise SettingsError(f"{name} must not be negative")
        return number

    def choice(self, name: str, choices: tuple[str, ...]) -> str | None:
        value = self.text(name)
        if value is None:
            return None
        if value.lower() not in choices:
            raise SettingsError(f"{name} must be one of {', '.join(choices)}, not {value!r}")
        return value.lower()


@dataclass(frozen=True)
class ServerSettings:
    """The call server: where it listens, how it names itself, how it guards media streams."""

    host: str = "0.0.0.0"
    port: int = 8080
    public_url: str | None = None
    """GATEWAY_PUBLIC_URL: base of the URLs put in webhook answers (else from the request)."""
    secret: bytes = b""
    """GATEWAY_SECRET: signs stream tokens; random per process when unset (`secret_generated`)."""
    secret_generated: bool = True
    stream_token_ttl_s: float = 60.0
    prewarm_hold_s: float = 15.0
    """How long a Live session opened at the webhook waits for its media stream."""
    stream_start_timeout_s: float = 10.0
    playback_lead_ms: int = 400
    fallback_number: str | None = None
    """GATEWAY_FALLBACK_NUMBER: where callers go when the agent cannot take or keep the call
    (E.164 number or SIP URI); unset: a polite goodbye instead."""
    max_calls: int = 100
    """GATEWAY_MAX_CALLS: calls (running, or answered and waiting for their stream) at most; the
    webhook answers the fallback beyond it."""
    drain_timeout_s: float = 300.0
    """GATEWAY_DRAIN_TIMEOUT_S: how long a stopping gateway lets its calls finish on their own."""
    event_loop: str = "auto"
    """GATEWAY_EVENT_LOOP: `auto` (uvloop when installed), `uvloop` or `asyncio`."""

    def __repr__(self) -> str:
        return (
            f"ServerSettings(host={self.host!r}, port={self.port}, "
            f"public_url={self.public_url!r}, secret=***)"
        )


@dataclass(frozen=True)
class TwilioSettings:
    account_sid: str | None = None
    auth_token: str | None = None
    """Validates X-Twilio-Signature when set; REST calls (transfer, hang-up) need it too."""
    api_base: str = "https://api.twilio.com"

    def __repr__(self) -> str:
        token = "***" if self.auth_token else None
        return f"TwilioSettings(account_sid={self.account_sid!r}, auth_token={token!r})"


@dataclass(frozen=True)
class TelnyxSettings:
    """The Telnyx account (docs/carriers/telnyx.md)."""

    api_key: str | None = None
    """TELNYX_API_KEY: Call Control requests (transfer, hang-up)."""
    public_key: str | None = None
    """TELNYX_PUBLIC_KEY: base64 Ed25519 key that checks `telnyx-signature-ed25519`."""
    api_base: str = "https://api.telnyx.com"
    codec: str = "PCMU"
    """TELNYX_CODEC: PCMU or PCMA, both directions."""
    signature_tolerance_s: float = 300.0
    allow_unsigned: bool = False
    """In GATEWAY_UNSIGNED_CARRIERS: webhooks are taken without a public key (tests, demos)."""

    def __repr__(self) -> str:
        key = "***" if self.api_key else None
        return f"TelnyxSettings(api_key={key!r}, public_key={self.public_key!r})"


@dataclass(frozen=True)
class PlivoSettings:
    """The Plivo account (docs/carriers/plivo.md)."""

    auth_id: str | None = None
    auth_token: str | None = None
    """PLIVO_AUTH_TOKEN: checks X-Plivo-Signature-V3; REST requests (Basic auth_id:token)."""
    api_base: str = "https://api.plivo.com"
    content_type: str = "audio/x-mulaw;rate=8000"
    """PLIVO_CONTENT_TYPE: the stream's audio, both directions."""
    allow_unsigned: bool = False

    def __repr__(self) -> str:
        token = "***" if self.auth_token else None
        return f"PlivoSettings(auth_id={self.auth_id!r}, auth_token={token!r})"


@dataclass(frozen=True)
class SignalWireSettings:
    """The SignalWire project (docs/carriers/signalwire.md)."""

    project_id: str | None = None
    api_token: str | None = None
    """SIGNALWIRE_API_TOKEN: REST requests (Basic project_id:token)."""
    signing_key: str | None = None
    """SIGNALWIRE_SIGNING_KEY: checks X-SignalWire-Signature / X-Twilio-Signature."""
    space_url: str | None = None
    """SIGNALWIRE_SPACE_URL: `https://<space>.signalwire.com`, the REST base."""
    codec: str = "PCMU"
    """SIGNALWIRE_CODEC: PCMU, PCMA, L16@8000h, L16@16000h or L16@24000h."""
    l16_big_endian: bool = False
    """SIGNALWIRE_L16_BYTE_ORDER=big: L16 payloads in network byte order [unverified]."""
    allow_unsigned: bool = False

    def __repr__(self) -> str:
        token = "***" if self.api_token else None
        key = "***" if self.signing_key else None
        return (
            f"SignalWireSettings(project_id={self.project_id!r}, api_token={token!r}, "
            f"signing_key={key!r}, codec={self.codec!r})"
        )


@dataclass(frozen=True)
class VonageSettings:
    """The Vonage Voice API application (docs/carriers/vonage.md)."""

    application_id: str | None = None
    private_key: str | None = None
    """VONAGE_PRIVATE_KEY(_FILE): the application's PEM key; signs REST requests (RS256)."""
    signature_secret: str | None = None
    """VONAGE_SIGNATURE_SECRET: checks the signed webhooks' JWT when set."""
    api_base: str = "https://api.nexmo.com"
    audio_rate_hz: int = 16_000
    from_number: str | None = None
    """VONAGE_FROM_NUMBER: the caller id a transfer presents (one of the account's numbers)."""
    allow_unsigned: bool = False
    """In GATEWAY_UNSIGNED_CARRIERS: webhooks are taken without a signature secret."""

    def __repr__(self) -> str:
        key = "***" if self.private_key else None
        secret = "***" if self.signature_secret else None
        return (
            f"VonageSettings(application_id={self.application_id!r}, private_key={key!r}, "
            f"signature_secret={secret!r}, audio_rate_hz={self.audio_rate_hz})"
        )


@dataclass(frozen=True)
class ExotelSettings:
    """The Exotel Voicebot applet (docs/carriers/exotel.md)."""

    stream_user: str | None = None
    """EXOTEL_STREAM_USER / EXOTEL_STREAM_PASSWORD: the Basic credentials Exotel presents (the
    `user:password@` of the applet's URL); unset, every request is refused (unless unsigned)."""
    stream_password: str | None = None
    audio_rate_hz: int = 8_000
    allow_unsigned: bool = False
    """In GATEWAY_UNSIGNED_CARRIERS: requests are taken without Basic credentials."""

    def __repr__(self) -> str:
        password = "***" if self.stream_password else None
        return (
            f"ExotelSettings(stream_user={self.stream_user!r}, stream_password={password!r}, "
            f"audio_rate_hz={self.audio_rate_hz})"
        )


@dataclass(frozen=True)
class Settings:
    """Everything the gateway reads from the environment."""

    gemini_api_key: str | None
    live_url: str | None
    live_api_version: str
    vertex: bool
    vertex_project: str | None
    vertex_location: str
    live: LiveConfig
    live_setup_timeout_s: float
    live_ping_interval_s: float | None
    live_ping_timeout_s: float | None
    server: ServerSettings = ServerSettings()
    twilio: TwilioSettings = TwilioSettings()
    telnyx: TelnyxSettings = TelnyxSettings()
    plivo: PlivoSettings = PlivoSettings()
    signalwire: SignalWireSettings = SignalWireSettings()
    vonage: VonageSettings = VonageSettings()
    exotel: ExotelSettings = ExotelSettings()
    tools_file: Path | None = None
    """GATEWAY_TOOLS_FILE: the tools (TOML, docs/tools.md), loaded by
    gateway.tools.load_toolbox_from_settings."""
    agents_file: Path | None = None
    """GATEWAY_AGENTS_FILE: agent profiles per dialed number (TOML, docs/agents.md); when set,
    the agent variables above (model, voice, instructions, ...) are not used."""
    prices_file: Path | None = None
    """GATEWAY_PRICES_FILE: token prices per model (TOML) to estimate each call's cost."""
    recordings_dir: Path | None = None
    """GATEWAY_RECORDINGS_DIR: where transcripts and recordings go (profiles opt in)."""
    recordings_retention_days: float | None = 30.0
    """GATEWAY_RECORDINGS_RETENTION_DAYS: older recordings are deleted; 0 keeps them forever."""
    greeting_agent: bool = False
    """GATEWAY_GREETING=agent: the (single, environment-configured) agent speaks first."""
    greeting_prompt: str | None = None
    """GATEWAY_GREETING_PROMPT: what the model is told to make it speak first."""
    record: frozenset[str] = frozenset()
    """GATEWAY_RECORD: `transcript`, `audio` or both (comma-separated) for the single agent."""

    @property
    def use_embedded_emulator(self) -> bool:
        """True when neither an API key, a Live URL nor Vertex is configured."""
        return self.gemini_api_key is None and self.live_url is None and not self.vertex

    def __repr__(self) -> str:  # never print the key
        key = "***" if self.gemini_api_key else None
        return f"Settings(gemini_api_key={key!r}, live_url={self.live_url!r}, live={self.live!r})"


def _instructions(reader: _Reader) -> str | None:
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


def _thinking(reader: _Reader, model: str) -> tuple[int | None, str | None]:
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


def _optional_flag(reader: _Reader, name: str) -> bool | None:
    """True/False when set, None when unset (the option is then left off the wire)."""
    return None if reader.text(name) is None else reader.boolean(name, False)


def _temperature(reader: _Reader) -> float | None:
    value = reader.text("GATEWAY_TEMPERATURE")
    if value is None:
        return None
    try:
        return float(value)  # the range (0-2) is LiveConfig's check
    except ValueError:
        raise SettingsError(f"GATEWAY_TEMPERATURE must be a number, not {value!r}") from None


def _voice(reader: _Reader, model: str) -> str | None:
    value = reader.text("GATEWAY_VOICE")
    return None if value is None else canonical_voice(model, value)


def _server(reader: _Reader) -> ServerSettings:
    secret_text = reader.text("GATEWAY_SECRET")
    if secret_text is not None and len(secret_text) < 16:
        raise SettingsError("GATEWAY_SECRET must be at least 16 characters")
    register_secret(secret_text)
    public_url = reader.text("GATEWAY_PUBLIC_URL")
    if public_url is not None:
        if not public_url.startswith(("https://", "http://")) or "?" in public_url:
            raise SettingsError("GATEWAY_PUBLIC_URL must be an http(s):// URL without a query")
        public_url = public_url.rstrip("/")
    port = reader.integer("GATEWAY_PORT", 8080)
    assert port is not None
    if port > 65535:
        raise SettingsError("GATEWAY_PORT must be at most 65535")
    lead = reader.integer("GATEWAY_PLAYBACK_LEAD_MS", 400, minimum=20)
    assert lead is not None
    max_calls = reader.integer("GATEWAY_MAX_CALLS", 100, minimum=1)
    assert max_calls is not None
    return ServerSettings(
        host=reader.text("GATEWAY_HOST") or "0.0.0.0",
        port=port,
        public_url=public_url,
        secret=secret_text.encode() if secret_text else secrets.token_bytes(32),
        secret_generated=secret_text is None,
        stream_token_ttl_s=reader.number("GATEWAY_STREAM_TOKEN_TTL_S", 60.0) or 60.0,
        prewarm_hold_s=reader.number("GATEWAY_PREWARM_HOLD_S", 15.0),
        stream_start_timeout_s=reader.number("GATEWAY_STREAM_START_TIMEOUT_S", 10.0) or 10.0,
        playback_lead_ms=lead,
        fallback_number=_fallback_number(reader),
        max_calls=max_calls,
        drain_timeout_s=reader.number("GATEWAY_DRAIN_TIMEOUT_S", 300.0),
        event_loop=reader.choice("GATEWAY_EVENT_LOOP", ("auto", "uvloop", "asyncio")) or "auto",
    )


def _fallback_number(reader: _Reader) -> str | None:
    number = reader.text("GATEWAY_FALLBACK_NUMBER")
    if number is None:
        return None
    if not (re.fullmatch(r"\+[1-9][0-9]{6,14}", number) or number.startswith(("sip:", "sips:"))):
        raise SettingsError(
            "GATEWAY_FALLBACK_NUMBER must be an E.164 number (+15551234567) or a sip: URI"
        )
    return number


def _twilio(reader: _Reader) -> TwilioSettings:
    token = reader.text("TWILIO_AUTH_TOKEN")
    register_secret(token)
    base = (reader.text("TWILIO_API_BASE") or "https://api.twilio.com").rstrip("/")
    if not base.startswith(("https://", "http://")):
        raise SettingsError("TWILIO_API_BASE must be an http(s):// URL")
    return TwilioSettings(
        account_sid=reader.text("TWILIO_ACCOUNT_SID"), auth_token=token, api_base=base
    )


UNSIGNED_CARRIERS = ("telnyx", "plivo", "signalwire", "vonage", "exotel")
"""Carriers GATEWAY_UNSIGNED_CARRIERS may name: without their verification key they refuse every
webhook unless named there (Twilio's unsigned mode predates this and only warns)."""


def _unsigned(reader: _Reader) -> frozenset[str]:
    names = {n.strip().lower() for n in (reader.text("GATEWAY_UNSIGNED_CARRIERS") or "").split(",")}
    names.discard("")
    unknown = names - set(UNSIGNED_CARRIERS)
    if unknown:
        raise SettingsError(
            f"GATEWAY_UNSIGNED_CARRIERS names {', '.join(sorted(unknown))}; "
            f"known: {', '.join(UNSIGNED_CARRIERS)}"
        )
    return frozenset(names)


def _api_base(reader: _Reader, name: str, default: str | None) -> str | None:
    base = reader.text(name) or default
    if base is None:
        return None
    if not base.startswith(("https://", "http://")):
        raise SettingsError(f"{name} must be an http(s):// URL")
    return base.rstrip("/")


def _telnyx(reader: _Reader) -> TelnyxSettings:
    from gateway.carriers.telnyx_signature import load_public_key

    api_key = reader.text("TELNYX_API_KEY")
    register_secret(api_key)
    public_key = reader.text("TELNYX_PUBLIC_KEY")
    if public_key is not None:
        try:
            load_public_key(public_key)
        except ValueError:
            raise SettingsError("TELNYX_PUBLIC_KEY must be base64 of a 32-byte key") from None
    codec = reader.choice("TELNYX_CODEC", ("pcmu", "pcma")) or "pcmu"
    base = _api_base(reader, "TELNYX_API_BASE", "https://api.telnyx.com")
    assert base is not None
    return TelnyxSettings(
        api_key=api_key,
        public_key=public_key,
        api_base=base,
        codec=codec.upper(),
        signature_tolerance_s=reader.number("TELNYX_SIGNATURE_TOLERANCE_S", 300.0),
        allow_unsigned="telnyx" in _unsigned(reader),
    )


PLIVO_CONTENT_TYPES = ("audio/x-mulaw;rate=8000", "audio/x-l16;rate=8000", "audio/x-l16;rate=16000")


def _plivo(reader: _Reader) -> PlivoSettings:
    token = reader.text("PLIVO_AUTH_TOKEN")
    register_secret(token)
    content_type = (reader.text("PLIVO_CONTENT_TYPE") or PLIVO_CONTENT_TYPES[0]).replace(" ", "")
    if content_type.lower() not in PLIVO_CONTENT_TYPES:
        raise SettingsError(f"PLIVO_CONTENT_TYPE must be one of {', '.join(PLIVO_CONTENT_TYPES)}")
    base = _api_base(reader, "PLIVO_API_BASE", "https://api.plivo.com")
    assert base is not None
    return PlivoSettings(
        auth_id=reader.text("PLIVO_AUTH_ID"),
        auth_token=token,
        api_base=base,
        content_type=content_type.lower(),
        allow_unsigned="plivo" in _unsigned(reader),
    )


SIGNALWIRE_CODECS = ("PCMU", "PCMA", "L16@8000h", "L16@16000h", "L16@24000h")


def _signalwire(reader: _Reader) -> SignalWireSettings:
    token = reader.text("SIGNALWIRE_API_TOKEN")
    key = reader.text("SIGNALWIRE_SIGNING_KEY")
    register_secret(token)
    register_secret(key)
    codecs = {codec.lower(): codec for codec in SIGNALWIRE_CODECS}
    codec = codecs.get((reader.text("SIGNALWIRE_CODEC") or "PCMU").lower())
    if codec is None:
        raise SettingsError(f"SIGNALWIRE_CODEC must be one of {', '.join(SIGNALWIRE_CODECS)}")
    order = reader.choice("SIGNALWIRE_L16_BYTE_ORDER", ("little", "big")) or "little"
    return SignalWireSettings(
        project_id=reader.text("SIGNALWIRE_PROJECT_ID"),
        api_token=token,
        signing_key=key,
        space_url=_api_base(reader, "SIGNALWIRE_SPACE_URL", None),
        codec=codec,
        l16_big_endian=order == "big",
        allow_unsigned="signalwire" in _unsigned(reader),
    )


def _rate(reader: _Reader, name: str, default: int) -> int:
    rate = reader.integer(name, default)
    if rate not in (8_000, 16_000, 24_000):
        raise SettingsError(f"{name} must be 8000, 16000 or 24000")
    return rate


def _vonage(reader: _Reader) -> VonageSettings:
    key = reader.text("VONAGE_PRIVATE_KEY")
    path = reader.text("VONAGE_PRIVATE_KEY_FILE")
    if key and path:
        raise SettingsError("set VONAGE_PRIVATE_KEY or VONAGE_PRIVATE_KEY_FILE, not both")
    if path:
        try:
            key = Path(path).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise SettingsError(f"VONAGE_PRIVATE_KEY_FILE cannot be read: {exc}") from None
    if key is not None and "PRIVATE KEY-----" not in key:
        raise SettingsError("VONAGE_PRIVATE_KEY must be a PEM private key")
    secret = reader.text("VONAGE_SIGNATURE_SECRET")
    register_secret(key)
    register_secret(secret)
    base = (reader.text("VONAGE_API_BASE") or "https://api.nexmo.com").rstrip("/")
    if not base.startswith(("https://", "http://")):
        raise SettingsError("VONAGE_API_BASE must be an http(s):// URL")
    return VonageSettings(
        application_id=reader.text("VONAGE_APPLICATION_ID"),
        private_key=key,
        signature_secret=secret,
        api_base=base,
        audio_rate_hz=_rate(reader, "VONAGE_AUDIO_RATE", 16_000),
        from_number=reader.text("VONAGE_FROM_NUMBER"),
        allow_unsigned="vonage" in _unsigned(reader),
    )


def _exotel(reader: _Reader) -> ExotelSettings:
    user = reader.text("EXOTEL_STREAM_USER")
    password = reader.text("EXOTEL_STREAM_PASSWORD")
    if (user is None) != (password is None):
        raise SettingsError("set both EXOTEL_STREAM_USER and EXOTEL_STREAM_PASSWORD, or neither")
    register_secret(password)
    return ExotelSettings(
        stream_user=user,
        stream_password=password,
        audio_rate_hz=_rate(reader, "EXOTEL_AUDIO_RATE", 8_000),
        allow_unsigned="exotel" in _unsigned(reader),
    )


def _file(reader: _Reader, name: str) -> Path | None:
    path = reader.text(name)
    if path is None:
        return None
    if not Path(path).is_file():
        raise SettingsError(f"{name} is not a file: {path}")
    return Path(path)


@dataclass(frozen=True)
class _AgentExtras:
    recordings_dir: Path | None
    recordings_retention_days: float | None
    record: frozenset[str]
    greeting_agent: bool
    greeting_prompt: str | None


def _agent_extras(reader: _Reader) -> _AgentExtras:
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
    return _AgentExtras(
        recordings_dir=Path(directory) if directory else None,
        recordings_retention_days=retention or None,
        record=frozenset(record),
        greeting_agent=greeting == "agent",
        greeting_prompt=reader.text("GATEWAY_GREETING_PROMPT"),
    )


def load_settings(
    environ: Mapping[str, str] | None = None, env_file: str | Path | None = ".env"
) -> Settings:
    """Read the settings once: `environ` (default os.environ) over the `.env` file, if any."""
    merged: dict[str, str] = {}
    if env_file is not None:
        path = Path(env_file)
        if path.is_file():
            merged.update(parse_dotenv(path.read_text(encoding="utf-8")))
    merged.update(os.environ if environ is None else environ)
    reader = _Reader(merged)

    vertex = reader.boolean("GOOGLE_GENAI_USE_VERTEXAI", False)
    project = reader.text("GOOGLE_CLOUD_PROJECT")
    location = reader.text("GOOGLE_CLOUD_LOCATION") or "us-central1"
    if vertex and project is None:
        raise SettingsError("GOOGLE_GENAI_USE_VERTEXAI needs GOOGLE_CLOUD_PROJECT")
    model = normalise_model(
        reader.text("GATEWAY_MODEL") or DEFAULT_MODEL,
        vertex_project=project if vertex else None,
        vertex_location=location,
    )
    budget, level = _thinking(reader, model)
    start = reader.choice("GATEWAY_VAD_START_SENSITIVITY", ("high", "low"))
    end = reader.choice("GATEWAY_VAD_END_SENSITIVITY", ("high", "low"))
    compression = reader.boolean("GATEWAY_CONTEXT_COMPRESSION", True)
    coverage = reader.choice(
        "GATEWAY_TURN_COVERAGE", ("only_activity", "all_input", "audio_activity_and_all_video")
    )
    try:
        live = LiveConfig(
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
    ping_interval = reader.number("GATEWAY_LIVE_PING_INTERVAL_S", 30.0)
    ping_timeout = reader.number("GATEWAY_LIVE_PING_TIMEOUT_S", 60.0)
    api_version = reader.text("GATEWAY_LIVE_API_VERSION") or ("v1beta1" if vertex else "v1beta")
    api_key = reader.text("GEMINI_API_KEY")
    register_secret(api_key)
    extras = _agent_extras(reader)
    return Settings(
        gemini_api_key=api_key,
        live_url=reader.text("GATEWAY_LIVE_URL"),
        live_api_version=api_version,
        vertex=vertex,
        vertex_project=project,
        vertex_location=location,
        live=live,
        live_setup_timeout_s=reader.number("GATEWAY_LIVE_SETUP_TIMEOUT_S", 10.0),
        live_ping_interval_s=ping_interval or None,
        live_ping_timeout_s=ping_timeout or None,
        server=_server(reader),
        twilio=_twilio(reader),
        telnyx=_telnyx(reader),
        plivo=_plivo(reader),
        signalwire=_signalwire(reader),
        vonage=_vonage(reader),
        exotel=_exotel(reader),
        tools_file=_file(reader, "GATEWAY_TOOLS_FILE"),
        agents_file=_file(reader, "GATEWAY_AGENTS_FILE"),
        prices_file=_file(reader, "GATEWAY_PRICES_FILE"),
        recordings_dir=extras.recordings_dir,
        recordings_retention_days=extras.recordings_retention_days,
        record=extras.record,
        greeting_agent=extras.greeting_agent,
        greeting_prompt=extras.greeting_prompt,
    )
