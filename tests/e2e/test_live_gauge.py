"""`gateway_live_sessions` through the real gateway, with garbage collection off: calls that end
(their Live session closed while the call's tasks are cancelled), calls cut short by the
gateway's shutdown, and a call that ends while its session is still connecting leave the gauge
at 0, and the Live side (the emulator) with nothing open.
"""

from __future__ import annotations

import asyncio
import dataclasses
import gc
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from gateway.emulator import LiveEmulator
from gateway.sim.call import place_call
from gateway.sim.recording import load_recording
from gateway.sim.script import CallScript, SimOptions, new_call_sid
from tests.e2e.harness import ACCOUNT_SID, AUTH_TOKEN, running_gateway, wait_for
from tests.e2e.outage_proxy import OutageProxy

RECORDING = Path(__file__).resolve().parents[1] / "recordings" / "greeting_question.wav"


def _options() -> SimOptions:
    return SimOptions(auth_token=AUTH_TOKEN, account_sid=ACCOUNT_SID, call_sid=new_call_sid())


def _script(tail_ms: float) -> CallScript:
    return dataclasses.replace(load_recording(RECORDING).script, tail_ms=tail_ms)


def _live_side_open(emulator: LiveEmulator) -> int:
    records = emulator.recorder.sessions
    return sum(r.connections for r in records) - sum(len(r.closes) for r in records)


@contextmanager
def no_gc() -> Iterator[None]:
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


async def test_calls_that_end_or_are_cut_by_shutdown_leave_no_live_session_counted() -> None:
    with no_gc():
        async with LiveEmulator() as emulator:
            async with running_gateway(emulator) as gateway:
                connector = gateway.runtime.connector
                ending = [
                    asyncio.create_task(place_call(gateway.base_url, _script(500), _options()))
                    for _ in range(4)
                ]
                await asyncio.gather(*ending)
                await wait_for(lambda: len(gateway.calls) == 4, 15)
                await wait_for(lambda: gateway.runtime.active_calls == 0, 15)
                assert connector.opened == 4
                assert connector.open_sessions == 0
                await wait_for(lambda: _live_side_open(emulator) == 0)

                # Two more calls, still talking when the gateway shuts down.
                cut = [
                    asyncio.create_task(place_call(gateway.base_url, _script(120_000), _options()))
                    for _ in range(2)
                ]
                await wait_for(lambda: connector.open_sessions == 2, 15)
                await wait_for(lambda: gateway.runtime.active_calls == 2, 15)
            assert connector.opened == 6
            assert connector.open_sessions == 0
            await asyncio.gather(*cut, return_exceptions=True)
            await wait_for(lambda: _live_side_open(emulator) == 0)


async def test_a_call_that_ends_while_its_session_connects_leaves_none_counted() -> None:
    # Every connection is held 8 s by the network; the caller hangs up after about 1 s.
    with no_gc():
        async with LiveEmulator() as emulator:
            proxy = OutageProxy(emulator.port, down_from=1, outage_s=8.0, late=True)
            async with proxy.running() as port:
                url = emulator.plain_url.replace(f":{emulator.port}/", f":{port}/")
                async with running_gateway(emulator, {"GATEWAY_LIVE_URL": url}) as gateway:
                    connector = gateway.runtime.connector
                    short = dataclasses.replace(_script(0), audio=_script(0).audio[:8_000])
                    await place_call(gateway.base_url, short, _options())
                    await wait_for(lambda: len(gateway.calls) == 1, 15)
                    [call] = gateway.calls
                    assert call.summary["handovers"] == []
                    assert connector.opened == 0  # the call ended before its session opened
                    await wait_for(lambda: connector.opened == 1, 15)  # then it opened...
                    await wait_for(lambda: connector.open_sessions == 0)  # ...and was closed
                    await wait_for(lambda: _live_side_open(emulator) == 0)
                    assert proxy.held == 1
