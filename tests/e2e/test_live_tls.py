"""The real `gateway serve` process on a TLS Live leg it trusts through GATEWAY_LIVE_CA_FILE."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

from gateway.emulator import EmulatorConfig, LiveEmulator
from gateway.sim.call import place_call
from gateway.sim.entries import CallOutcome
from gateway.sim.recording import load_recording
from gateway.sim.script import SimOptions
from tests.e2e.harness import ACCOUNT_SID, AUTH_TOKEN
from tests.e2e.process import gateway_process, json_lines, wait_for_health

RECORDING = Path(__file__).resolve().parents[1] / "recordings" / "greeting_question.wav"


async def test_a_call_over_a_tls_live_leg_trusted_by_the_ca_file(tmp_path: Path) -> None:
    async with LiveEmulator(EmulatorConfig(tls=True)) as emulator:
        assert emulator.cert_pem is not None
        assert emulator.plain_url.startswith("wss://")
        ca_file = tmp_path / "emulator.pem"
        ca_file.write_bytes(emulator.cert_pem)
        env = {
            "GATEWAY_LIVE_URL": emulator.plain_url,
            "GATEWAY_LIVE_CA_FILE": str(ca_file),
            "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
            "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        }
        async with gateway_process(env, tmp_path) as gateway:
            options = SimOptions(auth_token=AUTH_TOKEN, account_sid=ACCOUNT_SID)
            report = await place_call(gateway.base_url, load_recording(RECORDING).script, options)
            await wait_for_health(gateway.base_url, lambda body: body["active_calls"] == 0)
            code, stdout, _ = await gateway.stop()
    assert report.outcome is CallOutcome.COMPLETED
    assert report.agent_segments  # the emulator's answer came back over TLS
    assert code == 0
    events = [line["event"] for line in json_lines(stdout)]
    assert "live.opened" in events
    assert "live.connect_failed" not in events
    assert len(emulator.recorder.sessions) == 1


async def test_a_ca_file_without_a_certificate_stops_start_up(tmp_path: Path) -> None:
    bad = tmp_path / "ca.pem"
    bad.write_text("not a certificate\n")
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("GATEWAY_", "TWILIO_"))}
    environ.update({"LOG_FORMAT": "json", "GATEWAY_LIVE_CA_FILE": str(bad)})
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "gateway", "serve", "--env-file", os.devnull, "--port", "0",
        env=environ, cwd=tmp_path, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    async with asyncio.timeout(60):
        stdout, _ = await process.communicate()
    assert process.returncode == 2
    lines = [json.loads(line) for line in stdout.decode().splitlines() if line.strip()]
    invalid = [line for line in lines if line["event"] == "config.invalid"]
    assert len(invalid) == 1
    assert invalid[0]["error"].startswith(
        f"GATEWAY_LIVE_CA_FILE: cannot load CA certificates (PEM) from {bad}"
    )
