"""Telnyx webhook signatures: Ed25519 over `"{timestamp}|{raw body}"`.

protocols.md C.1: every webhook carries `telnyx-signature-ed25519` (base64 of the 64-byte
signature) and `telnyx-timestamp` (Unix seconds). The signed message is the timestamp, a `|`,
then the body exactly as sent. It is checked with the account's Ed25519 **public key** (Mission
Control portal -> Keys & Credentials -> Public Key; base64 of the 32 raw bytes). A timestamp
further than `tolerance_s` from our clock (either way) is refused, so a captured webhook cannot
be replayed later. `sign` is the carrier's side, for the simulator and tests.
"""

from __future__ import annotations

import base64
import binascii
from typing import Final

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

__all__ = [
    "DEFAULT_TOLERANCE_S",
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "load_public_key",
    "private_key_from_text",
    "public_key_text",
    "sign",
    "verify",
]

SIGNATURE_HEADER: Final = "telnyx-signature-ed25519"
TIMESTAMP_HEADER: Final = "telnyx-timestamp"
DEFAULT_TOLERANCE_S: Final = 300.0
"""How far a webhook's timestamp may be from our clock (the SDKs use five minutes)."""

_KEY_BYTES: Final = 32
_SIGNATURE_BYTES: Final = 64
_TIMESTAMP_CHARS: Final = 12


def _b64(text: str) -> bytes | None:
    try:
        return base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        return None


def load_public_key(text: str) -> Ed25519PublicKey:
    """The public key from its base64 text (32 raw bytes); ValueError when it is not one."""
    raw = _b64(text)
    if raw is None or len(raw) != _KEY_BYTES:
        raise ValueError("a Telnyx public key is base64 of 32 bytes")
    return Ed25519PublicKey.from_public_bytes(raw)


def private_key_from_text(text: str) -> Ed25519PrivateKey:
    """A private key from base64 of its 32-byte seed (the simulator's signing secret)."""
    raw = _b64(text)
    if raw is None or len(raw) != _KEY_BYTES:
        raise ValueError("an Ed25519 private key is base64 of its 32-byte seed")
    return Ed25519PrivateKey.from_private_bytes(raw)


def public_key_text(private_key: Ed25519PrivateKey) -> str:
    """The base64 public key matching `private_key` (what TELNYX_PUBLIC_KEY holds)."""
    raw = private_key.public_key().public_bytes_raw()
    return base64.b64encode(raw).decode("ascii")


def sign(body: bytes, timestamp: str, private_key: Ed25519PrivateKey) -> str:
    """The `telnyx-signature-ed25519` header Telnyx would send for `body` at `timestamp`."""
    signature = private_key.sign(timestamp.encode("ascii") + b"|" + body)
    return base64.b64encode(signature).decode("ascii")


def verify(
    body: bytes,
    signature: str | None,
    timestamp: str | None,
    public_key: Ed25519PublicKey,
    *,
    now_s: float,
    tolerance_s: float = DEFAULT_TOLERANCE_S,
) -> bool:
    """Whether `signature` is Telnyx's for `body` at `timestamp`, and the timestamp is fresh."""
    if not signature or not timestamp:
        return False
    stamp = timestamp.strip()
    if not stamp.isascii() or not stamp.isdigit() or len(stamp) > _TIMESTAMP_CHARS:
        return False
    if abs(now_s - int(stamp)) > tolerance_s:
        return False
    raw = _b64(signature)
    if raw is None or len(raw) != _SIGNATURE_BYTES:
        return False
    try:
        public_key.verify(raw, stamp.encode("ascii") + b"|" + body)
    except InvalidSignature:
        return False
    return True
