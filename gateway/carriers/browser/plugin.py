"""The web softphone's descriptor: a browser tab is the carrier (docs/softphone.md).

* call (`POST /phone/call`): JSON `{"call": ID, "from": N, "to": N}` (the page makes up the call
  id; `to` picks the agent profile, `from` is the caller number to simulate), with
  `Authorization: Bearer GATEWAY_API_KEY` when the page is reached through a public URL;
  answers `{"call": ID, "stream": "ws(s)://.../phone/media", "token": T}`, or
  `{"refused": MESSAGE, "transfer": NUMBER}` when admission refuses the call.
* media (`WS /phone/media`): `gateway.carriers.browser.translator`.

It is not in `gateway.carriers.registry`: the softphone's routes (`gateway.shell.phone_routes`)
are mounted only while it is enabled (`BrowserSettings.enabled`), and have no simulator dialect
(the browser tests drive a real page instead). Access: the page is for the developer's own
machine; reached through any other host name, or with GATEWAY_PUBLIC_URL set, it must present
GATEWAY_API_KEY, and without that key set it is refused there.
"""

from __future__ import annotations

import hmac
import json
from ipaddress import ip_address
from typing import Any
from urllib.parse import urlsplit

from gateway.carriers import plugin
from gateway.carriers.browser.settings import BrowserSettings, read_browser_settings
from gateway.carriers.browser.translator import BrowserTranslator
from gateway.carriers.urls import websocket_url
from gateway.env_reader import EnvReader
from gateway.options import core as opt

__all__ = ["BROWSER", "MEDIA_PATH", "BrowserPlugin", "is_loopback"]

MEDIA_PATH = "/phone/media"
_BEARER = "bearer "


def is_loopback(base_url: str) -> bool:
    """Whether the page was reached as this machine (`localhost`, 127.0.0.0/8, `::1`)."""
    host = urlsplit(base_url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ip_address(host).is_loopback
    except ValueError:
        return False


def _fields(webhook: plugin.Webhook) -> dict[str, str]:
    try:
        decoded: Any = json.loads(webhook.body)
    except ValueError:
        return {}
    if not isinstance(decoded, dict):
        return {}
    return {key: value for key, value in decoded.items() if isinstance(value, str)}


class BrowserPlugin(plugin.CarrierPlugin[BrowserSettings]):
    name = "browser"
    options = ()  # GATEWAY_API_KEY and GATEWAY_DEV_PHONE are the core's
    secret_name = opt.API_KEY.env or "GATEWAY_API_KEY"
    missing_call_id = "call"

    def read_settings(self, reader: EnvReader, allow_unsigned: bool) -> BrowserSettings:
        return read_browser_settings(reader)

    def has_secret(self, settings: BrowserSettings) -> bool:
        """Always checked by `verify`: the access rule depends on how the page was reached."""
        return True

    def key_required(self, settings: BrowserSettings, webhook: plugin.Webhook) -> bool:
        """Reached through a public URL (set, or any host but this machine): the key is asked."""
        return settings.public_url or not is_loopback(webhook.base_url)

    def verify(self, settings: BrowserSettings, webhook: plugin.Webhook) -> str | None:
        if not self.key_required(settings, webhook):
            return None
        if settings.api_key is None:
            return f"{self.secret_name} not set (needed behind a public URL)"
        presented = webhook.header("authorization") or ""
        if not presented.lower().startswith(_BEARER):
            return "no API key"
        key = presented[len(_BEARER) :].strip().encode()
        return None if hmac.compare_digest(key, settings.api_key.encode()) else "bad signature"

    def parse_call(
        self, settings: BrowserSettings, webhook: plugin.Webhook
    ) -> plugin.VoiceWebhook | None:
        fields = _fields(webhook)
        if not fields.get("call"):
            return None
        return plugin.VoiceWebhook(
            fields["call"],
            to_number=fields.get("to", ""),
            from_number=fields.get("from", ""),
            direction="inbound",
        )

    def answer(
        self,
        settings: BrowserSettings,
        webhook: plugin.Webhook,
        call: plugin.VoiceWebhook,
        token: str,
    ) -> plugin.Document:
        stream = websocket_url(webhook.base_url, MEDIA_PATH)
        body = {"call": call.call_id, "stream": stream, "token": token}
        return plugin.Document(json.dumps(body), "application/json")

    def fallback(
        self, settings: BrowserSettings, call: plugin.VoiceWebhook, refusal: plugin.Refusal
    ) -> plugin.Document:
        body = {"refused": refusal.message, "transfer": refusal.transfer_to}
        return plugin.Document(json.dumps(body), "application/json", 503)

    def media(
        self, settings: BrowserSettings, upgrade: plugin.MediaUpgrade, unsigned: bool
    ) -> plugin.MediaAccepted | plugin.MediaRefused:
        """The stream's token is its authority (single-use, bound to the call)."""
        return plugin.MediaAccepted(BrowserTranslator(upgrade.nonce))


BROWSER = BrowserPlugin()
