"""Frozen settings read once from the environment (and a `.env` file, if present).

The process environment wins over `.env`. `Settings` holds the Live side, `ServerSettings` the
call server (listen address, public URL, stream tokens, playback) and one settings object per
carrier account. Every variable is documented in `.env.example` and docs/configuration.md.

Every variable is declared once in gateway.options (name, type, default, bounds, doc) and read
through its declaration. `load_settings` reads them all; the parts live beside it:
gateway.env_reader (`.env` parsing, typed reading, `SettingsError`), each registered carrier's
folder (gateway/carriers/<name>/settings.py), gateway.agent_settings (the single
agent's Live options, greeting and recordings) and gateway.call_settings (the call policy: the
core's `BridgeOptions`). The names in `__all__` are re-exported from here so that existing
`from gateway.settings import ...` lines keep working.
"""

from __future__ import annotations

import importlib.util
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TypeVar, cast

from gateway.agent_settings import read_agent_extras, read_live_config
from gateway.call_settings import CallWebhookSettings, read_call_policy, read_call_webhooks
from gateway.carriers import registry
from gateway.carriers.browser.settings import BrowserSettings, read_browser_settings
from gateway.carriers.config import unsigned_carriers
from gateway.carriers.exotel.settings import ExotelSettings
from gateway.carriers.plivo.settings import PlivoSettings
from gateway.carriers.signalwire.settings import SignalWireSettings
from gateway.carriers.telnyx.settings import TelnyxSettings
from gateway.carriers.twilio.settings import TwilioSettings
from gateway.carriers.vonage.settings import VonageSettings
from gateway.core.options import BridgeOptions
from gateway.env_reader import (
    EnvReader,
    EnvWarning,
    SettingsError,
    parse_dotenv,
    unknown_variables,
)
from gateway.live.setup import LiveConfig
from gateway.live.versions import VersionError, api_version_for
from gateway.live_trust import CA_FILE_VARIABLE, live_ssl_context
from gateway.log import register_secret
from gateway.options import core as opt
from gateway.options.option import Option
from gateway.outbound.settings import DialSettings, read_dial_settings

