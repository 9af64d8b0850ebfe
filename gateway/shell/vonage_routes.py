"""Vonage's routes: the answer webhook (NCCO), event webhooks, and the media websocket.

* `GET|POST /vonage/voice`: the application's answer URL. Checks the signed-webhook JWT under
  VONAGE_SIGNATURE_SECRET (without it every webhook is refused, unless `vonage` is in
  GATEWAY_UNSIGNED_CARRIERS), takes or refuses the call (admission), issues the call's
  stream token, pre-warms its Live session and answers an NCCO that connects the call to
  `/vonage/media` with the call's UUID and token in the endpoint's `headers`.
* `POST /vonage/event`: the application's event URL: status changes, checked and logged.
* `WS /vonage/media`: Vonage signs no websocket upgrade, so the socket is accepted and the
  stream token in `websocket:connected` decides (no valid token: closed 1008, no Live session).
"""

from __future__ import annotations

import json
import secrets
import time
import uuid
from collections.abc import Callable
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route, WebSocketRoute
from starlette.websockets import WebSocket

from gateway.carrier_settings import VonageSettings
from gateway.carriers.messages import bounded_id
from gateway.carriers.urls import websocket_url
from gateway.carriers.vonage import CALL_ID_HEADER, VonageTranslator
from gateway.carriers.vonage_ncco import action_ncco, answer_ncco
from gateway.carriers.vonage_rest import VonageCallControl
from gateway.carriers.vonage_signature import verify_webhook
from gateway.carriers.vonage_webhook import parse_answer, parse_event
from gateway.core.events import HangUp, Transfer
from gateway.core.stream_tokens import STREAM_TOKEN_PARAMETER
from gateway.log import get_logger
from gateway.shell.runtime import GatewayRuntime
from gateway.shell.streams import run_media_stream
from gateway.shell.webhooks import (
    SignedRequest,
    answer_call,
    reject,
    runtime_of,
    signed_request,
)

__all__ = ["vonage_routes"]

_log = get_logger(component="vonage")
_NCCO = "application/json"


async def _checked(
    request: Request, runtime: GatewayRuntime
) -> tuple[list[tuple[str, str]], SignedRequest] | Response:
    """The request's query and body once its JWT holds, else the refusal to send."""
    settings = runtime.settings.vonage
    query = parse_qsl(request.url.query, keep_blank_values=True)

    def valid(url: str, body: bytes) -> bool:
        del url  # the JWT covers the payload (payload_hash), not the URL
        assert settings.signature_secret is not None
        authorization = request.headers.get("authorization")
        secret, now = settings.signature_secret, time.time()
        refusal = verify_webhook(authorization, secret, now, body=body, query=query)
        if refusal is not None:  # the detail an operator needs (stale iat, payload_hash, ...)
            _log.warning("webhook.jwt_refused", path=request.url.path, reason=refusal)
        return refusal is None

    checked = await signed_request(
        request,
        runtime,
        key_name="VONAGE_SIGNATURE_SECRET",
        checked=settings.signature_secret is not None,
        allow_unsigned=settings.allow_unsigned,
        valid=valid,
    )
    return checked if isinstance(checked, Response) else (query, checked)


def _fallback(to_number: str, settings: VonageSettings) -> Callable[[str, str | None], str]:
    """The NCCO of a refused call: a goodbye, then a connect to the fallback number if any."""

    def fallback(message: str, transfer_to: str | None) -> str:
        action = (
            HangUp(message) if transfer_to is None else Transfer(transfer_to, "fallback", message)
        )
        ncco = action_ncco(action, from_number=settings.from_number or to_number)
        return json.dumps(ncco, separators=(",", ":"))

    return fallback


async def voice(request: Request) -> Response:
    runtime = runtime_of(request)
    checked = await _checked(request, runtime)
    if isinstance(checked, Response):
        return checked
    query, signed = checked
    call = parse_answer(query, signed.body)
    if call is None:
        return reject(runtime, request.url.path, "no uuid", 400, "uuid missing")
    settings = runtime.settings.vonage

    def answer(token: str) -> str:
        headers = {CALL_ID_HEADER: call.call_id, STREAM_TOKEN_PARAMETER: token}
        stream_url = websocket_url(signed.base, "/vonage/media")
        return answer_ncco(stream_url, settings.audio_rate_hz, headers)

    fallback = _fallback(call.to_number, settings)
    return answer_call(runtime, _log, call, answer=answer, fallback=fallback, media_type=_NCCO)


async def event(request: Request) -> Response:
    runtime = runtime_of(request)
    checked = await _checked(request, runtime)
    if isinstance(checked, Response):
        return checked
    query, signed = checked
    call = parse_event(query, signed.body)
    _log.info(
        "call.event",
        call_sid=bounded_id(call.call_id),
        status=bounded_id(call.status),
        detail=bounded_id(call.detail, 200),
    )
    return Response(status_code=204)


def _control(settings: VonageSettings) -> VonageCallControl | None:
    if settings.application_id is None or settings.private_key is None:
        return None
    return VonageCallControl(
        settings.application_id,
        settings.private_key,
        clock_s=time.time,
        new_id=lambda: str(uuid.uuid4()),
        api_base=settings.api_base,
        from_number=settings.from_number,
    )


async def media(ws: WebSocket) -> None:
    runtime = runtime_of(ws)
    await ws.accept()
    translator = VonageTranslator(stream_id="VS" + secrets.token_hex(16))
    await run_media_stream(ws, runtime, translator, control=_control(runtime.settings.vonage))


def vonage_routes() -> list[BaseRoute]:
    return [
        Route("/vonage/voice", voice, methods=["GET", "POST"]),
        Route("/vonage/event", event, methods=["POST"]),
        WebSocketRoute("/vonage/media", media),
    ]
