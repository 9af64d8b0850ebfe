"""SignalWire's routes (cXML): the voice webhook, stream status callbacks, the media stream.

* `POST /signalwire/voice`: the cXML application's voice URL. Checks `X-SignalWire-Signature`
  (or `X-Twilio-Signature`) with SIGNALWIRE_SIGNING_KEY (without it every webhook is refused
  unless GATEWAY_UNSIGNED_CARRIERS names signalwire), takes or refuses the call (admission),
  issues the call's stream token, pre-warms its Live session and answers Twilio-style
  `<Connect><Stream>` with the token as a `<Parameter>` and as `authBearerToken`, and the
  configured `codec`.
* `POST /signalwire/status`: stream status callbacks, checked and logged.
* `WS /signalwire/media`: whether SignalWire signs the upgrade is not verified, so a signature
  there is only logged; the token (`start.customParameters`, else the handshake's bearer) decides
  at `start` (none valid for the call: closed 1008, no Live session).
"""

from __future__ import annotations

from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route, WebSocketRoute
from starlette.websockets import WebSocket

from gateway.carrier_settings import SignalWireSettings
from gateway.carriers.signalwire import codec_attribute, signalwire_translator
from gateway.carriers.signalwire_rest import signalwire_control
from gateway.carriers.signalwire_signature import SIGNATURE_HEADERS, validate_signature
from gateway.carriers.twilio_rest import TwilioCallControl
from gateway.carriers.twilio_webhook import parse_stream_status, parse_voice_webhook
from gateway.carriers.twiml import connect_stream, fallback
from gateway.carriers.urls import websocket_url
from gateway.core.stream_tokens import STREAM_TOKEN_PARAMETER
from gateway.log import get_logger
from gateway.shell.runtime import GatewayRuntime
from gateway.shell.streams import run_media_stream
from gateway.shell.webhooks import (
    answer_call,
    base_url,
    log_stream_status,
    raw_path,
    reject,
    runtime_of,
    signed_request,
)

__all__ = ["signalwire_routes"]

_log = get_logger(component="signalwire")
_CXML = "application/xml"


def _signature(connection: Request | WebSocket) -> str | None:
    for name in SIGNATURE_HEADERS:
        value = connection.headers.get(name)
        if value:
            return value
    return None


async def _checked_form(
    request: Request, runtime: GatewayRuntime
) -> tuple[list[tuple[str, str]], str] | Response:
    """The form and the public base URL once the signature holds, else the refusal to send."""
    settings = runtime.settings.signalwire
    key = settings.signing_key
    checked = await signed_request(
        request,
        runtime,
        key_name="SIGNALWIRE_SIGNING_KEY",
        checked=key is not None,
        allow_unsigned=settings.allow_unsigned,
        valid=lambda url, body: validate_signature(url, body, _signature(request), key or ""),
    )
    if isinstance(checked, Response):
        return checked
    form = parse_qsl(checked.body.decode("utf-8", errors="replace"), keep_blank_values=True)
    return form, checked.base


async def voice(request: Request) -> Response:
    runtime = runtime_of(request)
    checked = await _checked_form(request, runtime)
    if isinstance(checked, Response):
        return checked
    form, base = checked
    call = parse_voice_webhook(form)
    if call is None:
        return reject(runtime, request.url.path, "no CallSid", 400, "CallSid missing")
    codec = codec_attribute(runtime.settings.signalwire.codec)

    def answer(token: str) -> str:
        attributes = {"authBearerToken": token} | ({} if codec is None else {"codec": codec})
        return connect_stream(
            websocket_url(base, "/signalwire/media"),
            {STREAM_TOKEN_PARAMETER: token},
            status_callback=f"{base}/signalwire/status",
            attributes=attributes,
        )

    return answer_call(runtime, _log, call, answer=answer, fallback=fallback, media_type=_CXML)


async def status(request: Request) -> Response:
    runtime = runtime_of(request)
    checked = await _checked_form(request, runtime)
    if isinstance(checked, Response):
        return checked
    return log_stream_status(_log, parse_stream_status(checked[0]))


def _note_upgrade_signature(ws: WebSocket, runtime: GatewayRuntime) -> None:
    """Log whether an upgrade signature, when SignalWire sends one, matches Twilio's form of it
    (over the `wss://` URL with no parameters); the stream token is what guards the stream."""
    key = runtime.settings.signalwire.signing_key
    signature = _signature(ws)
    if key is None or signature is None:
        return
    try:
        url = websocket_url(base_url(ws, runtime), raw_path(ws))
    except ValueError:
        return
    _log.info("stream.upgrade_signature", valid=validate_signature(url, b"", signature, key))


def _control(settings: SignalWireSettings) -> TwilioCallControl | None:
    if settings.project_id is None or settings.api_token is None or settings.space_url is None:
        return None
    try:
        return signalwire_control(settings.project_id, settings.api_token, settings.space_url)
    except ValueError:
        _log.warning("call_control.unavailable", reason="malformed SIGNALWIRE_PROJECT_ID")
        return None


async def media(ws: WebSocket) -> None:
    runtime = runtime_of(ws)
    settings = runtime.settings.signalwire
    _note_upgrade_signature(ws, runtime)
    scheme, _, bearer = ws.headers.get("authorization", "").partition(" ")
    presented = {STREAM_TOKEN_PARAMETER: bearer} if scheme.lower() == "bearer" and bearer else {}
    await ws.accept()
    translator = signalwire_translator(
        presented, l16_big_endian=settings.l16_big_endian, codec=settings.codec
    )
    await run_media_stream(ws, runtime, translator, control=_control(settings))


def signalwire_routes() -> list[BaseRoute]:
    return [
        Route("/signalwire/voice", voice, methods=["POST"]),
        Route("/signalwire/status", status, methods=["POST"]),
        WebSocketRoute("/signalwire/media", media),
    ]
