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
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route, WebSocketRoute
from starlette.websockets import WebSocket

from gateway.carriers.urls import websocket_url
from gateway.carriers.vonage import CALL_ID_HEADER, VonageTranslator
from gateway.carriers.vonage_ncco import action_ncco, answer_ncco
from gateway.carriers.vonage_rest import VonageCallControl
from gateway.carriers.vonage_signature import verify_webhook
from gateway.carriers.vonage_webhook import parse_answer, parse_event
from gateway.core.events import HangUp, Transfer
from gateway.core.stream_tokens import STREAM_TOKEN_PARAMETER
from gateway.log import get_logger
from gateway.settings import VonageSettings
from gateway.shell.runtime import GatewayRuntime
from gateway.shell.streams import run_media_stream
from gateway.shell.webhooks import base_url, read_body, runtime_of

__all__ = ["vonage_routes"]

_log = get_logger(component="vonage")
_NCCO = "application/json"


async def _checked(
    request: Request, runtime: GatewayRuntime
) -> tuple[list[tuple[str, str]], bytes] | Response:
    """The request's query and body once its signature holds, else the refusal to send."""
    body = await read_body(request)
    if body is None:
        runtime.webhooks_rejected += 1
        _log.warning("webhook.rejected", path=request.url.path, reason="body too large")
        return PlainTextResponse("request too large", status_code=413)
    query = parse_qsl(request.url.query, keep_blank_values=True)
    settings = runtime.settings.vonage
    authorization = request.headers.get("authorization")
    if settings.signature_secret is not None:
        secret, now = settings.signature_secret, time.time()
        refusal = verify_webhook(authorization, secret, now, body=body, query=query)
    else:
        refusal = None if settings.allow_unsigned else "no VONAGE_SIGNATURE_SECRET configured"
    if refusal is not None:
        runtime.webhooks_rejected += 1
        _log.warning("webhook.rejected", path=request.url.path, reason=refusal)
        return PlainTextResponse("invalid signature", status_code=403)
    return query, body


async def voice(request: Request) -> Response:
    runtime = runtime_of(request)
    checked = await _checked(request, runtime)
    if isinstance(checked, Response):
        return checked
    call = parse_answer(*checked)
    if call is None:
        runtime.webhooks_rejected += 1
        _log.warning("webhook.rejected", reason="no uuid")
        return PlainTextResponse("uuid missing", status_code=400)
    call_id = call.call_id
    refusal = runtime.admission()
    if refusal is not None:  # at capacity or draining: no token, no Live session
        _log.warning("webhook.refused", call_sid=call_id, reason=refusal.reason)
        action = (
            HangUp(refusal.message)
            if refusal.transfer_to is None
            else Transfer(refusal.transfer_to, "fallback", refusal.message)
        )
        settings = runtime.settings.vonage
        fallback = action_ncco(action, from_number=settings.from_number or call.to_number)
        return Response(json.dumps(fallback, separators=(",", ":")), media_type=_NCCO)
    try:
        base = base_url(request, runtime)
    except ValueError:
        return PlainTextResponse("no host", status_code=400)
    token = runtime.issue_token(call_id)
    prewarming = runtime.prewarm.start(call_id)
    headers = {CALL_ID_HEADER: call_id, STREAM_TOKEN_PARAMETER: token}
    ncco = answer_ncco(
        websocket_url(base, "/vonage/media"), runtime.settings.vonage.audio_rate_hz, headers
    )
    _log.info(
        "webhook.answered",
        call_sid=call_id,
        to=call.to_number,
        direction=call.direction,
        prewarming=prewarming,
    )
    return Response(ncco, media_type=_NCCO)


async def event(request: Request) -> Response:
    runtime = runtime_of(request)
    checked = await _checked(request, runtime)
    if isinstance(checked, Response):
        return checked
    call = parse_event(*checked)
    _log.info("call.event", call_sid=call.call_id, status=call.status, detail=call.detail)
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
