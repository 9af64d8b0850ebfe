"""The real `gateway serve` process: JSON logs on stdout, secrets never logged, clean SIGTERM.

One run uses an emulator in this test process (GATEWAY_LIVE_URL); another runs the README's
fresh-machine configuration, where no backend is set and the embedded emulator answers; the
secrets run places full calls (and refused ones, and one whose Live key is refused) with known
secrets at DEBUG level and searches everything the process wrote and served for them.
"""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path

import httpx

from gateway.emulator import EmulatorConfig, LiveEmulator
from gateway.sim.call import place_call
from gateway.sim.entries import CallOutcome
from gateway.sim.recording import load_recording
from gateway.sim.script import SimOptions, new_call_sid
from tests.e2e.harness import ACCOUNT_SID, AUTH_TOKEN
from tests.e2e.process import gateway_process, json_lines, wait_for_health
from tests.loopback import closed_port_url

RECORDINGS = Path(__file__).resolve().parents[1] / "recordings"
RECORDING = RECORDINGS / "greeting_question.wav"
SECRET = "process-secret-0123456789abcdef"
API_KEY = "AIzaKnownTestKey-7f3c9e1b5d"
REFUSED_API_KEY = "AIzaRefusedTestKey-2a8d4c6e0f"


async def test_a_call_through_the_gateway_process(tmp_path: Path) -> None:
    async with LiveEmulator() as emulator:
        env = {
            "GATEWAY_LIVE_URL": emulator.plain_url,
            "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
            "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
            "GATEWAY_SECRET": SECRET,
        }
        async with gateway_process(env, tmp_path) as gateway:
            base_url = gateway.base_url
            options = SimOptions(auth_token=AUTH_TOKEN, account_sid=ACCOUNT_SID)
            report = await place_call(base_url, load_recording(RECORDING).script, options)
            # The call's end reaches the gateway just after the simulator's last message.
            health = await wait_for_health(base_url, lambda body: body["active_calls"] == 0)
            code, stdout, stderr = await gateway.stop()
    assert report.outcome is CallOutcome.COMPLETED
    assert report.agent_segments
    assert health == {"status": "ok", "active_calls": 0}
    assert code == 0
    lines = json_lines(stdout)
    events = [line["event"] for line in lines]
    for expected in ("webhook.answered", "call.started", "live.opened", "call.ended"):
        assert expected in events
    ended = next(line for line in lines if line["event"] == "call.ended")
    assert ended["call_sid"] == report.call_sid
    assert ended["stream_sid"] == report.stream_sid
    assert ended["end_reason"] == "carrier stop"
    assert ended["caller_audio_ms"] > 0
    assert ended["played_ms"] > 0
    call_lines = [line for line in lines if line.get("call_sid") == report.call_sid]
    assert {"webhook.answered", "call.started", "live.opened", "call.ended"} <= {
        line["event"] for line in call_lines
    }
    # No secret anywhere: the auth token, the stream token, the signing secret.
    stream_token = report.custom_parameters["stream_token"]
    for secret in (AUTH_TOKEN, stream_token, SECRET):
        assert secret not in stdout
        assert secret not in stderr
    assert len(emulator.recorder.sessions) == 1
    assert emulator.recorder.sessions[0].closes


async def test_the_readme_configuration_uses_the_embedded_emulator(tmp_path: Path) -> None:
    async with gateway_process({}, tmp_path) as gateway:
        base_url = gateway.base_url
        report = await place_call(
            base_url, load_recording(RECORDING).script, SimOptions(auth_token=None)
        )
        code, stdout, _stderr = await gateway.stop()
    assert report.outcome is CallOutcome.COMPLETED
    assert report.agent_segments  # the embedded emulator echoed the caller
    assert code == 0
    events = {line["event"]: line for line in json_lines(stdout)}
    assert events["live.embedded_emulator"]["level"] == "warning"
    assert events["twilio.signatures_unchecked"]["level"] == "warning"
    assert events["gateway.secret_generated"]["level"] == "warning"
    assert "call.ended" in events


