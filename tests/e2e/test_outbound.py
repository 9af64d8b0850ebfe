"""Dial-outs end to end through the real gateway: a person answers, nobody does, the line is
busy, and the API's refusals (prefix, variable, key). See tests/e2e/outbound_cases.py."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from gateway.core.transcript import AGENT
from gateway.sim.callee import CalleePlan, query_of
from gateway.sim.entries import CallOutcome
from tests.e2e.harness import run_real_time
from tests.e2e.outbound_cases import (
    API_KEY,
    CALLEE,
    CARRIERS,
    REPLY,
    auth,
    body,
    dial_out,
    recording,
)

pytestmark = pytest.mark.parametrize("carrier", sorted(CARRIERS))


def test_a_person_answers_and_the_agent_answers_their_hello(tmp_path: Path, carrier: str) -> None:
    case = CARRIERS[carrier]
    hello = recording("greeting_question")
    plan = CalleePlan("person", hello.script)

    async def requests(client: httpx.AsyncClient) -> list[httpx.Response]:
        return [await client.post("/calls", json=body(carrier=carrier), headers=auth())]

    run = run_real_time(dial_out(tmp_path, case, plan, requests))
    (created,) = run.responses
    assert created.status_code == 201, created.text
    dial_id = created.json()["id"]
    assert created.json()["status"] == "queued"
    (callee,) = run.api.calls.values()
    # The carrier was asked to call the callee back to the gateway's own routes.
    names = case.fields
    assert (callee.field(names["to"]) or "").lstrip("+") == CALLEE.lstrip("+")
    assert (callee.field(names["url"]) or "").endswith(f"/{carrier}/voice")
    assert query_of(callee.field(names["status"]) or "") == {"dial": dial_id}
    assert callee.field(names["amd"]) is None
    # Every progress callback was signed and taken.
    assert [status for _, _, status in callee.callbacks] == [204] * len(callee.callbacks)
    # Bridged like an inbound call, with the request's agent (its variables filled in).
    (call,) = run.calls
    assert call.call_id == callee.sid
    assert call.profile == "reminders"
    assert call.summary["direction"] == "outbound"
    assert call.summary["outbound"]["dial_id"] == dial_id
    (session,) = run.sessions
    instructions = str(session.setups[0])
    assert "You call Ada to remind them of their appointment on Tuesday." in instructions
    # The agent did not greet first: it answered after the callee's "Hello?".
    report = callee.report
    assert report is not None
    assert report.outcome == CallOutcome.COMPLETED
    first_hello = report.caller_utterances[0]
    assert report.agent_segments, "the callee heard the agent"
    assert report.agent_segments[0].start_ms > first_hello.end_ms
    assert REPLY in " ".join(line.text for line in call.transcript if line.role == AGENT)
    status = run.statuses[dial_id]
    assert status["status"] == "ended"
    assert status["end_reason"] == "completed"
    assert status["time_to_answer_ms"] is not None
    assert 'gateway_dial_outs_ended_total{outcome="completed"} 1.0' in run.metrics
    assert "gateway_dial_outs_placed_total 1.0" in run.metrics
    assert "gateway_dial_time_to_answer_seconds_count 1.0" in run.metrics


@pytest.mark.parametrize("answer", ["busy", "no_answer"])
def test_busy_and_no_answer_are_reported_and_nothing_is_bridged(
    tmp_path: Path, carrier: str, answer: str
) -> None:
    plan = CalleePlan(answer)  # type: ignore[arg-type]

    async def requests(client: httpx.AsyncClient) -> list[httpx.Response]:
        return [await client.post("/calls", json=body(carrier=carrier), headers=auth())]

    run = run_real_time(dial_out(tmp_path, CARRIERS[carrier], plan, requests))
    (created,) = run.responses
    assert created.status_code == 201
    status = run.statuses[created.json()["id"]]
    assert status["status"] == "ended"
    assert status["end_reason"] == answer
    assert status["answered_by"] is None
    assert run.calls == []
    assert run.sessions == []
    assert f'gateway_dial_outs_ended_total{{outcome="{answer}"}} 1.0' in run.metrics


def test_refusals_are_json_and_place_nothing(tmp_path: Path, carrier: str) -> None:
    plan = CalleePlan("busy")

    async def requests(client: httpx.AsyncClient) -> list[httpx.Response]:
        good = body(carrier=carrier)
        return [
            await client.post(
                "/calls", json=body(carrier=carrier, to="+4420794600"), headers=auth()
            ),
            await client.post(
                "/calls", json=body(carrier=carrier, variables={"day": "Monday"}), headers=auth()
            ),
            await client.post(
                "/calls",
                json=body(carrier=carrier, variables={"customer_name": "A", "day": "M", "x": "1"}),
                headers=auth(),
            ),
            await client.post("/calls", json=good),
            await client.post("/calls", json=good, headers=auth("wrong-key-0123456789")),
            await client.post(
                "/calls", json=body(carrier=carrier, to="5550104242"), headers=auth()
            ),
            await client.post(
                "/calls", json=body(carrier=carrier, machine_detection="maybe"), headers=auth()
            ),
            await client.post("/calls", content=b"{", headers=auth()),
            await client.get("/calls/dial_unknown", headers=auth()),
        ]

    run = run_real_time(dial_out(tmp_path, CARRIERS[carrier], plan, requests))
    answers = [(r.status_code, r.json()) for r in run.responses]
    assert answers == [
        (403, {"error": "destination not allowed (GATEWAY_DIAL_ALLOWED_PREFIXES)", "field": "to"}),
        (422, {"error": "missing variable customer_name", "field": "variables"}),
        (422, {"error": "unknown variable x (profile reminders has no {x})", "field": "variables"}),
        (401, {"error": "missing or wrong API key"}),
        (401, {"error": "missing or wrong API key"}),
        (422, {"error": "to must be an E.164 number (+15551234567)", "field": "to"}),
        (
            422,
            {
                "error": "machine_detection must be off, hang_up or leave_voicemail",
                "field": "machine_detection",
            },
        ),
        (400, {"error": "the body must be JSON"}),
        (404, {"error": "no such call"}),
    ]
    assert run.api.calls == {}
    for response in run.responses:
        assert API_KEY not in response.text
