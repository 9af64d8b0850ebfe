"""Exotel Voicebot translator: start -> CallStarted, L16 chunks, DTMF, marks, sequence numbers."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from gateway.audio.paths import CarrierFormat, DownlinkPath, Encoding
from gateway.carriers.exotel.translator import (
    CHUNK_MULTIPLE_BYTES,
    MIN_CHUNK_BYTES,
    ExotelTranslator,
    chunk_ms,
)
from gateway.core.events import (
    CallerAudio,
    CallStarted,
    CallStopped,
    ClearPlayback,
    DtmfPressed,
    MessageIgnored,
    MessagesMissed,
    PlaceMark,
    PlayAudio,
    PlaybackMarked,
    StreamConnected,
)

SID = "stream-1"


def _start(sequence: int = 1, **media_format: Any) -> str:
    fmt = {"encoding": "audio/x-raw", "sample_rate": "8000", "bit_rate": "16", **media_format}
    return json.dumps(
        {
            "event": "start",
            "sequence_number": str(sequence),
            "stream_sid": SID,
            "start": {
                "stream_sid": SID,
                "call_sid": "call-1",
                "account_sid": "acct",
                "from": "0999",
                "to": "0888",
                "custom_parameters": {"stream_token": "tok"},
                "media_format": fmt,
            },
        }
    )


def _message(event: str, sequence: int, **body: Any) -> str:
    return json.dumps({"event": event, "sequence_number": str(sequence), "stream_sid": SID, **body})


def _media(sequence: int, payload: bytes = b"\x01\x00" * 800) -> str:
    media = {
        "chunk": str(sequence - 1),
        "timestamp": "100",
        "payload": base64.b64encode(payload).decode(),
    }
    return _message("media", sequence, media=media)


def _started(url_parameters: dict[str, str] | None = None) -> ExotelTranslator:
    translator = ExotelTranslator(url_parameters)
    assert translator.parse('{"event": "connected"}') == [StreamConnected("connected")]
    assert isinstance(translator.parse(_start())[0], CallStarted)
    return translator


def test_start_becomes_call_started_with_exotel_chunks() -> None:
    translator = ExotelTranslator({"sample-rate": "8000", "stream_token": "from-url", "x": "1"})
    (started,) = translator.parse(_start())
    assert started == CallStarted(
        call_id="call-1",
        stream_id=SID,
        account_id="acct",
        media_format=CarrierFormat(Encoding.L16, 8_000, 200),
        custom_parameters={"sample-rate": "8000", "stream_token": "tok", "x": "1"},
    )


@pytest.mark.parametrize(
    ("encoding", "rate", "ms"),
    [
        (Encoding.L16, 8_000, 200),
        (Encoding.L16, 16_000, 100),
        (Encoding.L16, 24_000, 100),
        (Encoding.MULAW, 8_000, 400),
    ],
)
def test_chunks_meet_exotels_rules(encoding: Encoding, rate: int, ms: int) -> None:
    assert chunk_ms(encoding, rate) == ms
    fmt = CarrierFormat(encoding, rate, ms)
    assert fmt.frame_bytes >= MIN_CHUNK_BYTES
    assert fmt.frame_bytes % CHUNK_MULTIPLE_BYTES == 0
    # The downlink path cuts Live's 24 kHz audio into exactly such chunks.
    frames = DownlinkPath(fmt).process(b"\x10\x00" * 24_000)
    assert frames
    assert {len(frame) for frame in frames} == {fmt.frame_bytes}


def test_the_media_format_defaults_to_the_urls_rate() -> None:
    translator = ExotelTranslator({"sample-rate": "16000"})
    message = json.loads(_start())
    del message["start"]["media_format"]
    (started,) = translator.parse(json.dumps(message))
    assert isinstance(started, CallStarted)
    assert started.media_format == CarrierFormat(Encoding.L16, 16_000, 100)


@pytest.mark.parametrize(
    ("rate", "bit_rate", "ms"),
    [("8000", "128kbps", 200), ("16000", "256kbps", 100), ("24000", "384 KBPS", 100)],
)
def test_the_older_start_form_is_the_same_pcm(rate: str, bit_rate: str, ms: int) -> None:
    """`"encoding": "base64"`, `"bit_rate": "128kbps"` (Exotel's older article, many clients)."""
    translator = ExotelTranslator()
    (started,) = translator.parse(_start(encoding="base64", sample_rate=rate, bit_rate=bit_rate))
    assert isinstance(started, CallStarted)
    assert started.media_format == CarrierFormat(Encoding.L16, int(rate), ms)
    assert translator.parse(_media(2, b"\x01\x02" * 4)) == [CallerAudio(b"\x01\x02" * 4, 100)]


@pytest.mark.parametrize(
    "media_format",
    [
        {"encoding": "audio/ogg"},
        {"sample_rate": "44100"},
        {"bit_rate": "24"},
        {"encoding": "base64", "bit_rate": "kbps"},
        {"encoding": "base64", "bit_rate": "0kbps"},
        {"encoding": "base64", "sample_rate": "44100", "bit_rate": "705kbps"},
    ],
)
def test_unsupported_formats_are_ignored(media_format: dict[str, str]) -> None:
    (event,) = ExotelTranslator().parse(_start(**media_format))
    assert isinstance(event, MessageIgnored)
    assert event.reason == "unsupported media format"


def test_media_dtmf_mark_stop() -> None:
    translator = _started()
    assert translator.parse(_media(2, b"\x01\x02" * 4)) == [CallerAudio(b"\x01\x02" * 4, 100)]
    assert translator.parse(_message("dtmf", 3, dtmf={"digit": "7", "duration": "100"})) == [
        DtmfPressed("7")
    ]
    assert translator.parse(_message("mark", 4, mark={"name": "m1"})) == [PlaybackMarked("m1")]
    assert translator.parse(_message("stop", 5, stop={"call_sid": "call-1"})) == [CallStopped()]
    assert translator.audio_bytes_in == 8


def test_sequence_gaps_and_replays() -> None:
    translator = _started()
    assert translator.parse(_media(2))[0].__class__ is CallerAudio
    assert isinstance(translator.parse(_media(5))[0], CallerAudio)  # not believed yet
    events = translator.parse(_media(6))
    assert events[0] == MessagesMissed(3, 5)
    assert isinstance(events[1], CallerAudio)
    assert translator.parse(_media(6)) == [MessageIgnored("stale sequence", "6 after 6")]
    assert translator.parse(_media(4)) == [MessageIgnored("stale sequence", "4 after 6")]
    assert translator.parse(_message("mark", 4, mark={"name": "m1"})) == [PlaybackMarked("m1")]
    assert translator.messages_missed == 2


def test_numbering_starts_wherever_exotel_starts_it() -> None:
    translator = ExotelTranslator()
    assert isinstance(translator.parse(_start(sequence=0))[0], CallStarted)
    assert isinstance(translator.parse(_media(1))[0], CallerAudio)


@pytest.mark.parametrize(
    ("message", "reason"),
    [
        (_message("media", 2, stream_sid="other", media={"payload": ""}), "wrong stream"),
        (_message("media", 2, media={"payload": "!!"}), "malformed"),
        (_message("media", 2, media={"payload": ""}), "empty audio"),
        (_message("dtmf", 2, dtmf={"digit": "x"}), "invalid DTMF digit"),
        (_message("mark", 2, mark={}), "malformed"),
        (_message("mystery", 2), "unknown event"),
        (_start(sequence=2), "duplicate start"),
        ("{", "malformed"),
    ],
)
def test_bad_messages_are_ignored(message: str, reason: str) -> None:
    (event,) = _started().parse(message)
    assert isinstance(event, MessageIgnored)
    assert event.reason == reason


def test_before_start() -> None:
    translator = ExotelTranslator()
    assert translator.parse(_media(1)) == [MessageIgnored("before start", "media")]
    with pytest.raises(ValueError, match="not started"):
        translator.encode(ClearPlayback())


def test_commands() -> None:
    translator = _started()
    media = json.loads(translator.encode(PlayAudio(b"\x00\x01")))
    assert media == {"event": "media", "stream_sid": SID, "media": {"payload": "AAE="}}
    mark = json.loads(translator.encode(PlaceMark('m"1')))
    assert mark == {"event": "mark", "stream_sid": SID, "mark": {"name": 'm"1'}}
    assert json.loads(translator.encode(ClearPlayback())) == {"event": "clear", "stream_sid": SID}
