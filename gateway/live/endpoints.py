"""Where a Live session connects and with which credential (protocols.md A.1). Pure.

Credentials go in headers, never in the URL, so no proxy or access log ever sees them:

- Developer API: `x-goog-api-key: KEY` (what the Python SDK does).
- Ephemeral token (`auth_tokens/...`): the v1alpha `BidiGenerateContentConstrained` method with
  `Authorization: Token auth_tokens/...` (the Python SDK's form; the JS SDK's `?access_token=` is
  equivalent).
- Vertex AI: `Authorization: Bearer <OAuth2 access token>` on the regional `LlmBidiService`.
- Custom URL (`GATEWAY_LIVE_URL`): used verbatim; the API key, if any, as `x-goog-api-key`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

__all__ = [
    "Backend",
    "LiveEndpoint",
    "custom_endpoint",
    "developer_endpoint",
    "vertex_endpoint",
]

DEVELOPER_HOST = "generativelanguage.googleapis.com"


class Backend(StrEnum):
    DEVELOPER = "developer"
    EPHEMERAL = "ephemeral"
    VERTEX = "vertex"
    CUSTOM = "custom"


@dataclass(frozen=True)
class LiveEndpoint:
    """A WebSocket URL plus handshake headers. `repr` hides the header values (credentials)."""

    url: str
    headers: tuple[tuple[str, str], ...]
    backend: Backend

    def __repr__(self) -> str:
        names = ", ".join(name for name, _ in self.headers)
        return f"LiveEndpoint(url={self.url!r}, headers=[{names}], backend={self.backend.value})"


def developer_endpoint(
    api_key: str, *, api_version: str = "v1beta", host: str = DEVELOPER_HOST
) -> LiveEndpoint:
    """Gemini Developer API; an `auth_tokens/...` key selects the ephemeral-token method."""
    if api_key.startswith("auth_tokens/"):
        url = (
            f"wss://{host}/ws/google.ai.generativelanguage.v1alpha."
            "GenerativeService.BidiGenerateContentConstrained"
        )
        headers = (("Authorization", f"Token {api_key}"), ("x-goog-api-key", api_key))
        return LiveEndpoint(url=url, headers=headers, backend=Backend.EPHEMERAL)
    url = (
        f"wss://{host}/ws/google.ai.generativelanguage.{api_version}."
        "GenerativeService.BidiGenerateContent"
    )
    return LiveEndpoint(url=url, headers=(("x-goog-api-key", api_key),), backend=Backend.DEVELOPER)


def vertex_host(location: str) -> str:
    """The Vertex AI host for a location (A.1): global, the us/eu multi-regions, or a region."""
    if location == "global":
        return "aiplatform.googleapis.com"
    if location in {"us", "eu"}:
        return f"aiplatform.{location}.rep.googleapis.com"
    return f"{location}-aiplatform.googleapis.com"


def vertex_endpoint(
    access_token: str, *, location: str, api_version: str = "v1beta1"
) -> LiveEndpoint:
    """Vertex AI with an OAuth2 access token (scope cloud-platform)."""
    url = (
        f"wss://{vertex_host(location)}/ws/google.cloud.aiplatform.{api_version}."
        "LlmBidiService/BidiGenerateContent"
    )
    headers = (("Authorization", f"Bearer {access_token}"),)
    return LiveEndpoint(url=url, headers=headers, backend=Backend.VERTEX)


def custom_endpoint(url: str, *, api_key: str | None = None) -> LiveEndpoint:
    """`GATEWAY_LIVE_URL` verbatim (ws:// or wss://)."""
    if not url.startswith(("ws://", "wss://")):
        raise ValueError("GATEWAY_LIVE_URL must start with ws:// or wss://")
    headers = (("x-goog-api-key", api_key),) if api_key else ()
    return LiveEndpoint(url=url, headers=headers, backend=Backend.CUSTOM)
