"""The simulator's SignalWire dialect: Twilio's messages, SignalWire's signing and codecs."""

from __future__ import annotations

import base64
import json
from urllib.parse import urlencode

import numpy as np
import pytest

from gateway.carriers.signalwire.signature import validate_signature
from gateway.carriers.twiml import connect_stream
from gateway.sim.dialect import AnswerRefusedError, GatewayMedia
from gateway.sim.script import SimOptions
from gateway.sim.signalwire import SignalWireDialect

KEY = "PSKsigning-key-0123"
OPTIONS = SimOptions(auth_token=KEY, call_sid="2b0f7d9c-5c1e", account_sid="b9c7ac8e-1a5d")
STREAM_URL = "ws://127.0.0.1:9/signalwire/media"


def answer(codec: str | None) -> str:
    attributes = {"authBearerToken": "tok"} | ({"codec": codec} if codec else {})
    return connect_stream(STREAM_URL, {"stream_token": "tok"}, attributes=attributes)


def test_the_webhook_is_twilios_form_signed_with_the_signing_key() -> None:
    request = SignalWireDialect().webhook("http://gw", OPTIONS)
    assert request.url == "http://gw/signalwire/voice"
    headers = dict(request.headers)
    assert headers["X-SignalWire-Signature"] == headers["X-Twilio-Signature"]
    assert headers["User-Agent"].startswith("SignalWire")
    form_body = urlencode(list(request.form)).encode()  # what place_call posts
    assert validate_signature(request.url, form_body, headers["X-SignalWire-Signature"], KEY)


def test_the_answer_selects_codec_and_bearer() -> None:
    dialect = SignalWireDialect(big_endian=True)
    parsed = dialect.parse_answer(answer("L16@24000h"))
    assert parsed.parameters == (("stream_token", "tok"),)
    headers = dict(dialect.upgrade_headers(STREAM_URL, OPTIONS))
    assert headers["Authorization"] == "Bearer tok"
    assert validate_signature(STREAM_URL, b"", headers["X-SignalWire-Signature"], KEY)
    stream = dialect.new_stream(OPTIONS)
    _, start = stream.opening(parsed.parameters)
    assert json.loads(start)["start"]["mediaFormat"] == {
        "encoding": "audio/x-l16",
        "sampleRate": 24000,
        "channels": 1,
    }
    frame = stream.encode_audio(np.full(160, 1000, np.int16))
    assert len(frame) == 960
    pcm = np.full(480, 256, ">i2").tobytes()  # big-endian 256: bytes 01 00
    message = json.dumps(
        {
            "event": "media",
            "streamSid": stream.stream_sid,
            "media": {"payload": base64.b64encode(pcm).decode()},
        }
    )
    media = stream.parse_gateway(message)
    assert isinstance(media, GatewayMedia)
    assert len(media.samples) == 160


def test_the_default_codec_is_twilios() -> None:
    dialect = SignalWireDialect()
    dialect.parse_answer(answer(None))
    _, start = dialect.new_stream(OPTIONS).opening(())
    assert json.loads(start)["start"]["mediaFormat"]["encoding"] == "audio/x-mulaw"


def test_an_unknown_codec_is_refused() -> None:
    with pytest.raises(AnswerRefusedError, match="codec"):
        SignalWireDialect().parse_answer(answer("OPUS"))
