"""`X-Twilio-Signature`: HMAC-SHA1 over the requested URL and the sorted form parameters.

protocols.md B.5: the URL exactly as Twilio requested it (query string included), then for a
form POST each parameter name followed by its value, names in code-point order, repeated names
once per sorted, de-duplicated value; HMAC-SHA1 keyed with the auth token, base64. A WebSocket
upgrade is signed over its `wss://host/path` URL with no parameters. Validation accepts the URL
with or without its default port, as Twilio's own validator does.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable, Mapping
from urllib.parse import SplitResult, urlsplit, urlunsplit

__all__ = ["compute_signature", "url_variants", "validate_signature"]

_DEFAULT_PORTS = {"https": 443, "wss": 443, "http": 80, "ws": 80}

Params = Mapping[str, str] | Iterable[tuple[str, str]]


def _pairs(params: Params | None) -> list[tuple[str, str]]:
    if params is None:
        return []
    items = params.items() if isinstance(params, Mapping) else params
    return sorted({(str(name), str(value)) for name, value in items})


def compute_signature(url: str, params: Params | None, auth_token: str) -> str:
    """The signature Twilio sends for a request to `url` with form `params` (None for GET/WS)."""
    payload = url + "".join(name + value for name, value in _pairs(params))
    digest = hmac.new(auth_token.encode(), payload.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


def url_variants(url: str) -> list[str]:
    """`url` as given, with its default port added, and with any explicit port removed."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    userinfo = parts.netloc.rpartition("@")[0]
    prefix = f"{userinfo}@" if userinfo else ""
    variants = [url]
    default = _DEFAULT_PORTS.get(parts.scheme)
    if parts.port is None and default is not None:
        variants.append(_with_netloc(parts, f"{prefix}{host}:{default}"))
    if parts.port is not None:
        variants.append(_with_netloc(parts, f"{prefix}{host}"))
    return variants


def _with_netloc(parts: SplitResult, netloc: str) -> str:
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def validate_signature(
    url: str, params: Params | None, signature: str | None, auth_token: str
) -> bool:
    """Whether `signature` is Twilio's for this request (constant-time comparison)."""
    if not signature:
        return False
    given = signature.encode()
    matched = False
    for candidate in url_variants(url):
        expected = compute_signature(candidate, params, auth_token).encode()
        matched |= hmac.compare_digest(expected, given)
    return matched
