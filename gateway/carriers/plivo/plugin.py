"""Plivo as a plug-in: Plivo XML answers, `X-Plivo-Signature-V3`, its media stream, its REST API.

* voice (`POST /plivo/voice`): the application's answer URL; answers `<Stream
  bidirectional="true">` carrying the token (query string, and hex-encoded in `extraHeaders`).
* status (`POST /plivo/status`): stream status callbacks (`StartStream`, `StopStream`, ...).
* action (`POST /plivo/action`): the XML a transfer or a goodbye runs (`to`, `say` in the
  query), fetched by Plivo after our REST request; signed like every callback.
* media (`WS /plivo/media`): Plivo signs the upgrade with `X-Plivo-Signature-V3` over the full
  stream URL (plivo-python 4.63.1). With PLIVO_AUTH_TOKEN set, a missing or wrong signature is
  refused before the socket opens; the stream token then decides at `start`.
"""

from __future__ import annotations

from gateway.carriers import plugin
from gateway.carriers.messages import bounded_id
from gateway.carriers.plivo.dial import PlivoDialer
from gateway.carriers.plivo.rest import PlivoCallControl
from gateway.carriers.plivo.settings import OPTIONS, PlivoSettings, read_settings
from gateway.carriers.plivo.signature import NONCE_HEADER, SIGNATURE_HEADER, validate_signature
from gateway.carriers.plivo.translator import PlivoTranslator, content_format
from gateway.carriers.plivo.xml import (
    HEADER_TOKEN,
    action_xml,
    empty_xml,
    parse_webhook,
    stream_xml,
    token_from_header,
)
from gateway.carriers.urls import request_url, websocket_url
from gateway.core.stream_tokens import STREAM_TOKEN_PARAMETER
from gateway.env_reader import EnvReader

__all__ = ["PLIVO", "PlivoPlugin"]

XML = "application/xml"


def _status(
    settings: PlivoSettings, webhook: plugin.Webhook
) -> tuple[plugin.Document, plugin.LogLine]:
    fields = dict(webhook.form())
    line = plugin.LogLine(
        "stream.status",
        {
            "call_sid": bounded_id(fields.get("CallUUID", "")),
            "stream_sid": bounded_id(fields.get("StreamID", fields.get("StreamId", ""))),
            "stream_event": bounded_id(fields.get("Event", "")),
            "stream_error": bounded_id(fields.get("Error", ""), 200),
        },
    )
    return plugin.Document("", "", 204), line


def _action(
    settings: PlivoSettings, webhook: plugin.Webhook
) -> tuple[plugin.Document, plugin.LogLine] | plugin.Rejected:
    query = dict(webhook.query)
    try:
        document = action_xml(query.get("say"), query.get("to"))
    except ValueError:
        return plugin.Rejected("bad action", 400, "bad action")
    call_sid = bounded_id(dict(webhook.form()).get("CallUUID", ""))
    line = plugin.LogLine("call.action", {"call_sid": call_sid, "transfer": "to" in query})
    return plugin.Document(document, XML), line


def _presented(upgrade: plugin.MediaUpgrade) -> dict[str, str]:
    """The stream token as the upgrade presents it: the query string, else an extra header."""
    token = upgrade.query_parameters().get(STREAM_TOKEN_PARAMETER) or None
    if token is None:
        for name, value in upgrade.headers.items():
            if name.lower().endswith(HEADER_TOKEN):
                token = token_from_header(value)
                break
    return {} if token is None else {STREAM_TOKEN_PARAMETER: token}


def _upgrade_signed(settings: PlivoSettings, upgrade: plugin.MediaUpgrade) -> bool:
    """Whether the upgrade may proceed: true without PLIVO_AUTH_TOKEN (nothing to check with;
    the stream token guards the stream), else only with Plivo's V3 signature of the stream URL
    as a GET. The URL is the one Plivo was given, `wss://` (or `ws://`) with its query; the same
    URL with the `https://` scheme is accepted too, in case Plivo signs it as a callback."""
    token = settings.auth_token
    if token is None:
        return True
    signature = upgrade.headers.get(SIGNATURE_HEADER)
    nonce = upgrade.headers.get(NONCE_HEADER)
    if not signature or not nonce or upgrade.url is None or upgrade.base_url is None:
        return False
    query = upgrade.query
    stream = upgrade.url + (f"?{query}" if query else "")
    candidates = (stream, request_url(upgrade.base_url, upgrade.path, query))
    return any(validate_signature("GET", u, None, nonce, signature, token) for u in candidates)


