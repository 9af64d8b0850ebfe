"""A carrier stream that misbehaves, end to end: the real gateway (uvicorn on loopback), the Live
emulator, and a raw WebSocket client playing Twilio where the simulator would be too polite.

Each test says what the carrier sent and checks what the model received and how the call ended:
a message over the size limit, a wrong sequence number, floods of marks and DTMF, absurd ids.
"""

from __future__ import annotations

import asyncio
import base64
import json
import re
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import numpy as np
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from gateway.audio.g711 import ulaw_decode, ulaw_encode
from gateway.carriers.base import MAX_CARRIER_MESSAGE_BYTES
from gateway.carriers.twilio.signature import compute_signature
from gateway.core.states import CallState
from gateway.emulator import LiveEmulator
from gateway.shell.runtime import CallRecord
from gateway.sim.exotel import basic_header
from gateway.sim.script import new_call_sid
from tests.e2e.carrier_cases import EXOTEL_PASSWORD
from tests.e2e.harness import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    Gateway,
    running_gateway,
    uplink_reference,
    wait_for,
)
from tests.tools.helpers import Logs, capture_logs

STREAM_SID = "MZ" + "a" * 32


class RawTwilio:
    """One media stream as Twilio would open it, with every message under the test's control."""

    def __init__(self, ws: ClientConnection, call_sid: str) -> None:
        self.ws = ws
        self.call_sid = call_sid
        self.sequence = 1  # `start` was 1
        self.said: list[bytes] = []  # the μ-law frames sent, in order

    async def send(self, event: str, sequence: int | None = None, **body: Any) -> None:
        """Send one numbered message (`sequence`: that number, else the next one)."""
        if sequence is None:
            self.sequence += 1
            sequence = self.sequence
        message = {"event": event, "sequenceNumber": str(sequence), "streamSid": STREAM_SID}
        await self.ws.send(json.dumps({**message, **body}))

    async def media(self, frame: bytes, sequence: int | None = None) -> None:
        self.said.append(frame)
        payload = base64.b64encode(frame).decode()
        await self.send("media", sequence, media={"track": "inbound", "payload": payload})

    async def stop(self) -> None:
        await self.send("stop", stop={"accountSid": ACCOUNT_SID, "callSid": self.call_sid})

    async def until_closed(self, timeout_s: float = 10.0) -> int | None:
        """Read what the gateway sends until it closes the socket; the close code."""
        try:
            async with asyncio.timeout(timeout_s):
                async for _ in self.ws:
                    pass
        except ConnectionClosed:
            pass
        return self.ws.close_code


def speech_frames(count: int) -> list[bytes]:
    """`count` 20 ms μ-law frames of a tone, each one different (so any loss shows)."""
    t = np.arange(count * 160) / 8000
    pcm = (8000 * np.sin(2 * np.pi * 440 * t) * (1 + 0.5 * np.sin(2 * np.pi * 3 * t))).astype(
        np.int16
    )
    return [ulaw_encode(pcm[i * 160 : (i + 1) * 160].tobytes()) for i in range(count)]


async def _webhook(base_url: str, call_sid: str) -> tuple[str, str]:
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


@asynccontextmanager
async def raw_call(gateway: Gateway, call_sid: str | None = None) -> AsyncIterator[RawTwilio]:
    """A signed webhook, then the media stream with `connected` and a valid `start` sent."""
    call_sid = call_sid or new_call_sid()
    stream_url, token = await _webhook(gateway.base_url, call_sid)
    headers = {"X-Twilio-Signature": compute_signature(stream_url, None, AUTH_TOKEN)}
    start = {
        "streamSid": STREAM_SID,
        "accountSid": ACCOUNT_SID,
        "callSid": call_sid,
        "tracks": ["inbound"],
        "customParameters": {"stream_token": token},
        "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1},
    }
    async with connect(stream_url, additional_headers=headers, open_timeout=5, max_size=None) as ws:
        await ws.send(json.dumps({"event": "connected", "protocol": "Call", "version": "1.0.0"}))
        message = {"event": "start", "sequenceNumber": "1", "streamSid": STREAM_SID}
        await ws.send(json.dumps({**message, "start": start}))
        # Frames sent in a burst before the call's Live session is up are held, and a `stop`
        # arriving first ends the call with them (the caller hung up): wait, as a paced
        # carrier's first frames would.
        await wait_for(
            lambda: any(r.bridge.state is CallState.LIVE for r in gateway.runtime.calls), 15
        )
        yield RawTwilio(ws, call_sid)


