"""The simulator's Telnyx dialect: signed webhook, strict TeXML, stream messages, reordering."""

from __future__ import annotations

import base64
import json
from urllib.parse import parse_qsl

import numpy as np
import pytest

from gateway.carriers.telnyx.signature import load_public_key, public_key_text, verify
from gateway.carriers.telnyx.signature import private_key_from_text as private_key
from gateway.carriers.telnyx.webhook import texml_stream
from gateway.sim.dialect import (
    AnswerRefusedError,
    GatewayClear,
    GatewayMark,
    GatewayMedia,
    ProtocolViolation,
)
from gateway.sim.script import SimOptions
from gateway.sim.telnyx import TelnyxDialect
from gateway.sim.telnyx_stream import INVALID_MEDIA, MALFORMED_FRAME

SECRET = base64.b64encode(bytes(range(32))).decode()
PUBLIC = load_public_key(public_key_text(private_key(SECRET)))
OPTIONS = SimOptions(auth_token=SECRET, call_sid="v3:abc")
ANSWER = texml_stream("ws://127.0.0.1:9/telnyx/media", "stream_token", "tok", codec="PCMA")


def test_the_webhook_is_a_signed_form() -> None:
    dialect = TelnyxDialect(clock_s=lambda: 1_700_000_000.9)
    request = dialect.webhook("http://gw/", OPTIONS)
    assert request.url == "http://gw/telnyx/voice"
    assert request.body is not None
    fields = dict(parse_qsl(request.body.decode()))
    assert fields["CallSid"] == "v3:abc"
    assert dict(request.form) == fields
    headers = dict(request.headers)
    assert headers["telnyx-timestamp"] == "1700000000"
    signature = headers["telnyx-signature-ed25519"]
    assert verify(request.body, signature, "1700000000", PUBLIC, now_s=1_700_000_000)


def test_unsigned_and_corrupt_webhooks() -> None:
    dialect = TelnyxDialect()
    unsigned = dialect.webhook("http://gw", SimOptions(auth_token=None))
    assert "telnyx-signature-ed25519" not in dict(unsigned.headers)
    corrupt = dialect.webhook("http://gw", SimOptions(auth_token=SECRET, corrupt_signature=True))
    headers = dict(corrupt.headers)
    assert corrupt.body is not None
    assert not verify(
        corrupt.body,
        headers["telnyx-signature-ed25519"],
        headers["telnyx-timestamp"],
        PUBLIC,
        now_s=float(headers["telnyx-timestamp"]),
    )


def test_the_answer_sets_the_codec_and_keeps_the_query() -> None:
    dialect = TelnyxDialect()
    answer = dialect.parse_answer(ANSWER)
    assert answer.stream_url == "ws://127.0.0.1:9/telnyx/media?stream_token=tok"
    assert dialect.codec == "PCMA"
    stream = dialect.new_stream(OPTIONS)
    connected, start = stream.opening(())
    assert json.loads(connected) == {"event": "connected", "version": "1.0.0"}
    body = json.loads(start)
    assert body["sequence_number"] == "1"
    assert body["stream_id"] == stream.stream_sid
    assert body["start"]["call_control_id"] == "v3:abc"
    assert body["start"]["media_format"] == {"encoding": "PCMA", "sample_rate": 8000, "channels": 1}


@pytest.mark.parametrize(
    "texml",
    [
        ANSWER.replace(' bidirectionalMode="rtp"', ""),
        ANSWER.replace('bidirectionalCodec="PCMA"', 'bidirectionalCodec="PCMU"'),
        ANSWER.replace('codec="PCMA" ', 'codec="OPUS" '),
    ],
)
def test_answers_the_gateway_could_not_use_are_refused(texml: str) -> None:
    with pytest.raises(AnswerRefusedError):
        TelnyxDialect().parse_answer(texml)


def test_frames_swap_as_asked_and_stop_releases_a_held_one() -> None:
    dialect = TelnyxDialect(swap_every=2)
    dialect.parse_answer(ANSWER)
    stream = dialect.new_stream(OPTIONS)
    stream.opening(())
    first = stream.media(b"\x01", 0)
    assert len(first) == 1
    assert stream.media(b"\x02", 20) == []  # held
    third = stream.media(b"\x03", 40)
    numbers = [json.loads(m)["sequence_number"] for m in third]
    assert numbers == ["4", "3"]  # the later frame first, each with its own number
    assert stream.swapped == 1
    assert stream.media(b"\x04", 60) == []
    stop = stream.stop()
    assert [json.loads(m)["event"] for m in stop] == ["media", "stop"]


def test_gateway_messages_are_checked_as_telnyx_would() -> None:
    dialect = TelnyxDialect()
    dialect.parse_answer(ANSWER)
    stream = dialect.new_stream(OPTIONS)
    audio = base64.b64encode(bytes([0xD5] * 160)).decode()
    media = stream.parse_gateway(json.dumps({"event": "media", "media": {"payload": audio}}))
    assert isinstance(media, GatewayMedia)
    assert np.abs(media.samples).max() < 16
    mark = json.dumps({"event": "mark", "mark": {"name": "m1"}})
    assert stream.parse_gateway(mark) == GatewayMark("m1")
    assert stream.parse_gateway('{"event":"clear"}') == GatewayClear()
    other = json.dumps({"event": "clear", "stream_id": "other"})
    for bad, code in [
        (b"\x00", MALFORMED_FRAME),
        ("nope", MALFORMED_FRAME),
        ('{"event":"playAudio"}', MALFORMED_FRAME),
        (other, MALFORMED_FRAME),
        ('{"event":"mark","mark":{}}', MALFORMED_FRAME),
        ('{"event":"media","media":{"payload":"!!"}}', INVALID_MEDIA),
    ]:
        violation = stream.parse_gateway(bad)
        assert isinstance(violation, ProtocolViolation)
        assert violation.code == code
