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
C.4; docs/carriers/exotel.md). The stream runs without call control: a hang-up or transfer the
agent asks for ends the stream, and Exotel runs the flow's next applet (a Hangup, or a Connect
to the transfer number).
"""

from __future__ import annotations

import json

from gateway.carriers.control import CallControl
from gateway.carriers.exotel.auth import check_basic, stream_url
from gateway.carriers.exotel.settings import VARIABLES, ExotelSettings, read_settings
from gateway.carriers.exotel.translator import RATE_PARAMETER, ExotelTranslator
from gateway.carriers.plugin import (
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
)
from gateway.carriers.urls import websocket_url
from gateway.core.stream_tokens import STREAM_TOKEN_PARAMETER

__all__ = ["EXOTEL"]


def _has_secret(settings: ExotelSettings) -> bool:
    return settings.stream_user is not None and settings.stream_password is not None


def _verify(settings: ExotelSettings, webhook: Webhook) -> str | None:
    assert settings.stream_user is not None
    assert settings.stream_password is not None
    authorization = webhook.header("authorization")  # Basic credentials: nothing is signed
    valid = check_basic(authorization, settings.stream_user, settings.stream_password)
    return None if valid else "bad signature"


def _fields(webhook: Webhook) -> dict[str, str]:
    """The applet request's fields: the query, then a form body's (GET is documented)."""
    pairs = list(webhook.query)
    content_type = webhook.header("content-type") or ""
    if content_type.startswith("application/x-www-form-urlencoded"):
        pairs += webhook.form()
    fields: dict[str, str] = {}
    for name, value in pairs:
        fields.setdefault(name, value)
    return fields


def _call(settings: ExotelSettings, webhook: Webhook) -> VoiceWebhook | None:
    fields = _fields(webhook)
    call_id = fields.get("CallSid", "")
    if not call_id:
        return None
    return VoiceWebhook(
        call_id,
        to_number=fields.get("CallTo", ""),
        from_number=fields.get("CallFrom", ""),
        direction=fields.get("Direction", ""),
    )


def _answer(settings: ExotelSettings, webhook: Webhook, call: VoiceWebhook, token: str) -> Document:
    user, password = settings.stream_user, settings.stream_password
    credentials = (user, password) if user is not None and password is not None else None
    parameters = {RATE_PARAMETER: str(settings.audio_rate_hz), STREAM_TOKEN_PARAMETER: token}
    url = stream_url(websocket_url(webhook.base_url, "/exotel/media"), parameters, credentials)
    body = json.dumps({"url": url}, ensure_ascii=False, separators=(",", ":"))
    return Document(body, "application/json")


def _fallback(settings: ExotelSettings, call: VoiceWebhook, refusal: Refusal) -> Document:
    # at capacity, draining, no agent: the flow goes on to the applet after the Voicebot
    return Document(refusal.reason, "text/plain", 503)


def _media(
    settings: ExotelSettings, upgrade: MediaUpgrade, unsigned: bool
) -> MediaAccepted | MediaRefused:
    user, password = settings.stream_user, settings.stream_password
    if user is None or password is None:
        if not unsigned:
            return MediaRefused("no EXOTEL_STREAM_USER configured")
    elif not check_basic(upgrade.headers.get("authorization"), user, password):
        return MediaRefused("bad credentials")
    return MediaAccepted(ExotelTranslator(upgrade.query_parameters()))


def _control(settings: ExotelSettings, context: ControlContext) -> CallControl | None:
    return None  # no documented REST call control (protocols.md C.4)


EXOTEL: CarrierPlugin[ExotelSettings] = CarrierPlugin(
    name="exotel",
    variables=VARIABLES,
    read_settings=read_settings,
    default_settings=ExotelSettings,
    secret_name="EXOTEL_STREAM_USER",
    has_secret=_has_secret,
    verify=_verify,
    parse_call=_call,
    missing_call_id="CallSid",
    answer=_answer,
    fallback=_fallback,
    media=_media,
    control=_control,
    sim=SimDialect(
        "gateway.sim.exotel:ExotelDialect",
        "EXOTEL_STREAM_PASSWORD",
        "EXOTEL_STREAM_USER",
        "Basic password (with --account-sid as the user) of the Voicebot applet's URL",
    ),
    voice_methods=("GET", "POST"),
)
