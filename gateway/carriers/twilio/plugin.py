"""Twilio as a plug-in: TwiML answers, `X-Twilio-Signature`, Media Streams, the REST API.

* voice (`POST /twilio/voice`): checks `X-Twilio-Signature` over the URL and the form, answers
  `<Connect><Stream>` to `/twilio/media` with the stream token as a `<Parameter>`.
* status (`POST /twilio/status`): stream status callbacks, logged.
* media (`WS /twilio/media`): the upgrade is signed over the `wss://` URL with no parameters;
  a missing or wrong signature is refused before the socket opens.

Without TWILIO_AUTH_TOKEN, every webhook and upgrade is refused unless Twilio may run unsigned
(GATEWAY_UNSIGNED_CARRIERS, or the embedded-emulator development setup).
"""

from __future__ import annotations

from gateway.carriers import twiml
from gateway.carriers.plugin import (
    Callback,
    CarrierPlugin,
    ControlContext,
    Document,
    MediaAccepted,
    MediaRefused,
    MediaUpgrade,
    Refusal,
    SimDialect,
    VoiceWebhook,
    Webhook,
    status_line,
)
from gateway.carriers.twilio.rest import TwilioCallControl
from gateway.carriers.twilio.settings import VARIABLES, TwilioSettings, read_settings
from gateway.carriers.twilio.signature import validate_signature
from gateway.carriers.twilio.translator import TwilioTranslator
from gateway.carriers.twilio.webhook import parse_stream_status, parse_voice_webhook
from gateway.carriers.urls import websocket_url
from gateway.core.stream_tokens import STREAM_TOKEN_PARAMETER

__all__ = ["TWILIO", "twilio_call_control"]

XML = "application/xml"
SIGNATURE_HEADER = "x-twilio-signature"


def twilio_call_control(settings: TwilioSettings) -> TwilioCallControl | None:
    """Twilio call control from the settings, or None without an account SID and auth token."""
    if not settings.account_sid or not settings.auth_token:
        return None
    return TwilioCallControl(settings.account_sid, settings.auth_token, settings.api_base)


def _verify(settings: TwilioSettings, webhook: Webhook) -> str | None:
    signature = webhook.header(SIGNATURE_HEADER)
    valid = validate_signature(webhook.url, webhook.form(), signature, settings.auth_token or "")
    return None if valid else "bad signature"


def _call(settings: TwilioSettings, webhook: Webhook) -> VoiceWebhook | None:
    return parse_voice_webhook(webhook.form())


def _answer(settings: TwilioSettings, webhook: Webhook, call: VoiceWebhook, token: str) -> Document:
    base = webhook.base_url
    document = twiml.connect_stream(
        websocket_url(base, "/twilio/media"),
        {STREAM_TOKEN_PARAMETER: token},
        status_callback=f"{base}/twilio/status",
    )
    return Document(document, XML)


def fallback_document(settings: object, call: VoiceWebhook, refusal: Refusal) -> Document:
    """TwiML that says goodbye or dials the fallback number (Twilio, SignalWire, Telnyx)."""
    return Document(twiml.fallback(refusal.message, refusal.transfer_to), XML)


def _media(
    settings: TwilioSettings, upgrade: MediaUpgrade, unsigned: bool
) -> MediaAccepted | MediaRefused:
    token = settings.auth_token
    if token is None:
        if unsigned:
            return MediaAccepted(TwilioTranslator())
        return MediaRefused("TWILIO_AUTH_TOKEN not set")
    signature = upgrade.headers.get(SIGNATURE_HEADER)
    if upgrade.url is None or not validate_signature(upgrade.url, None, signature, token):
        return MediaRefused("bad upgrade signature")
    return MediaAccepted(TwilioTranslator())


def _control(settings: TwilioSettings, context: ControlContext) -> TwilioCallControl | None:
    return twilio_call_control(settings)


TWILIO: CarrierPlugin[TwilioSettings] = CarrierPlugin(
    name="twilio",
    variables=VARIABLES,
    read_settings=read_settings,
    default_settings=TwilioSettings,
    secret_name="TWILIO_AUTH_TOKEN",
    has_secret=lambda settings: settings.auth_token is not None,
    verify=_verify,
    parse_call=_call,
    missing_call_id="CallSid",
    answer=_answer,
    fallback=fallback_document,
    media=_media,
    control=_control,
    sim=SimDialect(
        "gateway.sim.twilio:TwilioDialect",
        "TWILIO_AUTH_TOKEN",
        "TWILIO_ACCOUNT_SID",
        "Auth Token (X-Twilio-Signature)",
    ),
    callbacks=(
        Callback("status", lambda s, webhook: status_line(parse_stream_status(webhook.form()))),
    ),
)
