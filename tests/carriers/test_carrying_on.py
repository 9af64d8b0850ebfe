"""Cluster mode's answers: each carrier that can carry a call on asks the stream-ended URL when
the stream ends (Twilio and SignalWire `<Connect action>`, TeXML and Plivo a `<Redirect>` after
the stream) and answers an ended call with an empty document; the others cannot."""

from __future__ import annotations

import pytest

from gateway.carriers import registry
from gateway.carriers.plugin import VoiceWebhook, Webhook

BASE = "https://gw.example.com"
HEAD = '<?xml version="1.0" encoding="UTF-8"?>'


def _webhook() -> Webhook:
    return Webhook("POST", f"{BASE}/x/voice", BASE, (), {}, b"", 0.0)


def _answer(name: str) -> str:
    plugin = registry.carrier(name)
    settings = plugin.default_settings()
    action = f"{BASE}/{name}/stream-ended"
    document = plugin.answer_carrying_on(settings, _webhook(), VoiceWebhook("C1"), "tok", action)
    assert document.media_type == "application/xml"
    return document.body


def test_twilio_and_signalwire_ask_their_connect_action() -> None:
    assert '<Connect action="https://gw.example.com/twilio/stream-ended" method="POST">' in (
        _answer("twilio")
    )
    assert '<Connect action="https://gw.example.com/signalwire/stream-ended" method="POST">' in (
        _answer("signalwire")
    )


@pytest.mark.parametrize(("name", "stream"), [("telnyx", "</Connect>"), ("plivo", "</Stream>")])
def test_texml_and_plivo_redirect_after_the_stream(name: str, stream: str) -> None:
    body = _answer(name)
    assert body.endswith(
        f'{stream}<Redirect method="POST">https://gw.example.com/{name}/stream-ended</Redirect>'
        "</Response>"
    )


@pytest.mark.parametrize("name", ["twilio", "signalwire", "telnyx", "plivo"])
def test_an_ended_call_gets_the_empty_document(name: str) -> None:
    plugin = registry.carrier(name)
    assert plugin.carries_on
    assert plugin.stream_ended(plugin.default_settings()).body == HEAD + "<Response />"


@pytest.mark.parametrize("name", ["vonage", "exotel"])
def test_the_others_cannot_carry_a_call_on(name: str) -> None:
    plugin = registry.carrier(name)
    assert not plugin.carries_on
    with pytest.raises(NotImplementedError):
        plugin.stream_ended(plugin.default_settings())
