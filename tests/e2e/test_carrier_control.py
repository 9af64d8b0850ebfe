"""Hang-up and transfer reaching each carrier's REST API, driven end to end by the model.

The Live emulator's scenario makes the model call the built-in `end_call` (hang-up) or
`transfer` tool on the caller's first utterance; the gateway performs the action through the
carrier's `CallControl` once the agent's words were heard, against a fake REST API on loopback
(uvicorn, port 0) that records every request exactly.
"""

from __future__ import annotations

import asyncio
import base64
import functools
import json
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import jwt
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from gateway.emulator import LiveEmulator, Scenario
from gateway.emulator.scenario import ToolCallRule
from gateway.shell.runtime import CallRecord
from gateway.sim.call import place_call
from gateway.sim.entries import CallOutcome
from gateway.sim.recording import load_recording
from gateway.sim.report import CallReport
from gateway.sim.script import SimOptions
from tests.carriers.test_vonage_rest import APP_ID as VONAGE_APP_ID
from tests.carriers.test_vonage_rest import keys as vonage_keys
from tests.e2e.carrier_cases import CASES, RECORDINGS
from tests.e2e.harness import ACCOUNT_SID, AUTH_TOKEN, run_real_time, running_gateway, wait_for
from tests.fake_twilio import Answer as TwilioAnswer
from tests.fake_twilio import Received as TwilioReceived
from tests.fake_twilio import fake_twilio
from tests.loopback import serve_app

SALES = "+15551230100"
TOOLS_TOML = f"""
[[tools]]
name = "transfer"
kind = "transfer"

[tools.destinations]
sales = "{SALES}"

[[tools]]
name = "end_call"
kind = "hang_up"
"""
# The variables that point each carrier's REST client at the fake API, and its credentials.
REST_ENV = {
    "telnyx": {"TELNYX_API_KEY": "KEY-telnyx-e2e-0123456789"},
    "plivo": {},  # PLIVO_AUTH_ID and PLIVO_AUTH_TOKEN are the case's own
    "signalwire": {},  # so are SIGNALWIRE_PROJECT_ID and SIGNALWIRE_API_TOKEN
    "vonage": {"VONAGE_APPLICATION_ID": VONAGE_APP_ID, "VONAGE_PRIVATE_KEY": vonage_keys()[0]},
}
API_BASE = {
    "telnyx": "TELNYX_API_BASE",
    "plivo": "PLIVO_API_BASE",
    "signalwire": "SIGNALWIRE_SPACE_URL",
    "vonage": "VONAGE_API_BASE",
}
ACTIONS = ("hang_up", "transfer")


@dataclass(frozen=True)
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> object:
        return json.loads(self.body)


@dataclass
class FakeApi:
    """Any carrier's REST API: records each request, answers 200 `{}` (204 to a DELETE)."""

    received: list[Received] = field(default_factory=list)

    async def handle(self, request: Request) -> Response:
        body = await request.body()
        headers = {k.lower(): v for k, v in request.headers.items()}
        self.received.append(Received(request.method, request.url.path, headers, body))
        if request.method == "DELETE":
            return Response(status_code=204)
        return JSONResponse({})

    def app(self) -> Starlette:
        methods = ["GET", "POST", "PUT", "DELETE"]
        return Starlette(routes=[Route("/{path:path}", self.handle, methods=methods)])


@dataclass
class Controlled:
    report: CallReport
    call: CallRecord
    received: list[Received]


async def _call(carrier: str, action: str, tools_file: Path) -> Controlled:
    case = CASES[carrier]
    rule = (
        ToolCallRule(name="end_call", on_turn=1)
        if action == "hang_up"
        else ToolCallRule(name="transfer", args={"destination": "sales"}, on_turn=1)
    )
    api = FakeApi()
    recording = load_recording(RECORDINGS / "greeting_question.wav")
    async with (
        serve_app(api.app()) as api_url,
        LiveEmulator(None, Scenario(tool_calls=(rule,))) as emulator,
    ):
        env = {
            **case.env,
            **REST_ENV[carrier],
            API_BASE[carrier]: api_url,
            "GATEWAY_TOOLS_FILE": str(tools_file),
        }
        async with running_gateway(emulator, env) as gateway:
            options = case.sim_options()
            report = await place_call(
                gateway.base_url, recording.script, options, dialect=case.dialect()
            )
            await wait_for(lambda: len(gateway.calls) == 1, 15)
            return Controlled(report, gateway.calls[0], list(api.received))


