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

from gateway.carriers import plugin, twiml
from gateway.carriers.signalwire.rest import LAML_PATH, signalwire_control
from gateway.carriers.signalwire.settings import OPTIONS, SignalWireSettings, read_settings
from gateway.carriers.signalwire.signature import SIGNATURE_HEADERS, validate_signature
from gateway.carriers.signalwire.translator import codec_attribute, signalwire_translator
from gateway.carriers.twilio.dial import TwilioDialer
from gateway.carriers.twilio.plugin import fallback_document, form_status
from gateway.carriers.twilio.rest import TwilioCallControl
from gateway.carriers.twilio.webhook import parse_voice_webhook
from gateway.carriers.urls import websocket_url
from gateway.core.stream_tokens import STREAM_TOKEN_PARAMETER
from gateway.env_reader import EnvReader

__all__ = ["SIGNALWIRE", "SignalWirePlugin"]


def _signature(headers: Mapping[str, str]) -> str | None:
    for name in SIGNATURE_HEADERS:
        value = headers.get(name.lower())
        if value:
            return value
    return None


class SignalWirePlugin(plugin.CarrierPlugin[SignalWireSettings]):
    name = "signalwire"
    options = OPTIONS
    secret_name = "SIGNALWIRE_SIGNING_KEY"
    missing_call_id = "CallSid"
    media_message_ms = 100  # protocols.md: larger media messages play as they come
    sim = plugin.SimDialect(
        "gateway.sim.signalwire:SignalWireDialect",
        "SIGNALWIRE_SIGNING_KEY",
        "SIGNALWIRE_PROJECT_ID",
        "Signing Key (X-SignalWire-Signature)",
    )
    callbacks = (plugin.Callback("status", form_status),)

    def read_settings(self, reader: EnvReader, allow_unsigned: bool) -> SignalWireSettings:
        return read_settings(reader, allow_unsigned)

    def has_secret(self, settings: SignalWireSettings) -> bool:
        return settings.signing_key is not None

    def verify(self, settings: SignalWireSettings, webhook: plugin.Webhook) -> str | None:
        key = settings.signing_key or ""
        valid = validate_signature(webhook.url, webhook.body, _signature(webhook.headers), key)
        return None if valid else "bad signature"

    def parse_call(
        self, settings: SignalWireSettings, webhook: plugin.Webhook
    ) -> plugin.VoiceWebhook | None:
        return parse_voice_webhook(webhook.form())

    def answer(
        self,
        settings: SignalWireSettings,
        webhook: plugin.Webhook,
        call: plugin.VoiceWebhook,
        token: str,
    ) -> plugin.Document:
        return self._connect(settings, webhook.base_url, token, None)

    carries_on = True

    def answer_carrying_on(
        self,
        settings: SignalWireSettings,
        webhook: plugin.Webhook,
        call: plugin.VoiceWebhook,
        token: str,
        action_url: str,
    ) -> plugin.Document:
        """cXML's `<Connect action>` works as Twilio's (SignalWire's LaML/cXML compatibility)."""
        return self._connect(settings, webhook.base_url, token, action_url)

    def stream_ended(self, settings: SignalWireSettings) -> plugin.Document:
        return plugin.Document(twiml.empty(), "application/xml")

    @staticmethod
    def _connect(
        settings: SignalWireSettings, base: str, token: str, action: str | None
    ) -> plugin.Document:
        codec = codec_attribute(settings.codec)
        attributes = {"authBearerToken": token} | ({} if codec is None else {"codec": codec})
        document = twiml.connect_stream(
            websocket_url(base, "/signalwire/media"),
            {STREAM_TOKEN_PARAMETER: token},
            status_callback=f"{base}/signalwire/status",
            attributes=attributes,
            action=action,
        )
        return plugin.Document(document, "application/xml")

    def fallback(
        self, settings: SignalWireSettings, call: plugin.VoiceWebhook, refusal: plugin.Refusal
    ) -> plugin.Document:
        return fallback_document(refusal)

    def media(
        self, settings: SignalWireSettings, upgrade: plugin.MediaUpgrade, unsigned: bool
    ) -> plugin.MediaAccepted | plugin.MediaRefused:
        notes: tuple[plugin.LogLine, ...] = ()
        key, signature = settings.signing_key, _signature(upgrade.headers)
        if key is not None and signature is not None and upgrade.url is not None:
            # Twilio's form (over the `wss://` URL, no parameters); the token guards the stream.
            valid = validate_signature(upgrade.url, b"", signature, key)
            notes = (plugin.LogLine("stream.upgrade_signature", {"valid": valid}),)
        scheme, _, bearer = upgrade.headers.get("authorization", "").partition(" ")
        bearer_token = scheme.lower() == "bearer" and bearer
        presented = {STREAM_TOKEN_PARAMETER: bearer} if bearer_token else {}
        translator = signalwire_translator(
            presented, l16_big_endian=settings.l16_big_endian, codec=settings.codec
        )
        return plugin.MediaAccepted(translator, notes)

    def rest_base(self, settings: SignalWireSettings) -> str | None:
        configured = settings.project_id and settings.api_token
        return settings.space_url if configured else None

    def control(
        self, settings: SignalWireSettings, context: plugin.ControlContext
    ) -> TwilioCallControl | None:
        project, token, space = settings.project_id, settings.api_token, settings.space_url
        if project is None or token is None or space is None:
            return None
        try:
            return signalwire_control(project, token, space)
        except ValueError:
            raise ValueError("malformed SIGNALWIRE_PROJECT_ID") from None

    def dialer(
        self, settings: SignalWireSettings, context: plugin.ControlContext
    ) -> TwilioDialer | None:
        """LaML's Calls API is Twilio's under the space URL (`/api/laml`) [unverified]."""
        project, token, space = settings.project_id, settings.api_token, settings.space_url
        if project is None or token is None or space is None:
            return None
        return TwilioDialer(project, token, space.rstrip("/") + LAML_PATH, carrier="signalwire")


SIGNALWIRE = SignalWirePlugin()
