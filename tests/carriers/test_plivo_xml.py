"""Plivo XML: the exact `<Stream>` answer, the token's two carriers, fallbacks and transfers."""

from __future__ import annotations

import pytest

from gateway.carriers.plivo.xml import (
    action_xml,
    header_value,
    parse_webhook,
    stream_xml,
    token_from_header,
)
from gateway.carriers.twilio.webhook import VoiceWebhook

TOKEN = "c3QxAAAA.ab-_Z9"
DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>'


def test_the_exact_stream_answer() -> None:
    assert stream_xml(
        "wss://gw.example.com/plivo/media",
        "stream_token",
        TOKEN,
        content_type="audio/x-l16;rate=16000",
        status_callback="https://gw.example.com/plivo/status",
    ) == (
        DECLARATION + '<Response><Stream bidirectional="true" audioTrack="inbound" '
        'keepCallAlive="true" contentType="audio/x-l16;rate=16000" '
        f'extraHeaders="streamtoken={TOKEN.encode().hex()}" '
        'statusCallbackUrl="https://gw.example.com/plivo/status" statusCallbackMethod="POST">'
        f"wss://gw.example.com/plivo/media?stream_token={TOKEN}</Stream></Response>"
    )


def test_the_header_form_of_the_token_is_alphanumeric_and_reversible() -> None:
    value = header_value(TOKEN)
    assert value.isalnum()
    assert token_from_header(value) == TOKEN
    assert token_from_header(value.upper()) == TOKEN
    for bad in ("", "abc", "zz", "0g"):
        assert token_from_header(bad) is None


def test_refusals() -> None:
    with pytest.raises(ValueError, match="query"):
        stream_xml("wss://gw/plivo/media?x=1", "t", "x")
    with pytest.raises(ValueError, match="wss"):
        stream_xml("https://gw/plivo/media", "t", "x")


def test_action_documents() -> None:
    assert action_xml("Goodbye.", None) == (
        DECLARATION + "<Response><Speak>Goodbye.</Speak><Hangup /></Response>"
    )
    assert action_xml(None, "+15551230100") == (
        DECLARATION + "<Response><Dial><Number>+15551230100</Number></Dial></Response>"
    )
    assert action_xml("One moment & thanks.", "sip:desk@pbx.example.com") == (
        DECLARATION + "<Response><Speak>One moment &amp; thanks.</Speak>"
        "<Dial><User>sip:desk@pbx.example.com</User></Dial></Response>"
    )
    with pytest.raises(ValueError, match="dial destination"):
        action_xml(None, "call mum")


def test_the_answer_webhook() -> None:
    form = [("CallUUID", "u-1"), ("From", "15550001"), ("To", "15550002"), ("Direction", "inbound")]
    assert parse_webhook(form) == VoiceWebhook(
        "u-1", to_number="15550002", from_number="15550001", direction="inbound"
    )
    assert parse_webhook([("From", "1")]) is None
