"""SIGTERM to a real `gateway serve` with calls in progress: the graceful drain.

From the signal on, `/readyz` answers 503 and a new webhook gets the fallback (a message and a
dial to GATEWAY_FALLBACK_NUMBER) without a token or a Live session, while the calls in progress
go on. A call that ends by itself during the drain ends as usual; the ones still running when
GATEWAY_DRAIN_TIMEOUT_S passes (or at a second SIGTERM) are ended cleanly (`draining`), and the
process exits 0 with a `call.ended` line for every call.
"""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path

import httpx

from gateway.emulator import LiveEmulator
from gateway.sim.call import place_call
from gateway.sim.entries import CallOutcome
from gateway.sim.recording import load_recording
from gateway.sim.script import CallScript, SimOptions, new_call_sid
from tests.e2e.harness import ACCOUNT_SID, AUTH_TOKEN
from tests.e2e.process import gateway_process, json_lines, wait_for_health

RECORDING = Path(__file__).resolve().parents[1] / "recordings" / "greeting_question.wav"
FALLBACK = "+15551234567"
ENV = {
    "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
    "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
    "GATEWAY_SECRET": "drain-secret-0123456789abcdef",
    "GATEWAY_FALLBACK_NUMBER": FALLBACK,
}


def _options() -> SimOptions:
    return SimOptions(auth_token=AUTH_TOKEN, account_sid=ACCOUNT_SID, call_sid=new_call_sid())


def _script(tail_ms: float) -> CallScript:
    return dataclasses.replace(load_recording(RECORDING).script, tail_ms=tail_ms)


async def test_sigterm_drains_then_ends_the_calls_left(tmp_path: Path) -> None:
    async with LiveEmulator() as emulator:
        env = {**ENV, "GATEWAY_LIVE_URL": emulator.plain_url, "GATEWAY_DRAIN_TIMEOUT_S": "600"}
        async with gateway_process(env, tmp_path) as gateway, httpx.AsyncClient() as client:
            url = gateway.base_url
            short = asyncio.create_task(place_call(url, _script(3_000), _options()))
            long = asyncio.create_task(place_call(url, _script(120_000), _options()))
            await wait_for_health(url, lambda body: body["active_calls"] == 2)
            # Both calls' Live sessions are set up (a pre-warm may finish after the stream began).
            async with asyncio.timeout(10):
                while len(emulator.recorder.sessions) < 2:  # noqa: ASYNC110
                    await asyncio.sleep(0.02)
            sessions = len(emulator.recorder.sessions)

            gateway.signal()  # SIGTERM: drain
            async with asyncio.timeout(30):
                while (ready := await client.get(f"{url}/readyz")).status_code == 200:  # noqa: ASYNC110
                    await asyncio.sleep(0.05)
            assert ready.status_code == 503
            assert ready.json()["status"] == "draining"
            assert (await client.get(f"{url}/healthz")).status_code == 200  # alive

            refused = await place_call(url, _script(1_000), _options())
            assert refused.outcome is CallOutcome.NO_STREAM
            assert [verb.kind for verb in refused.verbs_before] == ["Say", "Dial"]
            assert FALLBACK in refused.twiml
            assert "stream_token" not in refused.twiml
            assert len(emulator.recorder.sessions) == sessions  # no Live session for it

            metrics = (await client.get(f"{url}/metrics")).text
            assert "gateway_draining 1.0" in metrics
            assert 'gateway_webhooks_refused_total{reason="draining"} 1.0' in metrics
            assert "gateway_live_sessions_opened_total 2.0" in metrics
            assert "gateway_live_connect_failures_total 0.0" in metrics

            # The short call ends by itself during the drain; the long one is still running.
            short_report = await short
            assert short_report.outcome is CallOutcome.COMPLETED
            await wait_for_health(url, lambda body: body["active_calls"] == 1)
            assert gateway.process.returncode is None

            gateway.signal()  # a second SIGTERM: end the calls left now
            code, stdout, stderr = await gateway.exited()
            long_report = await long
    assert code == 0, stderr
    assert long_report.outcome is CallOutcome.GATEWAY_CLOSED
    assert long_report.ok
    lines = json_lines(stdout)
    events = [line["event"] for line in lines]
    for expected in ("gateway.stopping", "gateway.draining", "webhook.refused", "gateway.drained"):
        assert expected in events
    assert events.index("gateway.drained") < events.index("gateway.stopped")
    ended = {line["call_sid"]: line for line in lines if line["event"] == "call.ended"}
    assert ended[short_report.call_sid]["end_reason"] == "carrier stop"
    assert ended[long_report.call_sid]["end_reason"] == "draining"
    drained = next(line for line in lines if line["event"] == "gateway.drained")
    assert drained["ended_calls"] == 1
    assert not [line for line in lines if line["level"] in {"error", "critical"}]
    # The drain's own lines belong to no call, even though the signal interrupted a call's task.
    assert not [
        line for line in lines if line["event"].startswith("gateway.") and "call_sid" in line
    ]


async def test_calls_still_running_at_the_drain_timeout_are_ended(tmp_path: Path) -> None:
    async with LiveEmulator() as emulator:
        env = {**ENV, "GATEWAY_LIVE_URL": emulator.plain_url, "GATEWAY_DRAIN_TIMEOUT_S": "1"}
        async with gateway_process(env, tmp_path) as gateway:
            calls = [
                asyncio.create_task(place_call(gateway.base_url, _script(120_000), _options()))
                for _ in range(3)
            ]
            await wait_for_health(gateway.base_url, lambda body: body["active_calls"] == 3)
            code, stdout, stderr = await gateway.stop()
            reports = await asyncio.gather(*calls)
    assert code == 0, stderr
    assert all(report.outcome is CallOutcome.GATEWAY_CLOSED for report in reports)
    lines = json_lines(stdout)
    ended = [line for line in lines if line["event"] == "call.ended"]
    assert sorted(line["call_sid"] for line in ended) == sorted(r.call_sid for r in reports)
    assert {line["end_reason"] for line in ended} == {"draining"}
    ending = next(line for line in lines if line["event"] == "gateway.drain_ending_calls")
    assert ending["calls"] == 3
    assert "gateway.drain_incomplete" not in {line["event"] for line in lines}
