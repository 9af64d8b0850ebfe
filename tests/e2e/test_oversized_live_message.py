"""A Live message over the gateway's size limit, through the real gateway: the call goes on.

A message-level WebSocket proxy in front of the emulator forwards everything, and on the call's
first connection, once the model's first answer is under way, sends the gateway one extra server
message of 9 MiB (over `MAX_FRAME_BYTES`, 8 MiB). The gateway's client refuses it with close 1009;
that is a resumable failure: the session is resumed on a new connection, the call completes, and
no fallback is used.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import functools
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from websockets.asyncio.client import ClientConnection, connect
from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from gateway.emulator import LiveEmulator, SessionRecord
from gateway.live.protocol import MAX_FRAME_BYTES
from gateway.shell.runtime import CallRecord
from gateway.sim.call import place_call
from gateway.sim.entries import CallOutcome
from gateway.sim.recording import load_recording
from gateway.sim.report import CallReport
from gateway.sim.script import SimOptions
from tests.e2e.harness import ACCOUNT_SID, AUTH_TOKEN, running_gateway, wait_for

RECORDING = Path(__file__).resolve().parents[1] / "recordings" / "greeting_question.wav"
OVERSIZED_BYTES = 9 * 1024 * 1024


def _oversized_message() -> bytes:
    pcm = bytes(OVERSIZED_BYTES * 3 // 4)
    data = base64.b64encode(pcm).decode()
    blob = {"mimeType": "audio/pcm;rate=24000", "data": data}
    return json.dumps({"serverContent": {"modelTurn": {"parts": [{"inlineData": blob}]}}}).encode()


class InjectingProxy:
    """Forwards Live messages both ways; on connection 1 injects one oversized server message
    after the first model audio it forwarded."""

    def __init__(self, upstream_url: str) -> None:
        self._upstream_url = upstream_url
        self.connections = 0
        self.injected = 0
        self.client_close_codes: list[int | None] = []

    async def _handle(self, client: ServerConnection) -> None:
        self.connections += 1
        number = self.connections
        async with connect(self._upstream_url, max_size=None, compression=None) as upstream:

            async def up() -> None:
                with contextlib.suppress(ConnectionClosed):
                    async for message in client:
                        await upstream.send(message)
                await upstream.close()

            async def down(upstream: ClientConnection) -> None:
                with contextlib.suppress(ConnectionClosed):
                    async for message in upstream:
                        await client.send(message)
                        raw = message if isinstance(message, bytes) else message.encode()
                        if number == 1 and not self.injected and b"inlineData" in raw:
                            self.injected += 1
                            await client.send(_oversized_message())
                await client.close()

            tasks = [asyncio.create_task(up()), asyncio.create_task(down(upstream))]
            _done, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        self.client_close_codes.append(client.close_code)

    @asynccontextmanager
    async def running(self) -> AsyncIterator[str]:
        async with serve(self._handle, "127.0.0.1", 0, max_size=None, compression=None) as server:
            port = next(iter(server.sockets)).getsockname()[1]
            yield f"ws://127.0.0.1:{port}/live"


@dataclass
class Outcome:
    report: CallReport
    sessions: list[SessionRecord]
    call: CallRecord
    proxy: InjectingProxy


async def _call() -> Outcome:
    async with LiveEmulator() as emulator:
        proxy = InjectingProxy(emulator.plain_url)
        async with (
            proxy.running() as url,
            running_gateway(emulator, {"GATEWAY_LIVE_URL": url}) as gateway,
        ):
            options = SimOptions(auth_token=AUTH_TOKEN, account_sid=ACCOUNT_SID)
            report = await place_call(gateway.base_url, load_recording(RECORDING).script, options)
            await wait_for(lambda: len(gateway.calls) == 1, 15)
            await wait_for(lambda: gateway.runtime.active_calls == 0, 15)
            return Outcome(report, list(emulator.recorder.sessions), gateway.calls[0], proxy)


@functools.cache
def outcome() -> Outcome:
    return asyncio.run(_call())


def test_the_injected_message_is_over_the_limit() -> None:
    assert MAX_FRAME_BYTES < len(_oversized_message()) < 10 * 1024 * 1024


def test_an_oversized_live_message_is_a_resumable_failure_and_the_call_goes_on() -> None:
    result = outcome()
    assert result.proxy.injected == 1
    assert result.proxy.client_close_codes[0] == 1009  # the gateway refused it
    assert result.report.outcome is CallOutcome.COMPLETED
    summary = result.call.summary
    assert summary["end_reason"] == "carrier stop"
    assert summary["fallback"] is None
    [handover, *_] = summary["handovers"]
    assert handover["reason"] == "close 1009"
    assert handover["forced"] is True
    assert handover["outcome"] == "resumed"
    [session] = result.sessions  # resumed: the same Live session on a second connection
    assert session.connections >= 2
