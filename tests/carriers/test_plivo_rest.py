"""Plivo call control: hang-up (DELETE), transfer and goodbye (aleg_url to our action XML)."""

from __future__ import annotations

import base64
from urllib.parse import parse_qsl, urlsplit

import pytest

from gateway.carriers.control import CallControl, ControlOutcome
from gateway.carriers.plivo.rest import PlivoCallControl
from gateway.core.events import HangUp, Transfer

BASIC = "Basic " + base64.b64encode(b"MAID:secret-token").decode()
URL = "https://api.example/v1/Account/MAID/Call/uuid-1/"


def control() -> PlivoCallControl:
    return PlivoCallControl(
        "MAID",
        "secret-token",
        action_url="https://gw.example.com/plivo/action",
        api_base="https://api.example/",
    )


def test_it_is_a_call_control() -> None:
    seam: CallControl = control()
    assert seam.carrier == "plivo"
    assert "secret-token" not in repr(seam)


def test_hang_up_is_a_delete() -> None:
    request = control().request("uuid-1", HangUp())
    assert (request.method, request.url) == ("DELETE", URL)
    assert request.headers == {"Authorization": BASIC, "Accept": "application/json"}
    assert request.json is None
    assert request.form is None


def test_transfer_points_the_a_leg_at_our_action_xml() -> None:
    request = control().request("uuid-1", Transfer("+15551230100", "sales", "One moment."))
    assert (request.method, request.url) == ("POST", URL)
    assert request.headers["Authorization"] == BASIC
    assert request.json is not None
    assert (request.json["legs"], request.json["aleg_method"]) == ("aleg", "POST")
    url = urlsplit(request.json["aleg_url"])
    assert (url.scheme, url.netloc, url.path) == ("https", "gw.example.com", "/plivo/action")
    assert dict(parse_qsl(url.query)) == {"to": "+15551230100", "say": "One moment."}
    assert request.description == "plivo call transfer to sales"


def test_a_goodbye_is_a_transfer_to_speak_then_hang_up() -> None:
    request = control().request("uuid-1", HangUp("Goodbye."))
    assert request.method == "POST"
    assert request.json is not None
    assert dict(parse_qsl(urlsplit(request.json["aleg_url"]).query)) == {"say": "Goodbye."}


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        (204, ControlOutcome.DONE),
        (202, ControlOutcome.DONE),
        (404, ControlOutcome.ALREADY_ENDED),
        (401, ControlOutcome.FAILED),
        (400, ControlOutcome.FAILED),
        (429, ControlOutcome.RETRY),
        (500, ControlOutcome.RETRY),
    ],
)
def test_outcomes(status: int, outcome: ControlOutcome) -> None:
    assert control().outcome(status, b"") is outcome
