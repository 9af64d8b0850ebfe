"""`gateway serve`: the call server on uvicorn, with the embedded Live emulator when no backend
is configured.

Server choices for long-lived media sockets (docs/configuration.md explains them):
* `websockets-sansio`: uvicorn's WebSocket implementation on the websockets sans-I/O protocol
  (the legacy `websockets` implementation is deprecated upstream);
* inbound messages capped at 64 KiB: a Twilio media message is ~0.4 KiB and nothing legitimate is
  near the cap, so an oversized one is refused by the protocol layer (close 1009) before parsing;
* pings every 20 s with a 30 s pong timeout, so a vanished carrier socket is noticed in < 1 min
  even if the per-call idle timeout were not there;
* `X-Forwarded-*` honoured from the addresses in FORWARDED_ALLOW_IPS (uvicorn's variable; default
  127.0.0.1) for client addresses; webhook URLs are rebuilt from GATEWAY_PUBLIC_URL or the
  forwarded headers (gateway.carriers.urls).
"""

from __future__ import annotations

import asyncio
import contextlib

import uvicorn
from starlette.applications import Starlette

from gateway.carriers.base import MAX_CARRIER_MESSAGE_BYTES
from gateway.emulator import EmulatorConfig, LiveEmulator
from gateway.log import get_logger
from gateway.settings import Settings
from gateway.shell.app import build_app
from gateway.shell.connector import LiveConnector

__all__ = ["serve", "uvicorn_config"]

_log = get_logger(component="serve")
WS_PING_INTERVAL_S = 20.0
WS_PING_TIMEOUT_S = 30.0


def uvicorn_config(app: Starlette, host: str, port: int) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        ws="websockets-sansio",
        ws_max_size=MAX_CARRIER_MESSAGE_BYTES,
        ws_ping_interval=WS_PING_INTERVAL_S,
        ws_ping_timeout=WS_PING_TIMEOUT_S,
        proxy_headers=True,
        log_config=None,
        access_log=False,
        server_header=False,
        lifespan="on",
    )


def _announce(settings: Settings) -> None:
    if settings.twilio.auth_token is None:
        _log.warning(
            "twilio.signatures_unchecked",
            message="TWILIO_AUTH_TOKEN is not set: X-Twilio-Signature is NOT checked on webhooks "
            "or media streams; anyone who finds this URL can place calls. Set it in production.",
        )
    if settings.server.secret_generated:
        _log.warning(
            "gateway.secret_generated",
            message="GATEWAY_SECRET is not set: stream tokens are signed with a per-process key, "
            "so a media stream must reach the replica that answered its webhook.",
        )


async def serve(settings: Settings) -> None:
    """Run until SIGINT/SIGTERM (uvicorn handles the signals)."""
    emulator: LiveEmulator | None = None
    live_url: str | None = None
    if settings.use_embedded_emulator:
        emulator = LiveEmulator(EmulatorConfig(keep_audio=False, keep_messages=False))
        await emulator.start()
        live_url = emulator.plain_url
        _log.warning(
            "live.embedded_emulator",
            url=live_url,
            message="No GEMINI_API_KEY, GATEWAY_LIVE_URL or Vertex configured: calls are answered "
            "by the built-in Live EMULATOR (it echoes the caller), not by Gemini.",
        )
    _announce(settings)
    connector = LiveConnector.from_settings(settings, live_url=live_url)
    app = build_app(settings, connector)
    server = uvicorn.Server(uvicorn_config(app, settings.server.host, settings.server.port))
    _log.info("gateway.starting", host=settings.server.host, port=settings.server.port)
    try:
        await server.serve()
    finally:
        if emulator is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(emulator.stop(), 10)
        _log.info("gateway.stopped")
