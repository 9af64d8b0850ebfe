"""The simulator's Vonage dialect: signed GET webhook, strict NCCO, binary stream messages."""

from __future__ import annotations

import json

import numpy as np
import pytest

from gateway.carriers.vonage.ncco import answer_ncco
from gateway.carriers.vonage.signature import verify_webhook
from gateway.sim.dialect import (
    AnswerRefusedError,
    GatewayClear,
    GatewayMark,
    GatewayMedia,
    ProtocolViolation,
)
from gateway.sim.script import SimOptions
from gateway.sim.vonage import VonageDialect, parse_ncco
from gateway.sim.vonage_stream import VonageStream

SECRET = "vonage-signature-secret-0123456789abcdef"
NOW = 1_700_000_000.0


def test_the_webhook_is_a_signed_get_the_gateway_accepts() -> None:
    dialect = VonageDialect(clock_s=lambda: NOW)
    request = dialect.webhook("http://gw/", SimOptions(auth_token=SECRET, call_sid="u-1"))
    assert request.method == "GET"
    assert request.url == "http://gw/vonage/voice"
    assert dict(request.form)["uuid"] == "u-1"
    headers = dict(request.headers)
    assert verify_webhook(headers["Authorization"], SECRET, NOW, query=request.form) is None
    bad = dialect.webhook("http://gw", SimOptions(auth_token=SECRET, corrupt_signature=True))
    assert verify_webhook(dict(bad.headers)["Authorization"], SECRET, NOW, query=bad.form)
    unsigned = dialect.webhook("http://gw", SimOptions(auth_token=SECRET, sign_webhook=False))
    assert "Authorization" not in dict(unsigned.headers)


def test_the_ncco_opens_the_stream_at_its_rate() -> None:
    body = answer_ncco("ws://127.0.0.1:1/vonage/media", 8_000, {"call_uuid": "u", "t": "x"})
    answer, rate = parse_ncco(body)
    assert answer.stream_url == "ws://127.0.0.1:1/vonage/media"
    assert answer.parameters == (("call_uuid", "u"), ("t", "x"))
    assert rate == 8_000
    talk_only, _ = parse_ncco(json.dumps([{"action": "talk", "text": "Bye"}]))
    assert talk_only.stream_url is None
    assert talk_only.before[0].kind == "talk"
    assert talk_only.before[0].text == "Bye"


@pytest.mark.parametrize(
    "body",
    [
        "not json",
        '{"action": "connect"}',
        answer_ncco("ws://gw.example/m", 16_000, {}),  # ws:// off loopback
        answer_ncco("wss://gw.example/m", 16_000, {}).replace("rate=16000", "rate=11025"),
        json.dumps([{"action": "connect", "endpoint": [{"type": "websocket"}]}]),
    ],
)
def test_ncco_refusals(body: str) -> None:
    with pytest.raises(AnswerRefusedError):
        parse_ncco(body)


def _stream() -> VonageStream:
    dialect = VonageDialect()
    dialect.parse_answer(answer_ncco("ws://127.0.0.1:1/m", 16_000, {"call_uuid": "u"}))
    return dialect.new_stream(SimOptions(call_sid="u"))


def test_stream_messages() -> None:
    stream = _stream()
    (connected,) = stream.opening((("call_uuid", "u"), ("stream_token", "t")))
    assert json.loads(connected) == {
        "event": "websocket:connected",
        "content-type": "audio/l16;rate=16000",
        "call_uuid": "u",
        "stream_token": "t",
    }
    frame = stream.encode_audio(np.zeros(160, dtype=np.int16))
    assert len(frame) == 640
    assert stream.media(frame, 0) == [frame]
    assert json.loads(stream.dtmf("5"))["digit"] == "5"
    assert stream.stop() is None


def test_gateway_messages_and_the_cleared_answer() -> None:
    stream = _stream()
    parse = stream.parse_gateway
    media = parse(b"\x00\x00" * 320)
    assert isinstance(media, GatewayMedia)
    assert len(media.samples) == 160
    assert parse(json.dumps({"action": "notify", "payload": {"mark": "m1"}})) == GatewayMark("m1")
    echo = json.loads(stream.mark_echo("m1"))
    assert echo == {"event": "websocket:notify", "payload": {"mark": "m1"}}
    parse(json.dumps({"action": "notify", "payload": {"mark": "m2"}}))
    assert parse(json.dumps({"action": "clear"})) == GatewayClear()
    assert stream.mark_echo("m2") is None  # flushed: its audio never played
    cleared, _frame = stream.media(b"\x00" * 640, 20)
    assert json.loads(cleared) == {"event": "websocket:cleared"}
    assert stream.media(b"\x00" * 640, 40) == [b"\x00" * 640]


@pytest.mark.parametrize(
    "message", [b"\x00" * 100, "nope", json.dumps({"action": "talk"}), '{"action":"notify"}']
)
def test_gateway_violations(message: str | bytes) -> None:
    assert isinstance(_stream().parse_gateway(message), ProtocolViolation)


def test_flushed_notifies_can_be_answered() -> None:
    dialect = VonageDialect(answer_flushed=True)
    dialect.parse_answer(answer_ncco("ws://127.0.0.1:1/m", 16_000, {"call_uuid": "u"}))
    stream = dialect.new_stream(SimOptions(call_sid="u"))
    stream.parse_gateway(json.dumps({"action": "notify", "payload": {"mark": "m1"}}))
    stream.parse_gateway(json.dumps({"action": "clear"}))
    assert stream.mark_echo("m1") is not None
