"""Every registered carrier's HTTP and WebSocket routes, from its plug-in descriptor.

For each carrier in `gateway.carriers.registry` this mounts:

* `/<name>/voice` (the plug-in's `voice_methods`): the body is read (at most
  `MAX_WEBHOOK_BYTES`), the signature checked, the call parsed into a carrier-neutral
  `VoiceWebhook`, admission asked, and the plug-in's answer (with the call's stream token) or
  fallback document sent. A refused call gets no token and no Live session.
* `/<name>/<path>` for each of its callbacks (stream status, events, ...), signed the same way.
* `/<name>/media`: the plug-in checks the upgrade (refused before the socket is accepted: HTTP
  403, `stream.rejected`) and gives the stream's translator; the stream runs as a call
  (`run_media_stream`) with the carrier's REST call control when its credentials are set.

The signature policy is the same for every carrier: a webhook is checked with the carrier's
secret when it is set; without it, it is refused (403 naming the variable) unless the carrier is
named in GATEWAY_UNSIGNED_CARRIERS or the gateway runs the embedded emulator (the development
setup, which says so loudly at start-up). This module reads no vendor field name.
"""

from __future__ import annotations

import secrets
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route, WebSocketRoute
from starlette.websockets import WebSocket

from gateway.carriers import registry
from gateway.carriers.control import CallControl
from gateway.carriers.messages import bounded_id
from gateway.carriers.plugin import (
    Callback,
    CarrierPlugin,
    ControlContext,
    Document,
    MediaRefused,
    MediaUpgrade,
    Refusal,
    Rejected,
    VoiceWebhook,
    Webhook,
)
from gateway.carriers.urls import websocket_url
from gateway.core.carry_on import Finish
from gateway.log import get_logger
from gateway.settings import Settings
from gateway.shell.carry_on import STREAM_ENDED_PATH, carry_on_answer
from gateway.shell.runtime import GatewayRuntime
from gateway.shell.runtime import Refusal as AdmissionRefusal
from gateway.shell.streams import run_media_stream
from gateway.shell.webhooks import (
    MAX_WEBHOOK_BYTES,
    base_url,
    headers_of,
    raw_path,
    received_webhook,
    refuse_absurd_id,
    reject,
    runtime_of,
)

__all__ = [
    "MAX_WEBHOOK_BYTES",
    "carrier_routes",
    "checked_webhook",
    "plugin_routes",
    "signature_state",
    "takes_unsigned",
    "unsigned_allowed",
]


def unsigned_allowed(runtime: GatewayRuntime, plugin: CarrierPlugin[Any]) -> bool:
    """Whether the carrier's webhooks are taken unsigned when its secret is unset."""
    return takes_unsigned(runtime.settings, plugin)


def takes_unsigned(settings: Settings, plugin: CarrierPlugin[Any]) -> bool:
    """The one signature policy: a carrier without its secret is refused, unless it is named in
    GATEWAY_UNSIGNED_CARRIERS or the embedded emulator runs (the development setup)."""
    return bool(settings.carrier(plugin.name).allow_unsigned) or settings.use_embedded_emulator


def signature_state(settings: Settings, plugin: CarrierPlugin[Any]) -> str:
    """`signed` (its secret is set and checked), `unsigned` (taken without), or `refused`."""
    if plugin.has_secret(settings.carrier(plugin.name)):
        return "signed"
    return "unsigned" if takes_unsigned(settings, plugin) else "refused"


def _response(document: Document) -> Response:
    return Response(
        document.body or None,
        status_code=document.status,
        media_type=document.media_type or None,
    )


async def checked_webhook(
    request: Request, runtime: GatewayRuntime, plugin: CarrierPlugin[Any]
) -> Webhook | Response:
    """The webhook once its signature holds (or may be absent), else the refusal to send."""
    path = request.url.path
    webhook = await received_webhook(request, runtime)
    if isinstance(webhook, Response):
        return webhook
    settings = runtime.settings.carrier(plugin.name)
    if not plugin.has_secret(settings):
        if unsigned_allowed(runtime, plugin):
            return webhook
        return reject(runtime, path, f"{plugin.secret_name} not set", 403, "invalid signature")
    refusal = plugin.verify(settings, webhook)
    if refusal is not None:
        detail = None if refusal == "bad signature" else refusal
        return reject(runtime, path, "bad signature", 403, "invalid signature", detail=detail)
    return webhook


async def _checked_call(
    request: Request, runtime: GatewayRuntime, plugin: CarrierPlugin[Any]
) -> tuple[Webhook, VoiceWebhook] | Response:
    """A voice-like webhook checked, with the call it names, else the refusal to send."""
    checked = await checked_webhook(request, runtime, plugin)
    if isinstance(checked, Response):
        return checked
    call = plugin.parse_call(runtime.settings.carrier(plugin.name), checked)
    if call is None:
        field = plugin.missing_call_id
        return reject(runtime, request.url.path, f"no {field}", 400, f"{field} missing")
    refused = refuse_absurd_id(runtime, call.call_id)
    if refused is not None:
        return refused
    return checked, call


def _stream_ended_url(checked: Webhook, plugin: CarrierPlugin[Any]) -> str:
    """Where the carrier asks what next once the stream ended (cluster mode)."""
    return f"{checked.base_url}/{plugin.name}/{STREAM_ENDED_PATH}"


