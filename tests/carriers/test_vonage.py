"""Vonage websocket translator: connected -> CallStarted, binary audio, DTMF, notify, clear."""

from __future__ import annotations

import json

import pytest

from gateway.audio.paths import CarrierFormat, Encoding
from gateway.carriers.vonage.translator import VonageTranslator, content_type, rate_of_content_type
from gateway.core.events import (
    CallerAudio,
    CallStarted,
    ClearPlayback,
    DtmfPressed,
    MessageIgnored,
    PlaceMark,
    PlayAudio,
    PlaybackMarked,
    StreamConnected,
)

CONNECTED = {
    "event": "websocket:connected",
    "content-type": "audio/l16;rate=16000",
    "call_uuid": "aaaa-bbbb",
    "stream_token": "tok",
}


def _started(**overrides: object) -> VonageTranslator:
    translator = VonageTranslator("VS1")
    events = translator.parse(json.dumps({**CONNECTED, **overrides}))
    assert isinstance(events[-1], CallStarted)
    return translator


def test_connected_becomes_call_started_with_headers_as_parameters() -> None:
    translator = VonageTranslator("VS1")
    events = translator.parse(json.dumps(CONNECTED))
    assert events == [
        StreamConnected("websocket:connected"),
        CallStarted(
            call_id="aaaa-bbbb",
            stream_id="VS1",
            media_format=CarrierFormat(Encoding.L16, 16_000),
            custom_parameters={"call_uuid": "aaaa-bbbb", "stream_token": "tok"},
        ),
    ]
    assert translator.call_id == "aaaa-bbbb"


@pytest.mark.parametrize("rate", [8_000, 16_000, 24_000])
def test_every_supported_rate(rate: int) -> None:
    translator = _started(**{"content-type": content_type(rate)})
    assert translator.rate_hz == rate


def test_the_old_form_without_event_and_nested_headers_are_read() -> None:
    translator = VonageTranslator("VS1")
    message = {"content-type": "audio/l16;rate=8000", "headers": {"call_uuid": "c1", "x": "y"}}
    started = translator.parse(json.dumps(message))[-1]
    assert isinstance(started, CallStarted)
    assert started.call_id == "c1"
    assert started.custom_parameters == {"call_uuid": "c1", "x": "y"}


@pytest.mark.parametrize(
    ("message", "reason"),
    [
        ({**CONNECTED, "content-type": "audio/pcmu;rate=8000"}, "unsupported media format"),
        ({**CONNECTED, "content-type": "audio/l16;rate=44100"}, "unsupported media format"),
        ({k: v for k, v in CONNECTED.items() if k != "call_uuid"}, "malformed"),
    ],
)
def test_a_connected_it_cannot_use_is_ignored(message: dict[str, str], reason: str) -> None:
    events = VonageTranslator("VS1").parse(json.dumps(message))
    assert len(events) == 1
    assert isinstance(events[0], MessageIgnored)
    assert events[0].reason == reason


def test_audio_and_events_before_the_start_are_ignored() -> None:
    translator = VonageTranslator("VS1")
    assert translator.parse(b"\x00\x00") == [MessageIgnored("before start", "audio")]
    dtmf = json.dumps({"event": "websocket:dtmf", "digit": "5"})
    assert translator.parse(dtmf) == [MessageIgnored("before start", "websocket:dtmf")]
    with pytest.raises(ValueError, match="not started"):
        translator.encode(ClearPlayback())


def test_binary_frames_are_caller_audio() -> None:
    translator = _started()
    assert translator.parse(b"\x01\x02" * 320) == [CallerAudio(b"\x01\x02" * 320)]
    assert translator.audio_bytes_in == 640
    assert translator.parse(b"") == [MessageIgnored("empty audio")]
    assert translator.parse(b"\x00" * 70_000)[0].reason == "oversized"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "message",
    [
        {"event": "websocket:dtmf", "digit": "5", "duration": 260},
        {"event": "websocket:dtmf", "dtmf": {"digit": "5", "duration": 260}},
    ],
)
def test_dtmf_top_level_or_nested(message: dict[str, object]) -> None:
    assert _started().parse(json.dumps(message)) == [DtmfPressed("5")]


def test_dtmf_digit_strings_and_bad_digits() -> None:
    translator = _started()
    assert translator.parse(json.dumps({"event": "websocket:dtmf", "digit": "1#"})) == [
        DtmfPressed("1"),
        DtmfPressed("#"),
    ]
    bad = translator.parse(json.dumps({"event": "websocket:dtmf", "digit": "x"}))
    assert bad == [MessageIgnored("invalid DTMF digit", "x")]
    assert translator.parse(json.dumps({"event": "websocket:dtmf"}))[0].reason == "malformed"  # type: ignore[union-attr]


def test_commands_are_binary_audio_and_json_actions() -> None:
    translator = _started()
    assert translator.encode(PlayAudio(b"\x00\x01" * 4)) == b"\x00\x01" * 4
    assert json.loads(translator.encode(PlaceMark("m1"))) == {
        "action": "notify",
        "payload": {"mark": "m1"},
    }
    assert json.loads(translator.encode(ClearPlayback())) == {"action": "clear"}


def _notify(name: str) -> str:
    return json.dumps({"event": "websocket:notify", "payload": {"mark": name}})


def test_notify_echoes_are_playback_marks_in_order() -> None:
    translator = _started()
    for name in ("m1", "m2", "m3"):
        translator.encode(PlaceMark(name))
    assert translator.parse(_notify("m1")) == [PlaybackMarked("m1")]
    assert translator.parse(_notify("m3")) == [PlaybackMarked("m3")]  # settles m2 too
    assert translator.parse(_notify("m2")) == []  # already settled
    assert translator.parse(_notify("zz")) == []  # not ours


def test_cleared_reports_every_unanswered_notify_and_drops_late_answers() -> None:
    translator = _started()
    for name in ("m1", "m2", "m3"):
        translator.encode(PlaceMark(name))
    assert translator.parse(_notify("m1")) == [PlaybackMarked("m1")]
    translator.encode(ClearPlayback())
    cleared = json.dumps({"event": "websocket:cleared"})
    assert translator.parse(cleared) == [PlaybackMarked("m2"), PlaybackMarked("m3")]
    assert translator.parse(_notify("m3")) == []
    assert translator.parse(cleared) == []


@pytest.mark.parametrize(
    ("message", "reason"),
    [
        ("not json", "malformed"),
        ("[1]", "malformed"),
        ('{"no": "event"}', "malformed"),
        ('{"event": "websocket:other"}', "unknown event"),
        (json.dumps({"event": "websocket:notify", "payload": "x"}), "malformed"),
        (json.dumps(CONNECTED), "duplicate start"),
    ],
)
def test_bad_text_is_ignored_never_raised(message: str, reason: str) -> None:
    translator = _started()
    events = translator.parse(message)
    assert [type(e) for e in events] == [MessageIgnored]
    assert events[0].reason == reason  # type: ignore[union-attr]
    assert translator.messages_ignored == 1


def test_content_type_round_trip() -> None:
    assert rate_of_content_type(" Audio/L16 ; rate=16000 ") == 16_000
    assert rate_of_content_type(content_type(8_000)) == 8_000
    assert rate_of_content_type(16000) is None
