"""TelnyxTranslator: exact events for every C.1 message, exact bytes for every command, and
messages put back in order by `sequence_number`."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from gateway.audio.paths import CarrierFormat, Encoding
from gateway.carriers.base import CarrierTranslator
from gateway.carriers.telnyx.translator import TelnyxTranslator, parameters_of
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

STREAM = "32de0dea-53cb-4b21-89a4-9e1819c043bc"
CALL = "v3:9X2vxPDFY2RHSJ1EdMS0RHRksMTg7ldNxdjWbVr9zBjbGjGsSe-aiQ"


def dumps(message: dict[str, Any]) -> str:
    return json.dumps(message, separators=(",", ":"))


def start(seq: int = 1, encoding: str = "PCMU", **extra: Any) -> str:
    body = {
        "user_id": "3e6f995f-85f7-4705-9741-53b116d28237",
        "call_control_id": CALL,
        "call_session_id": "428c31b6-7af4-4bcb-b7f5-5013ef9657c1",
        "from": "+13122010094",
        "to": "+13122123456",
        "tags": ["TAG1"],
        "client_state": "aGF2ZSBhIG5pY2UgZGF5ID1d",
        "media_format": {"encoding": encoding, "sample_rate": 8000, "channels": 1},
        **extra,
    }
    return dumps(
        {"event": "start", "sequence_number": str(seq), "stream_id": STREAM, "start": body}
    )


def media(seq: int, audio: bytes = b"\xff" * 160, track: str = "inbound") -> str:
    payload = base64.b64encode(audio).decode()
    body = {
        "track": track,
        "chunk": str(seq - 1),
        "timestamp": str(20 * (seq - 2)),
        "payload": payload,
    }
    return dumps(
        {"event": "media", "sequence_number": str(seq), "stream_id": STREAM, "media": body}
    )


def started(**kwargs: Any) -> TelnyxTranslator:
    translator = TelnyxTranslator(**kwargs)
    translator.parse(dumps({"event": "connected", "version": "1.0.0"}))
    [event] = translator.parse(start())
    assert isinstance(event, CallStarted)
    return translator


def test_it_is_a_carrier_translator() -> None:
    translator: CarrierTranslator = TelnyxTranslator()
    assert translator.carrier == "telnyx"


def test_connected_then_start() -> None:
    translator = TelnyxTranslator({"stream_token": "tok"})
    assert translator.parse(dumps({"event": "connected", "version": "1.0.0"})) == [
        StreamConnected("", "1.0.0")
    ]
    assert translator.parse(start(custom_parameters=[{"name": "tenant", "value": "acme"}])) == [
        CallStarted(
            call_id=CALL,
            stream_id=STREAM,
            account_id="3e6f995f-85f7-4705-9741-53b116d28237",
            media_format=CarrierFormat(Encoding.MULAW, 8000),
            custom_parameters={"stream_token": "tok", "tenant": "acme"},
        )
    ]
    assert translator.call_id == CALL
    assert translator.parse(start(seq=2)) == [MessageIgnored("duplicate start")]


@pytest.mark.parametrize(
    ("encoding", "expected"),
    [
        ("PCMU", Encoding.MULAW),
        ("audio/x-mulaw", Encoding.MULAW),
        ("PCMA", Encoding.ALAW),
        ("audio/x-alaw", Encoding.ALAW),
    ],
)
def test_media_formats(encoding: str, expected: Encoding) -> None:
    [event] = TelnyxTranslator().parse(start(encoding=encoding))
    assert isinstance(event, CallStarted)
    assert event.media_format == CarrierFormat(expected, 8000)


def test_an_unsupported_codec_is_refused_and_a_missing_format_assumes_the_asked_codec() -> None:
    assert TelnyxTranslator().parse(start(encoding="OPUS")) == [
        MessageIgnored("unsupported media format", "OPUS at 8000 Hz, 1 channel(s)")
    ]
    message = json.loads(start())
    del message["start"]["media_format"]
    [event] = TelnyxTranslator(codec=Encoding.ALAW).parse(dumps(message))
    assert isinstance(event, CallStarted)
    assert event.media_format == CarrierFormat(Encoding.ALAW, 8000)


def test_media_dtmf_mark_stop() -> None:
    translator = started()
    assert translator.parse(media(2, b"\x01\x02")) == [CallerAudio(b"\x01\x02", 0)]
    dtmf = {"event": "dtmf", "stream_id": STREAM, "sequence_number": "3", "dtmf": {"digit": "5"}}
    assert translator.parse(dumps(dtmf)) == [DtmfPressed("5")]
    mark = {"event": "mark", "sequence_number": "4", "stream_id": STREAM, "mark": {"name": "m1"}}
    assert translator.parse(dumps(mark)) == [PlaybackMarked("m1")]
    stop = {"event": "stop", "sequence_number": "5", "stream_id": STREAM, "stop": {}}
    assert translator.parse(dumps(stop)) == [CallStopped()]


def test_out_of_order_media_is_put_back_in_order() -> None:
    translator = started()
    assert translator.parse(media(3, b"\x03")) == []
    assert translator.parse(media(4, b"\x04")) == []
    assert translator.parse(media(2, b"\x02")) == [
        CallerAudio(b"\x02", 0),
        CallerAudio(b"\x03", 20),
        CallerAudio(b"\x04", 40),
    ]
    assert translator.reorder.reordered == 1


def test_a_lost_frame_is_reported_after_the_window_and_a_late_one_dropped() -> None:
    translator = started()
    for seq in (3, 4, 5):
        assert translator.parse(media(seq)) == []
    events = translator.parse(media(6))
    assert events[0] == MessagesMissed(2, 3)
    assert len(events) == 5
    assert translator.parse(media(2)) == [MessageIgnored("stale sequence", "2 after 6")]
    assert translator.parse(media(6)) == [MessageIgnored("stale sequence", "6 after 6")]


def test_stop_releases_what_is_held() -> None:
    translator = started()
    translator.parse(media(3, b"\x03"))
    stop = {"event": "stop", "sequence_number": "4", "stream_id": STREAM, "stop": {}}
    assert translator.parse(dumps(stop)) == [
        MessagesMissed(2, 3),
        CallerAudio(b"\x03", 20),
        CallStopped(),
    ]


def test_a_start_that_arrives_after_media_still_starts_the_call() -> None:
    translator = TelnyxTranslator()
    assert translator.parse(media(2)) == []  # held until the start arrives
    events = translator.parse(start())
    assert isinstance(events[0], CallStarted)
    assert events[1] == CallerAudio(b"\xff" * 160, 0)


def test_a_start_numbered_from_zero_is_not_dropped() -> None:
    [event] = TelnyxTranslator().parse(start(seq=0))
    assert isinstance(event, CallStarted)


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("not json", MessageIgnored("malformed", "invalid JSON at char 0")),
        (dumps({"sequence_number": "2"}), MessageIgnored("malformed", "no event name")),
        (media(2, track="outbound"), MessageIgnored("not the inbound track", "outbound")),
        (
            dumps({"event": "media", "sequence_number": "2", "stream_id": "other", "media": {}}),
            MessageIgnored("wrong stream", "media"),
        ),
        (
            dumps(
                {
                    "event": "dtmf",
                    "sequence_number": "2",
                    "stream_id": STREAM,
                    "dtmf": {"digit": "x"},
                }
            ),
            MessageIgnored("invalid DTMF digit", "x"),
        ),
        (
            dumps(
                {
                    "event": "media",
                    "sequence_number": "2",
                    "stream_id": STREAM,
                    "media": {"payload": "!!"},
                }
            ),
            MessageIgnored("malformed", "media: invalid base64 (2 chars)"),
        ),
        (
            dumps(
                {
                    "event": "error",
                    "sequence_number": "2",
                    "stream_id": STREAM,
                    "payload": {"code": 100003, "title": "malformed_frame"},
                }
            ),
            MessageIgnored("carrier error", "100003 malformed_frame"),
        ),
        (
            dumps({"event": "bogus", "sequence_number": "2"}),
            MessageIgnored("unknown event", "bogus"),
        ),
    ],
)
def test_bad_messages_are_ignored_with_a_reason(message: str, expected: MessageIgnored) -> None:
    assert started().parse(message) == [expected]


def test_media_before_start_is_ignored() -> None:
    translator = TelnyxTranslator()
    unnumbered = dumps({"event": "media", "stream_id": STREAM, "media": {"payload": "AA=="}})
    assert translator.parse(unnumbered) == [MessageIgnored("before start", "media")]


def test_exact_bytes_of_every_command() -> None:
    translator = started()
    assert translator.encode(PlayAudio(b"\xff\x00\x7f")) == (
        '{"event":"media","media":{"payload":"/wB/"}}'
    )
    assert translator.encode(PlaceMark('m"1')) == '{"event":"mark","mark":{"name":"m\\"1"}}'
    assert translator.encode(ClearPlayback()) == '{"event":"clear"}'


def test_encode_before_start_raises() -> None:
    with pytest.raises(ValueError, match="not started"):
        TelnyxTranslator().encode(ClearPlayback())


def test_custom_parameters_in_either_shape() -> None:
    assert parameters_of({"a": "1", "b": 2}) == {"a": "1"}
    assert parameters_of([{"name": "a", "value": "1"}, {"name": "b"}, "junk"]) == {"a": "1"}
    assert parameters_of(None) == {}
