"""Per-call media stream tokens: signed, bound to one call, short-lived, single-use.

The voice webhook `issue`s a token for the call and puts it in a `<Parameter>` of the stream
TwiML (named `STREAM_TOKEN_PARAMETER`); the media route `redeem`s it from `start`'s custom
parameters before any Live session is opened. Anyone who can reach the media URL but was not sent
there by a signed webhook, or who replays an old `start`, is refused.

Token = base64url(payload) "." base64url(HMAC-SHA256(secret, payload)), unpadded, where
payload = b"st1" | expiry (uint64 big-endian, integer seconds) | SHA-256(call id)[:16] | nonce,
or, for a call answered by a named agent profile, b"st2" | expiry | digest | profile length (one
byte) | profile name (ASCII, at most 32) | nonce. The profile rides in the signed token so that a
stream reaching any replica sharing GATEWAY_SECRET gets the agent its webhook chose. The call id
goes in as a digest so that the token stays short (under 180 characters) whatever the carrier's
call ids look like. Pure: the caller supplies the time and the random nonce.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import heapq
import hmac
import re
from enum import StrEnum
from typing import Final

__all__ = ["STREAM_TOKEN_PARAMETER", "StreamTokens", "TokenCheck", "token_id"]

STREAM_TOKEN_PARAMETER: Final = "stream_token"
"""The `<Parameter>` name (and `start.customParameters` key) that carries the token."""

MIN_SECRET_BYTES: Final = 16
MIN_NONCE_BYTES: Final = 16
MAX_NONCE_BYTES: Final = 32

_TAG: Final = b"st1"  # version 1; a new layout gets a new tag, and old tokens fail as MALFORMED
_TAG_PROFILE: Final = b"st2"  # version 1 plus the agent profile's name
MAX_PROFILE_BYTES: Final = 32
_EXPIRY_BYTES: Final = 8
_CALL_DIGEST_BYTES: Final = 16
_HEADER_BYTES: Final = len(_TAG) + _EXPIRY_BYTES + _CALL_DIGEST_BYTES
_MAC_BYTES: Final = 32
_MAX_TOKEN_CHARS: Final = 200
_BASE64URL: Final = re.compile(r"[A-Za-z0-9_-]+")


def token_id(token: str | None) -> tuple[str, int] | None:
    """(an id naming the token, its expiry in epoch seconds) for a well-formed token: the
    SHA-256 of its decoded payload, so that base64 spellings of one token are one id (cluster
    mode's single-use key). None when malformed. Check the token with `redeem` first."""
    parts = StreamTokens._split(token)
    if parts is None:
        return None
    payload = parts[0]
    expiry_s = int.from_bytes(payload[len(_TAG) : len(_TAG) + _EXPIRY_BYTES], "big")
    return hashlib.sha256(payload).hexdigest(), expiry_s


class TokenCheck(StrEnum):
    """The outcome of `StreamTokens.redeem`; only VALID lets the call through."""

    VALID = "valid"
    MISSING = "missing"
    MALFORMED = "malformed"
    BAD_SIGNATURE = "bad signature"
    WRONG_CALL = "wrong call"
    EXPIRED = "expired"
    REUSED = "reused"
    OVERLOADED = "overloaded"
    """Too many unexpired tokens already redeemed to remember another one safely."""


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes | None:
    if not _BASE64URL.fullmatch(text) or len(text) % 4 == 1:
        return None
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        return None


def _call_digest(call_id: str) -> bytes:
    return hashlib.sha256(call_id.encode("utf-8", "surrogatepass")).digest()[:_CALL_DIGEST_BYTES]


class StreamTokens:
    """Issues and redeems the tokens of one gateway process (one `secret`).

    `issue(call_id, now_s, nonce)` when answering the voice webhook; `redeem(token, call_id,
    now_s)` when the stream's `start` arrives. A token redeems as VALID once; the tokens already
    used are remembered until they expire (at most `max_redeemed` of them: beyond that, redeem
    answers OVERLOADED instead of forgetting one, which would let it be reused).
    """

    __slots__ = ("_expiries", "_redeemed", "_secret", "max_redeemed", "ttl_s")

    def __init__(self, secret: bytes, *, ttl_s: float = 60.0, max_redeemed: int = 100_000) -> None:
        if len(secret) < MIN_SECRET_BYTES:
            raise ValueError(f"the stream token secret needs at least {MIN_SECRET_BYTES} bytes")
        if not ttl_s > 0:
            raise ValueError("ttl_s must be positive")
        if max_redeemed < 1:
            raise ValueError("max_redeemed must be at least 1")
        self._secret = bytes(secret)
        self.ttl_s = ttl_s
        self.max_redeemed = max_redeemed
        self._redeemed: set[bytes] = set()  # payloads of redeemed, unexpired tokens
        self._expiries: list[tuple[int, bytes]] = []  # heap of (expiry_s, payload) to prune

    def __repr__(self) -> str:
        return f"StreamTokens(ttl_s={self.ttl_s}, redeemed={len(self._redeemed)})"

    @property
    def redeemed_count(self) -> int:
        """Redeemed tokens still remembered (unexpired as of the last `redeem`)."""
        return len(self._redeemed)

    def _mac(self, payload: bytes) -> bytes:
        return hmac.new(self._secret, payload, hashlib.sha256).digest()

    def issue(self, call_id: str, now_s: float, nonce: bytes, *, profile: str = "") -> str:
        """A token for `call_id`, valid until `int(now_s + ttl_s)` (epoch seconds).

        `nonce` must be 16-32 fresh random bytes (`secrets.token_bytes(16)` in the shell): it is
        what makes two tokens of the same call and second distinct. `profile` (ASCII, at most 32
        characters) is the agent profile the webhook chose; `redeem_profile` gives it back.
        """
        if not call_id:
            raise ValueError("a stream token needs a call id")
        if not MIN_NONCE_BYTES <= len(nonce) <= MAX_NONCE_BYTES:
            raise ValueError(f"the nonce must be {MIN_NONCE_BYTES}-{MAX_NONCE_BYTES} bytes")
        expiry_s = int(now_s + self.ttl_s)
        if expiry_s < 0:
            raise ValueError("now_s is before the epoch")
        header = expiry_s.to_bytes(_EXPIRY_BYTES, "big") + _call_digest(call_id)
        if profile:
            name = profile.encode("ascii")  # UnicodeEncodeError is a ValueError
            if len(name) > MAX_PROFILE_BYTES:
                raise ValueError(f"a profile name has at most {MAX_PROFILE_BYTES} characters")
            payload = _TAG_PROFILE + header + bytes([len(name)]) + name + bytes(nonce)
        else:
            payload = _TAG + header + bytes(nonce)
        return _b64encode(payload) + "." + _b64encode(self._mac(payload))

    def redeem(self, token: str | None, call_id: str, now_s: float) -> TokenCheck:
        """Check `token` for `call_id` at `now_s` and, when VALID, mark it used.

        Checks in order: presence, format, signature (constant time), call, expiry (a token is
        expired from its expiry second on), reuse, capacity. Never raises on any token value.
        """
        return self.redeem_profile(token, call_id, now_s)[0]

    def redeem_profile(
        self, token: str | None, call_id: str, now_s: float
    ) -> tuple[TokenCheck, str]:
        """`redeem`, and the profile name the token was issued with ("" when none or invalid)."""
        self._prune(now_s)
        if token is None or token == "":
            return TokenCheck.MISSING, ""
        parts = self._split(token)
        if parts is None:
            return TokenCheck.MALFORMED, ""
        payload, mac, profile = parts
        if not hmac.compare_digest(mac, self._mac(payload)):
            return TokenCheck.BAD_SIGNATURE, ""
        call_digest = payload[len(_TAG) + _EXPIRY_BYTES : _HEADER_BYTES]
        if not hmac.compare_digest(call_digest, _call_digest(call_id)):
            return TokenCheck.WRONG_CALL, ""
        expiry_s = int.from_bytes(payload[len(_TAG) : len(_TAG) + _EXPIRY_BYTES], "big")
        if now_s >= expiry_s:
            return TokenCheck.EXPIRED, ""
        # Keyed on the decoded payload, not the text: base64 spellings of one token are one token.
        if payload in self._redeemed:
            return TokenCheck.REUSED, ""
        if len(self._redeemed) >= self.max_redeemed:
            return TokenCheck.OVERLOADED, ""
        self._redeemed.add(payload)
        heapq.heappush(self._expiries, (expiry_s, payload))
        return TokenCheck.VALID, profile

    @staticmethod
    def _split(token: object) -> tuple[bytes, bytes, str] | None:
        """(payload, mac, profile) of a well-formed token (alphabet, sizes, tag), else None."""
        if not isinstance(token, str) or len(token) > _MAX_TOKEN_CHARS or token.count(".") != 1:
            return None
        payload_text, _, mac_text = token.partition(".")
        payload = _b64decode(payload_text)
        mac = _b64decode(mac_text)
        if payload is None or mac is None or len(mac) != _MAC_BYTES:
            return None
        profile = ""
        nonce_bytes = len(payload) - _HEADER_BYTES
        if payload.startswith(_TAG_PROFILE) and nonce_bytes > 0:
            length = payload[_HEADER_BYTES]
            name = payload[_HEADER_BYTES + 1 : _HEADER_BYTES + 1 + length]
            if not 0 < length <= MAX_PROFILE_BYTES or len(name) != length or not name.isascii():
                return None
            profile = name.decode("ascii")
            nonce_bytes -= 1 + length
        elif not payload.startswith(_TAG):
            return None
        if not MIN_NONCE_BYTES <= nonce_bytes <= MAX_NONCE_BYTES:
            return None
        return payload, mac, profile

    def _prune(self, now_s: float) -> None:
        expiries = self._expiries
        while expiries and expiries[0][0] <= now_s:
            self._redeemed.discard(heapq.heappop(expiries)[1])