async def _ended(gateway: Gateway) -> CallRecord:
    await wait_for(lambda: len(gateway.calls) == 1, 15)
    await wait_for(lambda: gateway.runtime.active_calls == 0, 15)
    return gateway.calls[0]


# --------------------------------------------------------------------------- oversized message


async def test_a_message_over_the_limit_ends_the_call_saying_the_gateway_closed_it() -> None:
    async with LiveEmulator() as emulator, running_gateway(emulator) as gateway:
        async with raw_call(gateway) as call:
            for frame in speech_frames(10):
                await call.media(frame)
            padding = "x" * (MAX_CARRIER_MESSAGE_BYTES + 1)
            await call.send("media", media={"track": "inbound", "payload": padding})
            code = await call.until_closed()
        record = await _ended(gateway)
    assert code == 1009
    assert record.summary["end_reason"] == "gateway closed: carrier message too big"


# ------------------------------------------------------------------------ a wrong sequence number


async def test_one_wrong_sequence_number_does_not_silence_the_caller() -> None:
    """Issue 22: one `sequenceNumber` off by +1,000 made the next messages "stale" (2 of 250
    frames reached Live, marks and stop dropped). Now every frame reaches Live, in order, the
    stop ends the call, and nothing is counted missed."""
    frames = speech_frames(250)
    async with LiveEmulator() as emulator, running_gateway(emulator) as gateway:
        async with raw_call(gateway) as call:
            for index, frame in enumerate(frames):
                if index == 10:
                    await call.media(frame, sequence=call.sequence + 1 + 1000)
                    call.sequence += 1  # the carrier's own count goes on as if it were right
                else:
                    await call.media(frame)
            await call.send("mark", mark={"name": "not-ours"})
            await call.stop()
            await call.until_closed()
        record = await _ended(gateway)
        session = emulator.recorder.sessions[0]
        await wait_for(lambda: len(session.closes) >= 1)
    said = np.frombuffer(ulaw_decode(b"".join(call.said)), dtype="<i2").astype(np.int16)
    reference = uplink_reference(said)
    received = session.audio()
    assert len(received) == len(reference)  # every frame, once
    assert np.array_equal(received, reference[: len(received)])
    assert record.summary["end_reason"] == "carrier stop"
    assert record.summary["messages_missed"] == 0
    assert record.summary["marks_unknown"] == 1  # the mark was not dropped either


# ------------------------------------------------------------------------------------- floods


@pytest.fixture
def logs(capsys: pytest.CaptureFixture[str]) -> Iterator[Logs]:
    yield from capture_logs(capsys)


@pytest.mark.parametrize("pause_s", [0.0, 0.01])
async def test_a_dtmf_flood_does_not_cost_the_caller_audio(logs: Logs, pause_s: float) -> None:
    """Issue 22: 5,000 presses sent 2,308 texts to Live and lost 45 % of the caller's audio.
    Here 5,000 presses interleaved with 250 frames of speech, all at once or over a few
    seconds: every frame reaches Live bit-exact (all at once, one text per press had let Live
    receive 38,080 of these 80,000 samples), the presses become a handful of texts, the rest
    are counted, and no digit is ever logged."""
    frames = speech_frames(250)
    async with LiveEmulator() as emulator, running_gateway(emulator) as gateway:
        async with raw_call(gateway) as call:
            for frame in frames:
                await call.media(frame)
                for _ in range(20):
                    await call.send("dtmf", dtmf={"track": "inbound_track", "digit": "7"})
                await asyncio.sleep(pause_s)  # at once, or over a few seconds
            await call.stop()
            await call.until_closed()
        record = await _ended(gateway)
        session = emulator.recorder.sessions[0]
        await wait_for(lambda: len(session.closes) >= 1)
    said = np.frombuffer(ulaw_decode(b"".join(call.said)), dtype="<i2").astype(np.int16)
    reference = uplink_reference(said)
    received = session.audio()
    assert len(received) == len(reference)
    assert np.array_equal(received, reference)
    summary = record.summary
    texts = [t for t in session.texts if "pressed" in t]
    assert summary["dtmf_digits"] == 5_000
    assert len(texts) == summary["dtmf_texts"]
    # At most two texts a second (the burst allows two at once), each up to 32 digits.
    assert 1 <= len(texts) <= 2 + 2 * summary["duration_ms"] / 1000
    assert all(t.count("7") <= 32 for t in texts)
    sent_digits = sum(t.count("7") for t in texts)
    assert sent_digits + summary["dtmf_dropped"] == 5_000
    assert summary["live_queue_dropped"] == 0
    assert '"7"' not in logs.text
    assert "pressed 7" not in logs.text


