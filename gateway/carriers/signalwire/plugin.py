"""SignalWire as a plug-in: cXML (Twilio's TwiML dialect), its signature, its media stream.

* voice (`POST /signalwire/voice`): checks `X-SignalWire-Signature` (or `X-Twilio-Signature`)
  with SIGNALWIRE_SIGNING_KEY, answers `<Connect><Stream>` with the token as a `<Parameter>` and
  as `authBearerToken`, and the configured `codec`.
* status (`POST /signalwire/status`): stream status callbacks, logged.
* media (`WS /signalwire/media`): whether SignalWire signs the upgrade is not verified, so a
  signature there is only logged (`stream.upgrade_signature`); the token (`start`'s custom
  parameters, else the handshake's bearer) decides at `start`.
"""

from __future__ import annotations

from collections.abc import Mapping

from gateway.carriers import twiml
from gateway.carriers.plugin import (
    Callback,
    CarrierPlugin,
    ControlContext,
    Document,
    LogLine,
    MediaAccepted,
    MediaRefused,
    MediaUpgrade,
    SimDialect,
    VoiceWebhook,
    Webhook,
    status_line,
)
from gateway.carriers.signalwire.rest import signalwire_control
from gateway.carriers.signalwire.settings import VARIABLES, SignalWireSettings, read_settings
from gateway.carriers.signalwire.signature import SIGNATURE_HEADERS, validate_signature
from gateway.carriers.signalwire.translator import codec_attribute, signalwire_translator
from gateway.carriers.twilio.plugin import fallback_document
from gateway.carriers.twilio.rest import TwilioCallControl
from gateway.carriers.twilio.webhook import parse_stream_status, parse_voice_webhook
from gateway.carriers.urls import websocket_url
from gateway.core.stream_tokens import STREAM_TOKEN_PARAMETER

__all__ = ["SIGNALWIRE"]


def _signature(headers: Mapping[str, str]) -> str | None:
    for name in SIGNATURE_HEADERS:
        value = headers.get(name.lower())
        if value:
            return value
    return None


def _verify(settings: SignalWireSettings, webhook: Webhook) -> str | None:
    key = settings.signing_key or ""
    valid = validate_signature(webhook.url, webhook.body, _signature(webhook.headers), key)
    return None if valid else "bad signature"


def _call(settings: SignalWireSettings, webhook: Webhook) -> VoiceWebhook | None:
    return parse_voice_webhook(webhook.form())


def _answer(
    settings: SignalWireSettings, webhook: Webhook, call: VoiceWebhook, token: str
) -> Document:
    base = webhook.base_url
    codec = codec_attribute(settings.codec)
    attributes = {"authBearerToken": token} | ({} if codec is None else {"codec": codec})
    document = twiml.connect_stream(
        websocket_url(base, "/signalwire/media"),
        {STREAM_TOKEN_PARAMETER: token},
        status_callback=f"{base}/signalwire/status",
        attributes=attributes,
    )
    return Document(document, "application/xml")


def _media(
    settings: SignalWireSettings, upgrade: MediaUpgrade, unsigned: bool
) -> MediaAccepted | MediaRefused:
    notes: tuple[LogLine, ...] = ()
    key, signature = settings.signing_key, _signature(upgrade.headers)
    if key is not None and signature is not None and upgrade.url is not None:
        # Twilio's form of it (over the `wss://` URL, no parameters); the token guards the stream.
        valid = validate_signature(upgrade.url, b"", signature, key)
        notes = (LogLine("stream.upgrade_signature", {"valid": valid}),)
    scheme, _, bearer = upgrade.headers.get("authorization", "").partition(" ")
    presented = {STREAM_TOKEN_PARAMETER: bearer} if scheme.lower() == "bearer" and bearer else {}
    translator = signalwire_translator(
        presented, l16_big_endian=settings.l16_big_endian, codec=settings.codec
    )
    return MediaAccepted(translator, notes)


def _control(settings: SignalWireSettings, context: ControlContext) -> TwilioCallControl | None:
    if settings.project_id is None or settings.api_token is None or settings.space_url is None:
        return None
    try:
        return signalwire_control(settings.project_id, settings.api_token, settings.space_url)
    except ValueError:
        raise ValueError("malformed SIGNALWIRE_PROJECT_ID") from None


SIGNALWIRE: CarrierPlugin[SignalWireSettings] = CarrierPlugin(
    name="signalwire",
    variables=VARIABLES,
    read_settings=read_settings,
    default_settings=SignalWireSettings,
    secret_name="SIGNALWIRE_SIGNING_KEY",
    has_secret=lambda settings: settings.signing_key is not None,
    verify=_verify,
    parse_call=_call,
    missing_call_id="CallSid",
    answer=_answer,
    fallback=fallback_document,
    media=_media,
    control=_control,
    sim=SimDialect(
        "gateway.sim.signalwire:SignalWireDialect",
        "SIGNALWIRE_SIGNING_KEY",
        "SIGNALWIRE_PROJECT_ID",
        "Signing Key (X-SignalWire-Signature)",
    ),
    callbacks=(
        Callback("status", lambda s, webhook: status_line(parse_stream_status(webhook.form()))),
    ),
)
