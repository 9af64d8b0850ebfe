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

from gateway.carriers import plugin
from gateway.carriers.messages import bounded_id
from gateway.carriers.urls import websocket_url
from gateway.carriers.vonage.dial import VonageDialer
from gateway.carriers.vonage.ncco import action_ncco, answer_ncco
from gateway.carriers.vonage.rest import VonageCallControl
from gateway.carriers.vonage.settings import OPTIONS, VonageSettings, read_settings
from gateway.carriers.vonage.signature import verify_webhook
from gateway.carriers.vonage.translator import CALL_ID_HEADER, VonageTranslator
from gateway.carriers.vonage.webhook import parse_answer, parse_event
from gateway.core.events import HangUp, Transfer
from gateway.core.stream_tokens import STREAM_TOKEN_PARAMETER
from gateway.env_reader import EnvReader

__all__ = ["VONAGE", "VonagePlugin"]

NCCO = "application/json"


def _event(
    settings: VonageSettings, webhook: plugin.Webhook
) -> tuple[plugin.Document, plugin.LogLine]:
    call = parse_event(webhook.query, webhook.body)
    fields = {
        "call_sid": bounded_id(call.call_id),
        "status": bounded_id(call.status),
        "detail": bounded_id(call.detail, 200),
    }
    return plugin.Document("", "", 204), plugin.LogLine("call.event", fields)


class VonagePlugin(plugin.CarrierPlugin[VonageSettings]):
    name = "vonage"
    options = OPTIONS
    secret_name = "VONAGE_SIGNATURE_SECRET"
    missing_call_id = "uuid"
    sim = plugin.SimDialect(
        "gateway.sim.vonage:VonageDialect",
        "VONAGE_SIGNATURE_SECRET",
        None,
        "signature secret (the signed webhooks' HS256 JWT)",
    )
    callbacks = (plugin.Callback("event", _event),)
    voice_methods = ("GET", "POST")

    def read_settings(self, reader: EnvReader, allow_unsigned: bool) -> VonageSettings:
        return read_settings(reader, allow_unsigned)

    def has_secret(self, settings: VonageSettings) -> bool:
        return settings.signature_secret is not None

    def verify(self, settings: VonageSettings, webhook: plugin.Webhook) -> str | None:
        # The JWT covers the payload (payload_hash), not the URL; the refusal says what failed.
        assert settings.signature_secret is not None
        authorization, query = webhook.header("authorization"), list(webhook.query)
        secret, now_s, body = settings.signature_secret, webhook.now_s, webhook.body
        return verify_webhook(authorization, secret, now_s, body=body, query=query)

    def parse_call(
        self, settings: VonageSettings, webhook: plugin.Webhook
    ) -> plugin.VoiceWebhook | None:
        return parse_answer(webhook.query, webhook.body)

    def answer(
        self,
        settings: VonageSettings,
        webhook: plugin.Webhook,
        call: plugin.VoiceWebhook,
        token: str,
    ) -> plugin.Document:
        headers = {CALL_ID_HEADER: call.call_id, STREAM_TOKEN_PARAMETER: token}
        stream_url = websocket_url(webhook.base_url, "/vonage/media")
        return plugin.Document(answer_ncco(stream_url, settings.audio_rate_hz, headers), NCCO)

    def fallback(
        self, settings: VonageSettings, call: plugin.VoiceWebhook, refusal: plugin.Refusal
    ) -> plugin.Document:
        """A goodbye, then a connect to the fallback number if any."""
        message, transfer_to = refusal.message, refusal.transfer_to
        if transfer_to is None:
            action: HangUp | Transfer = HangUp(message)
        else:
            action = Transfer(transfer_to, "fallback", message)
        ncco = action_ncco(action, from_number=settings.from_number or call.to_number)
        return plugin.Document(json.dumps(ncco, separators=(",", ":")), NCCO)

    def media(
        self, settings: VonageSettings, upgrade: plugin.MediaUpgrade, unsigned: bool
    ) -> plugin.MediaAccepted | plugin.MediaRefused:
        return plugin.MediaAccepted(VonageTranslator(stream_id="VS" + upgrade.nonce))

    def rest_base(self, settings: VonageSettings) -> str | None:
        configured = settings.application_id and settings.private_key
        return settings.api_base if configured else None

    def control(
        self, settings: VonageSettings, context: plugin.ControlContext
    ) -> VonageCallControl | None:
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

    def dialer(
        self, settings: VonageSettings, context: plugin.ControlContext
    ) -> VonageDialer | None:
        if settings.application_id is None or settings.private_key is None:
            return None
        return VonageDialer(
            settings.application_id,
            settings.private_key,
            settings.api_base,
            clock_s=context.clock_s,
            new_id=context.new_id,
        )


VONAGE = VonagePlugin()
