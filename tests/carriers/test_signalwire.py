"""SignalWire: the Twilio translator with SignalWire's codecs, byte order and bearer token."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from gateway.audio.paths import CarrierFormat, Encoding
from gateway.carriers.signalwire.translator import (
    codec_attribute,
    codec_format,
    signalwire_translator,
)
from gateway.core.events import CallerAudio, CallStarted, MessageIgnored, PlayAudio

SID = "MZ" + "a" * 32


def start(encoding: str, rate: int, parameters: dict[str, str] | None = None) -> str:
    body: dict[str, Any] = {
        "streamSid": SID,
        "accountSid": "b9c7ac8e-1a5d-4c3e-9f3a-3f1f0e6b2d10",
        "callSid": "2b0f7d9c-5c1e-4f0e-8a63-6d1c9e2f4a77",
        "tracks": ["inbound"],
        "customParameters": parameters or {},
        "mediaFormat": {"encoding": encoding, "sampleRate": rate, "channels": 1},
    }
    message = {"event": "start", "sequenceNumber": "1", "streamSid": SID, "start": body}
    return json.dumps(message)


def media(audio: bytes) -> str:
    payload = base64.b64encode(audio).decode()
    body = {"track": "inbound", "chunk": "1", "timestamp": "0", "payload": payload}
    return json.dumps({"event": "media", "sequenceNumber": "2", "streamSid": SID, "media": body})


@pytest.mark.parametrize(
    ("encoding", "rate", "expected"),
    [
        ("audio/x-mulaw", 8000, CarrierFormat(Encoding.MULAW, 8000)),
        ("audio/x-alaw", 8000, CarrierFormat(Encoding.ALAW, 8000)),
        ("audio/x-l16", 16000, CarrierFormat(Encoding.L16, 16000)),
        ("audio/L16", 24000, CarrierFormat(Encoding.L16, 24000)),
        ("L16", 8000, CarrierFormat(Encoding.L16, 8000)),
    ],
)
def test_signalwire_formats(encoding: str, rate: int, expected: CarrierFormat) -> None:
    translator = signalwire_translator()
    assert translator.carrier == "signalwire"
    [event] = translator.parse(start(encoding, rate))
    assert isinstance(event, CallStarted)
    assert event.media_format == expected


def test_formats_twilio_never_sends_are_still_refused() -> None:
    assert signalwire_translator().parse(start("audio/x-mulaw", 16000)) == [
        MessageIgnored("unsupported media format", "audio/x-mulaw at 16000 Hz, 1 channel(s)")
    ]


def test_l16_in_network_byte_order_is_swapped_both_ways() -> None:
    translator = signalwire_translator(l16_big_endian=True)
    translator.parse(start("audio/x-l16", 16000))
    assert translator.parse(media(b"\x00\x01\xff\xfe")) == [CallerAudio(b"\x01\x00\xfe\xff", 0)]
    sent = json.loads(translator.encode(PlayAudio(b"\x01\x00\xfe\xff")))
    assert base64.b64decode(sent["media"]["payload"]) == b"\x00\x01\xff\xfe"


def test_g711_is_never_swapped() -> None:
    translator = signalwire_translator(l16_big_endian=True)
    translator.parse(start("audio/x-mulaw", 8000))
    assert translator.parse(media(b"\x00\x01")) == [CallerAudio(b"\x00\x01", 0)]


def test_the_bearer_token_is_presented_under_the_start_parameters() -> None:
    translator = signalwire_translator({"stream_token": "from-bearer", "x": "1"})
    [event] = translator.parse(start("audio/x-mulaw", 8000, {"stream_token": "from-start"}))
    assert isinstance(event, CallStarted)
    assert event.custom_parameters == {"stream_token": "from-start", "x": "1"}
    [event] = signalwire_translator({"stream_token": "t"}).parse(start("audio/x-mulaw", 8000))
    assert isinstance(event, CallStarted)
    assert event.custom_parameters == {"stream_token": "t"}


@pytest.mark.parametrize(
    ("codec", "media_format", "attribute"),
    [
        ("PCMU", CarrierFormat(Encoding.MULAW, 8000), None),
        ("PCMU@8000h", CarrierFormat(Encoding.MULAW, 8000), None),
        ("PCMA", CarrierFormat(Encoding.ALAW, 8000), "PCMA"),
        ("L16@8000h", CarrierFormat(Encoding.L16, 8000), "L16@8000h"),
        ("l16@16000h", CarrierFormat(Encoding.L16, 16000), "L16@16000h"),
        ("L16@24000h", CarrierFormat(Encoding.L16, 24000), "L16@24000h"),
    ],
)
def test_codecs(codec: str, media_format: CarrierFormat, attribute: str | None) -> None:
    assert codec_format(codec) == media_format
    assert codec_attribute(codec) == attribute


@pytest.mark.parametrize("codec", ["OPUS", "PCMU@16000h", "L16@44100h", ""])
def test_bad_codecs(codec: str) -> None:
    with pytest.raises(ValueError, match=r"SignalWire|8000"):
        codec_format(codec)


def test_an_unknown_spelling_is_taken_as_the_codec_the_answer_asked_for() -> None:
    translator = signalwire_translator(codec="L16@16000h")
    events = translator.parse(start("audio/raw-pcm", 16000))
    assert isinstance(events[0], CallStarted)
    assert events[0].media_format == CarrierFormat(Encoding.L16, 16000)
    assert events[1] == MessageIgnored(
        "media format assumed", "audio/raw-pcm at 16000 Hz, 1 channel(s)"
    )
