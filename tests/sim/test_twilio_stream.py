"""Twilio's messages as written by the simulator (B.2), and its checks of the gateway's (B.3)."""

from __future__ import annotations

import base64
import json

import numpy as np
import pytest

from gateway.audio import g711
from gateway.sim.dialect import GatewayClear, GatewayMark, GatewayMedia, ProtocolViolation
from gateway.sim.twilio_stream import TwilioStream

SID = "MZ" + "1" * 32


def stream() -> TwilioStream:
    return TwilioStream("AC" + "a" * 32, "CA" + "b" * 32, SID)


def test_connected_then_start_with_every_field_of_b2() -> None:
    connected, start = (json.loads(m) for m in stream().opening((("token", "t"), ("x", "y"))))
    assert connected == {"event": "connected", "protocol": "Call", "version": "1.0.0"}
    assert start == {
        "event": "start",
        "sequenceNumber": "1",
        "streamSid": SID,
        "start": {
            "accountSid": "AC" + "a" * 32,
            "streamSid": SID,
            "callSid": "CA" + "b" * 32,
            "tracks": ["inbound"],
            "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1},
            "customParameters": {"token": "t", "x": "y"},
        },
    }


def test_sequence_numbers_count_every_message_and_chunks_count_media() -> None:
    s = stream()
    s.opening(())
    media1 = json.loads(s.media(b"\xff" * 160, 0))
    dtmf = json.loads(s.dtmf("7"))
    media2 = json.loads(s.media(b"\x00" * 160, 20))
    echo = json.loads(s.mark_echo("m1"))
    stop = json.loads(s.stop())
    assert [m["sequenceNumber"] for m in (media1, dtmf, media2, echo, stop)] == [
        "2",
        "3",
        "4",
        "5",
        "6",
    ]
    assert media1["media"] == {
        "track": "inbound",
        "chunk": "1",
        "timestamp": "0",
        "payload": "/" * 212 + "/w==",  # protocols.md B.4: 160 bytes of μ-law silence
    }
    assert media2["media"]["chunk"] == "2"
    assert media2["media"]["timestamp"] == "20"
    assert dtmf["dtmf"] == {"track": "inbound_track", "digit": "7"}
    assert echo == {
        "event": "mark",
        "sequenceNumber": "5",
        "mark": {"name": "m1"},
        "streamSid": SID,
    }
    assert stop["stop"] == {"accountSid": "AC" + "a" * 32, "callSid": "CA" + "b" * 32}
    assert all(m["streamSid"] == SID for m in (media1, dtmf, media2, echo, stop))


def test_encode_audio_is_the_gateways_mulaw() -> None:
    samples = np.array([0, 1000, -1000, 32767], dtype=np.int16)
    assert stream().encode_audio(samples) == g711.ulaw_encode(samples.astype("<i2").tobytes())


def media(payload: str, sid: str = SID) -> str:
    return json.dumps({"event": "media", "streamSid": sid, "media": {"payload": payload}})


def test_valid_media_mark_and_clear() -> None:
    s = stream()
    codes = bytes([0xFF, 0x80, 0x00, 0x7F])
    parsed = s.parse_gateway(media(base64.b64encode(codes).decode()))
    assert isinstance(parsed, GatewayMedia)
    assert parsed.samples.tolist() == [0, 32124, -32124, 0]
    assert s.parse_gateway(
        json.dumps({"event": "mark", "streamSid": SID, "mark": {"name": "n"}})
    ) == GatewayMark("n")
    assert s.parse_gateway(json.dumps({"event": "clear", "streamSid": SID})) == GatewayClear()
    # Extra fields are tolerated, as is an empty payload.
    extra = json.dumps({"event": "clear", "streamSid": SID, "sequenceNumber": "9"})
    assert s.parse_gateway(extra) == GatewayClear()
    empty = s.parse_gateway(media(""))
    assert isinstance(empty, GatewayMedia)
    assert len(empty.samples) == 0


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


@pytest.mark.parametrize(
    ("message", "reason"),
    [
        (b'{"event":"clear"}', "binary frame"),
        ("{not json", "not valid JSON"),
        ('["clear"]', "not a JSON object"),
        ('"clear"', "not a JSON object"),
        (json.dumps({"streamSid": SID}), "unknown event None"),
        (json.dumps({"event": "start", "streamSid": SID}), "unknown event 'start'"),
        (json.dumps({"event": "Media", "streamSid": SID}), "unknown event 'Media'"),
        (json.dumps({"event": "stop", "streamSid": SID}), "unknown event 'stop'"),
        (json.dumps({"event": "clear"}), "without streamSid"),
        (json.dumps({"event": "clear", "streamSid": "MZother"}), "not this stream's"),
        (media(b64(b"\xff" * 160), sid="MZother"), "not this stream's"),
        (json.dumps({"event": "media", "streamSid": SID}), "media.payload"),
        (json.dumps({"event": "media", "streamSid": SID, "media": "x"}), "media.payload"),
        (json.dumps({"event": "media", "streamSid": SID, "media": {"payload": 5}}), "payload"),
        (media("abc"), "not valid base64"),
        (media("!!!!"), "not valid base64"),
        (media("AAAA AAAA"), "not valid base64"),
        (media(b64(b"RIFF\x24\x00\x00\x00WAVEfmt ")), "WAV (RIFF) header"),
        (media(b64(b"ID3\x04\x00" + b"\x00" * 20)), "MP3 (ID3) header"),
        (media(b64(b"OggS" + b"\x00" * 20)), "Ogg header"),
        (media(b64(b".snd" + b"\x00" * 20)), ".au header"),
        (media(b64(b"fLaC" + b"\x00" * 20)), "FLAC header"),
        (json.dumps({"event": "mark", "streamSid": SID}), "mark.name"),
        (json.dumps({"event": "mark", "streamSid": SID, "mark": {}}), "mark.name"),
        (json.dumps({"event": "mark", "streamSid": SID, "mark": {"name": ""}}), "mark.name"),
        (json.dumps({"event": "mark", "streamSid": SID, "mark": {"name": 3}}), "mark.name"),
    ],
)
def test_every_refused_message_is_31924(message: str | bytes, reason: str) -> None:
    parsed = stream().parse_gateway(message)
    assert isinstance(parsed, ProtocolViolation)
    assert parsed.code == 31924
    assert reason in parsed.reason


def test_silence_followed_by_a_quiet_sample_is_not_mistaken_for_an_mp3_sync() -> None:
    parsed = stream().parse_gateway(media(b64(b"\xff\xfb" + b"\xff" * 158)))
    assert isinstance(parsed, GatewayMedia)


def test_event_names_for_the_log() -> None:
    s = stream()
    assert s.event_name('{"event":"clear"}') == "clear"
    assert s.event_name(b"\x00") == "?"
    assert s.event_name("[1]") == "?"
    assert s.event_name('{"event": 5}') == "?"
    assert s.event_name("nope") == "?"
