"""SignalWire webhook signatures: `X-SignalWire-Signature` (or `X-Twilio-Signature`).

protocols.md C.5 and signalwire-typescript `src/WebhookValidator.ts`; the key is the project's
**Signing Key** (not its API token). A validator tries:

* scheme A (RELAY/SWML/JSON): `hex(HMAC-SHA1(key, url + raw body))`;
* scheme B (cXML form posts): `base64(HMAC-SHA1(key, url + params))`, where the params are the
  form's pairs sorted by name (a stable sort: repeated names keep the order they were sent in)
  and concatenated as name+value; tried with the parsed form and with no params (JSON on the
  compatibility surface), with the URL as given, with its default port added, or with an
  explicit default port removed; a `bodySHA256` query parameter must then match the body.

`compute_signature` is scheme B for the simulator.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable
from typing import Final
from urllib.parse import parse_qsl, urlsplit, urlunsplit

__all__ = ["SIGNATURE_HEADERS", "compute_signature", "validate_signature"]

SIGNATURE_HEADERS: Final = ("x-signalwire-signature", "x-twilio-signature")
_DEFAULT_PORTS: Final = {"http": 80, "https": 443, "ws": 80, "wss": 443}

Pairs = Iterable[tuple[str, str]]


def _concat(params: Pairs) -> str:
    return "".join(name + value for name, value in sorted(params, key=lambda pair: pair[0]))


def _b64(key: str, message: str) -> str:
    digest = hmac.new(key.encode(), message.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


def compute_signature(url: str, params: Pairs | None, key: str) -> str:
    """Scheme B: what SignalWire sends for a cXML form request to `url`."""
    return _b64(key, url + _concat(params or ()))


def _url_variants(url: str) -> list[str]:
    parts = urlsplit(url)
    default = _DEFAULT_PORTS.get(parts.scheme)
    host = parts.hostname or ""
    host = f"[{host}]" if ":" in host else host
    if default is None or not host:
        return [url]
    if parts.port is None:
        netloc = f"{host}:{default}"
    elif parts.port == default:
        netloc = host
    else:
        return [url]
    return [url, urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))]


def _body_hash_matches(url: str, body: bytes) -> bool:
    expected = dict(parse_qsl(urlsplit(url).query)).get("bodySHA256")
    if expected is None:
        return True
    return hmac.compare_digest(hashlib.sha256(body).hexdigest(), expected)


def validate_signature(url: str, body: bytes, signature: str | None, key: str) -> bool:
    """Whether `signature` is SignalWire's (scheme A or B) for a request to `url` with `body`."""
    if not signature:
        return False
    given = signature.strip().encode()
    expected_a = hmac.new(key.encode(), url.encode() + body, hashlib.sha1).hexdigest()
    if hmac.compare_digest(expected_a.encode(), given):
        return True
    form = parse_qsl(body.decode("utf-8", errors="replace"), keep_blank_values=True)
    for candidate in _url_variants(url):
        for params in (form, []):
            expected_b = compute_signature(candidate, params, key).encode()
            if hmac.compare_digest(expected_b, given) and _body_hash_matches(candidate, body):
                return True
    return False
