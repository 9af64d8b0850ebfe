"""Telnyx as a plug-in: TeXML answers, Ed25519 webhook signatures, its media stream, Call Control.

* voice (`POST /telnyx/voice`): checks the Ed25519 signature (`TELNYX_PUBLIC_KEY`) over the
  timestamp and the body, answers `<Connect><Stream>` with the token in the stream URL.
* status (`POST /telnyx/status`): stream status callbacks, logged.
* media (`WS /telnyx/media`): Telnyx signs no media socket, so the socket is accepted and the
  stream token from the URL's query string decides at `start`.
"""

from __future__ import annotations

from gateway.audio.paths import Encoding
from gateway.carriers import plugin, twiml
from gateway.carriers.telnyx.dial import TelnyxDialer
from gateway.carriers.telnyx.rest import TelnyxCallControl
from gateway.carriers.telnyx.settings import OPTIONS, TelnyxSettings, read_settings
from gateway.carriers.telnyx.signature import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    load_public_key,
    verify,
)
from gateway.carriers.telnyx.translator import TelnyxTranslator
from gateway.carriers.telnyx.webhook import parse_status, parse_webhook, texml_stream
from gateway.carriers.twilio.plugin import fallback_document
from gateway.carriers.urls import websocket_url
from gateway.core.stream_tokens import STREAM_TOKEN_PARAMETER
from gateway.env_reader import EnvReader

__all__ = ["TELNYX", "TelnyxPlugin"]

_CODECS = {"PCMU": Encoding.MULAW, "PCMA": Encoding.ALAW}


def _status(
    settings: TelnyxSettings, webhook: plugin.Webhook
) -> tuple[plugin.Document, plugin.LogLine]:
    return plugin.status_line(parse_status(webhook.body, webhook.header("content-type")))


class TelnyxPlugin(plugin.CarrierPlugin[TelnyxSettings]):
    name = "telnyx"
    options = OPTIONS
    secret_name = "TELNYX_PUBLIC_KEY"
    missing_call_id = "CallSid"
    media_message_ms = 100  # protocols.md: larger media messages play as they come
    sim = plugin.SimDialect(
        "gateway.sim.telnyx:TelnyxDialect",
        "TELNYX_SIM_PRIVATE_KEY",
        None,
        "base64 Ed25519 private key seed matching the gateway's TELNYX_PUBLIC_KEY",
    )
    callbacks = (plugin.Callback("status", _status),)

    def read_settings(self, reader: EnvReader, allow_unsigned: bool) -> TelnyxSettings:
        return read_settings(reader, allow_unsigned)

    def has_secret(self, settings: TelnyxSettings) -> bool:
        return settings.public_key is not None

    def verify(self, settings: TelnyxSettings, webhook: plugin.Webhook) -> str | None:
        assert settings.public_key is not None
        valid = verify(  # Telnyx signs the timestamp and the body only
            webhook.body,
            webhook.header(SIGNATURE_HEADER),
            webhook.header(TIMESTAMP_HEADER),
            load_public_key(settings.public_key),
            now_s=webhook.now_s,
            tolerance_s=settings.signature_tolerance_s,
        )
        return None if valid else "bad signature"

    def parse_call(
        self, settings: TelnyxSettings, webhook: plugin.Webhook
    ) -> plugin.VoiceWebhook | None:
        return parse_webhook(webhook.body, webhook.header("content-type"))

    def answer(
        self,
        settings: TelnyxSettings,
        webhook: plugin.Webhook,
        call: plugin.VoiceWebhook,
        token: str,
    ) -> plugin.Document:
        return self._connect(settings, webhook.base_url, token, None)

    carries_on = True

    def answer_carrying_on(
        self,
        settings: TelnyxSettings,
        webhook: plugin.Webhook,
        call: plugin.VoiceWebhook,
        token: str,
        action_url: str,
    ) -> plugin.Document:
        """TeXML runs the verbs after `<Connect>` once the stream stopped: a `<Redirect>` to
        `action_url` there is Twilio's `<Connect action>`."""
        return self._connect(settings, webhook.base_url, token, action_url)

    def stream_ended(self, settings: TelnyxSettings) -> plugin.Document:
        return plugin.Document(twiml.empty(), "application/xml")

    @staticmethod
    def _connect(
        settings: TelnyxSettings, base: str, token: str, redirect: str | None
    ) -> plugin.Document:
        document = texml_stream(
            websocket_url(base, "/telnyx/media"),
            STREAM_TOKEN_PARAMETER,
            token,
            codec=settings.codec,
            status_callback=f"{base}/telnyx/status",
            redirect=redirect,
        )
        return plugin.Document(document, "application/xml")

    def fallback(
        self, settings: TelnyxSettings, call: plugin.VoiceWebhook, refusal: plugin.Refusal
    ) -> plugin.Document:
        return fallback_document(refusal)

    def media(
        self, settings: TelnyxSettings, upgrade: plugin.MediaUpgrade, unsigned: bool
    ) -> plugin.MediaAccepted | plugin.MediaRefused:
        token = upgrade.query_parameters().get(STREAM_TOKEN_PARAMETER)
        presented = {} if token is None else {STREAM_TOKEN_PARAMETER: token}
        return plugin.MediaAccepted(TelnyxTranslator(presented, codec=_CODECS[settings.codec]))

    def rest_base(self, settings: TelnyxSettings) -> str | None:
        return settings.api_base if settings.api_key else None

    def control(
        self, settings: TelnyxSettings, context: plugin.ControlContext
    ) -> TelnyxCallControl | None:
        if settings.api_key is None:
            return None
        return TelnyxCallControl(settings.api_key, api_base=settings.api_base)

    def dialer(
        self, settings: TelnyxSettings, context: plugin.ControlContext
    ) -> TelnyxDialer | None:
        key, account, app = settings.api_key, settings.account_sid, settings.texml_app_id
        if key is None or account is None or app is None:
            return None
        return TelnyxDialer(key, account, app, settings.api_base)


TELNYX = TelnyxPlugin()
