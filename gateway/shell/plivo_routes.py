"""Plivo's routes: the answer webhook, stream status callbacks, transfer XML, the media stream.

* `POST /plivo/voice`: the application's answer URL. Checks `X-Plivo-Signature-V3`
  (PLIVO_AUTH_TOKEN; without it every webhook is refused unless GATEWAY_UNSIGNED_CARRIERS names
  plivo), takes or refuses the call (admission), issues the call's stream token, pre-warms its
  Live session and answers `<Stream bidirectional="true">` carrying the token.
* `POST /plivo/status`: stream status callbacks (`StartStream`, `StopStream`, ...), logged.
* `POST /plivo/action`: the XML a transfer or a goodbye runs (`to`, `say` in the query), fetched
  by Plivo after our REST request; signed like every callback.
* `WS /plivo/media`: Plivo signs the upgrade with `X-Plivo-Signature-V3` over the full stream
  URL (plivo-python 4.63.1). With PLIVO_AUTH_TOKEN set, a missing or wrong signature is refused
  before the socket is accepted (HTTP 403, `stream.rejected reason="bad upgrade signature"`, no
  Live session); the stream token (query string, or the `streamtoken` extra header) then
  decides at `start` (none valid for the call: closed 1008, no Live session).
"""

from __future__ import annotations

from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route, WebSocketRoute
from starlette.websockets import WebSocket

from gateway.carrier_settings import PlivoSettings
from gateway.carriers.messages import bounded_id
from gateway.carriers.plivo import PlivoTranslator, content_format
from gateway.carriers.plivo_rest import PlivoCallControl
from gateway.carriers.plivo_signature import NONCE_HEADER, SIGNATURE_HEADER, validate_signature
from gateway.carriers.plivo_xml import (
    HEADER_TOKEN,
    action_xml,
    parse_webhook,
    stream_xml,
    token_from_header,
)
from gateway.carriers.urls import request_url, websocket_url
from gateway.core.stream_tokens import STREAM_TOKEN_PARAMETER
from gateway.log import get_logger
from gateway.shell.runtime import GatewayRuntime
from gateway.shell.streams import run_media_stream
from gateway.shell.webhooks import (
    answer_call,
    base_url,
    raw_path,
    reject,
    runtime_of,
    signed_request,
)

__all__ = ["plivo_routes"]

_log = get_logger(component="plivo")
_XML = "application/xml"


async def _checked_form(
    request: Request, runtime: GatewayRuntime
) -> tuple[list[tuple[str, str]], str] | Response:
    """The form and the public base URL once the signature holds, else the refusal to send."""
    settings = runtime.settings.plivo
    token = settings.auth_token
    signature, nonce = request.headers.get(SIGNATURE_HEADER), request.headers.get(NONCE_HEADER)

    def valid(url: str, body: bytes) -> bool:
        form = parse_qsl(body.decode("utf-8", errors="replace"), keep_blank_values=True)
        return validate_signature("POST", url, form, nonce, signature, token or "")

    checked = await signed_request(
        request,
        runtime,
        key_name="PLIVO_AUTH_TOKEN",
        checked=token is not None,
        allow_unsigned=settings.allow_unsigned,
        valid=valid,
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
    call = parse_webhook(form)
    if call is None:
        return reject(runtime, request.url.path, "no CallUUID", 400, "CallUUID missing")

    def answer(token: str) -> str:
        return stream_xml(
            websocket_url(base, "/plivo/media"),
            STREAM_TOKEN_PARAMETER,
            token,
            content_type=runtime.settings.plivo.content_type,
            status_callback=f"{base}/plivo/status",
        )

    return answer_call(runtime, _log, call, answer=answer, fallback=action_xml, media_type=_XML)


async def status(request: Request) -> Response:
    runtime = runtime_of(request)
    checked = await _checked_form(request, runtime)
    if isinstance(checked, Response):
        return checked
    fields = dict(checked[0])
    _log.info(
        "stream.status",
        call_sid=bounded_id(fields.get("CallUUID", "")),
        stream_sid=bounded_id(fields.get("StreamID", fields.get("StreamId", ""))),
        stream_event=bounded_id(fields.get("Event", "")),
        stream_error=bounded_id(fields.get("Error", ""), 200),
    )
    return Response(status_code=204)


async def action(request: Request) -> Response:
    runtime = runtime_of(request)
    checked = await _checked_form(request, runtime)
    if isinstance(checked, Response):
        return checked
    query = dict(parse_qsl(request.url.query))
    try:
        document = action_xml(query.get("say"), query.get("to"))
    except ValueError:
        return reject(runtime, request.url.path, "bad action", 400, "bad action")
    call_sid = bounded_id(dict(checked[0]).get("CallUUID", ""))
    _log.info("call.action", call_sid=call_sid, transfer="to" in query)
    return Response(document, media_type=_XML)


def _presented(ws: WebSocket) -> dict[str, str]:
    """The stream token as the upgrade presents it: the query string, else an extra header."""
    token = ws.query_params.get(STREAM_TOKEN_PARAMETER) or None
    if token is None:
        for name, value in ws.headers.items():
            if name.lower().endswith(HEADER_TOKEN):
                token = token_from_header(value)
                break
    return {} if token is None else {STREAM_TOKEN_PARAMETER: token}


def _upgrade_signed(ws: WebSocket, runtime: GatewayRuntime) -> bool:
    """Whether the upgrade may proceed: true without PLIVO_AUTH_TOKEN (nothing to check with;
    the stream token guards the stream), else only with Plivo's V3 signature of the stream URL
    as a GET. The URL is the one Plivo was given, `wss://` (or `ws://`) with its query; the same
    URL with the `https://` scheme is accepted too, in case Plivo signs it as a callback."""
    token = runtime.settings.plivo.auth_token
    if token is None:
        return True
    signature = ws.headers.get(SIGNATURE_HEADER)
    nonce = ws.headers.get(NONCE_HEADER)
    if not signature or not nonce:
        return False
    try:
        base = base_url(ws, runtime)
    except ValueError:
        return False
    query = ws.url.query
    stream = websocket_url(base, raw_path(ws)) + (f"?{query}" if query else "")
    candidates = (stream, request_url(base, raw_path(ws), query))
    return any(validate_signature("GET", u, None, nonce, signature, token) for u in candidates)


def _control(settings: PlivoSettings, base: str | None) -> PlivoCallControl | None:
    if settings.auth_id is None or settings.auth_token is None or base is None:
        return None
    return PlivoCallControl(
        settings.auth_id,
        settings.auth_token,
        action_url=f"{base}/plivo/action",
        api_base=settings.api_base,
    )


async def media(ws: WebSocket) -> None:
    runtime = runtime_of(ws)
    settings = runtime.settings.plivo
    if not _upgrade_signed(ws, runtime):
        runtime.counters.stream_rejected()
        _log.warning("stream.rejected", reason="bad upgrade signature")
        await ws.close(code=1008)  # before accept: the client gets HTTP 403
        return
    try:
        base: str | None = base_url(ws, runtime)
    except ValueError:
        base = None
    await ws.accept()
    expected = content_format(settings.content_type)
    translator = PlivoTranslator(_presented(ws), expected=expected)
    await run_media_stream(ws, runtime, translator, control=_control(settings, base))


def plivo_routes() -> list[BaseRoute]:
    return [
        Route("/plivo/voice", voice, methods=["POST"]),
        Route("/plivo/status", status, methods=["POST"]),
        Route("/plivo/action", action, methods=["POST"]),
        WebSocketRoute("/plivo/media", media),
    ]
