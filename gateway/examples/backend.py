"""An example business backend for the tools in docs/examples/tools.toml (Starlette).

    python -m gateway.examples.backend --port 8081

Routes (JSON in, JSON out; deterministic data held in memory, so bookings last as long as the
process):

* `GET /orders/{order_id}`: one order (404 with `{"error": ...}` for an unknown number);
* `GET /appointments?phone=+1555...`: the appointments booked for a phone number;
* `POST /appointments` `{"phone", "name", "date": "YYYY-MM-DD", "time": "HH:MM", "service"}`:
  book one (201); 409 when the time is taken (with the free times that day), 422 when a field
  is wrong;
* `GET /healthz`.

With `EXAMPLE_BACKEND_TOKEN` set (or `build_app(token=...)`), every route but `/healthz` wants
`Authorization: Bearer <token>` (401 otherwise). Any request may add `?delay_s=2.5` to be
answered that much later (at most 30 s), to see a tool time out. `app.state.requests` records
each request (method, path, query) for tests.
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import hmac
import os
import re
from dataclasses import dataclass
from typing import Any, Final

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

__all__ = ["APPOINTMENTS", "ORDERS", "RecordedRequest", "build_app", "main"]

MAX_DELAY_S: Final = 30.0
SERVICES: Final = ("consultation", "follow-up", "cleaning")
OPEN_TIMES: Final = tuple(f"{h:02d}:{m:02d}" for h in range(9, 17) for m in (0, 30))
_DATE: Final = re.compile(r"\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])")
_PHONE: Final = re.compile(r"\+?[0-9]{6,15}")

ORDERS: Final[dict[str, dict[str, Any]]] = {
    "A1001": {
        "order_id": "A1001",
        "status": "shipped",
        "placed_on": "2025-03-02",
        "delivery_date": "2025-03-06",
        "items": [{"name": "Blue kettle", "quantity": 1}, {"name": "Tea towels", "quantity": 2}],
        "carrier": "DHL",
        "tracking_number": "JD014600003828",
    },
    "A1002": {
        "order_id": "A1002",
        "status": "processing",
        "placed_on": "2025-03-04",
        "delivery_date": "2025-03-11",
        "items": [{"name": "Oak chopping board", "quantity": 1}],
    },
    "A1003": {
        "order_id": "A1003",
        "status": "delivered",
        "placed_on": "2025-02-20",
        "delivery_date": "2025-02-24",
        "items": [{"name": "Espresso cups", "quantity": 6}],
    },
}
APPOINTMENTS: Final[tuple[dict[str, str], ...]] = (
    {
        "id": "AP-1",
        "phone": "+15551230002",
        "name": "Jane Doe",
        "date": "2025-04-14",
        "time": "10:30",
        "service": "consultation",
    },
    {
        "id": "AP-2",
        "phone": "+15551230002",
        "name": "Jane Doe",
        "date": "2025-05-02",
        "time": "09:00",
        "service": "follow-up",
    },
    {
        "id": "AP-3",
        "phone": "+15551230003",
        "name": "Sam Lee",
        "date": "2025-04-14",
        "time": "11:00",
        "service": "cleaning",
    },
)


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    query: str


def _error(status: int, message: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"error": message, **extra}, status_code=status)


class _Guard:
    """Records requests, applies `?delay_s=`, checks the bearer token (pure ASGI)."""

    def __init__(self, app: ASGIApp, token: str | None, requests: list[RecordedRequest]) -> None:
        self._app = app
        self._token = token
        self._requests = requests

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        request = Request(scope)
        self._requests.append(RecordedRequest(request.method, request.url.path, request.url.query))
        delay = request.query_params.get("delay_s")
        if delay is not None:
            try:
                await asyncio.sleep(min(max(float(delay), 0.0), MAX_DELAY_S))
            except ValueError:
                await _error(400, "delay_s must be a number")(scope, receive, send)
                return
        if self._token and request.url.path != "/healthz":
            given = request.headers.get("authorization", "")
            if not hmac.compare_digest(given.encode(), f"Bearer {self._token}".encode()):
                await _error(401, "missing or wrong bearer token")(scope, receive, send)
                return
        await self._app(scope, receive, send)


class _Store:
    def __init__(self) -> None:
        self.appointments = [dict(a) for a in APPOINTMENTS]

    async def order(self, request: Request) -> JSONResponse:
        order_id = request.path_params["order_id"].strip().upper()
        order = ORDERS.get(order_id)
        if order is None:
            return _error(404, f"there is no order {order_id}")
        return JSONResponse(copy.deepcopy(order))

    async def find(self, request: Request) -> JSONResponse:
        phone = request.query_params.get("phone", "").replace(" ", "")
        if not _PHONE.fullmatch(phone):
            return _error(400, "phone must be a phone number")
        found = [a for a in self.appointments if a["phone"].lstrip("+") == phone.lstrip("+")]
        return JSONResponse({"phone": phone, "appointments": found})

    async def book(self, request: Request) -> JSONResponse:
        try:
            body = await request.json()
        except ValueError:
            return _error(400, "the body must be JSON")
        if not isinstance(body, dict):
            return _error(422, "the body must be a JSON object")
        problem = _check_booking(body)
        if problem:
            return _error(422, problem)
        date, time = body["date"], body["time"]
        taken = {a["time"] for a in self.appointments if a["date"] == date}
        if time in taken:
            free = [t for t in OPEN_TIMES if t not in taken]
            return _error(409, f"{time} on {date} is taken", free_times=free)
        appointment = {
            "id": f"AP-{len(self.appointments) + 1}",
            "phone": body["phone"],
            "name": body["name"],
            "date": date,
            "time": time,
            "service": body.get("service", "consultation"),
        }
        self.appointments.append(appointment)
        return JSONResponse({"booked": appointment}, status_code=201)


def _check_booking(body: dict[str, Any]) -> str | None:
    for key in ("phone", "name", "date", "time"):
        if not isinstance(body.get(key), str) or not body[key].strip():
            return f"{key} is required"
    if not _PHONE.fullmatch(body["phone"]):
        return "phone must be a phone number"
    if not _DATE.fullmatch(body["date"]):
        return "date must be YYYY-MM-DD"
    if body["time"] not in OPEN_TIMES:
        return f"time must be a half hour between {OPEN_TIMES[0]} and {OPEN_TIMES[-1]}"
    if body.get("service", "consultation") not in SERVICES:
        return f"service must be one of {', '.join(SERVICES)}"
    return None


async def _healthz(request: Request) -> JSONResponse:
    return JSONResponse({"ok": True})


def build_app(token: str | None = None) -> Starlette:
    """A fresh backend (its own bookings); `token`: the bearer token it wants, if any."""
    store = _Store()
    requests: list[RecordedRequest] = []
    app = Starlette(
        routes=[
            Route("/orders/{order_id}", store.order, methods=["GET"]),
            Route("/appointments", store.find, methods=["GET"]),
            Route("/appointments", store.book, methods=["POST"]),
            Route("/healthz", _healthz, methods=["GET"]),
        ]
    )
    app.state.requests = requests
    app.state.store = store
    app.add_middleware(_Guard, token=token, requests=requests)
    return app


def main(argv: list[str] | None = None) -> None:
    import uvicorn

    parser = argparse.ArgumentParser(description="Example business backend for the tools")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081)
    args = parser.parse_args(argv)
    token = os.environ.get("EXAMPLE_BACKEND_TOKEN") or None
    uvicorn.run(build_app(token), host=args.host, port=args.port, log_level="info")


if __name__ == "__main__":
    main()
