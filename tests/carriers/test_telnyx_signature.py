"""Telnyx webhook signatures: Ed25519 over "{timestamp}|{body}", base64, with a freshness check."""

from __future__ import annotations

import base64

import pytest

from gateway.carriers.telnyx.signature import (
    load_public_key,
    private_key_from_text,
    public_key_text,
    sign,
    verify,
)

# RFC 8032, section 7.1, TEST 1: the key pair, and the signature of the empty message.
RFC_SEED = bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
RFC_PUBLIC = bytes.fromhex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
RFC_EMPTY_SIGNATURE = bytes.fromhex(
    "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065"
    "224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"
)
PRIVATE = private_key_from_text(base64.b64encode(RFC_SEED).decode())
PUBLIC_TEXT = base64.b64encode(RFC_PUBLIC).decode()
PUBLIC = load_public_key(PUBLIC_TEXT)
BODY = b'{"data":{"event_type":"call.initiated"}}'
STAMP = "1700000000"
# Computed here with the RFC key (Ed25519 is deterministic): pins the "{timestamp}|{body}" form.
SIGNATURE = (
    "MGVTDtGuYLW5kjFwnqNofgeDUyzsF7r4H1L6jz1lD6palyxYTP6fEPDmGoaV769eef2agFBoHmAp47aBRgOyAw=="
)


def test_keys_load_as_the_rfc_says() -> None:
    assert public_key_text(PRIVATE) == PUBLIC_TEXT == "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="
    PUBLIC.verify(RFC_EMPTY_SIGNATURE, b"")  # raises if the key were read wrong


def test_the_signed_message_is_timestamp_bar_body() -> None:
    assert sign(BODY, STAMP, PRIVATE) == SIGNATURE
    PUBLIC.verify(base64.b64decode(SIGNATURE), STAMP.encode() + b"|" + BODY)
    assert verify(BODY, SIGNATURE, STAMP, PUBLIC, now_s=1_700_000_010)


@pytest.mark.parametrize(
    ("body", "signature", "stamp", "now_s"),
    [
        (BODY + b" ", SIGNATURE, STAMP, 1_700_000_000),  # body changed
        (BODY, SIGNATURE, "1700000001", 1_700_000_000),  # timestamp changed
        (BODY, "A" + SIGNATURE[1:], STAMP, 1_700_000_000),  # signature changed
        (BODY, SIGNATURE, STAMP, 1_700_000_301),  # too old
        (BODY, SIGNATURE, STAMP, 1_699_999_699),  # from the future
        (BODY, None, STAMP, 1_700_000_000),
        (BODY, SIGNATURE, None, 1_700_000_000),
        (BODY, "not base64!", STAMP, 1_700_000_000),
        (BODY, base64.b64encode(b"short").decode(), STAMP, 1_700_000_000),
        (BODY, SIGNATURE, "-1700000000", 1_700_000_000),
        (BODY, SIGNATURE, "1" * 40, 1_700_000_000),
    ],
)
def test_anything_else_fails(
    body: bytes, signature: str | None, stamp: str | None, now_s: float
) -> None:
    assert not verify(body, signature, stamp, PUBLIC, now_s=now_s)


def test_the_tolerance_is_configurable() -> None:
    assert verify(BODY, SIGNATURE, STAMP, PUBLIC, now_s=1_700_000_299)
    assert not verify(BODY, SIGNATURE, STAMP, PUBLIC, now_s=1_700_000_061, tolerance_s=60)


def test_another_key_fails() -> None:
    other = private_key_from_text(base64.b64encode(bytes(32)).decode())
    assert not verify(BODY, sign(BODY, STAMP, other), STAMP, PUBLIC, now_s=1_700_000_000)


@pytest.mark.parametrize("text", ["", "***", base64.b64encode(b"x" * 31).decode()])
def test_bad_keys_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="32"):
        load_public_key(text)
    with pytest.raises(ValueError, match="32"):
        private_key_from_text(text)
