"""What every carrier's routes need from a request: the runtime, the public URL, a bounded body,
and the steps every voice webhook takes once its signature held (`answer_call`).

Carrier route modules (`vonage_routes`, `exotel_routes`, ...) share these so that each keeps only
what is carrier-specific: the signature scheme, the answer document, the translator.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from starlette.requests import HTTPConnection, Request
from starlette.responses import PlainTextResponse, Response

from gateway.carriers.messages import MAX_ID_CHARS, bounded_id
from gateway.carriers.twilio_webhook import StreamStatus, VoiceWebhook
from gateway.carriers.urls import public_base_url, request_url
from gateway.log import get_logger
from gateway.shell.runtime import GatewayRuntime, Refusal

__all__ = [
    "MAX_WEBHOOK_BYTES",
    "SignedRequest",
    "answer_call",
    "base_url",
    "log_stream_status",
    "raw_path",
    "read_body",
    "refuse_absurd_id",
    "reject",
    "runtime_of",
    "signed_request",
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
    runtime: GatewayRuntime, path: str, reason: str, status: int, text: str
) -> PlainTextResponse:
    """Count and log a refused webhook (`webhook.rejected` with `reason`); the answer to send."""
    runtime.counters.webhook_rejected()
    _log.warning("webhook.rejected", path=path, reason=reason)
    return PlainTextResponse(text, status_code=status)


def answer_call(
    runtime: GatewayRuntime,
    log: Any,
    call: VoiceWebhook,
    *,
    answer: Callable[[str], str],
    fallback: Callable[[str, str | None], str],
    media_type: str,
) -> Response:
    """Take or refuse a call whose webhook was checked: the carrier's document either way.

    Refused (at capacity, draining, no agent for the dialed number): `fallback(message,
    transfer_to)`, with no token and no Live session. Taken: a stream token naming the call's
    agent profile, its Live session pre-warmed with that profile, and `answer(token)`, the
    carrier's stream instructions carrying the token. A call id longer than any carrier's
    (`MAX_ID_CHARS`) is refused with 400 before anything else (it would be echoed on every
    line of the call)."""
    refused = refuse_absurd_id(runtime, call.call_id)
    if refused is not None:
        return refused
    taken = runtime.admit_call(call.call_id, to_number=call.to_number, from_number=call.from_number)
    if isinstance(taken, Refusal):
        log.warning(
            "webhook.refused",
            call_sid=call.call_id,
            reason=taken.reason,
            to=bounded_id(call.to_number),
        )
        return Response(fallback(taken.message, taken.transfer_to), media_type=media_type)
    document = answer(taken.token)
    log.info(
        "webhook.answered",
        call_sid=call.call_id,
        to=bounded_id(call.to_number),
        direction=bounded_id(call.direction),
        profile=taken.profile,
        prewarming=taken.prewarming,
    )
    return Response(document, media_type=media_type)


def refuse_absurd_id(runtime: GatewayRuntime, call_id: str) -> Response | None:
    """A 400 for a call id longer than `MAX_ID_CHARS` (counted and logged without it)."""
    if len(call_id) <= MAX_ID_CHARS:
        return None
    runtime.counters.webhook_rejected()
    _log.warning("webhook.rejected", reason="call id too long", id_chars=len(call_id))
    return PlainTextResponse("call id too long", status_code=400)


def log_stream_status(log: Any, stream: StreamStatus) -> Response:
    """Log a stream status callback (`stream.status`); the empty answer carriers expect."""
    log.info(
        "stream.status",
        call_sid=bounded_id(stream.call_id),
        stream_sid=bounded_id(stream.stream_id),
        stream_event=bounded_id(stream.event),
        stream_error=bounded_id(stream.error, 200),
    )
    return Response(status_code=204)


@dataclass(frozen=True)
class SignedRequest:
    """A webhook whose signature held: its raw body and the gateway's public base URL."""

    body: bytes
    base: str


async def signed_request(
    request: Request,
    runtime: GatewayRuntime,
    *,
    key_name: str,
    checked: bool,
    allow_unsigned: bool,
    valid: Callable[[str, bytes], bool],
) -> SignedRequest | Response:
    """Read a webhook and check its signature with `valid(url, body)`, where `url` is the URL
    the carrier requested (public base, raw path, query). Without the carrier's key (`checked`
    False) it is refused unless the carrier may run unsigned; the refusal names `key_name`."""
    path = request.url.path
    body = await read_body(request)
    if body is None:
        return reject(runtime, path, "body too large", 413, "request too large")
    try:
        base = base_url(request, runtime)
    except ValueError:
        return reject(runtime, path, "no host", 400, "no host")
    if not checked:
        if allow_unsigned:
            return SignedRequest(body, base)
        return reject(runtime, path, f"{key_name} not set", 403, "invalid signature")
    if not valid(request_url(base, raw_path(request), request.url.query), body):
        return reject(runtime, path, "bad signature", 403, "invalid signature")
    return SignedRequest(body, base)
