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

from gateway.carriers import plugin
from gateway.carriers.messages import bounded_id
from gateway.carriers.urls import websocket_url
from gateway.env_reader import EnvReader
from gateway.log import register_secret
from gateway.options.option import Option
from tests.carriers.toy.translator import ToyTranslator

__all__ = ["SECRET_HEADER", "TOY", "ToySettings"]

SECRET_HEADER = "x-toy-secret"
SECRET = Option("TOY_SECRET", "secret", "the shared secret in `X-Toy-Secret`", "Toy")


@dataclass(frozen=True)
class ToySettings:
    secret: str | None = None
    allow_unsigned: bool = False


def _fields(webhook: plugin.Webhook) -> dict[str, str]:
    try:
        decoded = json.loads(webhook.body)
    except ValueError:
        return {}
    if not isinstance(decoded, dict):
        return {}
    return {key: value for key, value in decoded.items() if isinstance(value, str)}


def _status(
    settings: ToySettings, webhook: plugin.Webhook
) -> tuple[plugin.Document, plugin.LogLine]:
    fields = _fields(webhook)
    line = plugin.LogLine(
        "stream.status",
        {"call_sid": bounded_id(fields.get("call", "")), "stream_event": fields.get("event")},
    )
    return plugin.Document("", "", 204), line


class ToyPlugin(plugin.CarrierPlugin[ToySettings]):
    name = "toy"
    options = (SECRET,)
    secret_name = "TOY_SECRET"
    missing_call_id = "call"
    sim = plugin.SimDialect(
        "tests.carriers.toy.sim:ToyDialect", "TOY_SECRET", None, "the shared secret"
    )
    callbacks = (plugin.Callback("status", _status),)

    def read_settings(self, reader: EnvReader, allow_unsigned: bool) -> ToySettings:
        secret = reader.get_text(SECRET)
        register_secret(secret)
        return ToySettings(secret, allow_unsigned)

    def has_secret(self, settings: ToySettings) -> bool:
        return settings.secret is not None

    def verify(self, settings: ToySettings, webhook: plugin.Webhook) -> str | None:
        presented = webhook.header(SECRET_HEADER) or ""
        assert settings.secret is not None
        return None if hmac.compare_digest(presented, settings.secret) else "bad signature"

    def parse_call(
        self, settings: ToySettings, webhook: plugin.Webhook
    ) -> plugin.VoiceWebhook | None:
        fields = _fields(webhook)
        if not fields.get("call"):
            return None
        return plugin.VoiceWebhook(
            fields["call"], to_number=fields.get("to", ""), from_number=fields.get("from", "")
        )

    def answer(
        self, settings: ToySettings, webhook: plugin.Webhook, call: plugin.VoiceWebhook, token: str
    ) -> plugin.Document:
        stream = websocket_url(webhook.base_url, "/toy/media")
        return plugin.Document(json.dumps({"stream": stream, "token": token}), "application/json")

    def fallback(
        self, settings: ToySettings, call: plugin.VoiceWebhook, refusal: plugin.Refusal
    ) -> plugin.Document:
        body = {"refused": refusal.message, "transfer": refusal.transfer_to}
        return plugin.Document(json.dumps(body), "application/json")

    def media(
        self, settings: ToySettings, upgrade: plugin.MediaUpgrade, unsigned: bool
    ) -> plugin.MediaAccepted | plugin.MediaRefused:
        return plugin.MediaAccepted(ToyTranslator())


TOY = ToyPlugin()
