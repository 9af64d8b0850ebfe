"""SignalWire call control: Twilio's call updates under the space's LaML API, UUID ids."""

from __future__ import annotations

import base64

import pytest

from gateway.carriers.signalwire.rest import signalwire_control
from gateway.core.events import HangUp, Transfer

PROJECT = "b9c7ac8e-1a5d-4c3e-9f3a-3f1f0e6b2d10"
CALL = "2b0f7d9c-5c1e-4f0e-8a63-6d1c9e2f4a77"


def test_requests() -> None:
    control = signalwire_control(PROJECT, "PT-token", "https://acme.signalwire.com/")
    assert control.carrier == "signalwire"
    assert "PT-token" not in repr(control)
    hang_up = control.request(CALL, HangUp())
    assert hang_up.url == (
        f"https://acme.signalwire.com/api/laml/2010-04-01/Accounts/{PROJECT}/Calls/{CALL}.json"
    )
    basic = base64.b64encode(f"{PROJECT}:PT-token".encode()).decode()
    assert hang_up.headers["Authorization"] == f"Basic {basic}"
    assert hang_up.form == {"Status": "completed"}
    assert hang_up.description == "signalwire call update: hang-up"
    transfer = control.request(CALL, Transfer("+15551230100", "sales"))
    assert transfer.form == {
        "Twiml": '<?xml version="1.0" encoding="UTF-8"?>'
        "<Response><Dial><Number>+15551230100</Number></Dial></Response>"
    }


def test_malformed_ids_are_refused() -> None:
    with pytest.raises(ValueError, match="SID"):
        signalwire_control("not/an id", "t", "https://acme.signalwire.com")
    control = signalwire_control(PROJECT, "t", "https://acme.signalwire.com")
    with pytest.raises(ValueError, match="SID"):
        control.request("../x", HangUp())
