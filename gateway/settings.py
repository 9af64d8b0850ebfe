"""Frozen settings read once from the environment (and a `.env` file, if present).

The process environment wins over `.env`. `Settings` holds the Live side, `ServerSettings` the
call server (listen address, public URL, stream tokens, playback) and one settings object per
carrier account. Every variable is documented in `.env.example` and docs/configuration.md.

`load_settings` reads them all; the parts live beside it: gateway.env_reader (`.env` parsing,
typed reading, `SettingsError`), gateway.carrier_settings (`TwilioSettings`, `TelnyxSettings`,
... and their variables) and gateway.agent_settings (the single agent's Live options, greeting
and recordings). The names in `__all__` are re-exported from here so that existing
`from gateway.settings import ...` lines keep working.
"""

from __future__ import annotations

import importlib.util
import os
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from gateway.agent_settings import read_agent_extras, read_live_config
from gateway.carrier_settings import (
    ExotelSettings,
    PlivoSettings,
    SignalWireSettings,
    TelnyxSettings,
    TwilioSettings,
    VonageSettings,
    read_exotel,
    read_plivo,
    read_signalwire,
    read_telnyx,
    read_twilio,
    read_vonage,
)
from gateway.env_reader import EnvReader, SettingsError, parse_dotenv
from gateway.live.setup import LiveConfig
from gateway.live.versions import VersionError, api_version_for
from gateway.live_trust import CA_FILE_VARIABLE, live_ssl_context
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
    live_api_version_explicit: bool = False
    """GATEWAY_LIVE_API_VERSION was set (else `live_api_version` is the backend's default, and a
    Developer API session with affective dialog or proactive audio goes to v1alpha)."""
    vertex_access_token: str | None = None
    """GOOGLE_OAUTH_ACCESS_TOKEN: a fixed Vertex bearer token (else Application Default
    Credentials through google-auth)."""
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
    live_ca_file: Path | None = None
    """GATEWAY_LIVE_CA_FILE: CA certificates (PEM) the Live leg trusts besides the system's
    (gateway.live_trust); checked at start-up."""

    @property
    def use_embedded_emulator(self) -> bool:
        """True when neither an API key, a Live URL nor Vertex is configured."""
        return self.gemini_api_key is None and self.live_url is None and not self.vertex

    def __repr__(self) -> str:  # never print the key or token
        key = "***" if self.gemini_api_key else None
        return f"Settings(gemini_api_key={key!r}, live_url={self.live_url!r}, live={self.live!r})"


def _server(reader: EnvReader) -> ServerSettings:
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


def _fallback_number(reader: EnvReader) -> str | None:
    number = reader.text("GATEWAY_FALLBACK_NUMBER")
    if number is None:
        return None
    if not (re.fullmatch(r"\+[1-9][0-9]{6,14}", number) or number.startswith(("sip:", "sips:"))):
        raise SettingsError(
            "GATEWAY_FALLBACK_NUMBER must be an E.164 number (+15551234567) or a sip: URI"
        )
    return number


def _file(reader: EnvReader, name: str) -> Path | None:
    path = reader.text(name)
    if path is None:
        return None
    if not Path(path).is_file():
        raise SettingsError(f"{name} is not a file: {path}")
    return Path(path)


def _live_ca_file(reader: EnvReader) -> Path | None:
    """GATEWAY_LIVE_CA_FILE, loaded once here so that a bad file stops start-up."""
    path = reader.text(CA_FILE_VARIABLE)
    if path is None:
        return None
    live_ssl_context(Path(path))
    return Path(path)


def check_vertex_credentials_library() -> None:
    """Raise SettingsError when Application Default Credentials cannot be used: google-auth (the
    `vertex` extra) is not installed. Without it every Vertex session would fail at its first
    call, after a start-up that looked healthy."""
    try:
        found = importlib.util.find_spec("google.auth") is not None
    except (ImportError, ValueError):
        found = False
    if not found:
        raise SettingsError(
            "GOOGLE_GENAI_USE_VERTEXAI=true needs google-auth for Application Default "
            "Credentials, and it is not installed: pip install 'gateway[vertex]' (the container "
            "image has it), or set GOOGLE_OAUTH_ACCESS_TOKEN to a bearer token"
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
    reader = EnvReader(merged)

    vertex = reader.boolean("GOOGLE_GENAI_USE_VERTEXAI", False)
    project = reader.text("GOOGLE_CLOUD_PROJECT")
    location = reader.text("GOOGLE_CLOUD_LOCATION") or "us-central1"
    if vertex and project is None:
        raise SettingsError("GOOGLE_GENAI_USE_VERTEXAI needs GOOGLE_CLOUD_PROJECT")
    live = read_live_config(
        reader, vertex_project=project if vertex else None, vertex_location=location
    )
    ping_interval = reader.number("GATEWAY_LIVE_PING_INTERVAL_S", 30.0)
    ping_timeout = reader.number("GATEWAY_LIVE_PING_TIMEOUT_S", 60.0)
    explicit_version = reader.text("GATEWAY_LIVE_API_VERSION")
    api_version = explicit_version or ("v1beta1" if vertex else "v1beta")
    try:
        api_version_for(live, api_version, explicit=explicit_version is not None, vertex=vertex)
    except VersionError as exc:
        raise SettingsError(f"GATEWAY_LIVE_API_VERSION: {exc}") from None
    api_key = reader.text("GEMINI_API_KEY")
    register_secret(api_key)
    access_token = reader.text("GOOGLE_OAUTH_ACCESS_TOKEN")
    register_secret(access_token)
    if vertex and access_token is None:
        check_vertex_credentials_library()
    extras = read_agent_extras(reader)
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
        live_api_version_explicit=explicit_version is not None,
        vertex_access_token=access_token if vertex else None,
        server=_server(reader),
        twilio=read_twilio(reader),
        telnyx=read_telnyx(reader),
        plivo=read_plivo(reader),
        signalwire=read_signalwire(reader),
        vonage=read_vonage(reader),
        exotel=read_exotel(reader),
        tools_file=_file(reader, "GATEWAY_TOOLS_FILE"),
        agents_file=_file(reader, "GATEWAY_AGENTS_FILE"),
        prices_file=_file(reader, "GATEWAY_PRICES_FILE"),
        recordings_dir=extras.recordings_dir,
        recordings_retention_days=extras.recordings_retention_days,
        record=extras.record,
        greeting_agent=extras.greeting_agent,
        greeting_prompt=extras.greeting_prompt,
        live_ca_file=_live_ca_file(reader),
    )
