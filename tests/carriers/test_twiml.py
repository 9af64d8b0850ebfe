"""TwiML builders: exact documents, escaping that survives hostile values, refusals."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.carriers.twiml import connect_stream, dial, empty, say_and_dial, say_and_hang_up

HEAD = '<?xml version="1.0" encoding="UTF-8"?>'
URL = "wss://gw.example.com/twilio/media"


def test_connect_stream_exact() -> None:
    assert connect_stream(URL, {"tenant": "acme", "stream_token": "abc.def"}) == (
        HEAD + "<Response><Connect>"
        '<Stream url="wss://gw.example.com/twilio/media">'
        '<Parameter name="tenant" value="acme" />'
        '<Parameter name="stream_token" value="abc.def" />'
        "</Stream></Connect></Response>"
    )


def test_connect_stream_with_a_status_callback() -> None:
    twiml = connect_stream(URL, {}, status_callback="https://gw.example.com/twilio/status")
    assert twiml == (
        HEAD + "<Response><Connect>"
        '<Stream url="wss://gw.example.com/twilio/media"'
        ' statusCallback="https://gw.example.com/twilio/status" statusCallbackMethod="POST" />'
        "</Connect></Response>"
    )


def test_connect_stream_accepts_ws_for_local_tests_and_a_port_and_prefix() -> None:
    twiml = connect_stream("ws://127.0.0.1:8080/gw/twilio/media", {})
    assert '<Stream url="ws://127.0.0.1:8080/gw/twilio/media" />' in twiml


@pytest.mark.parametrize(
    "url",
    [
        "wss://gw.example.com/twilio/media?token=abc",
        "wss://gw.example.com/twilio/media?",
        "wss://gw.example.com?x=1",
        "wss://gw.example.com/twilio/media#frag",
    ],
)
def test_connect_stream_refuses_a_query_string(url: str) -> None:
    with pytest.raises(ValueError, match="query string"):
        connect_stream(url, {})


@pytest.mark.parametrize(
    "url",
    ["https://gw.example.com/media", "http://gw.example.com/media", "gw.example.com/media", ""],
)
def test_connect_stream_refuses_other_schemes(url: str) -> None:
    with pytest.raises(ValueError, match=r"wss:// or ws://"):
        connect_stream(url, {})


def test_connect_stream_refuses_a_url_without_host() -> None:
    with pytest.raises(ValueError, match="no host"):
        connect_stream("wss:///media", {})


def test_status_callback_must_be_http() -> None:
    with pytest.raises(ValueError, match="https:// or http://"):
        connect_stream(URL, {}, status_callback="javascript:alert(1)")


def test_hostile_values_are_escaped_and_round_trip() -> None:
    hostile = '"/><Hangup/><Parameter name="x" value=\'&amp;\n\t\r<!-- ]]>'
    twiml = connect_stream(URL, {hostile: hostile, "ok": "ü€😀"})
    assert "<Hangup" not in twiml
    root = ET.fromstring(twiml)
    [stream] = root.iter("Stream")
    assert [(p.get("name"), p.get("value")) for p in stream] == [
        (hostile, hostile),
        ("ok", "ü€😀"),
    ]
    assert list(root.iter("Hangup")) == []


def test_hostile_spoken_text_is_escaped() -> None:
    text = "Bye </Say><Dial>+15550001111</Dial><Say> & <b>"
    twiml = say_and_hang_up(text, voice='"><Reject/>')
    root = ET.fromstring(twiml)
    assert [child.tag for child in root] == ["Say", "Hangup"]
    assert root[0].text == text
    assert root[0].get("voice") == '"><Reject/>'


@pytest.mark.parametrize("bad", ["\x00", "a\x1bb", "\ud800", "\ufffe"])
def test_characters_xml_cannot_carry_are_refused_without_echoing(bad: str) -> None:
    secret = "s3cr3t-token" + bad
    with pytest.raises(ValueError, match="XML cannot carry") as caught:
        connect_stream(URL, {"stream_token": secret})
    assert "s3cr3t" not in str(caught.value)
    with pytest.raises(ValueError, match="XML cannot carry"):
        say_and_hang_up("hello" + bad)


def test_empty_parameter_names_are_refused() -> None:
    with pytest.raises(ValueError, match="names must not be empty"):
        connect_stream(URL, {"": "x"})


def test_say_and_hang_up_exact() -> None:
    assert say_and_hang_up("All our agents are busy. Goodbye.") == (
        HEAD + "<Response><Say>All our agents are busy. Goodbye.</Say><Hangup /></Response>"
    )
    assert say_and_hang_up("Bye", voice="Polly.Amy", language="en-GB") == (
        HEAD + '<Response><Say voice="Polly.Amy" language="en-GB">Bye</Say><Hangup /></Response>'
    )


def test_say_and_dial_a_number_exact() -> None:
    assert say_and_dial("Connecting you.", "+15551234567", voice="alice") == (
        HEAD + '<Response><Say voice="alice">Connecting you.</Say>'
        "<Dial><Number>+15551234567</Number></Dial></Response>"
    )


def test_say_and_dial_a_sip_uri_exact() -> None:
    assert say_and_dial("One moment.", "sip:desk@pbx.example.com;transport=tls") == (
        HEAD + "<Response><Say>One moment.</Say>"
        "<Dial><Sip>sip:desk@pbx.example.com;transport=tls</Sip></Dial></Response>"
    )


@pytest.mark.parametrize(
    ("destination", "expected"),
    [
        ("+15551234567", "<Number>+15551234567</Number>"),
        (" +1 (555) 123-4567 ", "<Number>+1 (555) 123-4567</Number>"),
        ("SIP:agent@example.com", "<Sip>SIP:agent@example.com</Sip>"),
        ("sips:agent@example.com", "<Sip>sips:agent@example.com</Sip>"),
        ("sip:a@b.example?x-h=1&y=<2>", "<Sip>sip:a@b.example?x-h=1&amp;y=&lt;2&gt;</Sip>"),
    ],
)
def test_dial_exact(destination: str, expected: str) -> None:
    assert dial(destination) == HEAD + "<Response><Dial>" + expected + "</Dial></Response>"


@pytest.mark.parametrize(
    "destination", ["", "   ", "client:alice", "+1555<Hangup/>", "tel:+1555", "++1", "abc"]
)
def test_dial_refuses_what_is_neither_number_nor_sip(destination: str) -> None:
    with pytest.raises(ValueError, match="phone number or a sip: URI"):
        dial(destination)
    with pytest.raises(ValueError, match="phone number or a sip: URI"):
        say_and_dial("hi", destination)


xml_text = st.text(
    st.characters(exclude_categories=["Cs"], exclude_characters="\ufffe\uffff").filter(
        lambda c: c in "\t\n\r" or c >= " "
    ),
    max_size=40,
)


@given(st.dictionaries(xml_text.filter(bool), xml_text, max_size=5), xml_text)
def test_any_xml_safe_values_round_trip(params: dict[str, str], text: str) -> None:
    [stream] = ET.fromstring(connect_stream(URL, params)).iter("Stream")
    assert {p.get("name"): p.get("value") for p in stream} == params
    # An XML parser normalizes line ends in text; a spoken line end is a line end either way.
    spoken = text.replace("\r\n", "\n").replace("\r", "\n")
    assert (ET.fromstring(say_and_hang_up(text))[0].text or "") == spoken


def test_connect_stream_with_an_action_and_the_empty_answer() -> None:
    document = connect_stream(
        "wss://gw.example.com/twilio/media",
        {"stream_token": "t"},
        action="https://gw.example.com/twilio/stream-ended",
    )
    assert document == (
        '<?xml version="1.0" encoding="UTF-8"?><Response>'
        '<Connect action="https://gw.example.com/twilio/stream-ended" method="POST">'
        '<Stream url="wss://gw.example.com/twilio/media">'
        '<Parameter name="stream_token" value="t" /></Stream></Connect></Response>'
    )
    assert empty() == '<?xml version="1.0" encoding="UTF-8"?><Response />'
    with pytest.raises(ValueError, match="action must be"):
        connect_stream("wss://gw.example.com/m", {}, action="ftp://x/y")
