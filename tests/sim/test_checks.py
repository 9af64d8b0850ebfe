"""The checks every simulated carrier makes on the gateway's messages, and how it prints URLs."""

from __future__ import annotations

from gateway.sim.checks import event_name, json_message
from gateway.sim.dialect import ProtocolViolation
from gateway.sim.timeline import abbreviate_url


def test_json_message() -> None:
    assert json_message('{"event":"clear"}', 7, "Acme") == {"event": "clear"}
    assert json_message(b"{}", 7, "Acme") == ProtocolViolation(
        7, "a binary frame (Acme takes JSON text frames only)"
    )
    assert json_message("{", 7, "Acme") == ProtocolViolation(7, "not valid JSON")
    assert json_message("[1]", 7, "Acme") == ProtocolViolation(7, "not a JSON object")


def test_event_name() -> None:
    assert event_name('{"event":"mark"}') == "mark"
    assert event_name('{"event":5}') == "?"
    assert event_name("[]") == "?"
    assert event_name(b"\x00") == "?"
    assert event_name("nope") == "?"


def test_stream_urls_are_printed_with_their_query_values_shortened() -> None:
    url = "wss://gw/telnyx/media?stream_token=c3QxAAAAAGsB5n6SB_aJlKdUhxBX29k5&a=1"
    assert abbreviate_url(url) == "wss://gw/telnyx/media?stream_token=c3QxAAAAAGsB…&a=1"
    assert abbreviate_url("wss://gw/twilio/media") == "wss://gw/twilio/media"
