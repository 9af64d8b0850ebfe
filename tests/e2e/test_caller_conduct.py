"""What callers expect during a call (issue 20), end to end: the real gateway on loopback, the
Live emulator, the carrier simulator and a fake carrier REST API.

* A silent caller is checked on, then said goodbye to, then hung up once the goodbye played.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from gateway.core.silence import SILENCE_GOODBYE, SILENCE_PROMPT
from gateway.emulator import LiveEmulator
from gateway.shell.runtime import CallRecord
from gateway.sim.call import place_call
from gateway.sim.report import CallReport
from gateway.sim.script import CallScript, SimOptions
from tests.e2e.harness import ACCOUNT_SID, AUTH_TOKEN, run_real_time, running_gateway, wait_for
from tests.fake_twilio import Received, fake_twilio
from tests.loopback import serve_app

RATE_HZ = 8_000


@dataclass
class SilentCall:
    report: CallReport
    record: CallRecord
    texts: list[str]
    rest: list[Received]


async def _silent_call() -> SilentCall:
    rest_app = fake_twilio()
    options = SimOptions(auth_token=AUTH_TOKEN, account_sid=ACCOUNT_SID)
    # 30 s of a caller who says nothing; the gateway ends the call long before.
    script = CallScript(np.zeros(30 * RATE_HZ, dtype=np.int16), tail_ms=0)
    async with serve_app(rest_app) as rest_url, LiveEmulator() as emulator:
        env = {
            "TWILIO_API_BASE": rest_url,
            "GATEWAY_SILENCE_PROMPT_S": "2",
            "GATEWAY_SILENCE_HANGUP_S": "3",
            "GATEWAY_HANDOFF_TIMEOUT_S": "1",  # the fake REST API does not stop the stream
        }
        async with running_gateway(emulator, env) as gateway:
            report = await place_call(gateway.base_url, script, options)
            await wait_for(lambda: len(gateway.calls) == 1, 15)
            texts = [t for s in emulator.recorder.sessions for t in s.texts]
            received: list[Received] = rest_app.state.received
            return SilentCall(report, gateway.calls[0], texts, list(received))


def _run() -> SilentCall:
    return run_real_time(_silent_call())


def test_a_silent_caller_is_checked_on_then_hung_up_after_the_goodbye_played() -> None:
    call = _run()
    summary: Any = call.record.summary
    # The model was told twice: the check-in, then the goodbye; nothing else.
    assert call.texts == [SILENCE_PROMPT, SILENCE_GOODBYE]
    assert (summary["silence_prompts"], summary["silence_hangups"]) == (1, 1)
    # The hang-up went through the hang-up tool's path: once, to the carrier's REST API ...
    assert summary["call_action"] == "hang_up"
    assert summary["end_reason"] == "handed off (hang_up)"
    assert [r.form.get("Status") for r in call.rest] == [["completed"]]
    # ... after the goodbye had played: every mark came back played, nothing was cut.
    assert summary["marks_played"] == summary["marks_sent"] > 0
    assert summary["flushed_ms"] == 0.0
    # The caller heard two answers (the emulator speaks a tone for each text): the check-in
    # and the whole goodbye, and the stream ended well before the caller's 30 s.
    assert len(call.report.agent_segments) == 2
    assert call.report.duration_ms < 25_000