T = TypeVar("T")

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
    playback_lead_ms: int = 400
    fallback_number: str | None = None
    """GATEWAY_FALLBACK_NUMBER: where callers go when the agent cannot take or keep the call
    (E.164 number or SIP URI); unset: a polite goodbye instead."""
    max_calls: int = 100
    """GATEWAY_MAX_CALLS: calls (running, or answered and waiting for their stream) at most; the
    webhook answers the fallback beyond it."""
    drain_timeout_s: float = 300.0
    """GATEWAY_DRAIN_TIMEOUT_S: how long a stopping gateway lets its calls finish on their own."""
    workers: int = 1
    """GATEWAY_WORKERS: processes serving the port together (`gateway.shell.workers`)."""
    event_loop: str = "auto"
    """GATEWAY_EVENT_LOOP: `auto` (uvloop when installed), `uvloop` or `asyncio`."""
    redis_url: str | None = None
    """GATEWAY_REDIS_URL: cluster mode (None: one process)."""
    cluster_max_calls: int | None = None
    """GATEWAY_CLUSTER_MAX_CALLS: calls across the cluster at most (None: no cluster limit)."""

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
    call: BridgeOptions = field(default_factory=BridgeOptions)
    """The call policy every call starts from (timeouts, buffers, reconnects: the core's own
    options, read by gateway.call_settings); the shell adds each call's tools and greeting."""
    live_api_version_explicit: bool = False
    """GATEWAY_LIVE_API_VERSION was set (else `live_api_version` is the backend's default, and a
    Developer API session with affective dialog or proactive audio goes to v1alpha)."""
    vertex_access_token: str | None = None
    """GOOGLE_OAUTH_ACCESS_TOKEN: a fixed Vertex bearer token (else Application Default
    Credentials through google-auth)."""
    carriers: Mapping[str, Any] = field(default_factory=dict, hash=False)
    """Each registered carrier's settings by name (gateway/carriers/<name>/settings.py)."""
    phone: BrowserSettings = field(default_factory=BrowserSettings)
    """The web softphone's access (GATEWAY_DEV_PHONE, GATEWAY_API_KEY; docs/softphone.md)."""
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
    call_webhooks: CallWebhookSettings = field(default_factory=CallWebhookSettings)
    """GATEWAY_CALL_WEBHOOK_*: the post-call webhooks (gateway.shell.call_webhooks)."""
    live_ca_file: Path | None = None
    """GATEWAY_LIVE_CA_FILE: CA certificates (PEM) the Live leg trusts besides the system's
    (gateway.live_trust); checked at start-up."""

    env_warnings: tuple[EnvWarning, ...] = ()
    """GATEWAY_ variables set (in `.env` or the environment) that the gateway does not read:
    likely typos, logged at start-up by name with the closest real name."""
    dial: DialSettings = field(default_factory=DialSettings)
    """The API key and dial-out allowlist (docs/outbound.md)."""

    def carrier(self, name: str) -> Any:
        """The settings of the registered carrier `name` (its defaults when none were read)."""
        settings = self.carriers.get(name)
        return registry.carrier(name).default_settings() if settings is None else settings

    @property
    def twilio(self) -> TwilioSettings:
        return cast(TwilioSettings, self.carrier("twilio"))

    @property
    def telnyx(self) -> TelnyxSettings:
        return cast(TelnyxSettings, self.carrier("telnyx"))

    @property
    def plivo(self) -> PlivoSettings:
        return cast(PlivoSettings, self.carrier("plivo"))

    @property
    def signalwire(self) -> SignalWireSettings:
        return cast(SignalWireSettings, self.carrier("signalwire"))

    @property
    def vonage(self) -> VonageSettings:
        return cast(VonageSettings, self.carrier("vonage"))

    @property
    def exotel(self) -> ExotelSettings:
        return cast(ExotelSettings, self.carrier("exotel"))

    @property
    def use_embedded_emulator(self) -> bool:
        """True when neither an API key, a Live URL nor Vertex is configured."""
        return self.gemini_api_key is None and self.live_url is None and not self.vertex

    def __repr__(self) -> str:  # never print the key or token
        key = "***" if self.gemini_api_key else None
        return f"Settings(gemini_api_key={key!r}, live_url={self.live_url!r}, live={self.live!r})"


def _server(reader: EnvReader) -> ServerSettings:
    secret_text = reader.get_text(opt.SECRET)
    register_secret(secret_text)
    public_url = reader.get_text(opt.PUBLIC_URL)
    redis_url = reader.get_text(opt.REDIS_URL)
    register_secret(redis_url)
    return ServerSettings(
        host=reader.get_text(opt.HOST) or "0.0.0.0",
        port=_required(reader.get_int(opt.PORT)),
        public_url=public_url.rstrip("/") if public_url else None,
        secret=secret_text.encode() if secret_text else secrets.token_bytes(32),
        secret_generated=secret_text is None,
        stream_token_ttl_s=_required(reader.get_float(opt.STREAM_TOKEN_TTL_S)) or 60.0,
        prewarm_hold_s=_required(reader.get_float(opt.PREWARM_HOLD_S)),
        playback_lead_ms=_required(reader.get_int(opt.PLAYBACK_LEAD_MS)),
        fallback_number=reader.get_text(opt.FALLBACK_NUMBER),
        max_calls=_required(reader.get_int(opt.MAX_CALLS)),
        drain_timeout_s=_required(reader.get_float(opt.DRAIN_TIMEOUT_S)),
        workers=_required(reader.get_int(opt.WORKERS)),
        event_loop=reader.get_text(opt.EVENT_LOOP) or "auto",
        redis_url=redis_url,
        cluster_max_calls=reader.get_int(opt.CLUSTER_MAX_CALLS),
    )


def _required(value: T | None) -> T:
    """A value whose option has a default (so it is never None)."""
    if value is None:
        raise ValueError("an option with a default read as unset")
    return value


def _file(reader: EnvReader, option: Option) -> Path | None:
    path = reader.get_text(option)
    if path is None:
        return None
    if not Path(path).is_file():
        raise SettingsError(f"{option.env} is not a file: {path}")
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


