"""Telnyx (TeXML) as a caller of the gateway: the signed voice webhook, TeXML, the media stream.

protocols.md C.1. The webhook is a url-encoded form POST with TeXML's TwiML-style fields, signed
with Ed25519 over `"{timestamp}|{body}"` (`telnyx-signature-ed25519`, `telnyx-timestamp`). The
simulator's signing secret (`SimOptions.auth_token`) is the base64 32-byte seed of the Ed25519
private key whose public key the gateway holds (TELNYX_PUBLIC_KEY). The answer is TeXML: a
`<Connect><Stream>` in bidirectional RTP mode, one codec both ways (PCMU or PCMA); its URL may
carry a query string, which Telnyx keeps. The media socket carries no signature. Stream
messages are `gateway.sim.telnyx_stream`.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from urllib.parse import urlencode

from gateway.audio.paths import Encoding
from gateway.carriers.telnyx.signature import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    private_key_from_text,
    sign,
)
from gateway.sim.codecs import StreamCodec
from gateway.sim.dialect import AnswerRefusedError, StreamAnswer, WebhookRequest
from gateway.sim.script import SimOptions
from gateway.sim.telnyx_stream import TelnyxStream
from gateway.sim.twilio import corrupt
from gateway.sim.twiml import parse_twiml

__all__ = ["CODECS", "TelnyxDialect"]

WEBHOOK_USER_AGENT = "Telnyx-TeXML/1.0"
"""Ours: Telnyx's webhook user agent is not documented."""
CODECS = {"PCMU": Encoding.MULAW, "PCMA": Encoding.ALAW}
_SCHEMA = 12200  # TwiML's schema-validation code, which TeXML mirrors


class TelnyxDialect:
    """The `CarrierDialect` for a Telnyx TeXML application with `<Connect><Stream>`."""

    name = "telnyx"
    webhook_path = "/telnyx/voice"

    def __init__(self, *, swap_every: int = 0, clock_s: Callable[[], float] = time.time) -> None:
        self.swap_every = swap_every
        """Send every Nth media frame after the next one (0: in order)."""
        self._clock_s = clock_s
        self.codec = "PCMU"
        """The codec the last answer asked for."""
        self.stream: TelnyxStream | None = None
        """The last stream opened (its `swapped` count, for tests)."""

    def webhook(self, base_url: str, options: SimOptions) -> WebhookRequest:
        url = base_url.rstrip("/") + self.webhook_path
        form = {
            "AccountSid": options.account_sid,
            "CallSid": options.call_sid,
            "CallSessionId": str(uuid.uuid4()),
            "CallStatus": "ringing",
            "ConnectionId": "1684641123236054244",
            "Direction": "inbound",
            "From": options.from_number,
            "To": options.to_number,
            **options.extra_webhook_fields,
        }
        return self._signed_form(url, form, options)

    def action_request(self, url: str, options: SimOptions) -> WebhookRequest:
        """The `<Redirect>` after `<Connect>` once the stream stopped (TeXML's equivalent of
        Twilio's `<Connect action>`): the call's form, `CallStatus=in-progress`, signed."""
        form = {
            "AccountSid": options.account_sid,
            "CallSid": options.call_sid,
            "CallStatus": "in-progress",
            "Direction": "inbound",
            "From": options.from_number,
            "To": options.to_number,
        }
        return self._signed_form(url, form, options)

    def _signed_form(self, url: str, form: dict[str, str], options: SimOptions) -> WebhookRequest:
        body = urlencode(form).encode("ascii")
        headers = [
            ("User-Agent", WEBHOOK_USER_AGENT),
            ("Content-Type", "application/x-www-form-urlencoded"),
        ]
        if options.sign_webhook and options.auth_token is not None:
            timestamp = str(int(self._clock_s()))
            signature = sign(body, timestamp, private_key_from_text(options.auth_token))
            if options.corrupt_signature:
                signature = corrupt(signature)
            headers += [(SIGNATURE_HEADER, signature), (TIMESTAMP_HEADER, timestamp)]
        return WebhookRequest(url, tuple(form.items()), tuple(headers), body=body)

    def parse_answer(self, body: str) -> StreamAnswer:
        answer = parse_twiml(body, allow_query=True)
        if answer.stream_url is None:
            return answer
        attributes = dict(answer.attributes)
        if attributes.get("bidirectionalMode") != "rtp":
            raise AnswerRefusedError(
                _SCHEMA, "the gateway needs bidirectionalMode='rtp' to play raw audio back"
            )
        codec = attributes.get("codec", "PCMU")
        if codec not in CODECS or attributes.get("bidirectionalCodec", "PCMU") != codec:
            raise AnswerRefusedError(
                _SCHEMA, f"codec {codec!r} both ways is needed (PCMU or PCMA), got {attributes}"
            )
        self.codec = codec
        return answer

    def upgrade_headers(self, stream_url: str, options: SimOptions) -> list[tuple[str, str]]:
        del stream_url, options  # Telnyx signs no media socket
        return [("User-Agent", "Telnyx-MediaStreaming/1.0")]

    def new_stream(self, options: SimOptions) -> TelnyxStream:
        codec = StreamCodec(CODECS[self.codec])
        stream_id = str(uuid.uuid4())
        self.stream = TelnyxStream(
            options.call_sid, stream_id, self.codec, codec, swap_every=self.swap_every
        )
        return self.stream
