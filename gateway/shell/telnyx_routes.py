"""Telnyx's routes (TeXML): the voice webhook, stream status callbacks, and the media stream.

* `POST /telnyx/voice`: the TeXML application's voice URL. Checks the Ed25519 webhook signature
  (`TELNYX_PUBLIC_KEY`; without it every webhook is refused unless GATEWAY_UNSIGNED_CARRIERS
  names telnyx), takes or refuses the call (admission), issues the call's stream token,
  pre-warms its Live session and answers `<Connect><Stream>` with the token in the stream URL.
* `POST /telnyx/status`: stream status callbacks, checked and logged.
* `WS /telnyx/media`: Telnyx signs no media socket, so the socket is accepted and the stream
  token from the URL's query string decides at `start` (no valid token for the call's
  `call_control_id`: closed 1008, no Live session).
"""

from __future__ import annotations

import time

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route, WebSocketRoute
from starlette.websockets import WebSocket

from gateway.audio.paths import Encoding
from gateway.carrier_settings import TelnyxSettings
from gateway.carriers.telnyx import TelnyxTranslator
from gateway.carriers.telnyx_rest import TelnyxCallControl
from gateway.carriers.telnyx_signature import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    load_public_key,
    verify,
)
from gateway.carriers.telnyx_webhook import parse_status, parse_webhook, texml_stream
from gateway.carriers.twiml import fallback
from gateway.carriers.urls import websocket_url
from gateway.core.stream_tokens import STREAM_TOKEN_PARAMETER
from gateway.log import get_logger
from gateway.shell.runtime import GatewayRuntime
from gateway.shell.streams import run_media_stream
from gateway.shell.webhooks import (
    SignedRequest,
    answer_call,
    log_stream_status,
    reject,
    runtime_of,
    signed_request,
)

__all__ = ["telnyx_routes"]

_log = get_logger(component="telnyx")
_TEXML = "application/xml"
_CODECS = {"PCMU": Encoding.MULAW, "PCMA": Encoding.ALAW}


async def _checked(request: Request, runtime: GatewayRuntime) -> SignedRequest | Response:
    settings = runtime.settings.telnyx
    key = settings.public_key

    def valid(url: str, body: bytes) -> bool:
        del url  # Telnyx signs the timestamp and the body only
        assert key is not None
        return verify(
            body,
            request.headers.get(SIGNATURE_HEADER),
            request.headers.get(TIMESTAMP_HEADER),
            load_public_key(key),
            now_s=time.time(),
            tolerance_s=settings.signature_tolerance_s,
        )

    return await signed_request(
        request,
        runtime,
        key_name="TELNYX_PUBLIC_KEY",
        checked=key is not None,
        allow_unsigned=settings.allow_unsigned,
        valid=valid,
    )


async def voice(request: Request) -> Response:
    runtime = runtime_of(request)
    checked = await _checked(request, runtime)
    if isinstance(checked, Response):
        return checked
    call = parse_webhook(checked.body, request.headers.get("content-type"))
    if call is None:
        return reject(runtime, request.url.path, "no CallSid", 400, "CallSid missing")
    base = checked.base

    def answer(token: str) -> str:
        return texml_stream(
            websocket_url(base, "/telnyx/media"),
            STREAM_TOKEN_PARAMETER,
            token,
            codec=runtime.settings.telnyx.codec,
            status_callback=f"{base}/telnyx/status",
        )

    return answer_call(runtime, _log, call, answer=answer, fallback=fallback, media_type=_TEXML)


async def status(request: Request) -> Response:
    runtime = runtime_of(request)
    checked = await _checked(request, runtime)
    if isinstance(checked, Response):
        return checked
    status = parse_status(checked.body, request.headers.get("content-type"))
    return log_stream_status(_log, status)


def _control(settings: TelnyxSettings) -> TelnyxCallControl | None:
    if settings.api_key is None:
        return None
    return TelnyxCallControl(settings.api_key, api_base=settings.api_base)


async def media(ws: WebSocket) -> None:
    runtime = runtime_of(ws)
    settings = runtime.settings.telnyx
    token = ws.query_params.get(STREAM_TOKEN_PARAMETER)
    presented = {} if token is None else {STREAM_TOKEN_PARAMETER: token}
    await ws.accept()
    translator = TelnyxTranslator(presented, codec=_CODECS[settings.codec])
    await run_media_stream(ws, runtime, translator, control=_control(settings))


def telnyx_routes() -> list[BaseRoute]:
    return [
        Route("/telnyx/voice", voice, methods=["POST"]),
        Route("/telnyx/status", status, methods=["POST"]),
        WebSocketRoute("/telnyx/media", media),
    ]
