"""`gateway serve`: the call server on uvicorn, with the embedded Live emulator when no backend
is configured, and a graceful drain on SIGTERM.

Server choices for long-lived media sockets (docs/configuration.md and docs/operations.md explain
them):
* `websockets-sansio`: uvicorn's WebSocket implementation on the websockets sans-I/O protocol
  (the legacy `websockets` implementation is deprecated upstream; `wsproto` is slower);
* no permessage-deflate: μ-law in base64 barely compresses, and each compressed socket costs a
  zlib context per direction (hundreds of KiB) and CPU on every 20 ms frame;
* inbound messages capped at 64 KiB: a Twilio media message is ~0.4 KiB and nothing legitimate is
  near the cap, so an oversized one is refused by the protocol layer (close 1009) before parsing;
* pings every 20 s with a 30 s pong timeout, so a vanished carrier socket is noticed in < 1 min
  even if the per-call idle timeout were not there;
* `X-Forwarded-*` honoured from the addresses in FORWARDED_ALLOW_IPS (uvicorn's variable; default
  127.0.0.1) for client addresses; webhook URLs are rebuilt from GATEWAY_PUBLIC_URL or the
  forwarded headers (gateway.carriers.urls);
* HTTP on `h11` (pure Python, strict): it only parses webhooks and the WebSocket upgrade, one or
  two requests per call, so a C parser buys nothing measurable; the event loop is uvloop when
  installed (GATEWAY_EVENT_LOOP, `gateway.cli`), which carries every media frame;
* keep-alive 65 s, longer than the 60 s idle timeout of common load balancers, so the proxy and
  not the gateway closes an idle connection (no 502 on a connection closed under a request);
* no `limit_concurrency`: uvicorn counts every connection against it, idle ones included, so a
  few hundred bare connects made every webhook and `/healthz` a bare 503. Admission
  (GATEWAY_MAX_CALLS) is the limit, and it answers each carrier with its fallback document;
  connections that send no complete request are closed after a deadline, and the longest
  waiting ones make room when too many wait (`gateway.shell.http_guard`);
* SIGTERM drains (`GatewayServer`): readiness false and the fallback for new webhooks at once,
  running calls finish for up to GATEWAY_DRAIN_TIMEOUT_S, the rest are ended cleanly, then
  uvicorn shuts down with `timeout_graceful_shutdown` for what is left (idle HTTP connections).
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import errno
import signal
import socket
from types import FrameType
from typing import Any, NoReturn

import uvicorn
from starlette.applications import Starlette

from gateway.carriers import registry
from gateway.carriers.base import MAX_CARRIER_MESSAGE_BYTES
from gateway.emulator import EmulatorConfig, LiveEmulator
from gateway.log import get_logger
from gateway.settings import Settings
from gateway.shell.app import build_app
from gateway.shell.connector import LiveConnector
from gateway.shell.http_guard import ConnectionGuard, guarded_protocol
from gateway.shell.runtime import GatewayRuntime
from gateway.shell.services import GatewayServices
from gateway.shell.startup_report import describe

__all__ = ["EXIT_START_FAILED", "GatewayServer", "StartError", "serve", "uvicorn_config"]

_log = get_logger(component="serve")
WS_PING_INTERVAL_S = 20.0
WS_PING_TIMEOUT_S = 30.0
KEEP_ALIVE_S = 65.0
GRACEFUL_SHUTDOWN_S = 5.0
"""After the drain: how long uvicorn waits for the connections left before cancelling them."""
BACKLOG = 2048
EXIT_START_FAILED = 3
"""`gateway serve`'s exit status when it cannot start serving (the port is in use, the address
cannot be bound); configuration errors exit with 2 (docs/operations.md)."""


class StartError(Exception):
    """The server cannot start (it logged `gateway.start_failed` with the reason)."""


def uvicorn_config(
    app: Starlette, host: str, port: int, *, guard: ConnectionGuard | None = None
) -> uvicorn.Config:
    """uvicorn's settings for the gateway; HTTP is h11 guarded by `guard` (a fresh one if None)."""
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        http=guarded_protocol(guard or ConnectionGuard()),
        ws="websockets-sansio",
        ws_max_size=MAX_CARRIER_MESSAGE_BYTES,
        ws_ping_interval=WS_PING_INTERVAL_S,
        ws_ping_timeout=WS_PING_TIMEOUT_S,
        ws_per_message_deflate=False,
        proxy_headers=True,
        timeout_keep_alive=int(KEEP_ALIVE_S),
        timeout_graceful_shutdown=int(GRACEFUL_SHUTDOWN_S),
        backlog=BACKLOG,
        log_config=None,
        access_log=False,
        server_header=False,
        lifespan="on",
    )


