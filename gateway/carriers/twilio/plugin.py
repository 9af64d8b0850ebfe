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

from gateway.carriers import plugin, twiml
from gateway.carriers.twilio.dial import TwilioDialer
from gateway.carriers.twilio.rest import TwilioCallControl
from gateway.carriers.twilio.settings import OPTIONS, TwilioSettings, read_settings
from gateway.carriers.twilio.signature import validate_signature
from gateway.carriers.twilio.translator import TwilioTranslator
from gateway.carriers.twilio.webhook import parse_stream_status, parse_voice_webhook
from gateway.carriers.urls import websocket_url
from gateway.core.stream_tokens import STREAM_TOKEN_PARAMETER
from gateway.env_reader import EnvReader

__all__ = ["TWILIO", "TwilioPlugin", "fallback_document", "twilio_call_control"]

XML = "application/xml"
SIGNATURE_HEADER = "x-twilio-signature"


def twilio_call_control(settings: TwilioSettings) -> TwilioCallControl | None:
    """Twilio call control from the settings, or None without an account SID and auth token."""
    if not settings.account_sid or not settings.auth_token:
        return None
    return TwilioCallControl(settings.account_sid, settings.auth_token, settings.api_base)


def fallback_document(refusal: plugin.Refusal) -> plugin.Document:
    """TwiML that says goodbye or dials the fallback number (Twilio, SignalWire, Telnyx)."""
    return plugin.Document(twiml.fallback(refusal.message, refusal.transfer_to), XML)


def form_status(
    settings: object, webhook: plugin.Webhook
) -> tuple[plugin.Document, plugin.LogLine]:
    """A Twilio-style stream status callback (a form), logged."""
    return plugin.status_line(parse_stream_status(webhook.form()))


class TwilioPlugin(plugin.CarrierPlugin[TwilioSettings]):
    name = "twilio"
    options = OPTIONS
    secret_name = "TWILIO_AUTH_TOKEN"
    missing_call_id = "CallSid"
    media_message_ms = 100  # protocols.md: larger media messages play as they come
    sim = plugin.SimDialect(
        "gateway.sim.twilio:TwilioDialect",
        "TWILIO_AUTH_TOKEN",
        "TWILIO_ACCOUNT_SID",
        "Auth Token (X-Twilio-Signature)",
    )
    callbacks = (plugin.Callback("status", form_status),)

    def read_settings(self, reader: EnvReader, allow_unsigned: bool) -> TwilioSettings:
        return read_settings(reader, allow_unsigned)

    def has_secret(self, settings: TwilioSettings) -> bool:
        return settings.auth_token is not None

    def verify(self, settings: TwilioSettings, webhook: plugin.Webhook) -> str | None:
        signature = webhook.header(SIGNATURE_HEADER)
        token = settings.auth_token or ""
        valid = validate_signature(webhook.url, webhook.form(), signature, token)
        return None if valid else "bad signature"

    def parse_call(
        self, settings: TwilioSettings, webhook: plugin.Webhook
    ) -> plugin.VoiceWebhook | None:
        return parse_voice_webhook(webhook.form())

    def answer(
        self,
        settings: TwilioSettings,
        webhook: plugin.Webhook,
        call: plugin.VoiceWebhook,
        token: str,
    ) -> plugin.Document:
        return self._connect(webhook.base_url, token, None)

    carries_on = True

    def answer_carrying_on(
        self,
        settings: TwilioSettings,
        webhook: plugin.Webhook,
        call: plugin.VoiceWebhook,
        token: str,
        action_url: str,
    ) -> plugin.Document:
        return self._connect(webhook.base_url, token, action_url)

    def stream_ended(self, settings: TwilioSettings) -> plugin.Document:
        return plugin.Document(twiml.empty(), XML)

    @staticmethod
    def _connect(base: str, token: str, action: str | None) -> plugin.Document:
        document = twiml.connect_stream(
            websocket_url(base, "/twilio/media"),
            {STREAM_TOKEN_PARAMETER: token},
            status_callback=f"{base}/twilio/status",
            action=action,
        )
        return plugin.Document(document, XML)

    def fallback(
        self, settings: TwilioSettings, call: plugin.VoiceWebhook, refusal: plugin.Refusal
    ) -> plugin.Document:
        return fallback_document(refusal)

    def media(
        self, settings: TwilioSettings, upgrade: plugin.MediaUpgrade, unsigned: bool
    ) -> plugin.MediaAccepted | plugin.MediaRefused:
        token = settings.auth_token
        if token is None:
            if unsigned:
                return plugin.MediaAccepted(TwilioTranslator())
            return plugin.MediaRefused("TWILIO_AUTH_TOKEN not set")
        signature = upgrade.headers.get(SIGNATURE_HEADER)
        if upgrade.url is None or not validate_signature(upgrade.url, None, signature, token):
            return plugin.MediaRefused("bad upgrade signature")
        return plugin.MediaAccepted(TwilioTranslator())

    def rest_base(self, settings: TwilioSettings) -> str | None:
        configured = settings.account_sid and settings.auth_token
        return settings.api_base if configured else None

    def control(
        self, settings: TwilioSettings, context: plugin.ControlContext
    ) -> TwilioCallControl | None:
        return twilio_call_control(settings)

    def dialer(
        self, settings: TwilioSettings, context: plugin.ControlContext
    ) -> TwilioDialer | None:
        if not settings.account_sid or not settings.auth_token:
            return None
        return TwilioDialer(settings.account_sid, settings.auth_token, settings.api_base)


TWILIO = TwilioPlugin()
