"""The edge, end to end: signatures and stream tokens decide whether a Live session opens.

The real gateway app on uvicorn (loopback), the Live emulator and the carrier simulator; a raw
WebSocket client plays a hostile or broken carrier where the simulator would be too polite.
"""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

import httpx
import numpy as np
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from gateway.carriers.twilio.signature import compute_signature
from gateway.emulator import EmulatorConfig, LiveEmulator
from gateway.sim.call import place_call
from gateway.sim.entries import CallOutcome
from gateway.sim.script import CallScript, SimOptions, new_call_sid
from tests.e2e.harness import ACCOUNT_SID, AUTH_TOKEN, running_gateway, wait_for

SILENCE = CallScript(audio=np.zeros(8000, dtype=np.int16), tail_ms=200)


def _options(**overrides: Any) -> SimOptions:
    return SimOptions(auth_token=AUTH_TOKEN, account_sid=ACCOUNT_SID, speed=4.0, **overrides)


async def _webhook(base_url: str, call_sid: str) -> tuple[str, str]:
    """POST a signed voice webhook; returns (stream URL, stream token) from the TwiML."""
    url = f"{base_url}/twilio/voice"
    form = {"CallSid": call_sid, "AccountSid": ACCOUNT_SID, "From": "+15550001", "To": "+15550002"}
    headers = {"X-Twilio-Signature": compute_signature(url, form, AUTH_TOKEN)}
    async with httpx.AsyncClient() as client:
        answer = await client.post(url, data=form, headers=headers)
    assert answer.status_code == 200
    stream_url = re.search(r'<Stream url="([^"]+)"', answer.text)
    token = re.search(r'<Parameter name="stream_token" value="([^"]+)"', answer.text)
    assert stream_url is not None
    assert token is not None
    return stream_url.group(1), token.group(1)


async def _raw_stream(stream_url: str, call_sid: str, token: str | None) -> int | None:
    """Open the media stream as Twilio would, send connected+start; returns the close code."""
    headers = {"X-Twilio-Signature": compute_signature(stream_url, None, AUTH_TOKEN)}
    params = {} if token is None else {"stream_token": token}
    start = {
        "event": "start",
        "sequenceNumber": "1",
        "streamSid": "MZ" + "a" * 32,
        "start": {
            "streamSid": "MZ" + "a" * 32,
            "accountSid": ACCOUNT_SID,
            "callSid": call_sid,
            "tracks": ["inbound"],
            "customParameters": params,
            "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1},
        },
    }
    async with connect(stream_url, additional_headers=headers, open_timeout=5) as ws:
        await ws.send(json.dumps({"event": "connected", "protocol": "Call", "version": "1.0.0"}))
        await ws.send(json.dumps(start))
        try:
            async with asyncio.timeout(5):
                async for _ in ws:
                    pass
        except ConnectionClosed:
            pass
        return ws.close_code


async def test_a_bad_webhook_signature_gets_403_and_no_live_session() -> None:
    async with LiveEmulator() as emulator, running_gateway(emulator) as gateway:
        report = await place_call(gateway.base_url, SILENCE, _options(corrupt_signature=True))
        assert report.outcome is CallOutcome.WEBHOOK_FAILED
        assert report.webhook_status == 403
        unsigned = await place_call(gateway.base_url, SILENCE, _options(sign_webhook=False))
        assert unsigned.webhook_status == 403
        await asyncio.sleep(0.2)  # a pre-warm, had one started, would have connected by now
        assert emulator.recorder.sessions == []
        assert gateway.runtime.webhooks_rejected == 2
        assert len(gateway.runtime.prewarm) == 0


async def test_a_bad_upgrade_signature_is_refused_before_the_socket_opens() -> None:
    async with LiveEmulator() as emulator, running_gateway(emulator) as gateway:
        stream_url, _token = await _webhook(gateway.base_url, new_call_sid())
        with pytest.raises(InvalidStatus) as refused:
            async with connect(stream_url, additional_headers={"X-Twilio-Signature": "bad"}):
                pass
        assert refused.value.response.status_code == 403
        assert gateway.runtime.streams_rejected == 1
        assert gateway.calls == []


