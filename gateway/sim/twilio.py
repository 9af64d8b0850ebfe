"""Twilio as a caller of the gateway: the voice webhook, TwiML, the signed media stream.

protocols.md B.1 (TwiML), B.5 (`X-Twilio-Signature`): the webhook is a form POST signed over the
exact URL posted to plus the sorted form fields; the WebSocket upgrade is signed over the stream
URL with no parameters. Stream messages are `gateway.sim.twilio_stream`.
"""

from __future__ import annotations

import secrets
import uuid

from gateway.carriers.twilio.signature import compute_signature
from gateway.sim.dialect import StreamAnswer, WebhookRequest
from gateway.sim.script import SimOptions
from gateway.sim.twilio_stream import TwilioStream
from gateway.sim.twiml import parse_twiml

__all__ = ["TwilioDialect", "corrupt", "new_stream_sid", "webhook_form"]

WEBHOOK_USER_AGENT = "TwilioProxy/1.1"
STREAM_USER_AGENT = "Twilio.TmeWs/1.0"
"""User agent seen on Twilio's Media Streams upgrade requests in the field (not documented)."""

# Plausible geography for the default numbers; Twilio sends these for US numbers.
_FROM_PLACE = {"City": "SAN FRANCISCO", "State": "CA", "Zip": "94105", "Country": "US"}
_TO_PLACE = {"City": "BROOKLYN", "State": "NY", "Zip": "11201", "Country": "US"}


def new_stream_sid() -> str:
    """A random Twilio-shaped stream SID: `MZ` and 32 lowercase hex digits."""
    return "MZ" + secrets.token_hex(16)


def corrupt(signature: str) -> str:
    """The signature with its first character changed: still well-formed, never valid."""
    first = "B" if signature.startswith("A") else "A"
    return first + signature[1:]


def webhook_form(options: SimOptions) -> dict[str, str]:
    """The form fields of an inbound call's voice webhook (no CallToken), plus the extras."""
    form = {
        "AccountSid": options.account_sid,
        "ApiVersion": "2010-04-01",
        "CallSid": options.call_sid,
        "CallStatus": "ringing",
        "Called": options.to_number,
        "Caller": options.from_number,
        "Direction": "inbound",
        "From": options.from_number,
        "To": options.to_number,
    }
    for prefix, place in (("From", _FROM_PLACE), ("Caller", _FROM_PLACE)):
        form.update({prefix + key: value for key, value in place.items()})
    for prefix, place in (("To", _TO_PLACE), ("Called", _TO_PLACE)):
        form.update({prefix + key: value for key, value in place.items()})
    form.update(options.extra_webhook_fields)
    return form


def _signature_header(url: str, form: dict[str, str] | None, options: SimOptions) -> list[str]:
    if options.auth_token is None:
        return []
    signature = compute_signature(url, form, options.auth_token)
    return [corrupt(signature) if options.corrupt_signature else signature]


class TwilioDialect:
    """The `CarrierDialect` for Twilio Programmable Voice with `<Connect><Stream>`."""

    name = "twilio"
    webhook_path = "/twilio/voice"

    def webhook(self, base_url: str, options: SimOptions) -> WebhookRequest:
        url = base_url.rstrip("/") + self.webhook_path
        form = webhook_form(options)
        headers = [
            ("User-Agent", WEBHOOK_USER_AGENT),
            ("Content-Type", "application/x-www-form-urlencoded"),
            ("Accept", "*/*"),
            ("Cache-Control", "max-age=259200"),
            ("I-Twilio-Idempotency-Token", str(uuid.uuid4())),
            ("X-Home-Region", "us1"),
        ]
        if options.sign_webhook:
            headers += [("X-Twilio-Signature", s) for s in _signature_header(url, form, options)]
        return WebhookRequest(url, tuple(form.items()), tuple(headers))

    def action_request(self, url: str, options: SimOptions) -> WebhookRequest:
        """The `<Connect action>` request once the stream ended without the caller hanging up:
        the call's form with `CallStatus=in-progress`, signed over `url` like the webhook."""
        form = webhook_form(options) | {"CallStatus": "in-progress"}
        headers = [
            ("User-Agent", WEBHOOK_USER_AGENT),
            ("Content-Type", "application/x-www-form-urlencoded"),
            ("I-Twilio-Idempotency-Token", str(uuid.uuid4())),
        ]
        if options.sign_webhook:
            headers += [("X-Twilio-Signature", s) for s in _signature_header(url, form, options)]
        return WebhookRequest(url, tuple(form.items()), tuple(headers))

    def parse_answer(self, body: str) -> StreamAnswer:
        return parse_twiml(body)

    def upgrade_headers(self, stream_url: str, options: SimOptions) -> list[tuple[str, str]]:
        headers = [("User-Agent", STREAM_USER_AGENT)]
        if options.sign_upgrade:
            # B.5: the upgrade is a GET with no body, signed over the URL alone.
            headers += [
                ("X-Twilio-Signature", s) for s in _signature_header(stream_url, None, options)
            ]
        return headers

    def new_stream(self, options: SimOptions) -> TwilioStream:
        return TwilioStream(options.account_sid, options.call_sid, new_stream_sid())