class GatewayServer(uvicorn.Server):
    """uvicorn's server, with SIGTERM meaning "drain" rather than "close the listening socket".

    The first SIGTERM starts `GatewayRuntime.drain(drain_timeout_s)` while the server keeps
    listening (readiness answers 503, webhooks get the fallback, running calls go on); when the
    drain is over the server shuts down as uvicorn does. SIGINT (Ctrl-C), or a second SIGTERM,
    drains without the wait: running calls are ended cleanly at once. A signal after that is
    uvicorn's own (a second Ctrl-C forces the exit).
    """

    def __init__(self, config: uvicorn.Config, drain_timeout_s: float) -> None:
        super().__init__(config)
        self.drain_timeout_s = drain_timeout_s
        self._loop: asyncio.AbstractEventLoop | None = None
        self._drain: asyncio.Task[None] | None = None
        self._hurried = False

    async def serve(self, sockets: list[Any] | None = None) -> None:
        self._loop = asyncio.get_running_loop()
        await super().serve(sockets)

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        loop, runtime = self._loop, self._runtime()
        if loop is None or runtime is None or not self.started or self.should_exit:
            super().handle_exit(sig, frame)
        elif self._drain is None:
            hurry = sig != signal.SIGTERM
            # A fresh context: the signal may interrupt a call's task, whose ids must not be
            # bound to the drain's log lines.
            name = signal.Signals(sig).name
            loop.call_soon_threadsafe(
                self._start_drain, runtime, name, hurry, context=contextvars.Context()
            )
        elif not self._hurried:
            self._hurried = True
            loop.call_soon_threadsafe(runtime.hurry_drain, context=contextvars.Context())
        else:
            super().handle_exit(sig, frame)

    def _runtime(self) -> GatewayRuntime | None:
        app = self.config.app
        state = getattr(app, "state", None)
        runtime = getattr(state, "gateway", None)
        return runtime if isinstance(runtime, GatewayRuntime) else None

    def _start_drain(self, runtime: GatewayRuntime, signal_name: str, hurry: bool) -> None:
        if self._drain is not None:
            return
        self._hurried = hurry
        timeout_s = 0.0 if hurry else self.drain_timeout_s
        # The drain first: nothing after this line (a log line to a closed pipe) may stop it.
        self._drain = asyncio.create_task(self._drain_then_exit(runtime, timeout_s))
        _log.info("gateway.stopping", signal=signal_name, drain_timeout_s=timeout_s)

    async def _drain_then_exit(self, runtime: GatewayRuntime, timeout_s: float) -> None:
        try:
            await runtime.drain(timeout_s)
        except Exception:  # a bug in the drain must not keep the process up
            _log.exception("gateway.drain_failed")
        finally:
            self.should_exit = True


def _announce(settings: Settings) -> None:
    named = [
        plugin.name
        for plugin in registry.carriers()
        if settings.carrier(plugin.name).allow_unsigned
    ]
    if settings.use_embedded_emulator:  # the development setup: every carrier without its secret
        for plugin in registry.carriers():
            if plugin.name not in named and not plugin.has_secret(settings.carrier(plugin.name)):
                _log.warning(
                    f"{plugin.name}.signatures_unchecked",
                    message=f"{plugin.secret_name} is not set and the embedded emulator runs "
                    f"(development setup): {plugin.name} webhooks and media streams are taken "
                    "UNSIGNED; anyone who finds this URL can place calls. Never in production.",
                )
    if named:
        _log.warning(
            "carriers.signatures_unchecked",
            carriers=named,
            message="GATEWAY_UNSIGNED_CARRIERS: these carriers' webhooks are taken without a "
            "signature when their key is unset; anyone who finds the URLs can place calls.",
        )
    if settings.server.secret_generated:
        _log.warning(
            "gateway.secret_generated",
            message="GATEWAY_SECRET is not set: stream tokens are signed with a per-process key, "
            "so a media stream must reach the replica that answered its webhook.",
        )


def listen(host: str, port: int, *, reuse_port: bool = False) -> socket.socket:
    """The listening socket, bound before anything else starts; StartError (logged as
    `gateway.start_failed`) when the address is in use or cannot be bound. `reuse_port`: a
    worker of `gateway serve --workers N`, sharing the port (`gateway.shell.workers`)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
        family, kind, proto, _name, address = infos[0]
        sock = socket.socket(family, kind, proto)
    except OSError as exc:
        _start_failed("cannot resolve the listen address", host, port, exc)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if reuse_port:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind(address)
        sock.listen(BACKLOG)
    except OSError as exc:
        sock.close()
        reason = "port in use" if exc.errno == errno.EADDRINUSE else "cannot listen"
        _start_failed(reason, host, port, exc)
    sock.setblocking(False)
    return sock


def _start_failed(reason: str, host: str, port: int, exc: OSError) -> NoReturn:
    _log.error(
        "gateway.start_failed",
        reason=reason,
        host=host,
        port=port,
        error=exc.strerror or str(exc),
        exit_status=EXIT_START_FAILED,
    )
    raise StartError(reason) from exc


def _report(settings: Settings, services: GatewayServices, emulator_url: str | None) -> None:
    models = {name: profile.live.model for name, profile in services.agents.profiles.items()}
    fields = describe(settings, models, emulator_url=emulator_url)
    if "unknown_models" in fields:
        _log.warning("gateway.configured", **fields)
    else:
        _log.info("gateway.configured", **fields)


async def serve(settings: Settings, *, reuse_port: bool = False) -> None:
    """Run until SIGTERM (drain first) or SIGINT (end the calls now), then return.

    Raises StartError when the listen address cannot be bound (nothing else was started).
    `reuse_port`: one of the workers of `gateway serve --workers N`."""
    sock = listen(settings.server.host, settings.server.port, reuse_port=reuse_port)
    try:
        await _serve(settings, sock)
    finally:
        sock.close()


async def _serve(settings: Settings, sock: socket.socket) -> None:
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
    guard = ConnectionGuard()
    app = build_app(settings, connector, guard=guard)
    _report(settings, app.state.services, live_url)
    config = uvicorn_config(app, settings.server.host, settings.server.port, guard=guard)
    server = GatewayServer(config, settings.server.drain_timeout_s)
    _log.info(
        "gateway.starting",
        host=settings.server.host,
        port=sock.getsockname()[1],
        max_calls=settings.server.max_calls,
        drain_timeout_s=settings.server.drain_timeout_s,
        event_loop=type(asyncio.get_running_loop()).__module__.split(".")[0],
    )
    try:
        await server.serve(sockets=[sock])
    finally:
        if emulator is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(emulator.stop(), 10)
        _log.info("gateway.stopped")
