"""The log lines of a call through the real `gateway serve` process carry its Live session.

Before a session is open a call's lines have no `live_session` key (never a null); from the
moment the call's session opens every line of the call, whichever task logs it, carries that
session, and after a `goAway` handover the new one, up to and including `call.ended`. The
emulator sends no `sessionId` (as the Developer API), so the ids are the gateway's own.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from gateway.emulator import EmulatorConfig, LiveEmulator, Scenario
from gateway.emulator.scenario import TimedAction
from gateway.sim.call import place_call
from gateway.sim.entries import CallOutcome
from gateway.sim.recording import load_recording
from gateway.sim.script import SimOptions
from tests.e2e.harness import ACCOUNT_SID, AUTH_TOKEN
from tests.e2e.process import gateway_process, json_lines, wait_for_health

RECORDING = Path(__file__).resolve().parents[1] / "recordings" / "greeting_question.wav"
LOCAL_ID = re.compile(r"local-[0-9a-f]{8}")


def _index(lines: list[dict[str, Any]], event: str, start: int = 0) -> int:
    return next(i for i, line in enumerate(lines) if i >= start and line["event"] == event)


async def test_every_line_of_a_call_carries_its_live_session_rebound_at_a_handover(
    tmp_path: Path,
) -> None:
    # goAway 1 s into the first connection with 6 s left: one handover during the call.
    scenario = Scenario(actions=(TimedAction(at_s=1.0, action="go_away", time_left_s=6.0),))
    async with LiveEmulator(EmulatorConfig(), scenario) as emulator:
        env = {
            "GATEWAY_LIVE_URL": emulator.plain_url,
            "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
            "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
            "GATEWAY_SECRET": "logs-secret-0123456789abcdef",
        }
        async with gateway_process(env, tmp_path) as gateway:
            options = SimOptions(auth_token=AUTH_TOKEN, account_sid=ACCOUNT_SID)
            report = await place_call(gateway.base_url, load_recording(RECORDING).script, options)
            await wait_for_health(gateway.base_url, lambda body: body["active_calls"] == 0)
            code, stdout, _ = await gateway.stop()
    assert code == 0
    assert report.outcome is CallOutcome.COMPLETED
    [session] = emulator.recorder.sessions
    assert session.connections == 2
    lines = json_lines(stdout)
    assert all(line.get("live_session", "absent") is not None for line in lines)  # no nulls
    call = [line for line in lines if line.get("call_sid") == report.call_sid]
    events = [line["event"] for line in call]
    # Before its session is claimed, the call's own lines carry none.
    for event in ("webhook.answered", "call.started"):
        assert "live_session" not in call[events.index(event)]
    # The pre-warm's setup line names the session it opened; the call then carries it.
    opened = _index(call, "live.opened")
    first = call[opened]["live_session"]
    assert LOCAL_ID.fullmatch(first)
    assert call[_index(call, "live.setup_complete")]["live_session"] == first
    assert call[opened]["session_id"] == first  # the bridge's note names the same session
    # The second connection's setup line names the new session; from there on, every line.
    second_setup = _index(call, "live.setup_complete", opened)
    second = call[second_setup]["live_session"]
    assert LOCAL_ID.fullmatch(second)
    assert second != first
    assert {line["live_session"] for line in call[opened:second_setup]} == {first}
    assert {"live.go_away", "live.handover_started", "live.closed"} <= set(
        events[opened:second_setup]
    )
    handover = _index(call, "live.handover", second_setup)
    assert {line["live_session"] for line in call[handover:]} == {second}
    assert events[-1] == "call.ended"
