"""Twilio's (and SignalWire's) dial-out requests and callbacks, exactly."""

from __future__ import annotations

import json
from base64 import b64encode
from urllib.parse import urlencode

import pytest

from gateway.carriers.dial import (
    Answerer,
    CallProgress,
    DialProgress,
    MachineDetection,
    PlaceCall,
    Placed,
    PlaceFailed,
)
from gateway.carriers.plugin import ControlContext, Webhook
from gateway.carriers.signalwire.plugin import SIGNALWIRE
from gateway.carriers.twilio.dial import TwilioDialer
from gateway.carriers.twilio.plugin import TWILIO
from gateway.env_reader import EnvReader

SID = "AC" + "1" * 32
CONTEXT = ControlContext(None, clock_s=lambda: 1_700_000_000.0, new_id=lambda: "jti-1")
CALL = PlaceCall(
    "+15550104242",
    "+15550100000",
    "https://gw.example.com/twilio/voice",
    "https://gw.example.com/twilio/dial-status?dial=dial_1",
    "https://gw.example.com/twilio/dial-machine?dial=dial_1",
)


def webhook(**form: str) -> Webhook:
    return Webhook("POST", "https://gw/x", "https://gw", (), {}, urlencode(form).encode(), 0.0)


def test_the_create_request() -> None:
    request = TwilioDialer(SID, "s3cret", "https://api.example.com/").place(CALL)
    assert request.method == "POST"
    assert request.url == f"https://api.example.com/2010-04-01/Accounts/{SID}/Calls.json"
    assert (
        request.headers["Authorization"] == "Basic " + b64encode(f"{SID}:s3cret".encode()).decode()
    )
    assert request.form == (
        ("To", "+15550104242"),
        ("From", "+15550100000"),
        ("Url", "https://gw.example.com/twilio/voice"),
        ("Method", "POST"),
        ("StatusCallback", "https://gw.example.com/twilio/dial-status?dial=dial_1"),
        ("StatusCallbackMethod", "POST"),
        ("StatusCallbackEvent", "initiated"),
        ("StatusCallbackEvent", "ringing"),
        ("StatusCallbackEvent", "answered"),
        ("StatusCallbackEvent", "completed"),
        ("Timeout", "30"),
    )
    assert "s3cret" not in repr(request) + repr(TwilioDialer(SID, "s3cret", "https://a"))


def test_machine_detection_asks_for_asynchronous_amd_to_the_greeting_end() -> None:
    from dataclasses import replace

    call = replace(CALL, machine_detection=MachineDetection.HANG_UP)
    form = TwilioDialer(SID, "token", "https://a").place(call).form
    assert form is not None
    assert form[-4:] == (
        ("MachineDetection", "DetectMessageEnd"),
        ("AsyncAmd", "true"),
        ("AsyncAmdStatusCallback", "https://gw.example.com/twilio/dial-machine?dial=dial_1"),
        ("AsyncAmdStatusCallbackMethod", "POST"),
    )


def test_the_answers() -> None:
    dialer = TwilioDialer(SID, "token", "https://a")
    assert dialer.placed(201, json.dumps({"sid": "CA" + "2" * 32}).encode()) == Placed(
        "CA" + "2" * 32
    )
    assert dialer.placed(201, b"{}") == PlaceFailed("twilio answered 201 without a call sid", 502)
    refused = json.dumps({"code": 21211, "message": "Invalid 'To' Phone Number +1555"}).encode()
    assert dialer.placed(400, refused) == PlaceFailed(
        "twilio refused the call (HTTP 400, error 21211)", 502
    )
    assert dialer.placed(500, b"oops") == PlaceFailed("twilio refused the call (HTTP 500)", 502)


@pytest.mark.parametrize(
    ("form", "progress"),
    [
        ({"CallSid": "CA1", "CallStatus": "ringing"}, DialProgress("CA1", CallProgress.RINGING)),
        (
            {"CallSid": "CA1", "CallStatus": "in-progress"},
            DialProgress("CA1", CallProgress.ANSWERED),
        ),
        (
            {"CallSid": "CA1", "CallStatus": "no-answer"},
            DialProgress("CA1", CallProgress.NO_ANSWER),
        ),
        ({"CallSid": "CA1", "CallStatus": "busy"}, DialProgress("CA1", CallProgress.BUSY)),
        ({"CallSid": "CA1", "AnsweredBy": "human"}, DialProgress("CA1", None, Answerer.PERSON)),
        (
            {"CallSid": "CA1", "AnsweredBy": "machine_end_beep"},
            DialProgress("CA1", None, Answerer.MACHINE, True),
        ),
        (
            {"CallSid": "CA1", "AnsweredBy": "machine_start"},
            DialProgress("CA1", None, Answerer.MACHINE, False),
        ),
        ({"CallSid": "CA1", "AnsweredBy": "unknown"}, DialProgress("CA1", None, Answerer.UNKNOWN)),
        ({"CallStatus": "ringing"}, None),
        ({"CallSid": "CA1"}, None),
    ],
)
def test_callbacks(form: dict[str, str], progress: DialProgress | None) -> None:
    assert TwilioDialer(SID, "token", "https://a").progress(webhook(**form)) == progress


