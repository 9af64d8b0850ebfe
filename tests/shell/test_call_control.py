"""CallControlClient against a fake Twilio REST server on loopback (real HTTP, recorded)."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from gateway.carriers import twiml
from gateway.carriers.twilio.plugin import twilio_call_control
from gateway.carriers.twilio.rest import TwilioCallControl
from gateway.core.events import CallControlled, HangUp, Transfer
from gateway.settings import TwilioSettings
from gateway.shell.call_control import CallControlClient
from tests.fake_twilio import Answer, Received, fake_twilio
from tests.loopback import closed_port_url, serve_app
from tests.tools.helpers import Logs, capture_logs

SID = "AC" + "3" * 32
TOKEN = "twilio-auth-token-7e1d0c9b"
CALL = "CA" + "4" * 32
PATH = f"/2010-04-01/Accounts/{SID}/Calls/{CALL}.json"


@pytest.fixture
def logs(capsys: pytest.CaptureFixture[str]) -> Iterator[Logs]:
    yield from capture_logs(capsys)


class Sleeps:
    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


def client(http: httpx.AsyncClient, sleeps: Sleeps, **kwargs: Any) -> CallControlClient:
    return CallControlClient(http, sleep=sleeps, jitter=lambda: 1.0, **kwargs)


NOT_FOUND = Answer(
    404,
    {
        "code": 20404,
        "message": f"The requested resource {PATH} was not found",
        "more_info": "https://www.twilio.com/docs/errors/20404",
        "status": 404,
    },
)


async def test_a_transfer_posts_dial_twiml_with_basic_auth(logs: Logs) -> None:
    twilio = fake_twilio()
    action = Transfer("+15551230100", label="sales")
    async with serve_app(twilio) as base, httpx.AsyncClient() as http:
        control = TwilioCallControl(SID, TOKEN, base)
        result = await client(http, Sleeps()).perform(control, CALL, action)
    assert result == CallControlled(action, ok=True, detail="done")
    assert twilio.state.received == [
        Received(
            "POST",
            PATH,
            SID,
            TOKEN,
            "application/x-www-form-urlencoded",
            {"Twiml": [twiml.dial("+15551230100")]},
        )
    ]
    (line,) = logs.events("call.control")
    assert {
        k: line[k] for k in ("carrier", "action", "label", "decision", "status", "attempt")
    } == {
        "carrier": "twilio",
        "action": "Transfer",
        "label": "sales",
        "decision": "done",
        "status": 200,
        "attempt": 1,
    }
    assert line["request"] == "twilio call update: transfer to sales"
    assert TOKEN not in logs.text
    assert base64.b64encode(f"{SID}:{TOKEN}".encode()).decode() not in logs.text
    assert "Dial" not in logs.text


async def test_a_hang_up_of_an_ended_call_is_not_an_error() -> None:
    twilio = fake_twilio(NOT_FOUND)
    async with serve_app(twilio) as base, httpx.AsyncClient() as http:
        result = await client(http, Sleeps()).perform(
            TwilioCallControl(SID, TOKEN, base), CALL, HangUp()
        )
    assert result == CallControlled(HangUp(), ok=True, detail="already_ended")
    assert [r.form for r in twilio.state.received] == [{"Status": ["completed"]}]


async def test_a_goodbye_then_hang_up_is_twiml() -> None:
    twilio = fake_twilio()
    action = HangUp(announcement="Thanks for calling, goodbye.")
    async with serve_app(twilio) as base, httpx.AsyncClient() as http:
        result = await client(http, Sleeps()).perform(
            TwilioCallControl(SID, TOKEN, base), CALL, action
        )
    assert result.ok
    assert twilio.state.received[0].form == {
        "Twiml": [twiml.say_and_hang_up("Thanks for calling, goodbye.")]
    }


async def test_a_transient_failure_is_retried_after_a_backoff() -> None:
    twilio = fake_twilio(Answer(503, {"code": 20500, "message": "busy"}))
    sleeps = Sleeps()
    async with serve_app(twilio) as base, httpx.AsyncClient() as http:
        result = await client(http, sleeps).perform(
            TwilioCallControl(SID, TOKEN, base), CALL, HangUp()
        )
    assert result == CallControlled(HangUp(), ok=True, detail="done")
    assert len(twilio.state.received) == 2
    assert sleeps.delays == [0.25]


async def test_retry_after_is_honoured_up_to_a_bound() -> None:
    twilio = fake_twilio(
        Answer(429, {"code": 20429}, {"Retry-After": "1.5"}),
        Answer(429, {"code": 20429}, {"Retry-After": "3600"}),
    )
    sleeps = Sleeps()
    async with serve_app(twilio) as base, httpx.AsyncClient() as http:
        result = await client(http, sleeps).perform(
            TwilioCallControl(SID, TOKEN, base), CALL, HangUp()
        )
    assert result.ok
    assert sleeps.delays == [1.5, 5.0]


async def test_it_gives_up_after_its_attempts(logs: Logs) -> None:
    twilio = fake_twilio(*[Answer(500, {"code": 20500})] * 5)
    sleeps = Sleeps()
    async with serve_app(twilio) as base, httpx.AsyncClient() as http:
        result = await client(http, sleeps, max_attempts=3).perform(
            TwilioCallControl(SID, TOKEN, base), CALL, HangUp()
        )
    assert result == CallControlled(HangUp(), ok=False, detail="gave up after 3 attempts: HTTP 500")
    assert len(twilio.state.received) == 3
    assert sleeps.delays == [0.25, 0.5]
    assert [line["decision"] for line in logs.events("call.control")] == [
        "retry",
        "retry",
        "retry",
        "gave_up",
    ]


async def test_a_permanent_failure_is_not_retried() -> None:
    twilio = fake_twilio(Answer(401, {"code": 20003, "message": "Authenticate"}))
    sleeps = Sleeps()
    async with serve_app(twilio) as base, httpx.AsyncClient() as http:
        result = await client(http, sleeps).perform(
            TwilioCallControl(SID, "wrong-token-000", base), CALL, HangUp()
        )
    assert result == CallControlled(HangUp(), ok=False, detail="failed: HTTP 401")
    assert len(twilio.state.received) == 1
    assert sleeps.delays == []


async def test_an_attempt_that_times_out_is_retried() -> None:
    twilio = fake_twilio(Answer(delay_s=30.0))
    async with serve_app(twilio) as base, httpx.AsyncClient() as http:
        result = await client(http, Sleeps(), attempt_timeout_s=1.0).perform(
            TwilioCallControl(SID, TOKEN, base), CALL, HangUp()
        )
    assert result == CallControlled(HangUp(), ok=True, detail="done")
    assert len(twilio.state.received) == 2


async def test_an_unreachable_api_is_retried_then_reported() -> None:
    sleeps = Sleeps()
    async with httpx.AsyncClient() as http:
        result = await client(http, sleeps, max_attempts=2).perform(
            TwilioCallControl(SID, TOKEN, closed_port_url()), CALL, HangUp()
        )
    assert result == CallControlled(
        HangUp(), ok=False, detail="gave up after 2 attempts: ConnectError on attempt 2"
    )
    assert sleeps.delays == [0.25]


async def test_a_request_that_cannot_be_built_is_reported_without_sending() -> None:
    twilio = fake_twilio()
    action = Transfer("not a number", label="odd")
    async with serve_app(twilio) as base, httpx.AsyncClient() as http:
        result = await client(http, Sleeps()).perform(
            TwilioCallControl(SID, TOKEN, base), CALL, action
        )
    assert not result.ok
    assert result.detail.startswith("cannot build the request: dial destination")
    assert twilio.state.received == []


def test_twilio_call_control_needs_both_credentials() -> None:
    assert twilio_call_control(TwilioSettings()) is None
    assert twilio_call_control(TwilioSettings(account_sid=SID)) is None
    built = twilio_call_control(TwilioSettings(SID, TOKEN, "http://127.0.0.1:1"))
    assert built is not None
    assert built.request(CALL, HangUp()).url == f"http://127.0.0.1:1{PATH}"
