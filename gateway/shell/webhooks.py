"""What the carrier routes (`gateway.shell.carrier_routes`) need from a request: the runtime,
the public URL as the carrier reached it, the undecoded path, a bounded body, and the counted,
logged refusals."""

from __future__ import annotations

from starlette.requests import HTTPConnection, Request
from starlette.responses import PlainTextResponse, Response

from gateway.carriers.messages import MAX_ID_CHARS
from gateway.carriers.urls import public_base_url
from gateway.log import get_logger
from gateway.shell.runtime import GatewayRuntime

__all__ = [
    "MAX_WEBHOOK_BYTES",
    "base_url",
    "raw_path",
    "read_body",
    "refuse_absurd_id",
    "reject",
    "runtime_of",
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