def _leaks(secret: str, text: str) -> list[str]:
    """Where `secret`, or any 12-character piece of it, appears in `text`."""
    pieces = {secret[i : i + 12] for i in range(max(1, len(secret) - 11))}
    return sorted(piece for piece in pieces if piece in text)


async def test_no_secret_in_anything_the_process_writes_or_serves(tmp_path: Path) -> None:
    """Known API key, auth token, signing secret and stream tokens; DEBUG logs; full calls with a
    barge-in, a refused webhook, a call over capacity, and a process whose key Live refuses."""
    outputs: list[str] = []
    stream_tokens: list[str] = []
    env = {
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "GATEWAY_SECRET": SECRET,
        "LOG_LEVEL": "DEBUG",
    }

    def options(**changes: bool) -> SimOptions:  # a fresh CallSid for every call
        return SimOptions(
            auth_token=AUTH_TOKEN, account_sid=ACCOUNT_SID, call_sid=new_call_sid(), **changes
        )

    emulator_config = EmulatorConfig(api_keys=frozenset({API_KEY}))
    async with LiveEmulator(emulator_config) as emulator:
        live = {"GATEWAY_LIVE_URL": emulator.plain_url, "GEMINI_API_KEY": API_KEY}
        limits = {"GATEWAY_MAX_CALLS": "1", "GATEWAY_DRAIN_TIMEOUT_S": "0"}
        async with gateway_process({**env, **live, **limits}, tmp_path) as gateway:
            base_url = gateway.base_url
            for name in ("greeting_question", "interrupt"):
                script = load_recording(RECORDINGS / f"{name}.wav").script
                report = await place_call(base_url, script, options())
                assert report.outcome is CallOutcome.COMPLETED, report.errors
                stream_tokens.append(report.custom_parameters["stream_token"])
                await wait_for_health(base_url, lambda body: body["active_calls"] == 0)
            forged = await place_call(base_url, script, options(corrupt_signature=True))
            assert forged.webhook_status == 403
            # One call holds the only slot; the next webhook gets the fallback.
            long_script = dataclasses.replace(script, tail_ms=60_000)
            async with httpx.AsyncClient() as client:
                held = asyncio.create_task(place_call(base_url, long_script, options()))
                await wait_for_health(base_url, lambda body: body["active_calls"] == 1)
                refused = await place_call(base_url, script, options())
                assert refused.outcome is CallOutcome.NO_STREAM
                served = [
                    (await client.get(f"{base_url}{path}")).text
                    for path in ("/healthz", "/readyz", "/metrics")
                ]
            code, stdout, stderr = await gateway.stop()  # SIGTERM ends the held call too
            held_report = await held
            stream_tokens.append(held_report.custom_parameters["stream_token"])
            assert code == 0
            outputs += [stdout, stderr, *served]
        # Live refuses the key (1007): the call goes to the fallback over Twilio's REST API,
        # here a port where nothing listens (the request fails; the gateway ends the stream).
        refused_live = {
            "GATEWAY_LIVE_URL": emulator.plain_url,
            "GEMINI_API_KEY": REFUSED_API_KEY,
            "TWILIO_API_BASE": closed_port_url(),
        }
        async with gateway_process({**env, **refused_live}, tmp_path) as gateway:
            base_url = gateway.base_url
            report = await place_call(base_url, script, options())
            stream_tokens.append(report.custom_parameters["stream_token"])
            code, stdout, stderr = await gateway.stop()
            assert code == 0
            outputs += [stdout, stderr]
            refused_lines = json_lines(stdout)
    lines = json_lines(outputs[0])
    assert {"webhook.rejected", "webhook.refused", "bridge.barge_in", "call.ended"} <= {
        line["event"] for line in lines
    }
    ended = [line for line in refused_lines if line["event"] == "call.ended"]
    assert [line["fallback"] for line in ended] == ["live unavailable (fatal_config)"]
    assert [line["end_reason"] for line in ended] == ["call control failed"]
    everything = "\n".join(outputs)
    secrets = [AUTH_TOKEN, SECRET, API_KEY, REFUSED_API_KEY]
    secrets += stream_tokens + [token.split(".")[1] for token in stream_tokens]
    for secret in secrets:
        assert _leaks(secret, everything) == [], secret[:4]
