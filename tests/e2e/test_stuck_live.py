"""A Live service that loops or goes silent, through the real gateway (issue 22, items 2 and 6).

* goAway with no time left (and with 1 s left) after every setup: once looped without end (one
  call opened 11,691 sessions in 20 s and logged a 1.3 MB `call.ended`). Now the handovers back
  off and share the outage's attempts: a bounded number of sessions, then the fallback, and a
  bounded `call.ended` line (read from the gateway process's own JSON log).
* A session that goes silent after setup while the caller talks: replaced by resuming its
  handle (the call recovers), or, when every session stalls, the fallback.

The calls run concurrently, once per test session; each test reads one of them.
"""

from __future__ import annotations

import asyncio
import functools
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from gateway.core.options import APOLOGY_GOODBYE
from gateway.emulator import EmulatorConfig, LiveEmulator, Scenario, SessionRecord
from gateway.emulator.scenario import TimedAction
from gateway.sim.call import place_call
from gateway.sim.entries import CallOutcome
from gateway.sim.recording import load_recording
from gateway.sim.report import CallReport
from gateway.sim.script import CallScript, SimOptions, Utterance
from tests.e2e.harness import ACCOUNT_SID, AUTH_TOKEN, best_correlation, running_gateway, wait_for
from tests.e2e.process import gateway_process, wait_for_health
from tests.fake_twilio import Received, fake_twilio
from tests.loopback import serve_app

RECORDINGS = Path(__file__).resolve().parents[1] / "recordings"
SESSIONS_PER_OUTAGE = 1 + 5  # the first session, then the five attempts of one outage


def _go_away_every_setup(time_left_s: float) -> Scenario:
    return Scenario(
        actions=(TimedAction(at_s=0.0, action="go_away", connection=0, time_left_s=time_left_s),)
    )


def _silent(connection: int) -> Scenario:
    return Scenario(actions=(TimedAction(at_s=0.0, action="silence", connection=connection),))


def _talking_caller(seconds: float) -> CallScript:
    """A caller who talks the whole time (a 300 Hz tone at about -15 dBFS)."""
    t = np.arange(round(seconds * 8000)) / 8000
    audio = (6000 * np.sin(2 * np.pi * 300 * t)).astype(np.int16)
    return CallScript(audio, utterances=(Utterance(0.0, seconds * 1000),), tail_ms=1_000)


@dataclass
class Outcome:
    report: CallReport
    sessions: list[SessionRecord]
    summary: Mapping[str, Any]
    rest: list[Received]
    ended_line: str | None = None
    """The `call.ended` line as the gateway process wrote it (process runs only)."""


async def _in_process(scenario: Scenario, script: CallScript, env: Mapping[str, str]) -> Outcome:
    rest_app = fake_twilio()
    async with (
        serve_app(rest_app) as rest_url,
        LiveEmulator(EmulatorConfig(), scenario) as emulator,
        running_gateway(emulator, {"TWILIO_API_BASE": rest_url, **env}) as gateway,
    ):
        options = SimOptions(auth_token=AUTH_TOKEN, account_sid=ACCOUNT_SID)
        report = await place_call(gateway.base_url, script, options)
        await wait_for(lambda: len(gateway.calls) == 1, 15)
        await wait_for(lambda: gateway.runtime.active_calls == 0, 15)
        sessions = list(emulator.recorder.sessions)
        return Outcome(report, sessions, gateway.calls[0].summary, list(rest_app.state.received))


async def _in_a_process(scenario: Scenario, script: CallScript, cwd: Path) -> Outcome:
    rest_app = fake_twilio()
    async with serve_app(rest_app) as rest_url, LiveEmulator(EmulatorConfig(), scenario) as em:
        env = {
            "GATEWAY_LIVE_URL": em.plain_url,
            "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
            "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
            "TWILIO_API_BASE": rest_url,
            "GATEWAY_SECRET": "stuck-live-secret-0123456789",
        }
        async with gateway_process(env, cwd) as gateway:
            options = SimOptions(auth_token=AUTH_TOKEN, account_sid=ACCOUNT_SID)
            report = await place_call(gateway.base_url, script, options)
            await wait_for_health(gateway.base_url, lambda body: body["active_calls"] == 0)
            code, stdout, _ = await gateway.stop()
        assert code == 0
        [ended_line] = [line for line in stdout.splitlines() if '"call.ended"' in line]
        summary = json.loads(ended_line)
        sessions = list(em.recorder.sessions)
        return Outcome(report, sessions, summary, list(rest_app.state.received), ended_line)


async def _all(cwd: Path) -> dict[str, Outcome]:
    greeting = load_recording(RECORDINGS / "greeting_question.wav").script
    silences = load_recording(RECORDINGS / "long_silences.wav").script
    # The stall timeout must exceed the caller's longest utterance: the emulator, like Live
    # without input transcription, says nothing until the caller stops.
    stall_env = {"GATEWAY_LIVE_STALL_TIMEOUT_S": "3"}
    calls = {
        "go_away_0s": _in_a_process(_go_away_every_setup(0.0), greeting, cwd),
        "go_away_1s": _in_process(_go_away_every_setup(1.0), _talking_caller(14.0), {}),
        "stall_once": _in_process(_silent(connection=1), silences, stall_env),
        "stall_always": _in_process(
            _silent(connection=0), _talking_caller(24.0), {"GATEWAY_LIVE_STALL_TIMEOUT_S": "1"}
        ),
    }
    results = await asyncio.gather(*calls.values())
    return dict(zip(calls, results, strict=True))


