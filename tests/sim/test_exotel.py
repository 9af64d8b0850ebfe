"""The simulator's Exotel dialect: Basic-authenticated applet URL, JSON answer, 100 ms chunks."""

from __future__ import annotations

import base64
import json

import numpy as np
import pytest

from gateway.carriers.exotel.auth import check_basic
from gateway.sim.dialect import (
    AnswerRefusedError,
    GatewayClear,
    GatewayMark,
    GatewayMedia,
    ProtocolViolation,
)
from gateway.sim.exotel import ExotelDialect
from gateway.sim.exotel_stream import ExotelStream
from gateway.sim.script import SimOptions

OPTIONS = SimOptions(account_sid="exo", auth_token="exotel-password", call_sid="CA" + "1" * 32)
ANSWER = json.dumps({"url": "ws://exo:p%40ss@127.0.0.1:9/exotel/media?sample-rate=16000&t=x"})


def test_the_applet_request_carries_basic_credentials() -> None:
    request = ExotelDialect().webhook("http://gw/", OPTIONS)
    assert (request.method, request.url) == ("GET", "http://gw/exotel/voice")
    assert dict(request.form)["CallSid"] == OPTIONS.call_sid
    assert check_basic(dict(request.headers)["Authorization"], "exo", "exotel-password")


def test_the_answer_gives_the_stream_its_rate_and_credentials() -> None:
    dialect = ExotelDialect()
    answer = dialect.parse_answer(ANSWER)
    assert answer.stream_url == "ws://127.0.0.1:9/exotel/media?sample-rate=16000&t=x"
    assert answer.parameters == (("sample-rate", "16000"), ("t", "x"))
    assert dialect.codec.rate_hz == 16_000
    (header,) = dialect.upgrade_headers(answer.stream_url, OPTIONS)
    assert check_basic(header[1], "exo", "p@ss")


@pytest.mark.parametrize(
    "body",
    [
        "nope",
        "{}",
        json.dumps({"url": "ws://gw.example/m"}),
        json.dumps({"url": "wss://gw.example/m?sample-rate=11025"}),
        json.dumps({"url": "wss://gw.example/m?t=" + "x" * 300}),
    ],
)
def test_answer_refusals(body: str) -> None:
    with pytest.raises(AnswerRefusedError):
        ExotelDialect().parse_answer(body)


def _stream() -> ExotelStream:
    dialect = ExotelDialect()
    dialect.parse_answer(ANSWER)
    return dialect.new_stream(OPTIONS)


def test_the_older_start_form_on_request() -> None:
    dialect = ExotelDialect(legacy_format=True)
    dialect.parse_answer(ANSWER)
    _, start = dialect.new_stream(OPTIONS).opening((("sample-rate", "16000"),))
    assert json.loads(start)["start"]["media_format"] == {
        "encoding": "base64",
        "sample_rate": "16000",
        "bit_rate": "256kbps",
    }


def test_the_opening_and_100_ms_chunks() -> None:
    stream = _stream()
    connected, start = stream.opening((("sample-rate", "16000"), ("t", "x")))
    assert json.loads(connected) == {"event": "connected"}
    opened = json.loads(start)
    assert opened["sequence_number"] == "1"
    assert opened["start"]["custom_parameters"] == {"t": "x"}
    assert opened["start"]["media_format"] == {
        "encoding": "audio/x-raw",
        "sample_rate": "16000",
        "bit_rate": "16",
    }
    frame = stream.encode_audio(np.zeros(160, dtype=np.int16))
    assert [stream.media(frame, 20 * i) for i in range(4)] == [[], [], [], []]
    (chunk,) = stream.media(frame, 80)
    media = json.loads(chunk)
    assert media["sequence_number"] == "2"
    assert media["media"]["timestamp"] == "0"
    assert len(base64.b64decode(media["media"]["payload"])) == 5 * 640
    stream.media(frame, 100)
    rest, stop = stream.stop()
    assert len(base64.b64decode(json.loads(rest)["media"]["payload"])) == 640
    assert json.loads(stop)["event"] == "stop"


def _gateway(event: str, **body: object) -> str:
    return json.dumps({"event": event, "stream_sid": _stream().stream_sid, **body})


def test_gateway_messages() -> None:
    stream = _stream()
    payload = base64.b64encode(b"\x00" * 3200).decode()
    media = stream.parse_gateway(_gateway("media", media={"payload": payload}))
    assert isinstance(media, GatewayMedia)
    assert len(media.samples) == 800  # 100 ms at 8 kHz
    assert stream.parse_gateway(_gateway("mark", mark={"name": "m1"})) == GatewayMark("m1")
    assert stream.parse_gateway(_gateway("clear")) == GatewayClear()


@pytest.mark.parametrize(
    "message",
    [
        b"\x00",
        _gateway("media", media={"payload": base64.b64encode(b"\x00" * 640).decode()}),
        _gateway("media", media={"payload": base64.b64encode(b"\x00" * 3210).decode()}),
        json.dumps({"event": "clear", "stream_sid": "other"}),
        _gateway("mark", mark={}),
        _gateway("playAudio"),
    ],
)
def test_gateway_violations(message: str | bytes) -> None:
    assert isinstance(_stream().parse_gateway(message), ProtocolViolation)
