"""Exotel's routes: the Voicebot applet's dynamic URL, and the media stream.

* `GET|POST /exotel/voice`: the Voicebot applet's URL set to this HTTPS endpoint (Exotel then
  asks it for the stream's URL, with the call's `CallSid`). Checks the Basic credentials
  (EXOTEL_STREAM_USER/PASSWORD; bad or missing: 403, and without them configured every request
  is refused unless `exotel` is in GATEWAY_UNSIGNED_CARRIERS), takes or refuses the call
  (admission: a refusal is HTTP 503, and the flow goes on to the applet after the Voicebot),
  issues the call's stream token, pre-warms its Live session and answers `{"url": "wss://USER:PASSWORD@host/exotel/media?sample-rate=N&
  stream_token=..."}`.
* `WS /exotel/media`: checks the upgrade's Basic credentials (refused with HTTP 403 before the
  socket is accepted), then runs the stream; the token (from `start`'s custom parameters or the
  URL's query) decides whether it becomes a call.

Exotel has no documented REST request that hangs up or transfers a call in progress (protocols.md
C.4; docs/carriers/exotel.md). The stream runs without call control: a hang-up or transfer the
agent asks for ends the stream, and Exotel runs the flow's next applet (a Hangup, or a Connect
to the transfer number).
"""

from __future__ import annotations

from urllib.parse import parse_qsl

from starlette.requests import HTTPConnection, Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route, WebSocketRoute
from starlette.websockets import WebSocket

from gateway.carriers.exotel import RATE_PARAMETER, ExotelTranslator
from gateway.carriers.exotel_auth import check_basic, stream_url
from gateway.carriers.messages import bounded_id
from gateway.carriers.urls import websocket_url
from gateway.core.stream_tokens import STREAM_TOKEN_PARAMETER
from gateway.log import get_logger
from gateway.shell.runtime import GatewayRuntime, Refusal
from gateway.shell.streams import run_media_stream
from gateway.shell.webhooks import refuse_absurd_id, reject, runtime_of, signed_request

__all__ = ["exotel_routes"]

_log = get_logger(component="exotel")


def _refusal(connection: HTTPConnection, runtime: GatewayRuntime) -> str | None:
    """Why the request's credentials are not Exotel's (None: they are, or none are needed)."""
    settings = runtime.settings.exotel
    if settings.stream_user is None or settings.stream_password is None:
        return None if settings.allow_unsigned else "no EXOTEL_STREAM_USER configured"
    authorization = connection.headers.get("authorization")
    if check_basic(authorization, settings.stream_user, settings.stream_password):
        return None
    return "bad credentials"


def _fields(request: Request, body: bytes) -> dict[str, str]:
    """The applet request's fields: the query, then a form body's (GET is documented)."""
    pairs = parse_qsl(request.url.query, keep_blank_values=True)
    if request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        pairs += parse_qsl(body.decode("utf-8", errors="replace"), keep_blank_values=True)
    fields: dict[str, str] = {}
    for name, value in pairs:
        fields.setdefault(name, value)
    return fields


async def voice(request: Request) -> Response:
    runtime = runtime_of(request)
    settings = runtime.settings.exotel
    user, password = settings.stream_user, settings.stream_password

    def valid(url: str, body: bytes) -> bool:
        del url, body  # Basic credentials: nothing is signed
        assert user is not None
        assert password is not None
        return check_basic(request.headers.get("authorization"), user, password)

    checked = await signed_request(
        request,
        runtime,
        key_name="EXOTEL_STREAM_USER",
        checked=user is not None and password is not None,
        allow_unsigned=settings.allow_unsigned,
        valid=valid,
    )
    if isinstance(checked, Response):
        return checked
    fields = _fields(request, checked.body)
    call_id = fields.get("CallSid", "")
    if not call_id:
        return reject(runtime, request.url.path, "no CallSid", 400, "CallSid missing")
    refused = refuse_absurd_id(runtime, call_id)
    if refused is not None:
        return refused
    to_number = bounded_id(fields.get("CallTo", ""))
    taken = runtime.admit_call(call_id, to_number=to_number, from_number=fields.get("CallFrom", ""))
    if isinstance(taken, Refusal):  # at capacity, draining, no agent: no token, no Live session
        _log.warning("webhook.refused", call_sid=call_id, reason=taken.reason, to=to_number)
        return PlainTextResponse(taken.reason, status_code=503)
    credentials = (user, password) if user is not None and password is not None else None
    parameters = {RATE_PARAMETER: str(settings.audio_rate_hz), STREAM_TOKEN_PARAMETER: taken.token}
    url = stream_url(websocket_url(checked.base, "/exotel/media"), parameters, credentials)
    _log.info(
        "webhook.answered",
        call_sid=call_id,
        to=to_number,
        direction=bounded_id(fields.get("Direction", "")),
        profile=taken.profile,
        prewarming=taken.prewarming,
    )
    return JSONResponse({"url": url})


async def media(ws: WebSocket) -> None:
    runtime = runtime_of(ws)
    refusal = _refusal(ws, runtime)
    if refusal is not None:
        runtime.counters.stream_rejected()
        _log.warning("stream.rejected", reason=refusal)
        await ws.close(code=1008)  # before accept: the client gets HTTP 403
        return
    await ws.accept()
    query = dict(parse_qsl(ws.url.query, keep_blank_values=True))
    await run_media_stream(ws, runtime, ExotelTranslator(query))


def exotel_routes() -> list[BaseRoute]:
    return [
        Route("/exotel/voice", voice, methods=["GET", "POST"]),
        WebSocketRoute("/exotel/media", media),
    ]
