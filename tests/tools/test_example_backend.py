"""The example backend on loopback: orders, appointments, the token, the delay."""

from __future__ import annotations

import subprocess
import sys

import httpx

from gateway.examples.backend import build_app
from tests.loopback import serve_app

TOKEN = "example-backend-token-42"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


async def test_orders_and_appointments() -> None:
    async with serve_app(build_app(TOKEN)) as base, httpx.AsyncClient(base_url=base) as http:
        order = await http.get("/orders/a1002", headers=AUTH)
        found = await http.get("/appointments", params={"phone": "+15551230002"}, headers=AUTH)
        none = await http.get("/appointments", params={"phone": "+15550000000"}, headers=AUTH)
        bad = await http.post("/appointments", json={"phone": "+1555"}, headers=AUTH)
        wrong_time = await http.post(
            "/appointments",
            json={"phone": "+15551230009", "name": "Ada", "date": "2025-04-14", "time": "18:00"},
            headers=AUTH,
        )
    assert (order.status_code, order.json()["status"]) == (200, "processing")
    assert [a["id"] for a in found.json()["appointments"]] == ["AP-1", "AP-2"]
    assert none.json() == {"phone": "+15550000000", "appointments": []}
    assert (bad.status_code, bad.json()) == (422, {"error": "name is required"})
    assert wrong_time.status_code == 422
    assert wrong_time.json()["error"].startswith("time must be a half hour between 09:00")


async def test_the_token_guards_everything_but_health() -> None:
    async with serve_app(build_app(TOKEN)) as base, httpx.AsyncClient(base_url=base) as http:
        health = await http.get("/healthz")
        refused = await http.get("/orders/A1001")
        wrong = await http.get("/orders/A1001", headers={"Authorization": "Bearer nope"})
        bad_delay = await http.get("/healthz", params={"delay_s": "soon"})
    assert health.json() == {"ok": True}
    assert (refused.status_code, wrong.status_code, bad_delay.status_code) == (401, 401, 400)


def test_it_runs_as_a_module() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "gateway.examples.backend", "--help"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert "--port" in done.stdout
