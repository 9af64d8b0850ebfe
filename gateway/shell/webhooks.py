"""What the carrier routes (`gateway.shell.carrier_routes`) need from a request: the runtime,
the public URL as the carrier reached it, the undecoded path, a bounded body, and the counted,
logged refusals."""

from __future__ import annotations

import time
from urllib.parse import parse_qsl

from starlette.requests import HTTPConnection, Request
from starlette.responses import PlainTextResponse, Response

from gateway.carriers.messages import MAX_ID_CHARS
from gateway.carriers.plugin import Webhook
from gateway.carriers.urls import public_base_url, request_url
from gateway.log import get_logger
from gateway.shell.runtime import GatewayRuntime

__all__ = [
    "MAX_WEBHOOK_BYTES",
    "base_url",
    "headers_of",
    "raw_path",
    "read_body",
    "received_webhook",
    "refuse_absurd_id",
    "reject",
    "runtime_of",
    "webhook_of",
]

_log = get_logger(component="webhooks")

MAX_WEBHOOK_BYTES = 64 * 1024
"""Largest webhook body read; a carrier's call webhook is a few hundred bytes."""


def runtime_of(connection: HTTPConnection) -> GatewayRuntime:
    runtime: GatewayRuntime = connection.app.state.gateway
    return runtime


def base_url(connection: HTTPConnection, runtime: GatewayRuntime) -> str:
    """The gateway's public base URL as the carrier reached it (ValueError without a host)."""
    scheme = {"ws": "http", "wss": "https"}.get(connection.url.scheme, connection.url.scheme)
    return public_base_url(
        runtime.settings.server.public_url,
        scheme=scheme,
        host=connection.headers.get("host"),
        headers=connection.headers,
    )


def raw_path(connection: HTTPConnection) -> str:
    """The path exactly as requested, undecoded, without the query."""
    raw = connection.scope.get("raw_path")
    if isinstance(raw, bytes):
        return raw.decode("latin-1").partition("?")[0]
    return connection.url.path


async def read_body(request: Request, limit: int = MAX_WEBHOOK_BYTES) -> bytes | None:
    """The request body, or None when it is larger than `limit` (nothing more is read)."""
    declared = request.headers.get("content-length", "0")
    if declared.isdigit() and int(declared) > limit:
        return None
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            return None
    return bytes(body)


def reject(
    runtime: GatewayRuntime,
    path: str,
    reason: str,
    status: int,
    text: str,
    *,
    detail: str | None = None,
) -> PlainTextResponse:
    """Count and log a refused webhook (`webhook.rejected` with `reason`, and what failed in
    `detail` when the carrier says); the answer to send."""
    runtime.counters.webhook_rejected()
    extra = {} if detail is None else {"detail": detail}
    _log.warning("webhook.rejected", path=path, reason=reason, **extra)
    return PlainTextResponse(text, status_code=status)


def refuse_absurd_id(runtime: GatewayRuntime, call_id: str) -> Response | None:
    """A 400 for a call id longer than `MAX_ID_CHARS` (counted and logged without it)."""
    if len(call_id) <= MAX_ID_CHARS:
        return None
    runtime.counters.webhook_rejected()
    _log.warning("webhook.rejected", reason="call id too long", id_chars=len(call_id))
    return PlainTextResponse("call id too long", status_code=400)


def headers_of(connection: HTTPConnection) -> dict[str, str]:
    """The request's headers by lower-case name; a repeated header counts by its first value."""
    headers: dict[str, str] = {}
    for name, value in connection.headers.items():
        headers.setdefault(name.lower(), value)
    return headers


def webhook_of(request: Request, base: str, body: bytes) -> Webhook:
    """The request as a plug-in sees it (its public URL under `base`, query, headers, body)."""
    query = request.url.query
    return Webhook(
        method=request.method,
        url=request_url(base, raw_path(request), query),
        base_url=base,
        query=tuple(parse_qsl(query, keep_blank_values=True)),
        headers=headers_of(request),
        body=body,
        now_s=time.time(),
    )


async def received_webhook(request: Request, runtime: GatewayRuntime) -> Webhook | Response:
    """The request read (bounded) as a `Webhook`, or the refusal to send (too large, no host);
    its signature is the caller's to check."""
    path = request.url.path
    body = await read_body(request)
    if body is None:
        return reject(runtime, path, "body too large", 413, "request too large")
    try:
        base = base_url(request, runtime)
    except ValueError:
        return reject(runtime, path, "no host", 400, "no host")
    return webhook_of(request, base, body)
