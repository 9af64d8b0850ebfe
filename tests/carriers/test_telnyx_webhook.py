"""TeXML webhooks (form or JSON) and the exact `<Connect><Stream>` answer."""

from __future__ import annotations

import json
from urllib.parse import urlencode

import pytest

from gateway.carriers.telnyx.webhook import body_fields, parse_status, parse_webhook, texml_stream
from gateway.carriers.twilio.webhook import VoiceWebhook

FORM = {
    "AccountSid": "acct-1",
    "CallSid": "v3:abc",
    "CallSessionId": "428c31b6",
    "From": "+15550001",
    "To": "+15550002",
    "Direction": "inbound",
    "CallStatus": "ringing",
}
EXPECTED = VoiceWebhook("v3:abc", "acct-1", "+15550002", "+15550001", "inbound", "ringing")


def test_a_form_webhook() -> None:
    body = urlencode(FORM).encode()
    assert parse_webhook(body, "application/x-www-form-urlencoded") == EXPECTED


def test_a_json_webhook() -> None:
    body = json.dumps(FORM).encode()
    assert parse_webhook(body, "application/json; charset=utf-8") == EXPECTED


def test_a_call_control_envelope() -> None:
    envelope = {
        "data": {
            "event_type": "call.initiated",
            "payload": {
                "call_control_id": "v3:xyz",
                "from": "+1",
                "to": "+2",
                "direction": "incoming",
            },
        }
    }
    webhook = parse_webhook(json.dumps(envelope).encode(), "application/json")
    assert webhook == VoiceWebhook("v3:xyz", to_number="+2", from_number="+1", direction="incoming")


@pytest.mark.parametrize(
    ("body", "content_type"),
    [(b"", None), (b"From=%2B1", None), (b"[1,2]", "application/json"), (b"{", "application/json")],
)
def test_no_call_id_is_none(body: bytes, content_type: str | None) -> None:
    assert parse_webhook(body, content_type) is None


def test_body_fields_never_raise() -> None:
    assert body_fields(b"\xff\xfe=1", None) == [("\ufffd\ufffd", "1")]
    assert body_fields(b'{"a": {"b": 1}, "c": 2}', "application/json") == [("c", "2")]


def test_status_callback() -> None:
    body = urlencode({"CallSid": "v3:abc", "StreamSid": "s1", "StreamEvent": "stream-stopped"})
    status = parse_status(body.encode(), None)
    assert (status.call_id, status.stream_id, status.event) == ("v3:abc", "s1", "stream-stopped")


def test_the_exact_texml_answer() -> None:
    assert texml_stream(
        "wss://gw.example.com/telnyx/media",
        "stream_token",
        "abc.DEF_-1",
        codec="PCMA",
        status_callback="https://gw.example.com/telnyx/status",
    ) == (
        '<?xml version="1.0" encoding="UTF-8"?><Response><Connect>'
        '<Stream url="wss://gw.example.com/telnyx/media?stream_token=abc.DEF_-1" '
        'track="inbound_track" codec="PCMA" bidirectionalMode="rtp" bidirectionalCodec="PCMA" '
        'statusCallback="https://gw.example.com/telnyx/status" statusCallbackMethod="POST" />'
        "</Connect></Response>"
    )


def test_refusals() -> None:
    with pytest.raises(ValueError, match="codec"):
        texml_stream("wss://gw/telnyx/media", "t", "x", codec="OPUS")
    with pytest.raises(ValueError, match="query"):
        texml_stream("wss://gw/telnyx/media?a=1", "t", "x")
    with pytest.raises(ValueError, match="wss"):
        texml_stream("https://gw/telnyx/media", "t", "x")
