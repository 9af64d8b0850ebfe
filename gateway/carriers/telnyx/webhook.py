"""Telnyx TeXML: the voice webhook's fields in, the `<Connect><Stream>` answer out (pure).

TeXML is Telnyx's TwiML-compatible markup (protocols.md C.1): a TeXML application fetches its
instructions from our `/telnyx/voice` with TwiML-style fields (`CallSid`, `AccountSid`, `From`,
`To`, `Direction`, `CallStatus`, plus `CallSessionId`, `ConnectionId`). Whether the body is a
url-encoded form or JSON depends on the application's settings [unverified], so both are read.

The answer opens a bidirectional stream in RTP mode with the same codec both ways (the bridge has
one media format per call) and carries the call's stream token in the stream URL's query string:
Telnyx's media socket has no signature of its own, and a `<Parameter>` child is not documented
for TeXML [unverified]. The fallbacks (`say_and_hang_up`, `say_and_dial`) are TwiML's verbs,
which TeXML shares.
"""

from __future__ import annotations

import json
from typing import Final
from urllib.parse import parse_qsl, urlencode

from gateway.carriers.twilio.webhook import (
    StreamStatus,
    VoiceWebhook,
    parse_stream_status,
    parse_voice_webhook,
)
from gateway.carriers.twiml import connect_stream

__all__ = ["TEXML_CODECS", "body_fields", "parse_status", "parse_webhook", "texml_stream"]

TEXML_CODECS: Final = ("PCMU", "PCMA")
"""Codecs the gateway asks for (G.711; both directions the same)."""


def body_fields(body: bytes, content_type: str | None) -> list[tuple[str, str]]:
    """The webhook's fields, from a JSON object or a url-encoded form (never raises)."""
    text = body.decode("utf-8", errors="replace")
    if (content_type or "").split(";", 1)[0].strip().lower() == "application/json":
        try:
            decoded = json.loads(text)
        except (ValueError, RecursionError):
            return []
        if type(decoded) is not dict:
            return []
        # Call Control style envelopes nest the fields under data.payload.
        data = decoded.get("data")
        payload = data.get("payload") if type(data) is dict else None
        fields = payload if type(payload) is dict else decoded
        return [(str(k), str(v)) for k, v in fields.items() if isinstance(v, str | int | float)]
    return parse_qsl(text, keep_blank_values=True)


def parse_webhook(body: bytes, content_type: str | None) -> VoiceWebhook | None:
    """The call a TeXML voice webhook describes, or None without a `CallSid`."""
    fields = body_fields(body, content_type)
    webhook = parse_voice_webhook(fields)
    if webhook is not None:
        return webhook
    # A Call Control envelope names the call `call_control_id`.
    named = dict(fields)
    call_id = named.get("call_control_id", "")
    if not call_id:
        return None
    return VoiceWebhook(
        call_id=call_id,
        to_number=named.get("to", ""),
        from_number=named.get("from", ""),
        direction=named.get("direction", ""),
    )


def parse_status(body: bytes, content_type: str | None) -> StreamStatus:
    """A stream status callback, read like Twilio's (TeXML keeps its field names)."""
    return parse_stream_status(body_fields(body, content_type))


def texml_stream(
    stream_url: str,
    token_parameter: str,
    token: str,
    *,
    codec: str = "PCMU",
    status_callback: str | None = None,
    redirect: str | None = None,
) -> str:
    """`<Connect><Stream>` to `stream_url?{token_parameter}={token}`, RTP mode, `codec` both ways.

    ValueError for a codec outside `TEXML_CODECS` or a URL that already has a query string.
    `redirect` (cluster mode): a `<Redirect>` after the `<Connect>`, which TeXML runs once the
    stream stopped (TeXML's `<Connect>` has no `action`).
    """
    if codec not in TEXML_CODECS:
        raise ValueError(f"Telnyx codec must be one of {', '.join(TEXML_CODECS)}")
    if "?" in stream_url:
        raise ValueError("the stream URL must not carry a query string of its own")
    url = f"{stream_url}?{urlencode({token_parameter: token})}"
    attributes = {
        "track": "inbound_track",
        "codec": codec,
        "bidirectionalMode": "rtp",
        "bidirectionalCodec": codec,
    }
    return connect_stream(
        url,
        {},
        status_callback=status_callback,
        attributes=attributes,
        allow_query=True,
        redirect=redirect,
    )