@functools.cache
def controlled() -> dict[tuple[str, str], Controlled]:
    """Every carrier's hang-up and transfer calls, placed once per test session."""
    with tempfile.TemporaryDirectory() as folder:
        tools_file = Path(folder) / "tools.toml"
        tools_file.write_text(TOOLS_TOML)
        keys = [(c, a) for c in REST_ENV for a in ACTIONS]

        async def all_calls() -> list[Controlled]:
            return await asyncio.gather(*(_call(c, a, tools_file) for c, a in keys))

        return dict(zip(keys, run_real_time(all_calls()), strict=True))


@pytest.mark.parametrize("carrier", list(REST_ENV))
@pytest.mark.parametrize("action", ACTIONS)
def test_the_action_is_performed_once_and_the_call_ends_cleanly(carrier: str, action: str) -> None:
    outcome = controlled()[(carrier, action)]
    assert outcome.report.outcome is CallOutcome.COMPLETED
    assert outcome.report.errors == ()
    assert len(outcome.received) == 1
    assert outcome.call.summary["call_action"] == (
        "hang_up" if action == "hang_up" else "transfer:sales"
    )


def test_telnyx_requests_are_exact() -> None:
    call_id = CASES["telnyx"].call_id
    bearer = "Bearer " + REST_ENV["telnyx"]["TELNYX_API_KEY"]
    [hang_up] = controlled()[("telnyx", "hang_up")].received
    assert (hang_up.method, hang_up.path) == ("POST", f"/v2/calls/{call_id}/actions/hangup")
    assert hang_up.headers["authorization"] == bearer
    assert hang_up.headers["content-type"] == "application/json"
    body = hang_up.json()
    assert isinstance(body, dict)
    assert set(body) == {"command_id"}
    [transfer] = controlled()[("telnyx", "transfer")].received
    assert (transfer.method, transfer.path) == ("POST", f"/v2/calls/{call_id}/actions/transfer")
    assert transfer.headers["authorization"] == bearer
    body = transfer.json()
    assert isinstance(body, dict)
    assert body["to"] == SALES
    assert set(body) == {"to", "command_id"}


def test_plivo_requests_are_exact() -> None:
    case = CASES["plivo"]
    auth_id, token = case.env["PLIVO_AUTH_ID"], case.env["PLIVO_AUTH_TOKEN"]
    basic = "Basic " + base64.b64encode(f"{auth_id}:{token}".encode()).decode()
    path = f"/v1/Account/{auth_id}/Call/{case.call_id}/"
    [hang_up] = controlled()[("plivo", "hang_up")].received
    assert (hang_up.method, hang_up.path, hang_up.body) == ("DELETE", path, b"")
    assert hang_up.headers["authorization"] == basic
    [transfer] = controlled()[("plivo", "transfer")].received
    assert (transfer.method, transfer.path) == ("POST", path)
    assert transfer.headers["authorization"] == basic
    body = transfer.json()
    assert isinstance(body, dict)
    assert (body["legs"], body["aleg_method"]) == ("aleg", "POST")
    action_url = urlsplit(body["aleg_url"])
    assert action_url.path == "/plivo/action"
    assert dict(parse_qsl(action_url.query)) == {"to": SALES}


