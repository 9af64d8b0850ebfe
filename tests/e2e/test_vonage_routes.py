"""Vonage's routes beyond the call itself: event webhooks, and the fallback NCCO over capacity.

The real gateway app on uvicorn (loopback) and the Live emulator; requests signed as Vonage
signs them (the answer and event webhooks' HS256 JWT).
"""

from __future__ import annotations

import json
import time

import httpx

from gateway.carriers.vonage.signature import sign_webhook
from gateway.emulator import LiveEmulator
from tests.e2e.carrier_cases import CASES, VONAGE_SECRET
from tests.e2e.harness import running_gateway


async def _answer(client: httpx.AsyncClient, base_url: str, uuid: str) -> httpx.Response:
    query = [("to", "447700900001"), ("from", "447700900000"), ("uuid", uuid)]
    headers = {"Authorization": sign_webhook(VONAGE_SECRET, time.time(), query=query)}
    return await client.get(f"{base_url}/vonage/voice", params=query, headers=headers)


async def test_signed_events_are_taken_and_unsigned_ones_refused() -> None:
    body = json.dumps({"uuid": "u-1", "status": "completed", "reason": "hangup"}).encode()
    signed = {
        "Authorization": sign_webhook(VONAGE_SECRET, time.time(), body=body),
        "Content-Type": "application/json",
    }
    async with (
        LiveEmulator() as emulator,
        running_gateway(emulator, CASES["vonage"].env) as gateway,
        httpx.AsyncClient() as client,
    ):
        taken = await client.post(f"{gateway.base_url}/vonage/event", content=body, headers=signed)
        tampered = await client.post(
            f"{gateway.base_url}/vonage/event", content=body.replace(b"u-1", b"u-2"), headers=signed
        )
        unsigned = await client.post(f"{gateway.base_url}/vonage/event", content=body)
    assert taken.status_code == 204
    assert (tampered.status_code, unsigned.status_code) == (403, 403)
    assert gateway.runtime.webhooks_rejected == 2


async def test_over_capacity_the_answer_says_goodbye_and_connects_the_fallback() -> None:
    env = {
        **CASES["vonage"].env,
        "GATEWAY_MAX_CALLS": "1",
        "GATEWAY_FALLBACK_NUMBER": "+15551230100",
        "VONAGE_FROM_NUMBER": "+15550000",
    }
    async with (
        LiveEmulator() as emulator,
        running_gateway(emulator, env) as gateway,
        httpx.AsyncClient() as client,
    ):
        first = await _answer(client, gateway.base_url, "u-1")
        second = await _answer(client, gateway.base_url, "u-2")
    assert first.json()[0]["endpoint"][0]["type"] == "websocket"
    talk, connect = second.json()
    assert talk["action"] == "talk"
    assert connect == {
        "action": "connect",
        "endpoint": [{"type": "phone", "number": "15551230100"}],
        "from": "15550000",
    }
    assert "stream_token" not in second.text
