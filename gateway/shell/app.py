"""The Starlette application: routes, and the runtime's life (pre-warm pool) in the lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from gateway.audio.paths import CarrierFormat, DownlinkPath, UplinkPath
from gateway.settings import Settings
from gateway.shell.carrier_routes import carrier_routes
from gateway.shell.connector import LiveConnector
from gateway.shell.runtime import GatewayRuntime

__all__ = ["build_app"]


async def healthz(request: Request) -> JSONResponse:
    runtime: GatewayRuntime = request.app.state.gateway
    return JSONResponse({"status": "ok", "active_calls": runtime.active_calls})


def build_app(settings: Settings, connector: LiveConnector) -> Starlette:
    """The gateway's ASGI app; its runtime is `app.state.gateway` once the lifespan started."""

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        # Filter design runs once per rate pair and process (~0.5 s): do it before the first call
        # instead of inside it, where it would stall every call on the event loop.
        UplinkPath(CarrierFormat())
        DownlinkPath(CarrierFormat())
        runtime = GatewayRuntime(settings, connector)
        app.state.gateway = runtime
        try:
            yield
        finally:
            await runtime.aclose()

    routes = [Route("/healthz", healthz, methods=["GET"]), *carrier_routes()]
    return Starlette(routes=routes, lifespan=lifespan)
