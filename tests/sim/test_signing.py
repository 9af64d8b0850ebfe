"""The simulator's webhook and upgrade requests, checked with Twilio's own RequestValidator."""

from __future__ import annotations

import re

import pytest
from twilio.request_validator import RequestValidator  # type: ignore[import-untyped]

from gateway.carriers.twilio.signature import validate_signature
from gateway.sim.script import SimOptions, new_call_sid
from gateway.sim.twilio import TwilioDialect, corrupt, new_stream_sid, webhook_form

TOKEN = "12345"


def header(headers: tuple[tuple[str, str], ...] | list[tuple[str, str]], name: str) -> list[str]:
    return [value for key, value in headers if key.lower() == name.lower()]


@pytest.mark.parametrize(
    "base_url",
    [
        "https://gw.example.com",
        "https://gw.example.com/",
        "https://gw.example.com:8443/prefix",
        "http://127.0.0.1:8080",
    ],
)
def test_the_webhook_signature_validates_with_twilios_request_validator(base_url: str) -> None:
    options = SimOptions(auth_token=TOKEN, extra_webhook_fields={"Digits": "1234", "To": "+1800"})
    request = TwilioDialect().webhook(base_url, options)
    assert request.url == base_url.rstrip("/") + "/twilio/voice"
    (signature,) = header(request.headers, "X-Twilio-Signature")
    form = dict(request.form)
    assert RequestValidator(TOKEN).validate(request.url, form, signature)
    assert validate_signature(request.url, form, signature, TOKEN)
    assert not RequestValidator("other").validate(request.url, form, signature)
    assert form["To"] == "+1800"  # extra fields override, and are signed with the rest


def test_the_webhook_carries_twilios_fields_and_headers() -> None:
    options = SimOptions(auth_token=TOKEN, call_sid="CA" + "c" * 32)
    request = TwilioDialect().webhook("https://gw.example.com", options)
    form = dict(request.form)
    assert form["AccountSid"] == options.account_sid
    assert form["ApiVersion"] == "2010-04-01"
    assert form["CallSid"] == "CA" + "c" * 32
    assert form["CallStatus"] == "ringing"
    assert form["Direction"] == "inbound"
    assert form["From"] == form["Caller"] == options.from_number
    assert form["To"] == form["Called"] == options.to_number
    assert {"FromCity", "FromCountry", "ToCountry", "CalledState", "CallerZip"} <= set(form)
    assert "CallToken" not in form
    assert header(request.headers, "User-Agent") == ["TwilioProxy/1.1"]
    (token,) = header(request.headers, "I-Twilio-Idempotency-Token")
    assert re.fullmatch(r"[0-9a-f-]{36}", token)
    assert header(request.headers, "Content-Type") == ["application/x-www-form-urlencoded"]


def test_the_upgrade_signature_is_over_the_stream_url_with_no_parameters() -> None:
    url = "wss://gw.example.com/twilio/media"
    headers = TwilioDialect().upgrade_headers(url, SimOptions(auth_token=TOKEN))
    (signature,) = header(headers, "X-Twilio-Signature")
    assert RequestValidator(TOKEN).validate(url, {}, signature)
    # protocols.md B.5 vector: token 12345 over wss://example.com/media.
    vector = TwilioDialect().upgrade_headers(
        "wss://example.com/media", SimOptions(auth_token=TOKEN)
    )
    assert header(vector, "X-Twilio-Signature") == ["7PR3qMkpDyEJtMrVOY/LDyNq8J8="]


def test_unsigned_and_corrupted_signatures() -> None:
    dialect = TwilioDialect()
    url = "wss://gw.example.com/twilio/media"
    unsigned = dialect.webhook("https://gw", SimOptions(auth_token=None))
    assert header(unsigned.headers, "X-Twilio-Signature") == []
    assert header(dialect.upgrade_headers(url, SimOptions()), "X-Twilio-Signature") == []
    off = SimOptions(auth_token=TOKEN, sign_webhook=False, sign_upgrade=False)
    assert header(dialect.webhook("https://gw", off).headers, "X-Twilio-Signature") == []
    assert header(dialect.upgrade_headers(url, off), "X-Twilio-Signature") == []
    bad = SimOptions(auth_token=TOKEN, corrupt_signature=True)
    request = dialect.webhook("https://gw", bad)
    (signature,) = header(request.headers, "X-Twilio-Signature")
    assert not RequestValidator(TOKEN).validate(request.url, dict(request.form), signature)
    (upgrade,) = header(dialect.upgrade_headers(url, bad), "X-Twilio-Signature")
    assert not RequestValidator(TOKEN).validate(url, {}, upgrade)


def test_corrupt_changes_exactly_the_first_character() -> None:
    assert corrupt("ABC=") == "BBC="
    assert corrupt("xyz=") == "Ayz="


def test_sids_are_twilio_shaped() -> None:
    assert re.fullmatch(r"CA[0-9a-f]{32}", new_call_sid())
    assert re.fullmatch(r"MZ[0-9a-f]{32}", new_stream_sid())
    assert new_call_sid() != new_call_sid()
    assert re.fullmatch(r"CA[0-9a-f]{32}", SimOptions().call_sid)


def test_extra_fields_override_and_extend() -> None:
    form = webhook_form(SimOptions(extra_webhook_fields={"CallStatus": "in-progress", "X": "1"}))
    assert form["CallStatus"] == "in-progress"
    assert form["X"] == "1"


def test_options_validation() -> None:
    with pytest.raises(ValueError, match="speed"):
        SimOptions(speed=0)
    with pytest.raises(ValueError, match="timeouts"):
        SimOptions(http_timeout_s=0)
