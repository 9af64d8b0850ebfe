"""`gateway serve --workers N` (GATEWAY_WORKERS): N processes on one port, calls through any of
them, one SIGTERM draining them all."""

from __future__ import annotations

import asyncio
from pathlib import Path

from gateway.emulator import LiveEmulator
from gateway.sim.call import place_call
from gateway.sim.entries import CallOutcome
from gateway.sim.recording import load_recording
from gateway.sim.script import SimOptions
from tests.e2e.harness import ACCOUNT_SID, AUTH_TOKEN
from tests.e2e.process import gateway_process, json_lines, wait_for_health

RECORDING = Path(__file__).resolve().parents[1] / "recordings" / "greeting_question.wav"


def _listening(port: int) -> int:
    """Sockets listening on `port` (IPv4, any process): /proc/net/tcp, state 0A."""
    count = 0
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == "0A":
            count += 1
    return count


async def test_two_workers_share_the_port_take_calls_and_stop_together(tmp_path: Path) -> None:
    async with LiveEmulator() as emulator:
        env = {  # no GATEWAY_SECRET: the supervisor gives both workers one key
            "GATEWAY_LIVE_URL": emulator.plain_url,
            "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
            "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
            "GATEWAY_WORKERS": "2",
        }
        async with gateway_process(env, tmp_path) as gateway:
            base_url = gateway.base_url
            port = int(base_url.rsplit(":", 1)[1])
            # Both workers listen (the first to answer /healthz may be either of them).
            for _ in range(300):
                if _listening(port) >= 2:
                    break
                await asyncio.sleep(0.1)
            assert _listening(port) == 2
            options = SimOptions(auth_token=AUTH_TOKEN, account_sid=ACCOUNT_SID)
            script = load_recording(RECORDING).script
            # Webhook and stream are separate connections, which the kernel may give to
            # different workers: the stream tokens verify in either.
            reports = await asyncio.gather(
                *(place_call(base_url, script, options) for _ in range(4))
            )
            await wait_for_health(base_url, lambda body: body["active_calls"] == 0)
            code, stdout, _stderr = await gateway.stop()
    assert [report.outcome for report in reports] == [CallOutcome.COMPLETED] * 4
    assert code == 0
    events = [line["event"] for line in json_lines(stdout)]
    assert events.count("gateway.worker_started") == 2
    assert events.count("gateway.starting") == 2
    assert events.count("gateway.stopped") == 2
    assert events.count("call.ended") == 4
    assert "gateway.workers_secret_generated" in events
    assert "gateway.workers_prewarm_off" in events  # webhook and stream may reach either worker
    assert "live.prewarm_expired" not in events
    assert events[-1] == "gateway.workers_stopped"
    assert len(emulator.recorder.sessions) == 4
