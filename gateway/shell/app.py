"""The Starlette application: routes, and the runtime's life (pre-warm pool) in the lifespan."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from gateway.audio.paths import CarrierFormat, DownlinkPath, UplinkPath
from gateway.cluster.dial_state import DialStateStore
from gateway.cluster.node import describe as describe_cluster
from gateway.settings import Settings
from gateway.shell.carrier_routes import carrier_routes
from gateway.shell.connector import LiveConnector
from gateway.shell.dial_api import deliver_verdict, dial_routes, rebuild_agent
from gateway.shell.dial_metrics import DialCollector
from gateway.shell.dial_outs import DialOuts
from gateway.shell.dial_share import DialShare
from gateway.shell.http_guard import ConnectionGuard
from gateway.shell.metrics import CONTENT_TYPE, GatewayMetrics
from gateway.shell.phone_routes import PhoneReports, phone_enabled, phone_routes
from gateway.shell.runtime import GatewayRuntime
from gateway.shell.services import GatewayServices

__all__ = ["build_app"]


async def healthz(request: Request) -> JSONResponse:
    runtime: GatewayRuntime = request.app.state.gateway
    return JSONResponse({"status": "ok", "active_calls": runtime.active_calls})


async def readyz(request: Request) -> JSONResponse:
    """200 while new calls are admitted; 503 while draining, at GATEWAY_MAX_CALLS, or (cluster
    mode) while Redis is unavailable."""
    runtime: GatewayRuntime = request.app.state.gateway
    load, limit = runtime.load, runtime.settings.server.max_calls
    cluster = runtime.cluster
    if runtime.draining:
        status = "draining"
    elif load >= limit:
        status = "at capacity"
    elif cluster is not None and not cluster.available:
        status = "cluster unavailable"
    else:
        status = "ready"
    body = {
        "status": status,
        "active_calls": runtime.active_calls,
        "load": load,
        "max_calls": limit,
        **describe_cluster(cluster),
    }
    return JSONResponse(body, status_code=200 if status == "ready" else 503)


async def metrics(request: Request) -> Response:
    registry: GatewayMetrics = request.app.state.metrics
    return Response(registry.exposition(), media_type=CONTENT_TYPE)


def _share_dial_outs(
    app: Starlette, runtime: GatewayRuntime, dial_outs: DialOuts
) -> asyncio.Task[None] | None:
    """Cluster mode: dial-outs shared through Redis (any replica takes their webhooks and
    callbacks), and the task passing machine verdicts to the replica running the call."""
    app.state.dial_share = None
    if runtime.cluster is None:
        runtime.ringing = dial_outs.ringing  # ringing dial-outs count against GATEWAY_MAX_CALLS
        return None
    if runtime.settings.dial.api_key is None:
        return None  # the dial-out API is off: no dial-out to share
    agents = runtime.agents
    share = DialShare(
        dial_outs,
        DialStateStore(runtime.cluster.link),
        lambda dial, variables: rebuild_agent(agents, dial, variables),
    )
    app.state.dial_share = runtime.dial_share = share
    listen = share.store.listen(lambda call_id, v: deliver_verdict(runtime, call_id, v))
    return asyncio.create_task(listen, name="dial-verdicts")


def build_app(
    settings: Settings, connector: LiveConnector, *, guard: ConnectionGuard | None = None
) -> Starlette:
    """The gateway's ASGI app; its runtime is `app.state.gateway` once the lifespan started.

    Raises ToolsFileError, ProfilesFileError or PricesFileError for a bad tools, profiles or
    prices file (start-up stops with its message). `guard`: the server's connection guard, whose
    counts the metrics show."""
    services = GatewayServices.load(settings, connector)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        # Filter design runs once per rate pair and process (~0.5 s): do it before the first call
        # instead of inside it, where it would stall every call on the event loop.
        # Every carrier rate (L16 carriers stream at 16 or 24 kHz too); cached per process.
        for rate_hz in (8_000, 16_000, 24_000):
            UplinkPath(CarrierFormat(rate_hz=rate_hz))
            DownlinkPath(CarrierFormat(rate_hz=rate_hz))
        await services.warm_up()  # the first call's tool and REST requests find a warm client
        services.start_shared_webhooks()
        runtime = GatewayRuntime(settings, connector, agents=services.agents)
        runtime.http_guard = guard
        await runtime.start()
        app.state.gateway = runtime
        app.state.services = services
        app.state.metrics = GatewayMetrics(runtime)
        app.state.metrics.conduct.watch(services.webhooks)
        app.state.dial_outs = dial_outs = DialOuts()
        app.state.metrics.registry.register(DialCollector(dial_outs))
        runtime.reception.outbound = dial_outs  # a placed call's webhook and stream find its agent
        verdicts = _share_dial_outs(app, runtime, dial_outs)
        sweeper = None
        if services.recordings is not None:
            sweeper = asyncio.create_task(services.recordings.run_sweeper(), name="recordings")
        try:
            yield
        finally:
            for task in (sweeper, verdicts):
                if task is not None:
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await task
            await runtime.aclose()
            await services.aclose()

    routes = [
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
        Route("/metrics", metrics, methods=["GET"]),
        *carrier_routes(),
        *dial_routes(),
    ]
    if phone_enabled(settings):  # the web softphone (docs/softphone.md)
        routes.extend(phone_routes())
    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.phone_reports = PhoneReports()
    app.state.services = services  # before the lifespan too: start-up reports its agents
    return app
