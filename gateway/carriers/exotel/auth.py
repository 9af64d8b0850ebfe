"""Exotel's request authentication and the stream URL the gateway hands back (pure).

protocols.md C.4: Exotel signs nothing (no HMAC scheme was found [unverified]). It authenticates
by IP allow-listing or by Basic credentials written into the applet's URL
(`wss://USER:PASSWORD@host/path`), which reach the server as `Authorization: Basic
base64(USER:PASSWORD)` [doc]. The gateway checks those credentials on the Voicebot applet's
dynamic URL (`/exotel/voice`, which Exotel calls over HTTPS for the stream URL) and on the media
upgrade. Whether Exotel also presents the `user:password@` of an *https* applet URL as Basic
credentials is not documented [unverified]: docs/carriers/exotel.md says how to confirm it.

The stream URL answered carries the credentials again (Exotel needs them to connect) and, as
query parameters, the sample rate and the call's stream token: at most 3 custom parameters and
256 characters of them [doc].
"""

from __future__ import annotations

import base64
import binascii
import hmac
from collections.abc import Mapping
from typing import Final
from urllib.parse import quote, urlencode, urlsplit, urlunsplit

__all__ = ["MAX_PARAMETER_CHARS", "basic_credentials", "check_basic", "stream_url"]

MAX_PARAMETER_CHARS: Final = 256
MAX_PARAMETERS: Final = 3


def basic_credentials(authorization: str | None) -> tuple[str, str] | None:
    """(user, password) of an `Authorization: Basic ...` header, else None."""
    if not authorization:
        return None
    scheme, _, encoded = authorization.strip().partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        return None
    user, colon, password = decoded.partition(":")
    return (user, password) if colon else None


def check_basic(authorization: str | None, user: str, password: str) -> bool:
    """True when the header carries exactly these credentials (constant-time comparison)."""
    presented = basic_credentials(authorization)
    if presented is None:
        return False
    same_user = hmac.compare_digest(presented[0].encode(), user.encode())
    same_password = hmac.compare_digest(presented[1].encode(), password.encode())
    return same_user and same_password


def stream_url(
    ws_url: str, parameters: Mapping[str, str], credentials: tuple[str, str] | None = None
) -> str:
    """`ws_url` with `user:password@` (when given) and `parameters` as its query.

    Raises ValueError beyond Exotel's limits on custom parameters.
    """
    query = urlencode(dict(parameters))
    if len(parameters) > MAX_PARAMETERS or len(query) > MAX_PARAMETER_CHARS:
        raise ValueError(f"Exotel takes at most {MAX_PARAMETERS} parameters, 256 characters")
    scheme, netloc, path, _, _ = urlsplit(ws_url)
    if credentials is not None:
        user, password = (quote(part, safe="") for part in credentials)
        netloc = f"{user}:{password}@{netloc}"
    return urlunsplit((scheme, netloc, path, query, ""))