def test_the_plugins_dial_once_their_credentials_are_set() -> None:
    assert TWILIO.dialer(TWILIO.default_settings(), CONTEXT) is None
    settings = TWILIO.read_settings(
        EnvReader({"TWILIO_ACCOUNT_SID": SID, "TWILIO_AUTH_TOKEN": "t"}), False
    )
    dialer = TWILIO.dialer(settings, CONTEXT)
    assert dialer is not None
    assert dialer.place(CALL).url == f"https://api.twilio.com/2010-04-01/Accounts/{SID}/Calls.json"
    project = "b9c7ac8e-1a5d-4c3e-9f3a-3f1f0e6b2d10"
    signalwire = SIGNALWIRE.read_settings(
        EnvReader(
            {
                "SIGNALWIRE_PROJECT_ID": project,
                "SIGNALWIRE_API_TOKEN": "PT_x",
                "SIGNALWIRE_SPACE_URL": "https://example.signalwire.com",
            }
        ),
        False,
    )
    sw = SIGNALWIRE.dialer(signalwire, CONTEXT)
    assert sw is not None
    assert sw.carrier == "signalwire"
    assert sw.place(CALL).url == (
        f"https://example.signalwire.com/api/laml/2010-04-01/Accounts/{project}/Calls.json"
    )


def test_telnyx_places_through_the_texml_calls_api() -> None:
    from dataclasses import replace

    from gateway.carriers.telnyx.dial import TelnyxDialer

    dialer = TelnyxDialer("KEYs3cret", "acct-1", "1773070540731319841", "https://api.example.com/")
    request = dialer.place(replace(CALL, machine_detection=MachineDetection.LEAVE_VOICEMAIL))
    assert request.url == "https://api.example.com/v2/texml/Accounts/acct-1/Calls"
    assert request.headers["Authorization"] == "Bearer KEYs3cret"
    assert request.json == {
        "ApplicationSid": "1773070540731319841",
        "To": "+15550104242",
        "From": "+15550100000",
        "Url": "https://gw.example.com/twilio/voice",
        "UrlMethod": "POST",
        "StatusCallback": "https://gw.example.com/twilio/dial-status?dial=dial_1",
        "StatusCallbackMethod": "POST",
        "StatusCallbackEvent": "initiated ringing answered completed",
        "Timeout": 30,
        "MachineDetection": "DetectMessageEnd",
        "AsyncAmd": True,
        "AsyncAmdStatusCallback": "https://gw.example.com/twilio/dial-machine?dial=dial_1",
        "AsyncAmdStatusCallbackMethod": "POST",
    }
    assert "s3cret" not in repr(request) + repr(dialer)
    assert dialer.placed(200, b'{"call_sid": "v3:abc", "status": "queued"}') == Placed("v3:abc")
    assert dialer.placed(200, b'{"data": {"call_sid": "v3:abc"}}') == Placed("v3:abc")
    assert dialer.placed(200, b'{"status": "queued"}') == PlaceFailed(
        "telnyx answered 200 without a call id", 502
    )
    assert dialer.placed(422, b"{}") == PlaceFailed("telnyx refused the call (HTTP 422)", 502)
    progress = dialer.progress(webhook(CallSid="v3:abc", AnsweredBy="machine_end_silence"))
    assert progress == DialProgress("v3:abc", None, Answerer.MACHINE, True)


