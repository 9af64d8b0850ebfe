"""Where a Live session connects and with which credential (protocols.md A.1). Pure.

Credentials go in headers, never in the URL, so no proxy or access log ever sees them:

- Developer API: `x-goog-api-key: KEY` (what the Python SDK does).
- Ephemeral token (`auth_tokens/...`): the v1alpha `BidiGenerateContentConstrained` method with
  `Authorization: Token auth_tokens/...` (the Python SDK's form; the JS SDK's `?access_token=` is
  equivalent).
- Vertex AI: `Authorization: Bearer <OAuth2 access token>` on the regional `LlmBidiService`.
- Custom URL (`GATEWAY_LIVE_URL`): used verbatim; the API key, if any, as `x-goog-api-key`.
  With Vertex selected, the Vertex dialect goes to that URL (`vertex_endpoint(url=...)`): bearer
  token, Vertex model path, Vertex tool-response rules (backend VERTEX).
- A custom URL without a path (`wss://proxy.example:8443`) is a base, like the SDK's `base_url`:
  the backend's standard path is appended, with the API version the gateway chose.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import urlsplit

__all__ = [
    "Backend",
    "LiveEndpoint",
    "custom_endpoint",
    "developer_endpoint",
    "developer_path",
    "vertex_endpoint",
    "vertex_path",
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


def developer_path(api_version: str) -> str:
    return f"/ws/google.ai.generativelanguage.{api_version}.GenerativeService.BidiGenerateContent"


def vertex_path(api_version: str) -> str:
    return f"/ws/google.cloud.aiplatform.{api_version}.LlmBidiService/BidiGenerateContent"


def _checked(url: str) -> str:
    if not url.startswith(("ws://", "wss://")):
        raise ValueError("GATEWAY_LIVE_URL must start with ws:// or wss://")
    return url


def _is_base(url: str) -> bool:
    try:
        return urlsplit(url).path == ""
    except ValueError:
        return False


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
    url = f"wss://{host}{developer_path(api_version)}"
    return LiveEndpoint(url=url, headers=(("x-goog-api-key", api_key),), backend=Backend.DEVELOPER)


def vertex_host(location: str) -> str:
    """The Vertex AI host for a location (A.1): global, the us/eu multi-regions, or a region."""
    if location == "global":
        return "aiplatform.googleapis.com"
    if location in {"us", "eu"}:
        return f"aiplatform.{location}.rep.googleapis.com"
    return f"{location}-aiplatform.googleapis.com"


def vertex_endpoint(
    access_token: str, *, location: str, api_version: str = "v1beta1", url: str | None = None
) -> LiveEndpoint:
    """Vertex AI with an OAuth2 access token (scope cloud-platform); `url` (GATEWAY_LIVE_URL)
    replaces the regional endpoint (a private endpoint, a proxy, the emulator's Vertex mode)."""
    if url is None:
        url = f"wss://{vertex_host(location)}{vertex_path(api_version)}"
    elif _is_base(_checked(url)):
        url = url + vertex_path(api_version)
    headers = (("Authorization", f"Bearer {access_token}"),)
    return LiveEndpoint(url=url, headers=headers, backend=Backend.VERTEX)


def custom_endpoint(
    url: str, *, api_key: str | None = None, api_version: str = "v1beta"
) -> LiveEndpoint:
    """`GATEWAY_LIVE_URL` (ws:// or wss://), Developer dialect: verbatim, or a base URL (no path)
    with the Developer API path and `api_version` appended."""
    if _is_base(_checked(url)):
        url = url + developer_path(api_version)
    headers = (("x-goog-api-key", api_key),) if api_key else ()
    return LiveEndpoint(url=url, headers=headers, backend=Backend.CUSTOM)
