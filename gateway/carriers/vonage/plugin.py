"""Vonage as a plug-in: NCCO answers, signed-webhook JWTs, the media websocket, the Voice API.

* voice (`GET|POST /vonage/voice`): the application's answer URL. Checks the signed-webhook JWT
  under VONAGE_SIGNATURE_SECRET and answers an NCCO that connects the call to `/vonage/media`
  with the call's UUID and token in the endpoint's `headers`.
* event (`POST /vonage/event`): the application's event URL: status changes, logged.
* media (`WS /vonage/media`): Vonage signs no websocket upgrade, so the socket is accepted and
  the stream token in `websocket:connected` decides.
"""

from __future__ import annotations

import json

from gateway.carriers.messages import bounded_id
from gateway.carriers.plugin import (
    Callback,
    CarrierPlugin,
    ControlContext,
    Document,
    LogLine,
    MediaAccepted,
    MediaRefused,
    MediaUpgrade,
    Refusal,
    SimDialect,
    VoiceWebhook,
    Webhook,
)
from gateway.carriers.urls import websocket_url
from gateway.carriers.vonage.ncco import action_ncco, answer_ncco
from gateway.carriers.vonage.rest import VonageCallControl
from gateway.carriers.vonage.settings import VARIABLES, VonageSettings, read_settings
from gateway.carriers.vonage.signature import verify_webhook
from gateway.carriers.vonage.translator import CALL_ID_HEADER, VonageTranslator
from gateway.carriers.vonage.webhook import parse_answer, parse_event
from gateway.core.events import HangUp, Transfer
from gateway.core.stream_tokens import STREAM_TOKEN_PARAMETER

__all__ = ["VONAGE"]

NCCO = "application/json"


def _verify(settings: VonageSettings, webhook: Webhook) -> str | None:
    # The JWT covers the payload (payload_hash), not the URL; the refusal says what failed.
    assert settings.signature_secret is not None
    return verify_webhook(
        webhook.header("authorization"),
        settings.signature_secret,
        webhook.now_s,
        body=webhook.body,
        query=list(webhook.query),
    )


def _call(settings: VonageSettings, webhook: Webhook) -> VoiceWebhook | None:
    return parse_answer(webhook.query, webhook.body)


def _answer(settings: VonageSettings, webhook: Webhook, call: VoiceWebhook, token: str) -> Document:
    headers = {CALL_ID_HEADER: call.call_id, STREAM_TOKEN_PARAMETER: token}
    stream_url = websocket_url(webhook.base_url, "/vonage/media")
    return Document(answer_ncco(stream_url, settings.audio_rate_hz, headers), NCCO)


def _fallback(settings: VonageSettings, call: VoiceWebhook, refusal: Refusal) -> Document:
    """A goodbye, then a connect to the fallback number if any."""
    message, transfer_to = refusal.message, refusal.transfer_to
    action = HangUp(message) if transfer_to is None else Transfer(transfer_to, "fallback", message)
    ncco = action_ncco(action, from_number=settings.from_number or call.to_number)
    return Document(json.dumps(ncco, separators=(",", ":")), NCCO)


def _event(settings: VonageSettings, webhook: Webhook) -> tuple[Document, LogLine]:
    call = parse_event(webhook.query, webhook.body)
    line = LogLine(
        "call.event",
        {
            "call_sid": bounded_id(call.call_id),
            "status": bounded_id(call.status),
            "detail": bounded_id(call.detail, 200),
        },
    )
    return Document("", "", 204), line


def _media(
    settings: VonageSettings, upgrade: MediaUpgrade, unsigned: bool
) -> MediaAccepted | MediaRefused:
    return MediaAccepted(VonageTranslator(stream_id="VS" + upgrade.nonce))


def _control(settings: VonageSettings, context: ControlContext) -> VonageCallControl | None:
    if settings.application_id is None or settings.private_key is None:
        return None
    return VonageCallControl(
        settings.application_id,
        settings.private_key,
        clock_s=context.clock_s,
        new_id=context.new_id,
        api_base=settings.api_base,
        from_number=settings.from_number,
    )


VONAGE: CarrierPlugin[VonageSettings] = CarrierPlugin(
    name="vonage",
    variables=VARIABLES,
    read_settings=read_settings,
    default_settings=VonageSettings,
    secret_name="VONAGE_SIGNATURE_SECRET",
    has_secret=lambda settings: settings.signature_secret is not None,
    verify=_verify,
    parse_call=_call,
    missing_call_id="uuid",
    answer=_answer,
    fallback=_fallback,
    media=_media,
    control=_control,
    sim=SimDialect(
        "gateway.sim.vonage:VonageDialect",
        "VONAGE_SIGNATURE_SECRET",
        None,
        "signature secret (the signed webhooks' HS256 JWT)",
    ),
    callbacks=(Callback("event", _event),),
    voice_methods=("GET", "POST"),
)
