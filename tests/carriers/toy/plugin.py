"""The toy carrier's descriptor: settings, JSON webhooks signed by a shared secret, its stream.

* voice (`POST /toy/voice`): JSON `{"call": ID, "from": N, "to": N}` with the shared secret in
  `X-Toy-Secret` (TOY_SECRET); answers `{"stream": "wss://.../toy/media", "token": T}`, or
  `{"refused": MESSAGE, "transfer": NUMBER}` when admission refuses the call.
* status (`POST /toy/status`): `{"call": ID, "event": E}`, logged.
* media (`WS /toy/media`): the token arrives in `hello`.
"""

from __future__ import annotations

import hmac
import json
from dataclasses import dataclass

from gateway.carriers.control import CallControl
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
    Variable,
    VoiceWebhook,
    Webhook,
)
from gateway.carriers.urls import websocket_url
from gateway.env_reader import EnvReader
from gateway.log import register_secret
from tests.carriers.toy.translator import ToyTranslator

__all__ = ["SECRET_HEADER", "TOY", "ToySettings"]

SECRET_HEADER = "x-toy-secret"


@dataclass(frozen=True)
class ToySettings:
    secret: str | None = None
    allow_unsigned: bool = False


def _read(reader: EnvReader, allow_unsigned: bool) -> ToySettings:
    secret = reader.text("TOY_SECRET")
    register_secret(secret)
    return ToySettings(secret, allow_unsigned)


def _fields(webhook: Webhook) -> dict[str, str]:
    try:
        decoded = json.loads(webhook.body)
    except ValueError:
        return {}
    if not isinstance(decoded, dict):
        return {}
    return {key: value for key, value in decoded.items() if isinstance(value, str)}


def _verify(settings: ToySettings, webhook: Webhook) -> str | None:
    presented = webhook.header(SECRET_HEADER) or ""
    assert settings.secret is not None
    return None if hmac.compare_digest(presented, settings.secret) else "bad signature"


def _call(settings: ToySettings, webhook: Webhook) -> VoiceWebhook | None:
    fields = _fields(webhook)
    if not fields.get("call"):
        return None
    return VoiceWebhook(
        fields["call"], to_number=fields.get("to", ""), from_number=fields.get("from", "")
    )


def _answer(settings: ToySettings, webhook: Webhook, call: VoiceWebhook, token: str) -> Document:
    stream = websocket_url(webhook.base_url, "/toy/media")
    return Document(json.dumps({"stream": stream, "token": token}), "application/json")


def _fallback(settings: ToySettings, call: VoiceWebhook, refusal: Refusal) -> Document:
    body = {"refused": refusal.message, "transfer": refusal.transfer_to}
    return Document(json.dumps(body), "application/json")


def _status(settings: ToySettings, webhook: Webhook) -> tuple[Document, LogLine]:
    fields = _fields(webhook)
    line = LogLine(
        "stream.status",
        {"call_sid": bounded_id(fields.get("call", "")), "stream_event": fields.get("event")},
    )
    return Document("", "", 204), line


def _media(
    settings: ToySettings, upgrade: MediaUpgrade, unsigned: bool
) -> MediaAccepted | MediaRefused:
    return MediaAccepted(ToyTranslator())


def _control(settings: ToySettings, context: ControlContext) -> CallControl | None:
    return None


TOY: CarrierPlugin[ToySettings] = CarrierPlugin(
    name="toy",
    variables=(Variable("TOY_SECRET", "secret", "", "the shared secret in X-Toy-Secret"),),
    read_settings=_read,
    default_settings=ToySettings,
    secret_name="TOY_SECRET",
    has_secret=lambda settings: settings.secret is not None,
    verify=_verify,
    parse_call=_call,
    missing_call_id="call",
    answer=_answer,
    fallback=_fallback,
    media=_media,
    control=_control,
    sim=SimDialect("tests.carriers.toy.sim:ToyDialect", "TOY_SECRET", None, "the shared secret"),
    callbacks=(Callback("status", _status),),
)
