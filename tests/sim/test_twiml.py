"""Strict TwiML reading: the stream, its parameters, the other verbs, and every refusal."""

from __future__ import annotations

import pytest

from gateway.sim.dialect import AnswerRefusedError, Verb
from gateway.sim.twiml import MAX_TWIML_BYTES, check_stream_url, is_loopback_host, parse_twiml

GOOD = """<?xml version="1.0" encoding="UTF-8"?>
<Response>
  <Say voice="alice">Connecting you now.</Say>
  <Connect>
    <Stream url="wss://gw.example.com/twilio/media" name="s1">
      <Parameter name="token" value="opaque-123"/>
      <Parameter name="tenant" value="acme"/>
    </Stream>
  </Connect>
  <Say>Reached only after our server closes the WebSocket.</Say>
  <Dial><Number>+15551234567</Number></Dial>
</Response>"""


def test_the_stream_its_parameters_and_the_verbs_around_it() -> None:
    answer = parse_twiml(GOOD)
    assert answer.stream_url == "wss://gw.example.com/twilio/media"
    assert answer.parameters == (("token", "opaque-123"), ("tenant", "acme"))
    assert answer.before == (Verb("Say", "Connecting you now.", (("voice", "alice"),)),)
    assert answer.after == (
        Verb("Say", "Reached only after our server closes the WebSocket."),
        Verb("Dial", "+15551234567"),
    )


def test_any_parameter_names_pass_through_in_order() -> None:
    answer = parse_twiml(
        '<Response><Connect><Stream url="wss://h/p"><Parameter name="b" value=""/>'
        '<Parameter name="a" value="x y"/></Stream></Connect></Response>'
    )
    assert answer.parameters == (("b", ""), ("a", "x y"))


@pytest.mark.parametrize(
    ("twiml", "said"),
    [
        (
            "<Response><Say>We are busy.</Say><Hangup/></Response>",
            [("Say", "We are busy."), ("Hangup", "")],
        ),
        ("<Response><Dial>+15550001111</Dial></Response>", [("Dial", "+15550001111")]),
        ("<Response/>", []),
        (
            '<Response><Start><Stream url="wss://h/p"/></Start><Pause length="1"/></Response>',
            [("Start", "Stream"), ("Pause", "")],
        ),
        (
            "<Response><Connect><ConversationRelay/></Connect></Response>",
            [("Connect", "ConversationRelay")],
        ),
        # A terminal verb before <Connect>: the stream never opens.
        (
            '<Response><Hangup/><Connect><Stream url="wss://h/p"/></Connect></Response>',
            [("Hangup", "")],
        ),
        ('<Response><Reject reason="busy"/></Response>', [("Reject", "")]),
    ],
)
def test_answers_without_a_stream_report_what_they_said(
    twiml: str, said: list[tuple[str, str]]
) -> None:
    answer = parse_twiml(twiml)
    assert answer.stream_url is None
    assert [(verb.kind, verb.text) for verb in answer.before] == said


@pytest.mark.parametrize(
    ("twiml", "code", "match"),
    [
        ("not xml at all", 12100, "well-formed"),
        ("<Response><Say>unclosed</Response>", 12100, "well-formed"),
        ("<Reply><Hangup/></Reply>", 12100, "root"),
        ("<Response><Connect><Stream/></Connect></Response>", 12200, "url"),
        ('<Response><Connect><Stream url=""/></Connect></Response>', 12200, "url"),
        (
            '<Response><Connect><Stream url="wss://h/p"><Parameter value="v"/></Stream>'
            "</Connect></Response>",
            12200,
            "name and a value",
        ),
        (
            '<Response><Connect><Stream url="wss://h/p"><Parameter name="n"/></Stream>'
            "</Connect></Response>",
            12200,
            "name and a value",
        ),
        (
            '<Response><Connect><Stream url="wss://h/p"><Say>x</Say></Stream></Connect></Response>',
            12200,
            "only <Parameter>",
        ),
        (
            '<Response><Connect><Stream url="wss://h/p"/><Stream url="wss://h/q"/></Connect>'
            "</Response>",
            12200,
            "exactly one noun",
        ),
        (
            '<Response><Connect><Room>r</Room><Stream url="wss://h/p"/></Connect></Response>',
            12200,
            "exactly one noun",
        ),
        (
            '<Response><Connect><Stream url="https://h/p"/></Connect></Response>',
            31920,
            "wss://",
        ),
        (
            '<Response><Connect><Stream url="wss://h/p?token=1"/></Connect></Response>',
            31920,
            "query string",
        ),
        (
            '<Response><Connect><Stream url="wss://h/p?"/></Connect></Response>',
            31920,
            "query string",
        ),
        (
            '<Response><Connect><Stream url="wss://h/p#frag"/></Connect></Response>',
            31920,
            "query string",
        ),
        (
            '<Response><Connect><Stream url="ws://gw.example.com/p"/></Connect></Response>',
            31920,
            "loopback",
        ),
        ('<Response><Connect><Stream url="wss:///p"/></Connect></Response>', 31920, "no host"),
        (
            '<Response><Connect><Stream url="wss://h/p" track="both_tracks"/></Connect></Response>',
            31941,
            "inbound_track",
        ),
        ("<Response>" + " " * MAX_TWIML_BYTES + "</Response>", 12100, "larger"),
    ],
)
def test_refusals(twiml: str, code: int, match: str) -> None:
    with pytest.raises(AnswerRefusedError, match=match) as refused:
        parse_twiml(twiml)
    assert refused.value.code == code


@pytest.mark.parametrize(
    "url",
    [
        "wss://gw.example.com/twilio/media",
        "wss://gw.example.com:8443/twilio/media",
        "ws://127.0.0.1:8080/twilio/media",
        "ws://127.8.9.10/twilio/media",
        "ws://localhost:8080/twilio/media",
        "ws://[::1]:8080/twilio/media",
    ],
)
def test_accepted_stream_urls(url: str) -> None:
    check_stream_url(url)


def test_explicit_inbound_track_is_fine() -> None:
    answer = parse_twiml(
        '<Response><Connect><Stream url="wss://h/p" track="inbound_track"/></Connect></Response>'
    )
    assert answer.stream_url == "wss://h/p"


def test_loopback_hosts() -> None:
    assert is_loopback_host("LOCALHOST")
    assert is_loopback_host("::1")
    assert not is_loopback_host("10.0.0.1")
    assert not is_loopback_host("example.com")


def test_a_connect_action_is_read_and_checked() -> None:
    answer = parse_twiml(
        '<Response><Connect action="https://gw.example.com/twilio/stream-ended">'
        '<Stream url="wss://gw.example.com/twilio/media"/></Connect></Response>'
    )
    assert answer.action == "https://gw.example.com/twilio/stream-ended"
    assert (
        parse_twiml(
            '<Response><Connect><Stream url="wss://gw.example.com/m"/></Connect></Response>'
        ).action
        is None
    )
    with pytest.raises(AnswerRefusedError, match="12200"):
        parse_twiml(
            '<Response><Connect action="stream-ended">'
            '<Stream url="wss://gw.example.com/m"/></Connect></Response>'
        )
