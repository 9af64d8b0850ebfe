"""`X-Plivo-Signature-V3`: HMAC-SHA256 over the URL, the sorted parameters and a nonce.

protocols.md C.2 and plivo-python `utils/signature_v3.py` (the algorithm, restated):

* the URL's scheme, host and **decoded** path, without its query;
* POST: `?` and the URL's query parameters sorted as `k=v` joined by `&`, then (when both exist)
  a `.`, then the body parameters sorted as `name` + `value` with no separators. With no body
  parameters the `?` appears only before a query; with neither, the bare URL;
* GET: the URL's query and the request's parameters merged, sorted as `k=v&…`, after a `?`;
* a query key given twice counts with its **first** value only, decoded; a repeated body name
  contributes one entry per value, values sorted;
* then `.` and the `X-Plivo-Signature-V3-Nonce` header; HMAC-SHA256 keyed with the Auth
  Token, base64. The header may hold several comma-separated signatures: any may match.

The media WebSocket upgrade is signed too, as a GET of the full stream URL with its `ws://` or
`wss://` scheme (plivo-python 4.63.1 release notes: "validate_v3_signature now accepts ws:// and
wss:// URLs, so the V3 signature Plivo sends on audio stream WebSocket connections can be
validated by passing the full stream URL"; "Plivo signs the first value of a repeated key and
the decoded path, for callbacks and audio streams alike").
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable
from typing import Final
from urllib.parse import parse_qsl, unquote, urlsplit, urlunsplit

__all__ = [
    "NONCE_HEADER",
    "SIGNATURE_HEADER",
    "base_string",
    "compute_signature",
    "validate_signature",
]

SIGNATURE_HEADER: Final = "x-plivo-signature-v3"
NONCE_HEADER: Final = "x-plivo-signature-v3-nonce"

Params = Iterable[tuple[str, str]]


def _grouped(pairs: Params) -> list[tuple[str, list[str]]]:
    groups: dict[str, list[str]] = {}
    for name, value in pairs:
        groups.setdefault(name, []).append(value)
    return [(name, sorted(groups[name])) for name in sorted(groups)]


def _query_string(pairs: Params) -> str:
    return "&".join(f"{name}={value}" for name, values in _grouped(pairs) for value in values)


def _params_string(pairs: Params) -> str:
    return "".join(f"{name}{value}" for name, values in _grouped(pairs) for value in values)


def _first_values(query: str) -> list[tuple[str, str]]:
    """The query's parameters, decoded, each key once with its first value."""
    first: dict[str, str] = {}
    for name, value in parse_qsl(query, keep_blank_values=True):
        first.setdefault(name, value)
    return list(first.items())


def base_string(method: str, url: str, params: Params | None = None) -> str:
    """The string Plivo signs (before `.nonce`) for a request to `url` with `params`."""
    parts = urlsplit(url)
    bare = urlunsplit((parts.scheme, parts.netloc, unquote(parts.path), "", ""))
    query = _first_values(parts.query)
    body = list(params or [])
    if method.upper() == "GET":
        named = {name for name, _ in query}  # the URL's value wins, as plivo-python merges
        merged = _query_string([*query, *((k, v) for k, v in body if k not in named)])
        return f"{bare}?{merged}" if merged else bare
    if not body:
        return f"{bare}?{_query_string(query)}" if query else bare
    prefix = f"{bare}?{_query_string(query)}." if query else f"{bare}?"
    return prefix + _params_string(body)


def compute_signature(
    method: str, url: str, params: Params | None, nonce: str, auth_token: str
) -> str:
    """The `X-Plivo-Signature-V3` value Plivo sends for this request."""
    message = f"{base_string(method, url, params)}.{nonce}".encode()
    digest = hmac.new(auth_token.encode(), message, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def validate_signature(
    method: str,
    url: str,
    params: Params | None,
    nonce: str | None,
    header: str | None,
    auth_token: str,
) -> bool:
    """Whether any signature in `header` is Plivo's for this request (constant time)."""
    if not header or not nonce:
        return False
    expected = compute_signature(method, url, params, nonce, auth_token).encode()
    matched = False
    for candidate in header.split(","):
        matched |= hmac.compare_digest(expected, candidate.strip().encode())
    return matched
