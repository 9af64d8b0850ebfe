"""Twilio's routes: the voice webhook, stream status callbacks, and the media stream.

* `POST /twilio/voice`: checks `X-Twilio-Signature` (when TWILIO_AUTH_TOKEN is set), issues the
  call's stream token, starts pre-warming its Live session and answers `<Connect><Stream>`.
* `POST /twilio/status`: stream status callbacks, checked and logged.
* `WS /twilio/media`: checks the upgrade's signature (refused with HTTP 403 before accepting), then
  runs the stream as a call (`CallRunner`); a `start` without a valid token for its CallSid is
  closed (1008) without opening a Live session.
"""

from __future__ import annotations

from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route, WebSocketRoute
from starlette.websockets import WebSocket

from gateway.carriers.twilio import TwilioTranslator
from gateway.carriers.twilio_signature import validate_signature
from gateway.carriers.twilio_webhook import parse_stream_status, parse_voice_webhook
from gateway.carriers.twiml import connect_stream, fallback
from gateway.carriers.urls import request_url, websocket_url
from gateway.core.stream_tokens import STREAM_TOKEN_PARAMETER
from gateway.log import get_logger
from gateway.shell.call_control import twilio_call_control
from gateway.shell.runtime import GatewayRuntime
from gateway.shell.streams import run_media_stream
from gateway.shell.webhooks import MAX_WEBHOOK_BYTES, answer_call, log_stream_status, read_body
from gateway.shell.webhooks import base_url as _base_url
from gateway.shell.webhooks import raw_path as _raw_path
from gateway.shell.webhooks import runtime_of as _runtime

__all__ = ["MAX_WEBHOOK_BYTES", "twilio_routes"]

_log = get_logger(component="twilio")
_TWIML = "application/xml"


async def _read_form(request: Request) -> list[tuple[str, str]] | None:
    """The url-encoded form body (None when it is too large to be a Twilio webhook)."""
    body = await read_body(request)
    if body is None:
        return None
    return parse_qsl(body.decode("utf-8", errors="replace"), keep_blank_values=True)


def _signed(
    runtime: GatewayRuntime, url: str, params: list[tuple[str, str]] | None, signature: str | None
) -> bool:
    token = runtime.settings.twilio.auth_token
    return token is None or validate_signature(url, params, signature, token)


async def _checked_form(
    request: Request, runtime: GatewayRuntime
) -> tuple[list[tuple[str, str]], str] | Response:
    form = await _read_form(request)
    if form is None:
        runtime.counters.webhook_rejected()
        _log.warning("webhook.rejected", path=request.url.path, reason="body too large")
        return PlainTextResponse("request too large", status_code=413)
    try:
        base = _base_url(request, runtime)
    except ValueError:
        return PlainTextResponse("no host", status_code=400)
    url = request_url(base, _raw_path(request), request.url.query)
    if not _signed(runtime, url, form, request.headers.get("x-twilio-signature")):
        runtime.counters.webhook_rejected()
        _log.warning("webhook.rejected", path=request.url.path, reason="bad signature")
        return PlainTextResponse("invalid signature", status_code=403)
    return form, base


async def voice(request: Request) -> Response:
    runtime = _runtime(request)
    checked = await _checked_form(request, runtime)
    if isinstance(checked, Response):
        return checked
    form, base = checked
    call = parse_voice_webhook(form)
    if call is None:
        runtime.counters.webhook_rejected()
        _log.warning("webhook.rejected", reason="no CallSid")
        return PlainTextResponse("CallSid missing", status_code=400)

    def answer(token: str) -> str:
        return connect_stream(
            websocket_url(base, "/twilio/media"),
            {STREAM_TOKEN_PARAMETER: token},
            status_callback=f"{base}/twilio/status",
        )

    return answer_call(runtime, _log, call, answer=answer, fallback=fallback, media_type=_TWIML)


async def status(request: Request) -> Response:
    runtime = _runtime(request)
    checked = await _checked_form(request, runtime)
    if isinstance(checked, Response):
        return checked
    return log_stream_status(_log, parse_stream_status(checked[0]))


async def media(ws: WebSocket) -> None:
    runtime = _runtime(ws)
    try:
        url = websocket_url(_base_url(ws, runtime), _raw_path(ws))
    except ValueError:
        url = ""
    if not url or not _signed(runtime, url, None, ws.headers.get("x-twilio-signature")):
        runtime.counters.stream_rejected()
        _log.warning("stream.rejected", reason="bad upgrade signature")
        await ws.close(code=1008)  # before accept: the client gets HTTP 403
        return
    await ws.accept()
    control = twilio_call_control(runtime.settings.twilio)
    await run_media_stream(ws, runtime, TwilioTranslator(), control=control)


def twilio_routes() -> list[BaseRoute]:
    return [
        Route("/twilio/voice", voice, methods=["POST"]),
        Route("/twilio/status", status, methods=["POST"]),
        WebSocketRoute("/twilio/media", media),
    ]
