"""The real `gateway serve` process: JSON logs on stdout, secrets never logged, clean SIGTERM.

One run uses an emulator in this test process (GATEWAY_LIVE_URL); the other runs the README's
fresh-machine configuration, where no backend is set and the embedded emulator answers.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sys
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx

from gateway.emulator import LiveEmulator
from gateway.sim.call import place_call
from gateway.sim.entries import CallOutcome
from gateway.sim.recording import load_recording
from gateway.sim.script import SimOptions
from tests.e2e.harness import ACCOUNT_SID, AUTH_TOKEN

RECORDING = Path(__file__).resolve().parents[1] / "recordings" / "greeting_question.wav"
SECRET = "process-secret-0123456789abcdef"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@asynccontextmanager
async def gateway_process(
    env: Mapping[str, str], cwd: Path
) -> AsyncIterator[tuple[str, asyncio.subprocess.Process]]:
    port = _free_port()
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("GATEWAY_", "TWILIO_"))}
    environ.pop("GEMINI_API_KEY", None)
    environ.update({"LOG_FORMAT": "json", "LOG_LEVEL": "INFO", **env})
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "gateway", "serve", "--host", "127.0.0.1", "--port", str(port),
        env=environ, cwd=cwd, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    base_url = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient() as client, asyncio.timeout(30):
            while True:
                try:
                    if (await client.get(f"{base_url}/healthz")).status_code == 200:
                        break
                except httpx.TransportError:
                    await asyncio.sleep(0.1)
        yield base_url, process
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def _stop(process: asyncio.subprocess.Process) -> tuple[int, str, str]:
    process.send_signal(signal.SIGTERM)
    stdout, stderr = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode is not None
    return process.returncode, stdout.decode(), stderr.decode()


def _json_lines(stdout: str) -> list[dict[str, Any]]:
    """Every stdout line is one JSON object (nothing else may go to stdout)."""
    return [json.loads(line) for line in stdout.splitlines() if line.strip()]


async def test_a_call_through_the_gateway_process(tmp_path: Path) -> None:
    async with LiveEmulator() as emulator:
        env = {
            "GATEWAY_LIVE_URL": emulator.plain_url,
            "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
            "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
            "GATEWAY_SECRET": SECRET,
        }
        async with gateway_process(env, tmp_path) as (base_url, process):
            options = SimOptions(auth_token=AUTH_TOKEN, account_sid=ACCOUNT_SID)
            report = await place_call(base_url, load_recording(RECORDING).script, options)
            async with httpx.AsyncClient() as client:
                health = (await client.get(f"{base_url}/healthz")).json()
            code, stdout, stderr = await _stop(process)
    assert report.outcome is CallOutcome.COMPLETED
    assert report.agent_segments
    assert health == {"status": "ok", "active_calls": 0}
    assert code == 0
    lines = _json_lines(stdout)
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
    async with gateway_process({}, tmp_path) as (base_url, process):
        report = await place_call(
            base_url, load_recording(RECORDING).script, SimOptions(auth_token=None)
        )
        code, stdout, _stderr = await _stop(process)
    assert report.outcome is CallOutcome.COMPLETED
    assert report.agent_segments  # the embedded emulator echoed the caller
    assert code == 0
    events = {line["event"]: line for line in _json_lines(stdout)}
    assert events["live.embedded_emulator"]["level"] == "warning"
    assert events["twilio.signatures_unchecked"]["level"] == "warning"
    assert events["gateway.secret_generated"]["level"] == "warning"
    assert "call.ended" in events
