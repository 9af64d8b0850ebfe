"""Every carrier's HTTP and WebSocket routes, in one list the app mounts.

Each carrier module in `gateway/shell/` exposes a `<carrier>_routes()` function returning its
routes (`/<carrier>/voice`, `/<carrier>/media`, ...); adding a carrier is one import and one
entry in `CARRIER_ROUTES` below.
"""

from __future__ import annotations

from collections.abc import Callable

from starlette.routing import BaseRoute

from gateway.shell.exotel_routes import exotel_routes
from gateway.shell.plivo_routes import plivo_routes
from gateway.shell.signalwire_routes import signalwire_routes
from gateway.shell.telnyx_routes import telnyx_routes
from gateway.shell.twilio_routes import twilio_routes
from gateway.shell.vonage_routes import vonage_routes

__all__ = ["CARRIER_ROUTES", "carrier_routes"]

CARRIER_ROUTES: tuple[Callable[[], list[BaseRoute]], ...] = (
    twilio_routes,
    vonage_routes,
    telnyx_routes,
    plivo_routes,
    signalwire_routes,
    exotel_routes,
)


def carrier_routes() -> list[BaseRoute]:
    """The routes of every carrier, in `CARRIER_ROUTES` order."""
    return [route for routes in CARRIER_ROUTES for route in routes()]