def test_plivo_places_through_the_call_api_and_links_the_call_uuid() -> None:
    from dataclasses import replace

    from gateway.carriers.plivo.dial import PlivoDialer

    dialer = PlivoDialer("MAODUMODUMODUMODUMOD", "s3cret", "https://api.example.com")
    request = dialer.place(replace(CALL, machine_detection=MachineDetection.HANG_UP))
    assert request.url == "https://api.example.com/v1/Account/MAODUMODUMODUMODUMOD/Call/"
    assert request.json == {
        "from": "15550100000",
        "to": "15550104242",
        "answer_url": "https://gw.example.com/twilio/voice",
        "answer_method": "POST",
        "ring_url": "https://gw.example.com/twilio/dial-status?dial=dial_1",
        "ring_method": "POST",
        "hangup_url": "https://gw.example.com/twilio/dial-status?dial=dial_1",
        "hangup_method": "POST",
        "ring_timeout": 30,
        "machine_detection": "true",
        "machine_detection_url": "https://gw.example.com/twilio/dial-machine?dial=dial_1",
        "machine_detection_method": "POST",
    }
    assert "s3cret" not in repr(request) + repr(dialer)
    assert not dialer.detects_greeting_end
    answer = b'{"message": "call fired", "request_uuid": "9a3c-req"}'
    assert dialer.placed(201, answer) == Placed("9a3c-req")
    assert dialer.placed(400, b"{}") == PlaceFailed("plivo refused the call (HTTP 400)", 502)
    ring = webhook(RequestUUID="9a3c-req", CallUUID="c-leg", CallStatus="ringing")
    assert dialer.progress(ring) == DialProgress("9a3c-req", CallProgress.RINGING, leg_id="c-leg")
    machine = webhook(RequestUUID="9a3c-req", CallUUID="c-leg", Machine="true")
    assert dialer.progress(machine) == DialProgress(
        "9a3c-req", None, Answerer.MACHINE, False, "c-leg"
    )
    hangup = webhook(RequestUUID="9a3c-req", CallStatus="timeout")
    assert dialer.progress(hangup) == DialProgress("9a3c-req", CallProgress.NO_ANSWER)


def test_vonage_places_through_the_voice_api_with_an_application_jwt() -> None:
    import jwt

    from gateway.carriers.vonage.dial import VonageDialer
    from tests.carriers.test_vonage_rest import APP_ID, keys

    private, public = keys()
    dialer = VonageDialer(
        APP_ID,
        private,
        "https://api.example.com",
        clock_s=lambda: 1_700_000_000.0,
        new_id=lambda: "j1",
    )
    from dataclasses import replace

    request = dialer.place(replace(CALL, machine_detection=MachineDetection.LEAVE_VOICEMAIL))
    assert request.url == "https://api.example.com/v1/calls"
    token = request.headers["Authorization"].removeprefix("Bearer ")
    claims = jwt.decode(token, public, algorithms=["RS256"], options={"verify_exp": False})
    assert (claims["application_id"], claims["jti"], claims["iat"]) == (APP_ID, "j1", 1.7e9)
    assert request.json == {
        "to": [{"type": "phone", "number": "15550104242"}],
        "from": {"type": "phone", "number": "15550100000"},
        "answer_url": ["https://gw.example.com/twilio/voice"],
        "answer_method": "GET",
        "event_url": ["https://gw.example.com/twilio/dial-status?dial=dial_1"],
        "event_method": "POST",
        "ringing_timer": 30,
        "advanced_machine_detection": {"behavior": "continue", "mode": "detect_beep"},
    }
    assert "PRIVATE" not in repr(request) + repr(dialer)
    uuid = "63f61863-4a51-4f6b-86e1-46edebcf9356"
    assert dialer.placed(201, json.dumps({"uuid": uuid, "status": "started"}).encode()) == Placed(
        uuid
    )
    assert dialer.placed(401, b"{}") == PlaceFailed("vonage refused the call (HTTP 401)", 502)

    def event(**fields: str) -> Webhook:
        return Webhook("POST", "https://gw/x", "https://gw", (), {}, json.dumps(fields).encode(), 0)

    assert dialer.progress(event(uuid=uuid, status="ringing")) == DialProgress(
        uuid, CallProgress.RINGING
    )
    assert dialer.progress(event(uuid=uuid, status="timeout")) == DialProgress(
        uuid, CallProgress.NO_ANSWER
    )
    assert dialer.progress(event(uuid=uuid, status="machine")) == DialProgress(
        uuid, None, Answerer.MACHINE, False
    )
    assert dialer.progress(event(uuid=uuid, status="machine", sub_state="beep_start")) == (
        DialProgress(uuid, None, Answerer.MACHINE, True)
    )
    assert dialer.progress(event(uuid=uuid, status="human")) == DialProgress(
        uuid, None, Answerer.PERSON
    )
    assert dialer.progress(event(status="ringing")) is None
