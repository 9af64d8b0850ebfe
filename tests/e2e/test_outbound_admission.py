"""Ringing dial-outs count against GATEWAY_MAX_CALLS (one gateway, no cluster): while a
dial-out rings the gateway is full, `POST /calls` is refused with 503 and places nothing; once
nobody answered it, the next dial-out is placed (cluster mode:
tests/cluster/test_cluster_dial_outs.py)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx

from gateway.sim.callee import CalleePlan
from tests.e2e.harness import run_real_time
from tests.e2e.outbound_cases import CARRIERS, auth, body, dial_out


async def _ended(client: httpx.AsyncClient, dial_id: str) -> None:
    async with asyncio.timeout(30):
        while (await client.get(f"/calls/{dial_id}", headers=auth())).json()["status"] != "ended":  # noqa: ASYNC110 (a condition in the gateway)
            await asyncio.sleep(0.05)


def test_a_ringing_dial_out_holds_a_call_slot_until_nobody_answered(tmp_path: Path) -> None:
    plan = CalleePlan("no_answer", ring_s=5.0)

    async def requests(client: httpx.AsyncClient) -> list[httpx.Response]:
        first = await client.post("/calls", json=body(), headers=auth())
        refused = await client.post("/calls", json=body(), headers=auth())
        ready = await client.get("/readyz")
        await _ended(client, first.json()["id"])
        again = await client.post("/calls", json=body(), headers=auth())
        return [first, refused, ready, again]

    env = {"GATEWAY_MAX_CALLS": "1"}
    run = run_real_time(dial_out(tmp_path, CARRIERS["twilio"], plan, requests, env=env))
    first, refused, ready, again = run.responses
    assert first.status_code == 201, first.text
    assert (refused.status_code, refused.json()) == (
        503,
        {"error": "not taking calls now (at capacity)"},
    )
    assert ready.status_code == 503  # full while it rings
    assert again.status_code == 201, again.text
    assert len(run.api.calls) == 2  # the refused one was never placed
    for created in (first, again):
        status = run.statuses[created.json()["id"]]
        assert (status["status"], status["end_reason"]) == ("ended", "no_answer")
    assert 'gateway_webhooks_refused_total{reason="at_capacity"} 1.0' in run.metrics
