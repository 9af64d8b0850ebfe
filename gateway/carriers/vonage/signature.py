"""Vonage signed webhooks: `Authorization: Bearer <JWT>`, HS256 under the signature secret (pure).

protocols.md C.3 and Vonage's support article on Voice API signed webhooks: the JWT is signed
with the account's **signature secret** (HS256) [doc][code]; its claims carry `iat`, often
`exp`, the `api_key` and a `payload_hash`, the SHA-256 of the payload [unverified for Voice]:
for a POST the JSON body, for a GET the query parameters as a compact JSON object in their
order. Verified here:

1. the signature (HS256 only: a token naming any other algorithm is refused);
2. `exp` when present, and `iat` when present (not in the future, not older than `max_age_s`),
   with `leeway_s` for clock skew; a token with neither is refused (it could be replayed
   forever);
3. `payload_hash` when present: it must match the raw body, or the body re-serialised
   compactly, or the query as a compact JSON object. A token without the claim is accepted
   (the claim is described as optional), which leaves a replay window of `max_age_s`.

`now_s` comes in as an argument: this module reads no clock. `sign_webhook` builds such a token
(the simulator and tests sign with it).
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import warnings
from collections.abc import Mapping, Sequence
from typing import Any, Final

import jwt
from jwt.warnings import InsecureKeyLengthWarning

__all__ = ["payload_hashes", "sign_webhook", "verify_webhook"]

MAX_AGE_S: Final = 300.0
LEEWAY_S: Final = 30.0
_BEARER: Final = "bearer "


def _compact(value: object) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def payload_hashes(body: bytes, query: Sequence[tuple[str, str]]) -> set[str]:
    """The hex SHA-256 digests a genuine `payload_hash` may take for this request."""
    payloads: list[bytes] = []
    if body:
        payloads.append(body)
        with contextlib.suppress(ValueError, RecursionError):
            payloads.append(_compact(json.loads(body)))
    if query or not body:
        payloads.append(_compact(dict(query)))
    return {hashlib.sha256(payload).hexdigest() for payload in payloads}


def _decode(token: str, secret: str) -> dict[str, Any] | None:
    with warnings.catch_warnings():
        # Vonage chooses the secret's length; a short one is the operator's to fix, not ours.
        warnings.simplefilter("ignore", InsecureKeyLengthWarning)
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                secret,
                algorithms=["HS256"],
                options={"verify_exp": False, "verify_iat": False, "verify_nbf": False},
            )
        except jwt.InvalidTokenError:
            return None
    return claims


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def verify_webhook(
    authorization: str | None,
    secret: str,
    now_s: float,
    *,
    body: bytes = b"",
    query: Sequence[tuple[str, str]] = (),
    max_age_s: float = MAX_AGE_S,
    leeway_s: float = LEEWAY_S,
) -> str | None:
    """None when the request is signed by `secret`, else why not (short, safe to log)."""
    if not authorization or authorization[: len(_BEARER)].lower() != _BEARER:
        return "no bearer token"
    claims = _decode(authorization[len(_BEARER) :].strip(), secret)
    if claims is None:
        return "bad signature"
    issued = _number(claims.get("iat"))
    expires = _number(claims.get("exp"))
    if issued is None and expires is None:
        return "no iat or exp"
    if expires is not None and now_s > expires + leeway_s:
        return "expired"
    if issued is not None and not (now_s - max_age_s - leeway_s <= issued <= now_s + leeway_s):
        return "stale iat"
    claimed = claims.get("payload_hash")
    if claimed is not None:
        if not isinstance(claimed, str):
            return "bad payload_hash"
        digest = claimed.strip().lower()
        if not any(hmac.compare_digest(digest, h) for h in payload_hashes(body, query)):
            return "payload_hash mismatch"
    return None


def sign_webhook(
    secret: str,
    now_s: float,
    *,
    body: bytes = b"",
    query: Sequence[tuple[str, str]] = (),
    extra_claims: Mapping[str, Any] | None = None,
) -> str:
    """The `Authorization` header value Vonage would send for this request."""
    payload = body if body else _compact(dict(query))
    claims: dict[str, Any] = {
        "iat": int(now_s),
        "jti": hashlib.sha256(payload + str(now_s).encode()).hexdigest()[:32],
        "payload_hash": hashlib.sha256(payload).hexdigest(),
        **(extra_claims or {}),
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InsecureKeyLengthWarning)
        token = jwt.encode(claims, secret, algorithm="HS256")
    return f"Bearer {token}"
