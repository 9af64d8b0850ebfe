"""Exotel as a plug-in: the Voicebot applet's dynamic URL (JSON), Basic credentials, its stream.

* voice (`GET|POST /exotel/voice`): the Voicebot applet's URL set to this HTTPS endpoint (Exotel
  then asks it for the stream's URL, with the call's `CallSid`). Checks the Basic credentials
  (EXOTEL_STREAM_USER/PASSWORD); a refused call is HTTP 503 (the flow goes on to the applet
  after the Voicebot); a taken one is `{"url": "wss://USER:PASSWORD@host/exotel/media?
  sample-rate=N&stream_token=..."}`.
* media (`WS /exotel/media`): checks the upgrade's Basic credentials (refused with HTTP 403
  before the socket is accepted); the token (from `start`'s custom parameters or the URL's
  query) decides whether it becomes a call.

Exotel has no documented REST request that hangs up or transfers a call in progress (protocols.md
C.4; docs/carriers/exotel.md), so it has no `control`: a hang-up or transfer the agent asks for
ends the stream, and Exotel runs the flow's next applet (a Hangup, or a Connect to the transfer
number).
"""

from __future__ import annotations

import json

from gateway.carriers import plugin
from gateway.carriers.exotel.auth import check_basic, stream_url
from gateway.carriers.exotel.settings import OPTIONS, ExotelSettings, read_settings
from gateway.carriers.exotel.translator import RATE_PARAMETER, ExotelTranslator
from gateway.carriers.urls import websocket_url
from gateway.core.stream_tokens import STREAM_TOKEN_PARAMETER
from gateway.env_reader import EnvReader

__all__ = ["EXOTEL", "ExotelPlugin"]


def _fields(webhook: plugin.Webhook) -> dict[str, str]:
    """The applet request's fields: the query, then a form body's (GET is documented)."""
    pairs = list(webhook.query)
    content_type = webhook.header("content-type") or ""
    if content_type.startswith("application/x-www-form-urlencoded"):
        pairs += webhook.form()
    fields: dict[str, str] = {}
    for name, value in pairs:
        fields.setdefault(name, value)
    return fields


class ExotelPlugin(plugin.CarrierPlugin[ExotelSettings]):
    name = "exotel"
    options = OPTIONS
    secret_name = "EXOTEL_STREAM_USER"
    secret_doc = "EXOTEL_STREAM_USER and EXOTEL_STREAM_PASSWORD"
    missing_call_id = "CallSid"
    sim = plugin.SimDialect(
        "gateway.sim.exotel:ExotelDialect",
        "EXOTEL_STREAM_PASSWORD",
        "EXOTEL_STREAM_USER",
        "Basic password (with --account-sid as the user) of the Voicebot applet's URL",
    )
    voice_methods = ("GET", "POST")

    def read_settings(self, reader: EnvReader, allow_unsigned: bool) -> ExotelSettings:
        return read_settings(reader, allow_unsigned)

    def has_secret(self, settings: ExotelSettings) -> bool:
        return settings.stream_user is not None and settings.stream_password is not None

    def verify(self, settings: ExotelSettings, webhook: plugin.Webhook) -> str | None:
        user, password = settings.stream_user, settings.stream_password
        assert user is not None
        assert password is not None
        authorization = webhook.header("authorization")  # Basic credentials: nothing is signed
        return None if check_basic(authorization, user, password) else "bad signature"

    def parse_call(
        self, settings: ExotelSettings, webhook: plugin.Webhook
    ) -> plugin.VoiceWebhook | None:
        fields = _fields(webhook)
        call_id = fields.get("CallSid", "")
        if not call_id:
            return None
        to_number, from_number = fields.get("CallTo", ""), fields.get("CallFrom", "")
        direction = fields.get("Direction", "")
        return plugin.VoiceWebhook(
            call_id, to_number=to_number, from_number=from_number, direction=direction
        )

    def answer(
        self,
        settings: ExotelSettings,
        webhook: plugin.Webhook,
        call: plugin.VoiceWebhook,
        token: str,
    ) -> plugin.Document:
        user, password = settings.stream_user, settings.stream_password
        credentials = (user, password) if user is not None and password is not None else None
        parameters = {RATE_PARAMETER: str(settings.audio_rate_hz), STREAM_TOKEN_PARAMETER: token}
        url = stream_url(websocket_url(webhook.base_url, "/exotel/media"), parameters, credentials)
        body = json.dumps({"url": url}, ensure_ascii=False, separators=(",", ":"))
        return plugin.Document(body, "application/json")

    def fallback(
        self, settings: ExotelSettings, call: plugin.VoiceWebhook, refusal: plugin.Refusal
    ) -> plugin.Document:
        # at capacity, draining, no agent: the flow goes on to the applet after the Voicebot
        return plugin.Document(refusal.reason, "text/plain", 503)

    def media(
        self, settings: ExotelSettings, upgrade: plugin.MediaUpgrade, unsigned: bool
    ) -> plugin.MediaAccepted | plugin.MediaRefused:
        user, password = settings.stream_user, settings.stream_password
        if user is None or password is None:
            if not unsigned:
                return plugin.MediaRefused("no EXOTEL_STREAM_USER configured")
        elif not check_basic(upgrade.headers.get("authorization"), user, password):
            return plugin.MediaRefused("bad credentials")
        return plugin.MediaAccepted(ExotelTranslator(upgrade.query_parameters()))


EXOTEL = ExotelPlugin()
