"""PlivoTranslator: exact events for every C.2 message, exact bytes for every command, and
checkpoints accounted for whether or not Plivo answers the ones a clear flushed."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from gateway.audio.paths import CarrierFormat, Encoding
from gateway.carriers.base import CarrierTranslator
from gateway.carriers.plivo.translator import PlivoTranslator, content_format, extra_headers
from gateway.carriers.plivo.xml import header_value
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
)

STREAM = "20170ada-f610-433b-8758-c02a2aab3662"
CALL = "ba8d9e0a-0e5f-4a2c-9d1e-1d2b4f8a6c01"


def dumps(message: dict[str, Any]) -> str:
    return json.dumps(message, separators=(",", ":"))


def start(seq: object = 1, media_format: dict[str, Any] | None = None, **extra: Any) -> str:
    body = {
        "callId": CALL,
        "streamId": STREAM,
        "accountId": "MAXXXXXXXXXXXXXXXXXX",
        "tracks": ["inbound"],
        "mediaFormat": media_format or {"encoding": "audio/x-mulaw", "sampleRate": 8000},
    }
    return dumps({"event": "start", "sequenceNumber": seq, "start": body, **extra})


def numbered(seq: int, event: str, **body: Any) -> str:
    return dumps({"event": event, "sequenceNumber": seq, "streamId": STREAM, **body})


def media(seq: int, audio: bytes = b"\xff" * 160) -> str:
    payload = base64.b64encode(audio).decode()
    return numbered(seq, "media", media={"track": "inbound", "timestamp": "20", "payload": payload})


def started(**kwargs: Any) -> PlivoTranslator:
    translator = PlivoTranslator(**kwargs)
    [event] = translator.parse(start())
    assert isinstance(event, CallStarted)
    return translator


def test_it_is_a_carrier_translator() -> None:
    translator: CarrierTranslator = PlivoTranslator()
    assert translator.carrier == "plivo"


def test_start_with_the_token_in_the_extra_headers() -> None:
    token = "c3Qx.tok-en_"
    extra = f"tenant=acme,streamtoken={header_value(token)}"
    [event] = PlivoTranslator().parse(start("1", extra_headers=extra))
    assert event == CallStarted(
        call_id=CALL,
        stream_id=STREAM,
        account_id="MAXXXXXXXXXXXXXXXXXX",
        media_format=CarrierFormat(Encoding.MULAW, 8000),
        custom_parameters={
            "tenant": "acme",
            "streamtoken": header_value(token),
            "stream_token": token,
        },
    )


def test_a_token_from_the_url_wins_over_the_header() -> None:
    extra = {"streamtoken": header_value("from-header")}
    translator = PlivoTranslator({"stream_token": "from-url"})
    [event] = translator.parse(start(extra_headers=json.dumps(extra)))
    assert isinstance(event, CallStarted)
    assert event.custom_parameters["stream_token"] == "from-url"


@pytest.mark.parametrize(
    ("media_format", "expected"),
    [
        ({"encoding": "audio/x-l16", "sampleRate": 16000}, CarrierFormat(Encoding.L16, 16000)),
        ({"encoding": "audio/x-l16", "sampleRate": "8000"}, CarrierFormat(Encoding.L16, 8000)),
        ({"encoding": "audio/x-l16;rate=16000"}, CarrierFormat(Encoding.L16, 16000)),
    ],
)
def test_linear_pcm_formats(media_format: dict[str, Any], expected: CarrierFormat) -> None:
    [event] = PlivoTranslator().parse(start(media_format=media_format))
    assert isinstance(event, CallStarted)
    assert event.media_format == expected


def test_unsupported_or_missing_formats() -> None:
    bad = {"encoding": "audio/x-l16", "sampleRate": 24000}
    assert PlivoTranslator().parse(start(media_format=bad)) == [
        MessageIgnored("unsupported media format", "audio/x-l16 at 24000 Hz")
    ]
    message = json.loads(start())
    del message["start"]["mediaFormat"]
    expected = CarrierFormat(Encoding.L16, 16000)
    [event] = PlivoTranslator(expected=expected).parse(dumps(message))
    assert isinstance(event, CallStarted)
    assert event.media_format == expected


def test_media_dtmf_stop_and_gaps() -> None:
    translator = started()
    assert translator.parse(media(2, b"\x01")) == [CallerAudio(b"\x01", 20)]
    assert translator.parse(numbered(3, "dtmf", dtmf={"digit": "#"})) == [DtmfPressed("#")]
    # A jump is processed at once and counted missed when the next message follows it.
    assert translator.parse(media(5, b"\x02")) == [CallerAudio(b"\x02", 20)]
    assert translator.parse(media(6, b"\x03")) == [MessagesMissed(4, 5), CallerAudio(b"\x03", 20)]
    assert translator.parse(media(6)) == [MessageIgnored("stale sequence", "6 after 6")]
    assert translator.parse(numbered(6, "stop")) == [CallStopped()]  # never dropped


def test_checkpoints_are_answered_in_order() -> None:
    translator = started()
    for name in ("m1", "m2", "m3"):
        translator.encode(PlaceMark(name))
    played = {"event": "playedStream", "streamId": STREAM, "name": "m2"}
    # m2 played: m1, queued before it, has played too.
    assert translator.parse(dumps(played)) == [PlaybackMarked("m1"), PlaybackMarked("m2")]
    assert translator.parse(dumps(played)) == [MessageIgnored("late checkpoint", "m2")]


def test_cleared_audio_reports_every_unanswered_checkpoint() -> None:
    translator = started()
    for name in ("m1", "m2"):
        translator.encode(PlaceMark(name))
    translator.encode(ClearPlayback())
    cleared = {"event": "clearedAudio", "streamId": STREAM}
    assert translator.parse(dumps(cleared)) == [PlaybackMarked("m1"), PlaybackMarked("m2")]
    # Had Plivo answered them after all, the answers come too late to count twice.
    late = {"event": "playedStream", "name": "m1"}
    assert translator.parse(dumps(late)) == [MessageIgnored("late checkpoint", "m1")]
    assert translator.parse(dumps(cleared)) == []


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("[]", MessageIgnored("malformed", "a JSON list, not an object")),
        (numbered(2, "media", media="x"), MessageIgnored("malformed", "media: no media object")),
        (numbered(2, "dtmf", dtmf={"digit": "55"}), MessageIgnored("invalid DTMF digit", "55")),
        (
            dumps({"event": "media", "streamId": "other", "media": {}}),
            MessageIgnored("wrong stream", "media"),
        ),
        (numbered(2, "playedStream"), MessageIgnored("malformed", "playedStream: no name string")),
        (numbered(2, "mystery"), MessageIgnored("unknown event", "mystery")),
    ],
)
def test_bad_messages_are_ignored_with_a_reason(message: str, expected: MessageIgnored) -> None:
    assert started().parse(message) == [expected]


def test_exact_bytes_of_every_command() -> None:
    translator = started()
    assert translator.encode(PlayAudio(b"\xff\x00")) == (
        '{"event":"playAudio","streamId":"' + STREAM + '","media":'
        '{"contentType":"audio/x-mulaw","sampleRate":8000,"payload":"/wA="}}'
    )
    assert translator.encode(PlaceMark("m1")) == (
        '{"event":"checkpoint","streamId":"' + STREAM + '","name":"m1"}'
    )
    assert (
        translator.encode(ClearPlayback()) == '{"event":"clearAudio","streamId":"' + STREAM + '"}'
    )


def test_l16_audio_is_sent_as_l16_at_the_streams_rate() -> None:
    translator = PlivoTranslator()
    translator.parse(start(media_format={"encoding": "audio/x-l16", "sampleRate": 16000}))
    sent = json.loads(translator.encode(PlayAudio(b"\x01\x00")))
    assert sent["media"] == {"contentType": "audio/x-l16", "sampleRate": 16000, "payload": "AQA="}


def test_encode_before_start_raises() -> None:
    with pytest.raises(ValueError, match="not started"):
        PlivoTranslator().encode(ClearPlayback())


def test_helpers() -> None:
    assert content_format("audio/x-mulaw;rate=8000") == CarrierFormat(Encoding.MULAW, 8000)
    assert content_format("audio/x-mulaw", 16000) is None
    assert content_format("audio/ogg;rate=8000") is None
    assert extra_headers("a=1, b=2,junk") == {"a": "1", "b": "2"}
    assert extra_headers('{"a": "1", "b": 2}') == {"a": "1"}
    assert extra_headers({"a": "1"}) == {"a": "1"}
    assert extra_headers(None) == {}