class PlivoPlugin(plugin.CarrierPlugin[PlivoSettings]):
    name = "plivo"
    options = OPTIONS
    secret_name = "PLIVO_AUTH_TOKEN"
    missing_call_id = "CallUUID"
    sim = plugin.SimDialect(
        "gateway.sim.plivo:PlivoDialect",
        "PLIVO_AUTH_TOKEN",
        "PLIVO_AUTH_ID",
        "Auth Token (X-Plivo-Signature-V3)",
    )
    callbacks = (plugin.Callback("status", _status), plugin.Callback("action", _action))

    def read_settings(self, reader: EnvReader, allow_unsigned: bool) -> PlivoSettings:
        return read_settings(reader, allow_unsigned)

    def has_secret(self, settings: PlivoSettings) -> bool:
        return settings.auth_token is not None

    def verify(self, settings: PlivoSettings, webhook: plugin.Webhook) -> str | None:
        nonce, signature = webhook.header(NONCE_HEADER), webhook.header(SIGNATURE_HEADER)
        token = settings.auth_token or ""
        valid = validate_signature("POST", webhook.url, webhook.form(), nonce, signature, token)
        return None if valid else "bad signature"

    def parse_call(
        self, settings: PlivoSettings, webhook: plugin.Webhook
    ) -> plugin.VoiceWebhook | None:
        return parse_webhook(webhook.form())

    def answer(
        self,
        settings: PlivoSettings,
        webhook: plugin.Webhook,
        call: plugin.VoiceWebhook,
        token: str,
    ) -> plugin.Document:
        return self._stream(settings, webhook.base_url, token, None)

    carries_on = True

    def answer_carrying_on(
        self,
        settings: PlivoSettings,
        webhook: plugin.Webhook,
        call: plugin.VoiceWebhook,
        token: str,
        action_url: str,
    ) -> plugin.Document:
        """`keepCallAlive` runs the XML after `<Stream>` once it disconnected: a `<Redirect>`
        to `action_url` there is Twilio's `<Connect action>`."""
        return self._stream(settings, webhook.base_url, token, action_url)

    def stream_ended(self, settings: PlivoSettings) -> plugin.Document:
        return plugin.Document(empty_xml(), XML)

    @staticmethod
    def _stream(
        settings: PlivoSettings, base: str, token: str, redirect: str | None
    ) -> plugin.Document:
        document = stream_xml(
            websocket_url(base, "/plivo/media"),
            STREAM_TOKEN_PARAMETER,
            token,
            content_type=settings.content_type,
            status_callback=f"{base}/plivo/status",
            redirect=redirect,
        )
        return plugin.Document(document, XML)

    def fallback(
        self, settings: PlivoSettings, call: plugin.VoiceWebhook, refusal: plugin.Refusal
    ) -> plugin.Document:
        return plugin.Document(action_xml(refusal.message, refusal.transfer_to), XML)

    def media(
        self, settings: PlivoSettings, upgrade: plugin.MediaUpgrade, unsigned: bool
    ) -> plugin.MediaAccepted | plugin.MediaRefused:
        if not _upgrade_signed(settings, upgrade):
            return plugin.MediaRefused("bad upgrade signature")
        expected = content_format(settings.content_type)
        return plugin.MediaAccepted(PlivoTranslator(_presented(upgrade), expected=expected))

    def rest_base(self, settings: PlivoSettings) -> str | None:
        configured = settings.auth_id and settings.auth_token
        return settings.api_base if configured else None

    def control(
        self, settings: PlivoSettings, context: plugin.ControlContext
    ) -> PlivoCallControl | None:
        base = context.base_url
        if settings.auth_id is None or settings.auth_token is None or base is None:
            return None
        action_url = f"{base}/plivo/action"
        return PlivoCallControl(
            settings.auth_id, settings.auth_token, action_url=action_url, api_base=settings.api_base
        )

    def dialer(self, settings: PlivoSettings, context: plugin.ControlContext) -> PlivoDialer | None:
        if settings.auth_id is None or settings.auth_token is None:
            return None
        return PlivoDialer(settings.auth_id, settings.auth_token, settings.api_base)


PLIVO = PlivoPlugin()