async def test_an_unknown_mark_flood_is_counted_not_logged(logs: Logs) -> None:
    async with LiveEmulator() as emulator, running_gateway(emulator) as gateway:
        async with raw_call(gateway) as call:
            for index in range(10_000):
                await call.send("mark", mark={"name": f"forged-{index}"})
            await call.stop()
            await call.until_closed()
        record = await _ended(gateway)
        async with httpx.AsyncClient() as client:
            metrics = (await client.get(f"{gateway.base_url}/metrics")).text
    assert 'gateway_carrier_input_dropped_total{what="log_lines"} 9995.0' in metrics
    assert record.summary["marks_unknown"] == 10_000
    assert record.summary["logs_suppressed"] == {"bridge.unknown_mark": 9_995}
    lines = logs.events("bridge.unknown_mark")
    assert [line["name"] for line in lines] == [f"forged-{i}" for i in range(5)]
    assert lines[-1]["more_counted_only"] is True


# ---------------------------------------------------------------------------------- absurd ids


async def test_a_60_kb_call_sid_is_refused_and_never_echoed(logs: Logs) -> None:
    huge = "CA" + "9" * 60_000
    async with LiveEmulator() as emulator, running_gateway(emulator) as gateway:
        url = f"{gateway.base_url}/twilio/voice"
        form = {"CallSid": huge, "AccountSid": ACCOUNT_SID, "From": "+1555", "To": "+1666"}
        headers = {"X-Twilio-Signature": compute_signature(url, form, AUTH_TOKEN)}
        async with httpx.AsyncClient() as client:
            answer = await client.post(url, data=form, headers=headers)
        assert answer.status_code == 400
        # A stream whose `start` names such a call (with another call's valid token) is
        # refused before it becomes a call; its id is logged cut short.
        stream_url, token = await _webhook(gateway.base_url, new_call_sid())
        signed = {"X-Twilio-Signature": compute_signature(stream_url, None, AUTH_TOKEN)}
        async with connect(stream_url, additional_headers=signed, max_size=None) as ws:
            start = {"streamSid": STREAM_SID, "callSid": huge, "accountSid": ACCOUNT_SID}
            start["customParameters"] = {"stream_token": token}
            start["mediaFormat"] = {"encoding": "audio/x-mulaw", "sampleRate": 8000}
            await ws.send(json.dumps({"event": "start", "sequenceNumber": "1", "start": start}))
            code = await RawTwilio(ws, huge).until_closed()
        assert code == 1008
        assert gateway.calls == []
    assert "9" * 200 not in logs.text
    [rejected] = [line for line in logs.events("stream.rejected")]
    assert rejected["reason"] == "call id too long"
    assert rejected["call_sid"] == "CA" + "9" * 126 + "…[60002 chars]"
    assert logs.events("webhook.rejected")[0]["id_chars"] == 60_002


async def test_an_absurd_exotel_call_sid_is_refused_too(logs: Logs) -> None:
    env = {"EXOTEL_STREAM_USER": "exotel-user", "EXOTEL_STREAM_PASSWORD": EXOTEL_PASSWORD}
    async with LiveEmulator() as emulator, running_gateway(emulator, env) as gateway:
        headers = {"Authorization": basic_header("exotel-user", EXOTEL_PASSWORD)}
        async with httpx.AsyncClient() as client:
            answer = await client.get(
                f"{gateway.base_url}/exotel/voice",
                params={"CallSid": "x" * 5_000, "CallTo": "0" * 5_000},
                headers=headers,
            )
        assert answer.status_code == 400
        assert gateway.runtime.webhooks_rejected == 1
        assert len(gateway.runtime.prewarm) == 0
    assert "x" * 200 not in logs.text
