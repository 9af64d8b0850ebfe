"""Vonage signed webhooks: HS256 JWT under the signature secret, iat/exp, payload_hash."""

from __future__ import annotations

import hashlib
import json

import jwt
import pytest

from gateway.carriers.vonage.signature import payload_hashes, sign_webhook, verify_webhook

SECRET = "vonage-signature-secret-0123456789abcdef"
NOW = 1_700_000_000.0
BODY = json.dumps({"uuid": "u1", "from": "447700900000", "to": "447700900001"}).encode()
QUERY = [("to", "447700900001"), ("from", "447700900000"), ("uuid", "u1")]


def _token(claims: dict[str, object], secret: str = SECRET, algorithm: str = "HS256") -> str:
    return "Bearer " + jwt.encode(claims, secret, algorithm=algorithm)


def test_a_signed_post_and_a_signed_get_verify() -> None:
    post = sign_webhook(SECRET, NOW, body=BODY)
    assert verify_webhook(post, SECRET, NOW + 5, body=BODY) is None
    get = sign_webhook(SECRET, NOW, query=QUERY)
    assert verify_webhook(get, SECRET, NOW, query=QUERY) is None


@pytest.mark.parametrize(
    ("authorization", "reason"),
    [
        (None, "no bearer token"),
        ("Basic abc", "no bearer token"),
        ("Bearer not.a.jwt", "bad signature"),
        (_token({"iat": int(NOW)}, secret="another-secret-0123456789abcdefghij"), "bad signature"),
        (_token({"sub": "x"}), "no iat or exp"),
        (_token({"iat": int(NOW) - 3600}), "stale iat"),
        (_token({"iat": int(NOW) + 3600}), "stale iat"),
        (_token({"exp": int(NOW) - 3600}), "expired"),
        (_token({"iat": int(NOW), "payload_hash": "00" * 32}), "payload_hash mismatch"),
        (_token({"iat": int(NOW), "payload_hash": 5}), "bad payload_hash"),
    ],
)
def test_refusals(authorization: str | None, reason: str) -> None:
    assert verify_webhook(authorization, SECRET, NOW, body=BODY) == reason


def test_only_hs256_is_accepted() -> None:
    token = _token({"iat": int(NOW)}, secret=SECRET * 2, algorithm="HS512")
    assert verify_webhook(token, SECRET, NOW, body=BODY) == "bad signature"
    unsigned = "Bearer " + jwt.encode({"iat": int(NOW)}, None, algorithm="none")
    assert verify_webhook(unsigned, SECRET, NOW, body=BODY) == "bad signature"


def test_a_tampered_body_fails_the_payload_hash() -> None:
    header = sign_webhook(SECRET, NOW, body=BODY)
    tampered = BODY.replace(b"u1", b"u2")
    assert verify_webhook(header, SECRET, NOW, body=tampered) == "payload_hash mismatch"


def test_a_token_without_payload_hash_is_accepted_within_its_age() -> None:
    assert verify_webhook(_token({"iat": int(NOW)}), SECRET, NOW + 60, body=BODY) is None
    assert verify_webhook(_token({"exp": int(NOW) + 60}), SECRET, NOW, body=BODY) is None


def test_payload_hash_candidates() -> None:
    spaced = b'{"uuid": "u1", "to": "x"}'
    hashes = payload_hashes(spaced, [])
    assert hashlib.sha256(spaced).hexdigest() in hashes
    assert hashlib.sha256(b'{"uuid":"u1","to":"x"}').hexdigest() in hashes
    query_hash = hashlib.sha256(b'{"to":"447700900001","from":"447700900000","uuid":"u1"}')
    assert payload_hashes(b"", QUERY) == {query_hash.hexdigest()}


def test_upper_case_hex_is_accepted() -> None:
    claims = {"iat": int(NOW), "payload_hash": hashlib.sha256(BODY).hexdigest().upper()}
    assert verify_webhook(_token(claims), SECRET, NOW, body=BODY) is None
