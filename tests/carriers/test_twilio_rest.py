"""Twilio call control as data: the exact call update requests, checked against twilio-python."""

from __future__ import annotations

import base64
import json
import logging
from typing import Any

import pytest
from twilio.http import HttpClient
from twilio.http.response import Response
from twilio.rest import Client

from gateway.carriers import twiml
from gateway.carriers.control import CallControl, ControlOutcome
from gateway.carriers.twilio.rest import TwilioCallControl
from gateway.core.events import HangUp, Transfer

SID = "AC" + "1" * 32
TOKEN = "auth-token-0123456789abcdef"
CALL = "CA" + "2" * 32
URL = f"https://api.twilio.com/2010-04-01/Accounts/{SID}/Calls/{CALL}.json"
BASIC = "Basic " + base64.b64encode(f"{SID}:{TOKEN}".encode()).decode()
DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>'


def control() -> TwilioCallControl:
    return TwilioCallControl(SID, TOKEN)


def test_it_is_a_call_control() -> None:
    implementation: CallControl = control()
    assert implementation.carrier == "twilio"


def test_transfer_to_a_number_is_inline_dial_twiml() -> None:
    request = control().request(CALL, Transfer("+15551230100", label="sales"))
    assert (request.method, request.url) == ("POST", URL)
    assert request.headers == {"Authorization": BASIC, "Accept": "application/json"}
    assert request.form == {
        "Twiml": DECLARATION + "<Response><Dial><Number>+15551230100</Number></Dial></Response>"
    }
    assert request.json is None
    assert request.description == "twilio call update: transfer to sales"


def test_transfer_to_a_sip_uri_dials_sip() -> None:
    request = control().request(CALL, Transfer("sip:help@pbx.example.com", label="support"))
    assert request.form == {
        "Twiml": DECLARATION
        + "<Response><Dial><Sip>sip:help@pbx.example.com</Sip></Dial></Response>"
    }


def test_transfer_with_an_announcement_says_it_first() -> None:
    action = Transfer("+15551230100", label="fallback", announcement="Connecting you & co.")
    request = TwilioCallControl(SID, TOKEN, voice="Polly.Joanna").request(CALL, action)
    assert request.form == {
        "Twiml": DECLARATION + '<Response><Say voice="Polly.Joanna">Connecting you &amp; co.</Say>'
        "<Dial><Number>+15551230100</Number></Dial></Response>"
    }
    same = twiml.say_and_dial("Connecting you & co.", "+15551230100", voice="Polly.Joanna")
    assert request.form == {"Twiml": same}


def test_hang_up_sets_the_status_completed() -> None:
    request = control().request(CALL, HangUp())
    assert request.form == {"Status": "completed"}
    assert request.description == "twilio call update: hang-up"


def test_hang_up_with_a_goodbye_says_it_then_hangs_up() -> None:
    request = control().request(CALL, HangUp(announcement="Goodbye!"))
    assert request.form == {
        "Twiml": DECLARATION + "<Response><Say>Goodbye!</Say><Hangup /></Response>"
    }
    assert request.description == "twilio call update: hang-up after a goodbye"


def test_the_api_base_is_configurable() -> None:
    request = TwilioCallControl(SID, TOKEN, "http://127.0.0.1:9999/").request(CALL, HangUp())
    assert request.url == f"http://127.0.0.1:9999/2010-04-01/Accounts/{SID}/Calls/{CALL}.json"


def test_credentials_stay_out_of_repr() -> None:
    implementation = control()
    request = implementation.request(CALL, HangUp())
    assert TOKEN not in repr(implementation)
    assert TOKEN not in repr(request)
    assert BASIC not in repr(request)
    assert "completed" not in repr(request)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("", TOKEN), "account SID"),
        (("AC/../x", TOKEN), "account SID"),
        ((SID, ""), "auth token"),
        ((SID, TOKEN, "ftp://x"), "http"),
    ],
)
def test_construction_needs_credentials(args: tuple[str, ...], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        TwilioCallControl(*args)


def test_a_malformed_call_sid_or_destination_is_refused() -> None:
    with pytest.raises(ValueError, match="call SID"):
        control().request("CA1/../../Accounts", HangUp())
    with pytest.raises(ValueError, match="dial destination"):
        control().request(CALL, Transfer("sales"))


@pytest.mark.parametrize(
    ("status", "body", "outcome"),
    [
        (200, b'{"sid": "CA..."}', ControlOutcome.DONE),
        (204, b"", ControlOutcome.DONE),
        (404, b'{"code": 20404, "status": 404}', ControlOutcome.ALREADY_ENDED),
        (404, b"<html>not found</html>", ControlOutcome.ALREADY_ENDED),
        (404, b'{"code": 20003, "message": "other", "status": 404}', ControlOutcome.FAILED),
        (429, b'{"code": 20429}', ControlOutcome.RETRY),
        (500, b"", ControlOutcome.RETRY),
        (503, b"", ControlOutcome.RETRY),
        # Twilio's "Call is not in-progress. Cannot redirect.": the call has ended.
        (400, b'{"code": 21220, "status": 400}', ControlOutcome.ALREADY_ENDED),
        (400, b'{"code": 21201, "status": 400}', ControlOutcome.FAILED),
        (400, b"not json", ControlOutcome.FAILED),
        (401, b'{"code": 20003}', ControlOutcome.FAILED),
        (403, b"", ControlOutcome.FAILED),
    ],
)  # fmt: skip
def test_outcomes(status: int, body: bytes, outcome: ControlOutcome) -> None:
    assert control().outcome(status, body) is outcome


class _Recorder(HttpClient):
    """twilio-python's HTTP seam: records what the SDK would send."""

    def __init__(self) -> None:
        super().__init__(logging.getLogger("twilio-recorder"), False)
        self.sent: list[dict[str, Any]] = []

    def request(self, method: str, uri: str, **kwargs: Any) -> Response:  # type: ignore[override]
        self.sent.append({"method": method, "url": uri, **kwargs})
        return Response(200, json.dumps({"sid": CALL}))


@pytest.mark.parametrize(
    ("action", "sdk_update"),
    [
        (HangUp(), {"status": "completed"}),
        (Transfer("+15551230100"), {"twiml": twiml.dial("+15551230100")}),
    ],
)
def test_requests_match_what_the_official_sdk_sends(
    action: HangUp | Transfer, sdk_update: dict[str, str]
) -> None:
    recorder = _Recorder()
    Client(SID, TOKEN, http_client=recorder).calls(CALL).update(**sdk_update)
    (sent,) = recorder.sent
    ours = control().request(CALL, action)
    assert (ours.method, ours.url, dict(ours.form or {})) == (
        sent["method"],
        sent["url"],
        sent["data"],
    )
    user, password = sent["auth"]
    assert ours.headers["Authorization"] == (
        "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
    )
    assert ours.headers["Accept"] == sent["headers"]["Accept"]
