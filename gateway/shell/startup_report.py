"""The start-up line: what the gateway will talk to, in one `gateway.configured` log line.

Backend (the Developer API, an ephemeral token, Vertex AI, a custom URL or the embedded
emulator), the model of each agent profile, the Live endpoint without credentials, the public URL,
and each carrier's webhook state: `signed` (its secret is set and checked), `unsigned`
(GATEWAY_UNSIGNED_CARRIERS, or Twilio without TWILIO_AUTH_TOKEN) or `refused` (no secret: every
webhook gets 403). A model the capability table does not know (no Live backend is known to serve
it) makes the line a warning that names it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from gateway.live.capabilities import capabilities
from gateway.settings import Settings

__all__ = ["carrier_states", "describe", "safe_url", "unknown_models"]


def safe_url(url: str) -> str:
    """`url` without credentials: no user info, no query, no fragment."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def carrier_states(settings: Settings) -> dict[str, str]:
    """Each registered carrier's webhooks: `signed`, `unsigned` or `refused` (no secret, not
    allowed), by the same policy the routes apply."""
    from gateway.carriers import registry
    from gateway.shell.carrier_routes import signature_state

    return {plugin.name: signature_state(settings, plugin) for plugin in registry.carriers()}


def _backend(settings: Settings, emulator_url: str | None) -> tuple[str, str]:
    """(backend, endpoint) as the connector will use them; the endpoint carries no secret."""
    if emulator_url is not None:
        return "embedded emulator", safe_url(emulator_url)
    if settings.live_url:
        return "custom url", safe_url(settings.live_url)
    version = settings.live_api_version
    if settings.vertex:
        from gateway.live.endpoints import vertex_host

        host = vertex_host(settings.vertex_location)
        path = f"/ws/google.cloud.aiplatform.{version}.LlmBidiService/BidiGenerateContent"
        return "vertex", f"wss://{host}{path}"
    from gateway.live.endpoints import developer_endpoint

    key = settings.gemini_api_key or ""
    endpoint = developer_endpoint(key, api_version=version)
    backend = "ephemeral token" if key.startswith("auth_tokens/") else "developer api"
    return backend, safe_url(endpoint.url)


def unknown_models(models: Iterable[str]) -> list[str]:
    """The models (base names) that the capability table does not know."""
    names = {model.rsplit("/", 1)[-1] for model in models}
    return sorted(name for name in names if capabilities(name).voices is None)


def describe(
    settings: Settings, models: dict[str, str], *, emulator_url: str | None = None
) -> dict[str, Any]:
    """The `gateway.configured` fields; `models`: profile name -> model."""
    backend, endpoint = _backend(settings, emulator_url)
    fields: dict[str, Any] = {
        "backend": backend,
        "endpoint": endpoint,
        "models": {name: model.rsplit("/", 1)[-1] for name, model in models.items()},
        "public_url": settings.server.public_url,
        "carriers": carrier_states(settings),
    }
    if settings.vertex and not settings.live_url and emulator_url is None:
        fields["vertex_project"] = settings.vertex_project
    unknown = unknown_models(models.values())
    if unknown:
        fields["unknown_models"] = unknown
        fields["message"] = (
            "no Live backend is known to serve "
            + ", ".join(unknown)
            + " (not in gateway/live/capabilities.py): check the name; sessions may be refused"
        )
    return fields
