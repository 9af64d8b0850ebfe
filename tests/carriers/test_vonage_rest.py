"""Vonage REST call control: PUT /v1/calls/{uuid}, RS256 application JWT, outcomes."""

from __future__ import annotations

import functools

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from gateway.carriers.control import ControlOutcome
from gateway.carriers.vonage.rest import TOKEN_TTL_S, VonageCallControl
from gateway.core.events import HangUp, Transfer

APP_ID = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
NOW = 1_700_000_000.0
FROM = "+15550000"
TRANSFER = Transfer("+15551234567", "sales", "Connecting you.")
TRANSFER_BODY = {
    "action": "transfer",
    "destination": {
        "type": "ncco",
        "ncco": [
            {"action": "talk", "text": "Connecting you."},
            {
                "action": "connect",
                "endpoint": [{"type": "phone", "number": "15551234567"}],
                "from": "15550000",
            },
        ],
    },
}


@functools.cache
def keys() -> tuple[str, str]:
    """(private PEM, public PEM) of a throwaway RSA key."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public


def _control(**kwargs: object) -> VonageCallControl:
    return VonageCallControl(
        APP_ID,
        keys()[0],
        clock_s=lambda: NOW,
        new_id=lambda: "jti-1",
        api_base="http://127.0.0.1:9/",
        **kwargs,  # type: ignore[arg-type]
    )


def test_hang_up_is_a_put_with_a_signed_application_jwt() -> None:
    request = _control().request("call/uuid 1", HangUp())
    assert request.method == "PUT"
    assert request.url == "http://127.0.0.1:9/v1/calls/call%2Fuuid%201"
    assert request.json == {"action": "hangup"}
    scheme, token = request.headers["Authorization"].split(" ")
    assert scheme == "Bearer"
    claims = jwt.decode(token, keys()[1], algorithms=["RS256"], options={"verify_exp": False})
    assert claims == {
        "application_id": APP_ID,
        "iat": int(NOW),
        "exp": int(NOW) + TOKEN_TTL_S,
        "jti": "jti-1",
    }
    assert "jwt" not in repr(request).lower()
    assert "PRIVATE" not in repr(_control())


def test_transfer_and_goodbye_are_ncco_transfers() -> None:
    request = _control(from_number=FROM).request("u1", TRANSFER)
    assert request.json == TRANSFER_BODY
    assert request.description == "vonage call update: transfer to sales"
    goodbye = _control().request("u1", HangUp("Goodbye."))
    assert goodbye.json == {
        "action": "transfer",
        "destination": {"type": "ncco", "ncco": [{"action": "talk", "text": "Goodbye."}]},
    }


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        (204, ControlOutcome.DONE),
        (200, ControlOutcome.DONE),
        (404, ControlOutcome.ALREADY_ENDED),
        (410, ControlOutcome.ALREADY_ENDED),
        (429, ControlOutcome.RETRY),
        (503, ControlOutcome.RETRY),
        (400, ControlOutcome.FAILED),
        (401, ControlOutcome.FAILED),
    ],
)
def test_outcomes(status: int, outcome: ControlOutcome) -> None:
    assert _control().outcome(status, b"{}") is outcome