def _voice(plugin: CarrierPlugin[Any]) -> Callable[[Request], Awaitable[Response]]:
    log = get_logger(component=plugin.name)

    async def voice(request: Request) -> Response:
        runtime = runtime_of(request)
        received = await _checked_call(request, runtime, plugin)
        if isinstance(received, Response):
            return received
        checked, call = received
        settings = runtime.settings.carrier(plugin.name)
        to_number = bounded_id(call.to_number)
        taken = await runtime.admit(
            call.call_id, to_number=call.to_number, from_number=call.from_number
        )
        if isinstance(taken, AdmissionRefusal):  # no token, no Live session
            log.warning("webhook.refused", call_sid=call.call_id, reason=taken.reason, to=to_number)
            refusal = Refusal(taken.reason, taken.message, taken.transfer_to)
            return _response(plugin.fallback(settings, call, refusal))
        if runtime.cluster is not None and plugin.carries_on:  # carried on if the stream ends
            action = _stream_ended_url(checked, plugin)
            document = plugin.answer_carrying_on(settings, checked, call, taken.token, action)
        else:
            document = plugin.answer(settings, checked, call, taken.token)
        log.info(
            "webhook.answered",
            call_sid=call.call_id,
            to=to_number,
            direction=bounded_id(call.direction),
            profile=taken.profile,
            prewarming=taken.prewarming,
        )
        return _response(document)

    return voice


def _stream_ended(plugin: CarrierPlugin[Any]) -> Callable[[Request], Awaitable[Response]]:
    """Cluster mode: the carrier asks what next once a call's stream ended (Twilio's
    `<Connect action>`): a new stream to carry the call on, or the end
    (`gateway.core.carry_on.after_stream`)."""
    log = get_logger(component=plugin.name)

    async def endpoint(request: Request) -> Response:
        runtime = runtime_of(request)
        received = await _checked_call(request, runtime, plugin)
        if isinstance(received, Response):
            return received
        checked, call = received
        settings = runtime.settings.carrier(plugin.name)
        next_step = await carry_on_answer(runtime, call.call_id)
        if isinstance(next_step, Finish):
            log.info(
                "call.stream_ended", call_sid=call.call_id, next="end", reason=next_step.reason
            )
            return _response(plugin.stream_ended(settings))
        token = runtime.issue_token(call.call_id, profile=next_step.profile)
        action = _stream_ended_url(checked, plugin)
        document = plugin.answer_carrying_on(settings, checked, call, token, action)
        log.info("call.stream_ended", call_sid=call.call_id, next="new stream")
        return _response(document)

    return endpoint


def _callback(
    plugin: CarrierPlugin[Any], callback: Callback[Any]
) -> Callable[[Request], Awaitable[Response]]:
    log = get_logger(component=plugin.name)

    async def endpoint(request: Request) -> Response:
        runtime = runtime_of(request)
        checked = await checked_webhook(request, runtime, plugin)
        if isinstance(checked, Response):
            return checked
        result = callback.handle(runtime.settings.carrier(plugin.name), checked)
        if isinstance(result, Rejected):
            return reject(runtime, request.url.path, result.reason, result.status, result.text)
        document, line = result
        if line is not None:
            log.info(line.event, **line.fields)
        return _response(document)

    return endpoint


def _control(plugin: CarrierPlugin[Any], settings: Any, base: str | None) -> CallControl | None:
    context = ControlContext(base, clock_s=time.time, new_id=lambda: str(uuid.uuid4()))
    try:
        return plugin.control(settings, context)
    except ValueError as exc:
        get_logger(component=plugin.name).warning("call_control.unavailable", reason=str(exc))
        return None


def _media(plugin: CarrierPlugin[Any]) -> Callable[[WebSocket], Awaitable[None]]:
    log = get_logger(component=plugin.name)

    async def media(ws: WebSocket) -> None:
        runtime = runtime_of(ws)
        settings = runtime.settings.carrier(plugin.name)
        path = raw_path(ws)
        base: str | None
        try:
            base = base_url(ws, runtime)
            url: str | None = websocket_url(base, path)
        except ValueError:
            base = url = None
        upgrade = MediaUpgrade(
            url, base, path, ws.url.query, headers_of(ws), nonce=secrets.token_hex(16)
        )
        decision = plugin.media(settings, upgrade, unsigned_allowed(runtime, plugin))
        if isinstance(decision, MediaRefused):
            runtime.counters.stream_rejected()
            log.warning("stream.rejected", reason=decision.reason)
            await ws.close(code=1008)  # before accept: the client gets HTTP 403
            return
        for note in decision.notes:
            log.info(note.event, **note.fields)
        control = _control(plugin, settings, base)
        await ws.accept()
        await run_media_stream(
            ws,
            runtime,
            decision.translator,
            control=control,
            media_message_ms=plugin.media_message_ms,
        )

    return media


def plugin_routes(plugin: CarrierPlugin[Any]) -> list[BaseRoute]:
    """One carrier's routes: voice, its callbacks, media."""
    name = plugin.name
    routes: list[BaseRoute] = [
        Route(f"/{name}/voice", _voice(plugin), methods=list(plugin.voice_methods))
    ]
    for callback in plugin.callbacks:
        endpoint = _callback(plugin, callback)
        routes.append(Route(f"/{name}/{callback.path}", endpoint, methods=list(callback.methods)))
    if plugin.carries_on:
        routes.append(
            Route(f"/{name}/{STREAM_ENDED_PATH}", _stream_ended(plugin), methods=["POST"])
        )
    routes.append(WebSocketRoute(f"/{name}/media", _media(plugin)))
    return routes


def carrier_routes() -> list[BaseRoute]:
    """The routes of every registered carrier, in registry order."""
    return [route for plugin in registry.carriers() for route in plugin_routes(plugin)]