@functools.cache
def outcomes(cwd: str) -> dict[str, Outcome]:
    return asyncio.run(_all(Path(cwd)))


def _outcome(name: str, tmp_path_factory: Any) -> Outcome:
    return outcomes(str(tmp_path_factory.getbasetemp()))[name]


def _assert_goodbye(outcome: Outcome) -> None:
    [request] = outcome.rest  # one REST request: the fallback's hang-up with the apology
    assert request.method == "POST"
    twiml = request.form["Twiml"][0]
    assert APOLOGY_GOODBYE.endswith("Please call again later. Goodbye.")
    assert "Please call again later. Goodbye.</Say>" in twiml
    assert twiml.index("<Say") < twiml.index("<Hangup")


# ----------------------------------------------------------------------------------- goAway


def test_go_away_with_no_time_left_after_every_setup_ends_in_the_fallback(
    tmp_path_factory: Any,
) -> None:
    outcome = _outcome("go_away_0s", tmp_path_factory)
    assert outcome.report.outcome is CallOutcome.COMPLETED
    [session] = outcome.sessions
    # Bounded: the first connection and one outage's five backed-off attempts (was: 11,691).
    assert session.connections == SESSIONS_PER_OUTAGE
    summary = outcome.summary
    assert (summary["fallback"], summary["call_action"]) == (
        "live session keeps failing",
        "hang_up",
    )
    assert summary["handovers_total"] == SESSIONS_PER_OUTAGE
    assert [h["attempts"] for h in summary["handovers"]] == [1, 2, 3, 4, 5, 5]
    assert [h["outcome"] for h in summary["handovers"]] == ["resumed"] * 5 + ["failed"]
    assert all(h["reason"] == "go_away" and h["forced"] for h in summary["handovers"])
    # Each attempt resumed with the newest handle, after closing the old socket normally.
    assert [code for _, code, _ in session.closes if code != 1000] == []
    _assert_goodbye(outcome)
    assert outcome.ended_line is not None
    assert len(outcome.ended_line) < 8_000  # was 1.3 MB


def test_go_away_with_one_second_left_after_every_setup_ends_in_the_fallback(
    tmp_path_factory: Any,
) -> None:
    outcome = _outcome("go_away_1s", tmp_path_factory)
    [session] = outcome.sessions
    assert session.connections == SESSIONS_PER_OUTAGE  # was: 40 sessions and silence
    assert outcome.summary["fallback"] == "live session keeps failing"
    assert outcome.summary["handovers_total"] == SESSIONS_PER_OUTAGE
    _assert_goodbye(outcome)


# ------------------------------------------------------------------------- stalled sessions


def test_a_session_that_goes_silent_is_replaced_and_the_call_recovers(
    tmp_path_factory: Any,
) -> None:
    outcome = _outcome("stall_once", tmp_path_factory)
    assert outcome.report.outcome is CallOutcome.COMPLETED
    [session] = outcome.sessions
    assert session.connections == 2
    summary = outcome.summary
    assert summary["live_stalls"] == 1
    assert [(h["reason"], h["forced"], h["outcome"]) for h in summary["handovers"]] == [
        ("stalled", True, "resumed")
    ]
    # The new connection resumed the silent one's handle, which the gateway closed normally.
    [first_handle] = [h for number, h in session.handles if number == 1]
    assert session.setups[1]["sessionResumption"] == {"handle": first_handle}
    assert (1, 1000) in [(number, code) for number, code, _ in session.closes]
    assert summary["fallback"] is None
    assert outcome.rest == []
    # What the caller said to the new session is answered (each utterance's echo is heard).
    for utterance in load_recording(RECORDINGS / "long_silences.wav").script.utterances[1:]:
        start, end = round(utterance.start_ms * 8), round((utterance.start_ms + 400) * 8)
        probe = outcome.report.said[start:end]
        assert best_correlation(outcome.report.heard[start:], probe) > 0.95


def test_sessions_that_stay_silent_end_in_the_fallback(tmp_path_factory: Any) -> None:
    outcome = _outcome("stall_always", tmp_path_factory)
    [session] = outcome.sessions
    assert session.connections == SESSIONS_PER_OUTAGE
    summary = outcome.summary
    assert summary["live_stalls"] == SESSIONS_PER_OUTAGE
    assert summary["fallback"] == "live session keeps failing"
    assert [h["reason"] for h in summary["handovers"]] == ["stalled"] * SESSIONS_PER_OUTAGE
    assert [h["attempts"] for h in summary["handovers"]] == [1, 2, 3, 4, 5, 5]
    _assert_goodbye(outcome)