def _carriers(reader: EnvReader) -> dict[str, Any]:
    """Every registered carrier's settings, read from its declared variables."""
    names = registry.carrier_names()
    unsigned = unsigned_carriers(reader, names)
    return {
        plugin.name: plugin.read_settings(reader, plugin.name in unsigned)
        for plugin in registry.carriers()
    }


def load_settings(
    environ: Mapping[str, str] | None = None, env_file: str | Path | None = ".env"
) -> Settings:
    """Read the settings once: `environ` (default os.environ) over the `.env` file, if any."""
    merged: dict[str, str] = {}
    sources: list[tuple[str, list[str]]] = []
    if env_file is not None:
        path = Path(env_file)
        if path.is_file():
            dotenv = parse_dotenv(path.read_text(encoding="utf-8"), source=str(env_file))
            merged.update(dotenv)
            sources.append((str(env_file), list(dotenv)))
    process = os.environ if environ is None else environ
    merged.update(process)
    sources.append(("environment", list(process)))
    reader = EnvReader(merged)
    settings = _read(reader)
    return replace(settings, env_warnings=tuple(unknown_variables(sources, reader.read)))


def _read(reader: EnvReader) -> Settings:

    vertex = reader.get_bool(opt.VERTEX)
    project = reader.get_text(opt.CLOUD_PROJECT)
    location = reader.get_text(opt.CLOUD_LOCATION) or "us-central1"
    if vertex and project is None:
        raise SettingsError("GOOGLE_GENAI_USE_VERTEXAI needs GOOGLE_CLOUD_PROJECT")
    live = read_live_config(
        reader, vertex_project=project if vertex else None, vertex_location=location
    )
    ping_interval = reader.get_float(opt.LIVE_PING_INTERVAL_S)
    ping_timeout = reader.get_float(opt.LIVE_PING_TIMEOUT_S)
    explicit_version = reader.get_text(opt.LIVE_API_VERSION)
    api_version = explicit_version or ("v1beta1" if vertex else "v1beta")
    try:
        api_version_for(live, api_version, explicit=explicit_version is not None, vertex=vertex)
    except VersionError as exc:
        raise SettingsError(f"GATEWAY_LIVE_API_VERSION: {exc}") from None
    api_key = reader.get_text(opt.GEMINI_API_KEY)
    register_secret(api_key)
    access_token = reader.get_text(opt.OAUTH_ACCESS_TOKEN)
    register_secret(access_token)
    if vertex and access_token is None:
        check_vertex_credentials_library()
    extras = read_agent_extras(reader)
    return Settings(
        gemini_api_key=api_key,
        live_url=reader.get_text(opt.LIVE_URL),
        live_api_version=api_version,
        vertex=vertex,
        vertex_project=project,
        vertex_location=location,
        live=live,
        live_setup_timeout_s=_required(reader.get_float(opt.LIVE_SETUP_TIMEOUT_S)),
        live_ping_interval_s=ping_interval or None,
        live_ping_timeout_s=ping_timeout or None,
        live_api_version_explicit=explicit_version is not None,
        vertex_access_token=access_token if vertex else None,
        server=_server(reader),
        call=read_call_policy(reader),
        carriers=_carriers(reader),
        phone=read_browser_settings(reader),
        tools_file=_file(reader, opt.TOOLS_FILE),
        agents_file=_file(reader, opt.AGENTS_FILE),
        prices_file=_file(reader, opt.PRICES_FILE),
        recordings_dir=extras.recordings_dir,
        recordings_retention_days=extras.recordings_retention_days,
        record=extras.record,
        greeting_agent=extras.greeting_agent,
        greeting_prompt=extras.greeting_prompt,
        live_ca_file=_live_ca_file(reader),
        call_webhooks=_call_webhooks(reader),
        dial=read_dial_settings(reader),
    )


def _call_webhooks(reader: EnvReader) -> CallWebhookSettings:
    webhooks = read_call_webhooks(reader)
    register_secret(webhooks.secret)
    return webhooks
