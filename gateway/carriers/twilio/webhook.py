"""Twilio's HTTP callbacks as typed facts: the voice webhook and the stream status callback.

Form field names (`CallSid`, `StreamEvent`, ...) stay here, next to the media translator; the
routes see only these dataclasses. Parsing never raises: a webhook without a CallSid is `None`.
"""

from __future__ import annotations

from collections.abc import Iterable

from gateway.carriers.plugin import StreamStatus, VoiceWebhook

__all__ = ["StreamStatus", "VoiceWebhook", "parse_stream_status", "parse_voice_webhook"]


def _first(form: Iterable[tuple[str, str]]) -> dict[str, str]:
    fields: dict[str, str] = {}
    for name, value in form:
        fields.setdefault(name, value)
    return fields


def parse_voice_webhook(form: Iterable[tuple[str, str]]) -> VoiceWebhook | None:
    """The call described by a voice webhook's form, or None without a CallSid."""
    fields = _first(form)
    call_id = fields.get("CallSid", "")
    if not call_id:
        return None
    return VoiceWebhook(
        call_id=call_id,
        account_id=fields.get("AccountSid", ""),
        to_number=fields.get("To", ""),
        from_number=fields.get("From", ""),
        direction=fields.get("Direction", ""),
        status=fields.get("CallStatus", ""),
    )


def parse_stream_status(form: Iterable[tuple[str, str]]) -> StreamStatus:
    """A stream status callback (a call status callback maps its CallStatus to `event`)."""
    fields = _first(form)
    return StreamStatus(
        call_id=fields.get("CallSid", ""),
        stream_id=fields.get("StreamSid", ""),
        event=fields.get("StreamEvent") or fields.get("CallStatus", ""),
        error=fields.get("StreamError", ""),
    )
