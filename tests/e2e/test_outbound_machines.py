"""Answering machines on dial-outs, end to end through the real gateway: the carrier's
asynchronous detection (the simulator's callee posts the verdict once the beep is over), a
machine hung up on, a voicemail left after the beep and played out before the hang-up, and a
person greeted once detection said so. See tests/e2e/outbound_cases.py."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from gateway.sim.callee import CalleePlan
from tests.e2e.harness import run_real_time
from tests.e2e.outbound_cases import CARRIERS, VOICEMAIL, auth, body, dial_out, recording

pytestmark = pytest.mark.parametrize("carrier", sorted(CARRIERS))
VERDICT_AFTER_BEEP_MS = 300.0


def _machine_plan() -> tuple[CalleePlan, float]:
    greeting = recording("voicemail_greeting")
    beep = greeting.script.utterances[-1]
    assert beep.text == "(beep)"
    plan = CalleePlan("machine", greeting.script, verdict_ms=beep.end_ms + VERDICT_AFTER_BEEP_MS)
    return plan, beep.end_ms


def _dial(carrier: str, detection: str):  # type: ignore[no-untyped-def]
    async def requests(client: httpx.AsyncClient) -> list[httpx.Response]:
        request = body(carrier=carrier, machine_detection=detection)
        return [await client.post("/calls", json=request, headers=auth())]

    return requests


def test_a_machine_is_hung_up_on_and_never_hears_the_agent(tmp_path: Path, carrier: str) -> None:
    plan, _ = _machine_plan()
    run = run_real_time(dial_out(tmp_path, CARRIERS[carrier], plan, _dial(carrier, "hang_up")))
    (created,) = run.responses
    assert created.status_code == 201
    (callee,) = run.api.calls.values()
    for name, value in CARRIERS[carrier].detection.items():
        assert callee.field(name) == value
    # The gateway ended the call through the carrier's REST API, once.
    assert callee.updates == [CARRIERS[carrier].hang_up]
    report = callee.report
    assert report is not None
    stops = [e.detail for e in report.timeline if e.kind == "sent.stop"]
    assert stops == ["hung up through the REST API"]
    assert report.agent_segments == ()  # nothing was said to the machine
    (call,) = run.calls
    assert call.summary["call_action"] == "hang_up"
    assert call.summary["end_reason"] == "handed off (hang_up)"
    assert call.summary["outbound"]["opening"]["answered_by"] == "machine"
    (session,) = run.sessions
    assert session.audio_samples == 0  # the model never heard the greeting
    assert session.texts == []
    status = run.statuses[created.json()["id"]]
    assert (status["status"], status["answered_by"], status["end_reason"]) == (
        "ended",
        "machine",
        "machine_hung_up",
    )
    assert 'gateway_dial_machine_detection_total{answered_by="machine"} 1.0' in run.metrics


def test_a_voicemail_is_left_after_the_beep_and_played_out_before_the_hang_up(
    tmp_path: Path, carrier: str
) -> None:
    plan, beep_end_ms = _machine_plan()
    requests = _dial(carrier, "leave_voicemail")
    run = run_real_time(dial_out(tmp_path, CARRIERS[carrier], plan, requests))
    (created,) = run.responses
    if not CARRIERS[carrier].greeting_end:  # its detection cannot tell when a greeting ends
        assert (created.status_code, created.json()) == (
            422,
            {
                "error": f"{carrier}'s machine detection cannot tell when a greeting ends",
                "field": "machine_detection",
            },
        )
        assert run.api.calls == {}
        return
    assert created.status_code == 201
    (callee,) = run.api.calls.values()
    report = callee.report
    assert report is not None
    # Silent through the greeting and the beep; then the message, once.
    assert report.agent_segments
    assert report.agent_segments[0].start_ms > beep_end_ms
    (session,) = run.sessions
    assert session.audio_samples == 0
    (prompt,) = session.texts
    assert prompt.endswith(VOICEMAIL)
    # Every mark of the message was played before the gateway asked for the hang-up, and the
    # carrier's stop (the REST hang-up) came after the message's last audio.
    (call,) = run.calls
    assert call.summary["marks_sent"] == call.summary["marks_played"] > 0
    assert call.summary["call_action"] == "hang_up"
    assert callee.updates == [CARRIERS[carrier].hang_up]
    (stop,) = [e for e in report.timeline if e.kind == "sent.stop"]
    assert stop.t_ms >= report.agent_segments[-1].end_ms
    status = run.statuses[created.json()["id"]]
    assert (status["answered_by"], status["end_reason"]) == ("machine", "voicemail_left")


def test_a_person_is_greeted_once_detection_says_so(tmp_path: Path, carrier: str) -> None:
    hello = recording("callee_hello")
    first = hello.script.utterances[0]
    plan = CalleePlan("person", hello.script, verdict_ms=first.end_ms + 500)
    run = run_real_time(dial_out(tmp_path, CARRIERS[carrier], plan, _dial(carrier, "hang_up")))
    (created,) = run.responses
    (callee,) = run.api.calls.values()
    report = callee.report
    assert report is not None
    assert report.agent_segments
    assert report.agent_segments[0].start_ms > first.end_ms
    assert callee.updates == []  # no hang-up
    (session,) = run.sessions
    assert len(session.texts) == 1  # the greeting prompt, once the verdict came
    assert session.audio_samples > 0  # the callee is heard after the verdict
    status = run.statuses[created.json()["id"]]
    assert (status["answered_by"], status["end_reason"]) == ("person", "completed")
