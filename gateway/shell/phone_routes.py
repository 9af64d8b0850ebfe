"""The web softphone's routes (docs/softphone.md), mounted while it is enabled.

* `GET /phone`: the page; `GET /phone/static/<file>`: its script, worklet and style sheet, shipped
  in the package (`gateway/web/phone/`, no build step, nothing fetched from elsewhere).
* `GET /phone/setup`: the agent profiles to pick from, whether the API key is asked for, and
  the link to the last call's report (when there is one).
* `POST /phone/call`: the softphone's voice webhook (`BrowserPlugin`): the access rule, the same
  admission as a phone call, a single-use stream token, the Live session pre-warmed.
* `WS /phone/media`: the media stream, run like every carrier's (`run_media_stream`).
* `GET /phone/report`: the last call's report (`gateway.shell.call_reports`).

Enabled by GATEWAY_DEV_PHONE, else only with the embedded emulator (`BrowserSettings.enabled`).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Route, WebSocketRoute
from starlette.websockets import WebSocket

from gateway.carriers.browser.plugin import BROWSER, MEDIA_PATH
from gateway.carriers.messages import bounded_id
from gateway.carriers.plugin import MediaRefused, MediaUpgrade, Refusal
from gateway.carriers.urls import websocket_url
from gateway.log import get_logger
from gateway.settings import Settings
from gateway.shell.runtime import Refusal as AdmissionRefusal
from gateway.shell.services import GatewayServices
from gateway.shell.streams import run_media_stream
from gateway.shell.webhooks import (
    base_url,
    raw_path,
    received_webhook,
    refuse_absurd_id,
    reject,
    runtime_of,
    webhook_of,
)

__all__ = ["PAGE_DIR", "PhoneReports", "phone_enabled", "phone_routes"]

PAGE_DIR = Path(__file__).resolve().parents[1] / "web" / "phone"
_STATIC = {
    "phone.js": "text/javascript",
    "worklets.js": "text/javascript",
    "style.css": "text/css",
}
_NO_CACHE = {"cache-control": "no-store"}
_log = get_logger(component="phone")


@dataclass
class PhoneReports:
    """Where the last call's report is (`app.state.phone_reports`; None: no report yet)."""

    last: Path | None = None


def phone_enabled(settings: Settings) -> bool:
    return settings.phone.enabled(settings.use_embedded_emulator)


async def page(request: Request) -> Response:
    return FileResponse(PAGE_DIR / "index.html", media_type="text/html", headers=_NO_CACHE)


async def static(request: Request) -> Response:
    name = request.path_params["name"]
    media_type = _STATIC.get(name)
    if media_type is None:
        return Response("not found", status_code=404, media_type="text/plain")
    return FileResponse(PAGE_DIR / name, media_type=media_type, headers=_NO_CACHE)


async def setup(request: Request) -> Response:
    """What the page offers: the profiles (by a number they answer), the key, the last report."""
    runtime = runtime_of(request)
    services: GatewayServices = request.app.state.services
    try:
        base = base_url(request, runtime)
    except ValueError:
        return Response("no host", status_code=400, media_type="text/plain")
    probe = webhook_of(request, base, b"")
    directory = services.agents
    profiles: list[dict[str, Any]] = []
    for profile in directory.profiles.values():
        number = profile.numbers[0] if profile.numbers else None
        if number is None and profile.name != directory.default:
            continue  # no number reaches it: the page could not select it
        profiles.append({"name": profile.name, "number": number or ""})
    reports = request.app.state.phone_reports
    body = {
        "profiles": profiles,
        "key_required": BROWSER.key_required(runtime.settings.phone, probe),
        "last_report": "/phone/report" if reports.last is not None else None,
    }
    return JSONResponse(body, headers=_NO_CACHE)


async def call(request: Request) -> Response:
    """The softphone's voice webhook (see `BrowserPlugin`)."""
    runtime = runtime_of(request)
    path = request.url.path
    webhook = await received_webhook(request, runtime)
    if isinstance(webhook, Response):
        return webhook
    settings = runtime.settings.phone
    refusal = BROWSER.verify(settings, webhook)
    if refusal is not None:
        return reject(runtime, path, "bad API key", 403, refusal, detail=refusal)
    placed = BROWSER.parse_call(settings, webhook)
    if placed is None:
        return reject(runtime, path, "no call", 400, "call missing")
    refused = refuse_absurd_id(runtime, placed.call_id)
    if refused is not None:
        return refused
    to_number = bounded_id(placed.to_number)
    taken = await runtime.admit(  # in cluster mode, a cluster-wide slot too
        placed.call_id, to_number=placed.to_number, from_number=placed.from_number
    )
    if isinstance(taken, AdmissionRefusal):
        _log.warning("webhook.refused", call_sid=placed.call_id, reason=taken.reason, to=to_number)
        document = BROWSER.fallback(
            settings, placed, Refusal(taken.reason, taken.message, taken.transfer_to)
        )
    else:
        document = BROWSER.answer(settings, webhook, placed, taken.token)
        _log.info(
            "webhook.answered",
            call_sid=placed.call_id,
            to=to_number,
            profile=taken.profile,
            prewarming=taken.prewarming,
        )
    return Response(document.body, status_code=document.status, media_type=document.media_type)


async def media(ws: WebSocket) -> None:
    runtime = runtime_of(ws)
    path = raw_path(ws)
    base: str | None
    try:
        base = base_url(ws, runtime)
        url: str | None = websocket_url(base, path)
    except ValueError:
        base = url = None
    headers = {name.lower(): value for name, value in ws.headers.items()}
    upgrade = MediaUpgrade(url, base, path, ws.url.query, headers, nonce=secrets.token_hex(16))
    decision = BROWSER.media(runtime.settings.phone, upgrade, unsigned=False)
    if isinstance(decision, MediaRefused):  # pragma: no cover (the token is the authority)
        await ws.close(code=1008)
        return
    await ws.accept()
    await run_media_stream(ws, runtime, decision.translator)


async def report(request: Request) -> Response:
    """The last call's report: the same access rule as a call (it holds the call's words)."""
    runtime = runtime_of(request)
    try:
        base = base_url(request, runtime)
    except ValueError:
        return reject(runtime, request.url.path, "no host", 400, "no host")
    refusal = BROWSER.verify(runtime.settings.phone, webhook_of(request, base, b""))
    if refusal is not None:
        return reject(runtime, request.url.path, "bad API key", 403, refusal, detail=refusal)
    last = request.app.state.phone_reports.last
    if last is None or not last.exists():
        return Response("no call report yet", status_code=404, media_type="text/plain")
    return FileResponse(last, media_type="text/html", headers=_NO_CACHE)


def phone_routes() -> list[BaseRoute]:
    return [
        Route("/phone", page, methods=["GET"]),
        Route("/phone/static/{name}", static, methods=["GET"]),
        Route("/phone/setup", setup, methods=["GET"]),
        Route("/phone/call", call, methods=["POST"]),
        Route("/phone/report", report, methods=["GET"]),
        WebSocketRoute(MEDIA_PATH, media),
    ]
