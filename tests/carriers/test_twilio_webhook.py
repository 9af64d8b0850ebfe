"""Twilio's webhook forms as typed facts."""

from __future__ import annotations

from gateway.carriers.twilio.webhook import (
    StreamStatus,
    VoiceWebhook,
    parse_stream_status,
    parse_voice_webhook,
)


def test_a_voice_webhook_form() -> None:
    form = [
        ("AccountSid", "AC1"),
        ("CallSid", "CA1"),
        ("CallStatus", "ringing"),
        ("Direction", "inbound"),
        ("From", "+15550001"),
        ("To", "+15550002"),
        ("To", "+1999"),  # a repeated field: the first value counts
    ]
    assert parse_voice_webhook(form) == VoiceWebhook(
        call_id="CA1",
        account_id="AC1",
        to_number="+15550002",
        from_number="+15550001",
        direction="inbound",
        status="ringing",
    )


def test_a_webhook_without_a_call_sid_is_none() -> None:
    assert parse_voice_webhook([("From", "+1")]) is None
    assert parse_voice_webhook([("CallSid", "")]) is None


def test_stream_status_callbacks() -> None:
    form = [("CallSid", "CA1"), ("StreamSid", "MZ1"), ("StreamEvent", "stream-error"),
            ("StreamError", "31920")]  # fmt: skip
    assert parse_stream_status(form) == StreamStatus("CA1", "MZ1", "stream-error", "31920")
    assert parse_stream_status([("CallSid", "CA1"), ("CallStatus", "completed")]).event == (
        "completed"
    )
