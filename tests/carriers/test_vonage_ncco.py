"""NCCOs: the answer that connects the media websocket, and the transfer/hang-up NCCOs."""

from __future__ import annotations

import json

import pytest

from gateway.carriers.vonage.ncco import action_ncco, answer_ncco, connect_endpoint
from gateway.core.events import HangUp, Transfer


def test_the_answer_connects_the_websocket_with_headers() -> None:
    ncco = json.loads(answer_ncco("wss://gw.example/vonage/media", 16_000, {"call_uuid": "u"}))
    assert ncco == [
        {
            "action": "connect",
            "endpoint": [
                {
                    "type": "websocket",
                    "uri": "wss://gw.example/vonage/media",
                    "content-type": "audio/l16;rate=16000",
                    "headers": {"call_uuid": "u"},
                }
            ],
        }
    ]


def test_headers_over_512_bytes_are_refused() -> None:
    with pytest.raises(ValueError, match="512"):
        answer_ncco("wss://gw.example/m", 8_000, {"big": "x" * 600})


def test_endpoints() -> None:
    assert connect_endpoint("+15551234567") == {"type": "phone", "number": "15551234567"}
    sip = "sip:desk@pbx.example"
    assert connect_endpoint(sip) == {"type": "sip", "uri": sip}


def test_action_nccos() -> None:
    assert action_ncco(HangUp()) == []
    assert action_ncco(HangUp("Goodbye.")) == [{"action": "talk", "text": "Goodbye."}]
    assert action_ncco(Transfer("+15551234567", "sales", "One moment."), from_number="+1555") == [
        {"action": "talk", "text": "One moment."},
        {
            "action": "connect",
            "endpoint": [{"type": "phone", "number": "15551234567"}],
            "from": "1555",
        },
    ]
