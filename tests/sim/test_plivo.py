"""The simulator's Plivo dialect: signed webhook, strict Plivo XML, stream messages."""

from __future__ import annotations

import base64
import json
from urllib.parse import parse_qsl

import numpy as np
import pytest

from gateway.carriers.plivo.signature import validate_signature
from gateway.carriers.plivo.xml import action_xml, header_value, stream_xml
from gateway.sim.dialect import (
    AnswerRefusedError,
    GatewayClear,
    GatewayMark,
    GatewayMedia,
    ProtocolViolation,
)
from gateway.sim.plivo import PlivoDialect
from gateway.sim.script import SimOptions

TOKEN = "plivo-token-0123456789"
OPTIONS = SimOptions(auth_token=TOKEN, call_sid="uuid-1", account_sid="MAID")
ANSWER = stream_xml(
    "ws://127.0.0.1:9/plivo/media", "stream_token", "tok", content_type="audio/x-l16;rate=16000"
)


def test_the_webhook_is_a_v3_signed_form() -> None:
    request = PlivoDialect().webhook("http://gw/", OPTIONS)
    assert request.url == "http://gw/plivo/voice"
    assert request.body is not None
    fields = parse_qsl(request.body.decode())
    assert dict(fields)["CallUUID"] == "uuid-1"
    headers = dict(request.headers)
    nonce = headers["x-plivo-signature-v3-nonce"]
    assert len(nonce) == 20
    signature = headers["x-plivo-signature-v3"]
    assert validate_signature("POST", request.url, fields, nonce, signature, TOKEN)


def test_the_upgrade_is_v3_signed_over_the_stream_url() -> None:
    url = "wss://gw.example.com/plivo/media?stream_token=t.1"
    headers = dict(PlivoDialect().upgrade_headers(url, OPTIONS))
    nonce, signature = headers["x-plivo-signature-v3-nonce"], headers["x-plivo-signature-v3"]
    assert validate_signature("GET", url, None, nonce, signature, TOKEN)
    assert not validate_signature("GET", url + "&x=1", None, nonce, signature, TOKEN)
    unsigned = SimOptions(auth_token=TOKEN, sign_upgrade=False)
    assert dict(PlivoDialect().upgrade_headers(url, unsigned)) == {"User-Agent": "Plivo-Stream/1.0"}


def test_the_answer_sets_the_format_and_passes_the_extra_headers() -> None:
    dialect = PlivoDialect()
    answer = dialect.parse_answer(ANSWER)
    assert answer.stream_url == "ws://127.0.0.1:9/plivo/media?stream_token=tok"
    assert answer.parameters == (("streamtoken", header_value("tok")),)
    stream = dialect.new_stream(OPTIONS)
    [start] = stream.opening(answer.parameters)
    body = json.loads(start)
    assert body["sequenceNumber"] == 1
    assert body["start"]["callId"] == "uuid-1"
    assert body["start"]["mediaFormat"] == {"encoding": "audio/x-l16", "sampleRate": 16000}
    assert body["extra_headers"] == f"streamtoken={header_value('tok')}"
    [media] = stream.media(stream.encode_audio(np.zeros(160, np.int16)), 0)
    assert len(base64.b64decode(json.loads(media)["media"]["payload"])) == 640


@pytest.mark.parametrize(
    "xml",
    [
        ANSWER.replace('bidirectional="true"', 'bidirectional="false"'),
        ANSWER.replace('audioTrack="inbound"', 'audioTrack="both"'),
        ANSWER.replace("audio/x-l16;rate=16000", "audio/x-l16;rate=24000"),
        ANSWER.replace(f"streamtoken={header_value('tok')}", "stream_token=a.b"),
        "<Speak>no response</Speak>",
        "not xml",
    ],
)
def test_answers_plivo_would_refuse(xml: str) -> None:
    with pytest.raises(AnswerRefusedError):
        PlivoDialect().parse_answer(xml)


def test_an_answer_without_a_stream() -> None:
    answer = PlivoDialect().parse_answer(action_xml("Sorry.", None))
    assert answer.stream_url is None
    assert [verb.kind for verb in answer.before] == ["Speak", "Hangup"]


def test_checkpoints_and_clears() -> None:
    dialect = PlivoDialect()
    dialect.parse_answer(ANSWER)
    stream = dialect.new_stream(OPTIONS)
    sid = stream.stream_sid
    checkpoint = json.dumps({"event": "checkpoint", "streamId": sid, "name": "m1"})
    assert stream.parse_gateway(checkpoint) == GatewayMark("m1")
    assert json.loads(stream.mark_echo("m1") or "")["event"] == "playedStream"
    assert stream.parse_gateway(json.dumps({"event": "clearAudio", "streamId": sid})) == (
        GatewayClear()
    )
    assert stream.mark_echo("m2") is None  # flushed: no playedStream
    events = [json.loads(m)["event"] for m in stream.media(b"\x00\x00" * 320, 20)]
    assert events == ["clearedAudio", "media"]


def test_play_audio_must_match_the_stream() -> None:
    dialect = PlivoDialect()
    dialect.parse_answer(ANSWER)
    stream = dialect.new_stream(OPTIONS)
    good = {"contentType": "audio/x-l16", "sampleRate": 16000, "payload": "AAAAAA=="}
    played = stream.parse_gateway(json.dumps({"event": "playAudio", "media": good}))
    assert isinstance(played, GatewayMedia)
    wrong = {**good, "contentType": "audio/x-mulaw", "sampleRate": 8000}
    refused = stream.parse_gateway(json.dumps({"event": "playAudio", "media": wrong}))
    assert isinstance(refused, ProtocolViolation)
    twilio_like = stream.parse_gateway('{"event":"media","media":{"payload":""}}')
    assert isinstance(twilio_like, ProtocolViolation)
