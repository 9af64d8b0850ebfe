"""Connection abuse against the real `gateway serve` process: idle and slow sockets, and a burst.

Hundreds of connections that send nothing (or drip a request a byte at a time) must not take the
gateway out of service: `/healthz`, `/readyz` and signed webhooks still answer while they are
held, and each of them is closed once its request deadline passes. A burst of webhooks beyond
GATEWAY_MAX_CALLS is admitted up to the limit exactly, and every other webhook gets the carrier's
fallback document (TwiML), never a bare 503.
"""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

import httpx

from gateway.emulator import EmulatorConfig, LiveEmulator
from gateway.shell.http_guard import REQUEST_TIMEOUT_S
from gateway.sim.script import SimOptions, new_call_sid
from gateway.sim.twilio import TwilioDialect
from tests.e2e.harness import ACCOUNT_SID, AUTH_TOKEN
from tests.e2e.process import gateway_process, json_lines

IDLE_SOCKETS = 300
SLOW_SOCKETS = 40
CLOSE_WAIT_S = 4 * REQUEST_TIMEOUT_S + 30
"""A bound on how long the test waits for the gateway to close the abusive sockets (it closes
them after REQUEST_TIMEOUT_S; the bound only keeps a broken gateway from hanging the test)."""


Connection = tuple[asyncio.StreamReader, asyncio.StreamWriter]


async def _open_idle(port: int, count: int) -> list[Connection]:
    return [await asyncio.open_connection("127.0.0.1", port) for _ in range(count)]


async def _drip(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> int:
    """Send a webhook's head a byte at a time until the gateway closes; returns bytes sent."""
    head = b"POST /twilio/voice HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Padding: " + b"a" * 10_000
    sent = 0
    with contextlib.suppress(ConnectionError):
        for byte in head:
            writer.write(bytes([byte]))
            await writer.drain()
            sent += 1
            with contextlib.suppress(TimeoutError):
                if await asyncio.wait_for(reader.read(1), 0.5) == b"":
                    return sent
    return sent


async def _closed(reader: asyncio.StreamReader) -> bool:
    """True once the gateway closed the connection (EOF or reset), without sending a response."""
    try:
        data = await reader.read(1024)
    except ConnectionError:
        return True
    return data == b""


async def _webhook(client: httpx.AsyncClient, base_url: str) -> httpx.Response:
    options = SimOptions(auth_token=AUTH_TOKEN, account_sid=ACCOUNT_SID, call_sid=new_call_sid())
    request = TwilioDialect().webhook(base_url, options)
    return await client.post(request.url, data=dict(request.form), headers=list(request.headers))


def _port(base_url: str) -> int:
    return int(base_url.rsplit(":", 1)[1])


async def test_idle_and_slow_sockets_neither_block_the_gateway_nor_stay_open(
    tmp_path: Path,
) -> None:
    env = {
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "GATEWAY_MAX_CALLS": "10",
        "GATEWAY_PREWARM_HOLD_S": "0",
        "GATEWAY_DRAIN_TIMEOUT_S": "0",  # the admitted calls' streams never come
    }
    async with LiveEmulator(EmulatorConfig(keep_audio=False)) as emulator:
        env["GATEWAY_LIVE_URL"] = emulator.plain_url
        async with gateway_process(env, tmp_path) as gateway:
            base_url = gateway.base_url
            idle = await _open_idle(_port(base_url), IDLE_SOCKETS)
            slow = await _open_idle(_port(base_url), SLOW_SOCKETS)
            drips = [asyncio.create_task(_drip(r, w)) for r, w in slow]
            async with httpx.AsyncClient(timeout=10) as client:
                # Held: 300 idle and 40 dripping connections (the old limit was 2 x 10 + 64).
                health = await client.get(f"{base_url}/healthz")
                ready = await client.get(f"{base_url}/readyz")
                answer = await _webhook(client, base_url)
                waiting = await client.get(f"{base_url}/metrics")
                async with asyncio.timeout(CLOSE_WAIT_S):
                    closed = await asyncio.gather(*(_closed(r) for r, _w in idle))
                    sent = await asyncio.gather(*drips)
                after = (await client.get(f"{base_url}/metrics")).text
            for _reader, writer in idle + slow:
                writer.close()
            code, stdout, _stderr = await gateway.stop()
    assert health.status_code == 200
    assert ready.status_code == 200
    assert answer.status_code == 200
    assert "<Connect><Stream" in answer.text
    assert f"gateway_http_connections_waiting {float(IDLE_SOCKETS + SLOW_SOCKETS)}" in waiting.text
    # Every idle socket was closed by the gateway, and every dripping one before its head ended.
    assert closed == [True] * IDLE_SOCKETS
    assert all(count < 10_000 for count in sent)
    timed_out = IDLE_SOCKETS + SLOW_SOCKETS
    assert f'gateway_http_connections_closed_total{{reason="timeout"}} {float(timed_out)}' in after
    assert "gateway_http_connections_waiting 0.0" in after
    assert code == 0
    closes = [line for line in json_lines(stdout) if line["event"] == "http.connections_closed"]
    assert closes  # summarised (one line per minute at most), not one line per connection
    assert len(closes) <= 2
    assert closes[0]["level"] == "warning"


async def test_a_burst_of_webhooks_is_admitted_up_to_the_limit_and_the_rest_get_twiml(
    tmp_path: Path,
) -> None:
    burst, max_calls = 300, 50
    env = {
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "GATEWAY_MAX_CALLS": str(max_calls),
        "GATEWAY_PREWARM_HOLD_S": "0",
        "GATEWAY_DRAIN_TIMEOUT_S": "0",  # the admitted calls' streams never come
    }
    async with LiveEmulator(EmulatorConfig(keep_audio=False)) as emulator:
        env["GATEWAY_LIVE_URL"] = emulator.plain_url
        async with gateway_process(env, tmp_path) as gateway:
            base_url = gateway.base_url
            # An abuser holds idle sockets during the burst: they must not cost admission a slot.
            idle = await _open_idle(_port(base_url), 200)
            limits = httpx.Limits(max_connections=None, max_keepalive_connections=None)
            async with httpx.AsyncClient(timeout=30, limits=limits) as client:
                answers = await asyncio.gather(*(_webhook(client, base_url) for _ in range(burst)))
                ready = await client.get(f"{base_url}/readyz")
            for _reader, writer in idle:
                writer.close()
            code, _stdout, _stderr = await gateway.stop()
    assert [a.status_code for a in answers] == [200] * burst
    streams = [a for a in answers if "<Connect><Stream" in a.text]
    fallbacks = [a for a in answers if "<Say" in a.text and "<Hangup" in a.text]
    assert len(streams) == max_calls
    assert len(fallbacks) == burst - max_calls
    assert {a.headers["content-type"].split(";")[0] for a in answers} == {"application/xml"}
    assert ready.status_code == 503
    assert ready.json()["status"] == "at capacity"
    assert code == 0
