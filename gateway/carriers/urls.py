"""Public URLs of the gateway as the carrier sees them, rebuilt behind proxies (pure).

Twilio signs the URL *it* requested (protocols.md B.5), and the stream URL in a webhook answer
must be one Twilio can reach, so both are built from the public base URL, not from the socket:

1. `GATEWAY_PUBLIC_URL` when configured (the robust choice: proxies' headers are only as
   trustworthy as the proxy that overwrites them);
2. else `X-Forwarded-Proto` / `X-Forwarded-Host` (first value of a comma-separated list);
3. else RFC 7239 `Forwarded` (`proto=`, `host=` of its first element);
4. else the request's own scheme and `Host` header.

`X-Forwarded-Port` (added when the host names no port and the port is not the scheme's default)
and `X-Forwarded-Prefix` (a path prefix the proxy stripped) apply whichever source gave the host.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Final

__all__ = ["public_base_url", "request_url", "websocket_url"]

_DEFAULT_PORTS: Final = {"http": "80", "https": "443"}
_HTTP_SCHEMES: Final = {"http": "http", "https": "https", "ws": "http", "wss": "https"}
_WS_SCHEMES: Final = {"https": "wss", "http": "ws", "wss": "wss", "ws": "ws"}
# A DNS name (underscores allowed: container names) or an IP literal, then an optional port.
_HOST: Final = re.compile(r"(?:[A-Za-z0-9_.-]+|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?")
_PORT: Final = re.compile(r"[0-9]{1,5}")
_PATH: Final = re.compile(r"[A-Za-z0-9._~!$&'()*+,;=:@%/-]*")


def _first(value: str | None) -> str | None:
    """The first entry of a comma-separated header value (the client-facing proxy's), or None."""
    if value is None:
        return None
    first = value.split(",", 1)[0].strip()
    return first or None


def _forwarded(value: str | None) -> dict[str, str]:
    """`proto`/`host`/… of the first element of an RFC 7239 `Forwarded` header.

    Elements are comma-separated, pairs semicolon-separated, and a quoted value may hold either.
    A hand scanner, linear in the header's length: the header is the client's to choose.
    """
    pairs: dict[str, str] = {}
    text = value or ""
    end = len(text)
    i = 0
    while i < end:
        j = i
        while j < end and text[j] not in "=;,":
            j += 1
        name = text[i:j].strip().lower()
        if j < end and text[j] == "=":
            j += 1
            while j < end and text[j] in " \t":
                j += 1
            if j < end and text[j] == '"':
                chars: list[str] = []
                j += 1
                while j < end and text[j] != '"':
                    if text[j] == "\\" and j + 1 < end:
                        j += 1
                    chars.append(text[j])
                    j += 1
                found = "".join(chars)
                while j < end and text[j] not in ";,":  # skip to the separator
                    j += 1
            else:
                start = j
                while j < end and text[j] not in ";,":
                    j += 1
                found = text[start:j].strip()
            if name:
                pairs.setdefault(name, found)
        if j < end and text[j] == ",":
            break
        i = j + 1
    return pairs


def _scheme(raw: str, source: str) -> str:
    scheme = _HTTP_SCHEMES.get(raw.strip().lower())
    if scheme is None:
        raise ValueError(f"{source} names no http(s) scheme")
    return scheme


def public_base_url(
    configured: str | None,
    *,
    scheme: str,
    host: str | None,
    headers: Mapping[str, str],
) -> str:
    """The gateway's public base URL (`https://host[:port][/prefix]`, no trailing slash).

    `configured` is GATEWAY_PUBLIC_URL (wins when set). `scheme` and `host` are the request's own
    (`http`/`https` and its `Host` header). `headers` is looked up with **lower-case** names:
    pass Starlette's `Headers` (case-insensitive) or a dict with lower-case keys. Raises
    ValueError when no valid host can be determined or a forwarded value is not well-formed.
    """
    if configured and configured.strip():
        return configured.strip().rstrip("/")

    forwarded_proto = _first(headers.get("x-forwarded-proto"))
    forwarded_host = _first(headers.get("x-forwarded-host"))
    if forwarded_proto is not None or forwarded_host is not None:
        proto = _scheme(forwarded_proto or scheme, "X-Forwarded-Proto")
        public_host = forwarded_host or host
    else:
        rfc7239 = _forwarded(headers.get("forwarded"))
        proto = _scheme(rfc7239.get("proto") or scheme, "Forwarded proto")
        public_host = rfc7239.get("host") or host
    public_host = (public_host or "").strip()
    if not public_host:
        raise ValueError("no host: neither a forwarded host nor a Host header")
    if not _HOST.fullmatch(public_host):
        raise ValueError("the host is not a valid host[:port]")

    port = _first(headers.get("x-forwarded-port"))
    has_port = public_host.rsplit("]", 1)[-1].count(":") == 1
    if port is not None and not has_port:
        if not _PORT.fullmatch(port):
            raise ValueError("X-Forwarded-Port is not a port number")
        if port != _DEFAULT_PORTS[proto]:
            public_host = f"{public_host}:{port}"

    prefix = (_first(headers.get("x-forwarded-prefix")) or "").strip("/")
    if prefix and not _PATH.fullmatch(prefix):
        raise ValueError("X-Forwarded-Prefix is not a plain path")
    return f"{proto}://{public_host}" + (f"/{prefix}" if prefix else "")


def _split_scheme(base_url: str) -> tuple[str, str]:
    scheme, sep, rest = base_url.partition("://")
    if not sep or scheme.lower() not in _WS_SCHEMES:
        raise ValueError("the base URL must be an http(s):// URL")
    return scheme.lower(), rest.rstrip("/")


def _join(rest: str, path: str) -> str:
    return rest + (path if path.startswith("/") else "/" + path)


def websocket_url(base_url: str, path: str) -> str:
    """`path` under `base_url` with https -> wss and http -> ws (any base path prefix kept)."""
    scheme, rest = _split_scheme(base_url)
    return f"{_WS_SCHEMES[scheme]}://" + _join(rest, path)


def request_url(base_url: str, path: str, query: str) -> str:
    """The URL the carrier requested, for signature checks: base + path [+ "?" + query].

    `path` is the path the application saw (after the proxy stripped any prefix) and `query` the
    raw query string, appended verbatim when non-empty: Twilio signs it exactly as it sent it.
    """
    scheme, rest = _split_scheme(base_url)
    url = f"{scheme}://" + _join(rest, path)
    return f"{url}?{query}" if query else url
