"""SignalWire signatures: scheme A (hex over URL + raw body), scheme B (Twilio's, base64)."""

from __future__ import annotations

import base64
import hashlib
import hmac
from urllib.parse import urlencode

import pytest

from gateway.carriers.signalwire.signature import compute_signature, validate_signature
from gateway.carriers.twilio.signature import compute_signature as twilio_signature

KEY = "PSKsigning-key-0123"
URL = "https://gw.example.com/signalwire/voice"
FORM = [("CallSid", "2b0f7d9c"), ("From", "+15550001"), ("To", "+15550002")]
BODY = urlencode(FORM).encode()


def test_scheme_b_is_twilios_algorithm_for_plain_forms() -> None:
    assert compute_signature(URL, FORM, KEY) == twilio_signature(URL, FORM, KEY)
    assert validate_signature(URL, BODY, compute_signature(URL, FORM, KEY), KEY)


def test_scheme_a_is_hex_over_the_url_and_the_raw_body() -> None:
    body = b'{"call":{"call_id":"abc"}}'
    signature = hmac.new(KEY.encode(), URL.encode() + body, hashlib.sha1).hexdigest()
    assert validate_signature(URL, body, signature, KEY)
    assert not validate_signature(URL, body + b" ", signature, KEY)


def test_repeated_names_keep_their_order_in_scheme_b() -> None:
    form = [("b", "2"), ("a", "z"), ("a", "y")]
    expected = base64.b64encode(
        hmac.new(KEY.encode(), (URL + "azayb2").encode(), hashlib.sha1).digest()
    ).decode()
    assert compute_signature(URL, form, KEY) == expected
    assert validate_signature(URL, urlencode(form).encode(), expected, KEY)


def test_port_variants() -> None:
    signed_with_port = compute_signature("https://gw.example.com:443/signalwire/voice", FORM, KEY)
    assert validate_signature(URL, BODY, signed_with_port, KEY)
    signed_without = compute_signature(URL, FORM, KEY)
    assert validate_signature(
        "https://gw.example.com:443/signalwire/voice", BODY, signed_without, KEY
    )
    assert not validate_signature(
        "https://gw.example.com:8443/signalwire/voice", BODY, signed_without, KEY
    )


def test_json_on_the_compatibility_surface_with_body_sha256() -> None:
    body = b'{"a":1}'
    url = f"{URL}?bodySHA256={hashlib.sha256(body).hexdigest()}"
    signature = compute_signature(url, [], KEY)
    assert validate_signature(url, body, signature, KEY)
    assert not validate_signature(url, b'{"a":2}', signature, KEY)


@pytest.mark.parametrize("signature", [None, "", "bogus", compute_signature(URL, FORM, "other")])
def test_anything_else_fails(signature: str | None) -> None:
    assert not validate_signature(URL, BODY, signature, KEY)
