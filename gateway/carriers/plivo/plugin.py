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

from gateway.carriers.messages import bounded_id
from gateway.carriers.plivo.rest import PlivoCallControl
from gateway.carriers.plivo.settings import VARIABLES, PlivoSettings, read_settings
from gateway.carriers.plivo.signature import NONCE_HEADER, SIGNATURE_HEADER, validate_signature
from gateway.carriers.plivo.translator import PlivoTranslator, content_format
from gateway.carriers.plivo.xml import (
    HEADER_TOKEN,
    action_xml,
    parse_webhook,
    stream_xml,
    token_from_header,
)
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
    Rejected,
    SimDialect,
    VoiceWebhook,
    Webhook,
)
from gateway.carriers.urls import request_url, websocket_url
from gateway.core.stream_tokens import STREAM_TOKEN_PARAMETER

__all__ = ["PLIVO"]

XML = "application/xml"


def _verify(settings: PlivoSettings, webhook: Webhook) -> str | None:
    valid = validate_signature(
        "POST",
        webhook.url,
        webhook.form(),
        webhook.header(NONCE_HEADER),
        webhook.header(SIGNATURE_HEADER),
        settings.auth_token or "",
    )
    return None if valid else "bad signature"


def _call(settings: PlivoSettings, webhook: Webhook) -> VoiceWebhook | None:
    return parse_webhook(webhook.form())


def _answer(settings: PlivoSettings, webhook: Webhook, call: VoiceWebhook, token: str) -> Document:
    base = webhook.base_url
    document = stream_xml(
        websocket_url(base, "/plivo/media"),
        STREAM_TOKEN_PARAMETER,
        token,
        content_type=settings.content_type,
        status_callback=f"{base}/plivo/status",
    )
    return Document(document, XML)


def _fallback(settings: PlivoSettings, call: VoiceWebhook, refusal: Refusal) -> Document:
    return Document(action_xml(refusal.message, refusal.transfer_to), XML)


def _status(settings: PlivoSettings, webhook: Webhook) -> tuple[Document, LogLine]:
    fields = dict(webhook.form())
    line = LogLine(
        "stream.status",
        {
            "call_sid": bounded_id(fields.get("CallUUID", "")),
            "stream_sid": bounded_id(fields.get("StreamID", fields.get("StreamId", ""))),
            "stream_event": bounded_id(fields.get("Event", "")),
            "stream_error": bounded_id(fields.get("Error", ""), 200),
        },
    )
    return Document("", "", 204), line


def _action(settings: PlivoSettings, webhook: Webhook) -> tuple[Document, LogLine] | Rejected:
    query = dict(webhook.query)
    try:
        document = action_xml(query.get("say"), query.get("to"))
    except ValueError:
        return Rejected("bad action", 400, "bad action")
    call_sid = bounded_id(dict(webhook.form()).get("CallUUID", ""))
    return Document(document, XML), LogLine(
        "call.action", {"call_sid": call_sid, "transfer": "to" in query}
    )


def _presented(upgrade: MediaUpgrade) -> dict[str, str]:
    """The stream token as the upgrade presents it: the query string, else an extra header."""
    token = upgrade.query_parameters().get(STREAM_TOKEN_PARAMETER) or None
    if token is None:
        for name, value in upgrade.headers.items():
            if name.lower().endswith(HEADER_TOKEN):
                token = token_from_header(value)
                break
    return {} if token is None else {STREAM_TOKEN_PARAMETER: token}


def _upgrade_signed(settings: PlivoSettings, upgrade: MediaUpgrade) -> bool:
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


def _media(
    settings: PlivoSettings, upgrade: MediaUpgrade, unsigned: bool
) -> MediaAccepted | MediaRefused:
    if not _upgrade_signed(settings, upgrade):
        return MediaRefused("bad upgrade signature")
    expected = content_format(settings.content_type)
    return MediaAccepted(PlivoTranslator(_presented(upgrade), expected=expected))


def _control(settings: PlivoSettings, context: ControlContext) -> PlivoCallControl | None:
    base = context.base_url
    if settings.auth_id is None or settings.auth_token is None or base is None:
        return None
    return PlivoCallControl(
        settings.auth_id,
        settings.auth_token,
        action_url=f"{base}/plivo/action",
        api_base=settings.api_base,
    )


PLIVO: CarrierPlugin[PlivoSettings] = CarrierPlugin(
    name="plivo",
    variables=VARIABLES,
    read_settings=read_settings,
    default_settings=PlivoSettings,
    secret_name="PLIVO_AUTH_TOKEN",
    has_secret=lambda settings: settings.auth_token is not None,
    verify=_verify,
    parse_call=_call,
    missing_call_id="CallUUID",
    answer=_answer,
    fallback=_fallback,
    media=_media,
    control=_control,
    sim=SimDialect(
        "gateway.sim.plivo:PlivoDialect",
        "PLIVO_AUTH_TOKEN",
        "PLIVO_AUTH_ID",
        "Auth Token (X-Plivo-Signature-V3)",
    ),
    callbacks=(Callback("status", _status), Callback("action", _action)),
)