def test_vonage_requests_are_exact() -> None:
    path = f"/v1/calls/{CASES['vonage'].call_id}"
    requests = [controlled()[("vonage", action)].received for action in ACTIONS]
    [hang_up], [transfer] = requests
    for sent in (hang_up, transfer):
        assert (sent.method, sent.path) == ("PUT", path)
        assert sent.headers["content-type"] == "application/json"
        scheme, token = sent.headers["authorization"].split(" ")
        assert scheme == "Bearer"
        claims = jwt.decode(token, vonage_keys()[1], algorithms=["RS256"])
        assert claims["application_id"] == VONAGE_APP_ID
        assert claims["exp"] - claims["iat"] == 300
    assert hang_up.json() == {"action": "hangup"}
    body = transfer.json()
    assert isinstance(body, dict)
    assert body["action"] == "transfer"
    ncco = body["destination"]["ncco"]
    assert body["destination"]["type"] == "ncco"
    assert ncco[-1]["action"] == "connect"
    assert ncco[-1]["endpoint"] == [{"type": "phone", "number": SALES.removeprefix("+")}]


def test_signalwire_requests_are_exact() -> None:
    case = CASES["signalwire"]
    project, token = case.env["SIGNALWIRE_PROJECT_ID"], case.env["SIGNALWIRE_API_TOKEN"]
    basic = "Basic " + base64.b64encode(f"{project}:{token}".encode()).decode()
    path = f"/api/laml/2010-04-01/Accounts/{project}/Calls/{case.call_id}.json"
    [hang_up] = controlled()[("signalwire", "hang_up")].received
    assert (hang_up.method, hang_up.path) == ("POST", path)
    assert hang_up.headers["authorization"] == basic
    assert hang_up.headers["content-type"] == "application/x-www-form-urlencoded"
    assert parse_qsl(hang_up.body.decode()) == [("Status", "completed")]
    [transfer] = controlled()[("signalwire", "transfer")].received
    assert (transfer.method, transfer.path) == ("POST", path)
    assert dict(parse_qsl(transfer.body.decode())) == {
        "Twiml": '<?xml version="1.0" encoding="UTF-8"?>'
        f"<Response><Dial><Number>{SALES}</Number></Dial></Response>"
    }


# ---------------------------------------------------------------- Twilio: an update too late


ENDED_400 = {
    "code": 21220,
    "message": "Call is not in-progress. Cannot redirect.",
    "more_info": "https://www.twilio.com/docs/errors/21220",
    "status": 400,
}


@pytest.mark.parametrize(("answer", "ok"), [(ENDED_400, True), ({"code": 21201}, False)])
async def test_a_twilio_update_on_an_ended_call_is_not_a_failure(
    tmp_path: Path, answer: dict[str, object], ok: bool
) -> None:
    """Twilio answers 400 / 21220 to an update of a call that is no longer in progress: the call
    is over, as with 404 / 20404, so the gateway waits for the stream's end instead of ending
    the call as a failed action. Any other 400 still fails the action."""
    tools_file = tmp_path / "tools.toml"
    tools_file.write_text(TOOLS_TOML)
    rule = ToolCallRule(name="transfer", args={"destination": "sales"}, on_turn=1)
    rest = fake_twilio(TwilioAnswer(400, answer))
    recording = load_recording(RECORDINGS / "greeting_question.wav")
    async with (
        serve_app(rest) as api_url,
        LiveEmulator(None, Scenario(tool_calls=(rule,))) as emulator,
    ):
        env = {"TWILIO_API_BASE": api_url, "GATEWAY_TOOLS_FILE": str(tools_file)}
        async with running_gateway(emulator, env) as gateway:
            options = SimOptions(auth_token=AUTH_TOKEN, account_sid=ACCOUNT_SID)
            report = await place_call(gateway.base_url, recording.script, options)
            await wait_for(lambda: len(gateway.calls) == 1, 15)
    received: list[TwilioReceived] = rest.state.received
    assert [(r.method, r.path) for r in received] == [
        ("POST", f"/2010-04-01/Accounts/{ACCOUNT_SID}/Calls/{options.call_sid}.json")
    ]
    assert "Twiml" in received[0].form
    summary = gateway.calls[0].summary
    assert summary["call_action"] == "transfer:sales"
    if ok:  # already ended: no failure; the stream's own end ends the call
        assert summary["end_reason"] == "handed off (transfer:sales)"
        assert report.outcome is CallOutcome.COMPLETED
    else:
        assert summary["end_reason"] == "call control failed"
        assert report.outcome is CallOutcome.GATEWAY_CLOSED