@pytest.mark.parametrize("case", ["forged", "missing", "other_call"])
async def test_a_start_without_a_valid_token_closes_without_a_live_session(case: str) -> None:
    async with (
        LiveEmulator() as emulator,
        running_gateway(emulator, {"GATEWAY_PREWARM_HOLD_S": "0"}) as gateway,
    ):
        call_sid = new_call_sid()
        stream_url, token = await _webhook(gateway.base_url, call_sid)
        presented = {"forged": token[:-4] + "AAAA", "missing": None, "other_call": token}[case]
        stream_call = new_call_sid() if case == "other_call" else call_sid
        code = await _raw_stream(stream_url, stream_call, presented)
        assert code == 1008
        assert emulator.recorder.sessions == []  # pre-warm off: any session would be the stream's
        assert gateway.calls == []
        assert gateway.runtime.streams_rejected == 1


async def test_a_token_works_once() -> None:
    async with LiveEmulator() as emulator, running_gateway(emulator) as gateway:
        call_sid = new_call_sid()
        stream_url, token = await _webhook(gateway.base_url, call_sid)
        first = asyncio.create_task(_raw_stream(stream_url, call_sid, token))
        await wait_for(lambda: gateway.runtime.active_calls == 1)
        replay = await _raw_stream(stream_url, call_sid, token)
        assert replay == 1008
        first.cancel()
        await asyncio.gather(first, return_exceptions=True)
        await wait_for(lambda: len(gateway.calls) == 1)
        # The first stream claimed the pre-warmed session; the replay opened none.
        assert len(emulator.recorder.sessions) == 1
        assert gateway.runtime.streams_rejected == 1


async def test_an_unclaimed_prewarmed_session_is_closed() -> None:
    async with (
        LiveEmulator() as emulator,
        running_gateway(emulator, {"GATEWAY_PREWARM_HOLD_S": "0.3"}) as gateway,
    ):
        await _webhook(gateway.base_url, new_call_sid())
        await wait_for(lambda: len(emulator.recorder.sessions) == 1)
        await wait_for(lambda: gateway.runtime.prewarm.expired == 1)
        await wait_for(lambda: len(emulator.recorder.sessions[0].closes) == 1)


async def test_without_an_auth_token_signatures_are_not_required() -> None:
    # Issue 16: one signature policy; Twilio without its token runs unsigned only when named.
    unsigned = {"TWILIO_AUTH_TOKEN": "", "GATEWAY_UNSIGNED_CARRIERS": "twilio"}
    async with (
        LiveEmulator(EmulatorConfig()) as emulator,
        running_gateway(emulator, unsigned) as gateway,
    ):
        report = await place_call(gateway.base_url, SILENCE, _options(sign_webhook=False))
        assert report.outcome is CallOutcome.COMPLETED
        assert len(emulator.recorder.sessions) == 1


async def test_without_an_auth_token_twilio_is_refused_unless_named_unsigned() -> None:
    async with (
        LiveEmulator(EmulatorConfig()) as emulator,
        running_gateway(emulator, {"TWILIO_AUTH_TOKEN": ""}) as gateway,
    ):
        report = await place_call(gateway.base_url, SILENCE, _options(sign_webhook=False))
        assert report.webhook_status == 403
        assert emulator.recorder.sessions == []
        assert gateway.runtime.webhooks_rejected == 1
        with pytest.raises(InvalidStatus) as refused:  # the media upgrade is refused as well
            async with connect(gateway.base_url.replace("http", "ws") + "/twilio/media"):
                pass
        assert refused.value.response.status_code == 403
        assert gateway.runtime.streams_rejected == 1
