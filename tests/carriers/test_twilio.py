"""TwilioTranslator: exact events for every B.2 message, exact bytes for every B.3 command."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.audio.paths import CarrierFormat, Encoding
from gateway.carriers.base import MAX_CARRIER_MESSAGE_BYTES, CarrierTranslator
from gateway.carriers.twilio.translator import TwilioTranslator
from gateway.core.events import (
    CallerAudio,
    CallStarted,
    CallStopped,
    CarrierCommand,
    ClearPlayback,
    DtmfPressed,
    MessageIgnored,
    MessagesMissed,
    PlaceMark,
    PlayAudio,
    PlaybackMarked,
    StreamConnected,
)

SID = "MZ18ad3ab5a668481ce02b83e7395059f0"
CALL = "CA5fd1a3a4e1e5d6f1e4b2a1c0d9e8f7a6"
ACCOUNT = "AC25e16e9a716a4a1786a7c83f58e30482"
SILENCE_B64 = "/" * 212 + "/w=="  # B.4: 160 bytes of 0xFF


def dumps(message: dict[str, Any]) -> str:
    return json.dumps(message, separators=(",", ":"))


def connected() -> str:
    return dumps({"event": "connected", "protocol": "Call", "version": "1.0.0"})


def start(seq: int = 1, **overrides: Any) -> str:
    body: dict[str, Any] = {
        "streamSid": SID,
        "accountSid": ACCOUNT,
        "callSid": CALL,
        "tracks": ["inbound"],
        "customParameters": {"tenant": "acme", "session_token": "opaque-123"},
        "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1},
    }
    body.update(overrides)
    return dumps({"event": "start", "sequenceNumber": str(seq), "streamSid": SID, "start": body})


def media(
    seq: int,
    payload: str = SILENCE_B64,
    *,
    track: str = "inbound",
    timestamp: Any = "20",
    sid: str = SID,
) -> str:
    body = {"track": track, "chunk": str(seq - 1), "timestamp": timestamp, "payload": payload}
    return dumps({"event": "media", "sequenceNumber": str(seq), "streamSid": sid, "media": body})


def dtmf(seq: int, digit: Any = "1") -> str:
    return dumps(
        {
            "event": "dtmf",
            "streamSid": SID,
            "sequenceNumber": str(seq),
            "dtmf": {"track": "inbound_track", "digit": digit},
        }
    )


def mark(seq: int, name: Any = "turn-1") -> str:
    return dumps(
        {"event": "mark", "sequenceNumber": str(seq), "streamSid": SID, "mark": {"name": name}}
    )


def stop(seq: int, sid: str = SID) -> str:
    return dumps(
        {
            "event": "stop",
            "sequenceNumber": str(seq),
            "streamSid": sid,
            "stop": {"accountSid": ACCOUNT, "callSid": CALL},
        }
    )


def started() -> TwilioTranslator:
    translator = TwilioTranslator()
    translator.parse(connected())
    translator.parse(start())
    return translator


# ------------------------------------------------------------------------------ each message


def test_it_is_a_carrier_translator() -> None:
    translator: CarrierTranslator = TwilioTranslator()
    assert translator.carrier == "twilio"


def test_connected() -> None:
    assert TwilioTranslator().parse(connected()) == [StreamConnected("Call", "1.0.0")]


def test_start_gives_the_call_identity_format_parameters_and_tracks() -> None:
    translator = TwilioTranslator()
    assert (translator.call_id, translator.stream_id) == (None, None)
    assert translator.parse(start()) == [
        CallStarted(
            call_id=CALL,
            stream_id=SID,
            account_id=ACCOUNT,
            media_format=CarrierFormat(Encoding.MULAW, 8000),
            custom_parameters={"tenant": "acme", "session_token": "opaque-123"},
            tracks=("inbound",),
        )
    ]
    assert translator.call_id == CALL
    assert translator.stream_id == SID


def test_start_accepts_the_sample_rate_as_a_numeric_string() -> None:
    fmt = {"encoding": "audio/x-mulaw", "sampleRate": "8000", "channels": 1}
    [event] = TwilioTranslator().parse(start(mediaFormat=fmt))
    assert isinstance(event, CallStarted)
    assert event.media_format == CarrierFormat(Encoding.MULAW, 8000)


def test_start_drops_non_string_custom_parameters() -> None:
    params = {"a": "1", "b": 2, "c": None, "d": {"x": "y"}, "e": ""}
    [event] = TwilioTranslator().parse(start(customParameters=params))
    assert isinstance(event, CallStarted)
    assert event.custom_parameters == {"a": "1", "e": ""}


@pytest.mark.parametrize(
    "fmt",
    [
        {"encoding": "audio/x-alaw", "sampleRate": 8000, "channels": 1},
        {"encoding": "audio/x-mulaw", "sampleRate": 16000, "channels": 1},
        {"encoding": "audio/x-mulaw", "sampleRate": "eight", "channels": 1},
        {"encoding": "audio/x-mulaw", "sampleRate": True, "channels": 1},
        {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 2},
        {"encoding": 7, "sampleRate": 8000},
    ],
)
def test_start_with_an_unsupported_media_format_is_ignored(fmt: dict[str, Any]) -> None:
    translator = TwilioTranslator()
    [event] = translator.parse(start(mediaFormat=fmt))
    assert isinstance(event, MessageIgnored)
    assert event.reason == "unsupported media format"
    assert translator.stream_id is None
    with pytest.raises(ValueError, match="not started"):
        translator.encode(ClearPlayback())


@pytest.mark.parametrize(
    ("overrides", "detail"),
    [
        ({"callSid": None}, "start: no callSid"),
        ({"callSid": ""}, "start: no callSid"),
        ({"callSid": 12}, "start: no callSid"),
        ({"streamSid": "MZother"}, "start: streamSid differs inside and outside start"),
        ({"accountSid": ["AC"]}, "start: non-string accountSid"),
        ({"mediaFormat": "audio/x-mulaw"}, "start: no mediaFormat object"),
    ],
)
def test_start_with_bad_fields_is_malformed(overrides: dict[str, Any], detail: str) -> None:
    assert TwilioTranslator().parse(start(**overrides)) == [MessageIgnored("malformed", detail)]


def test_start_without_an_object_is_malformed() -> None:
    message = dumps({"event": "start", "sequenceNumber": "1", "streamSid": SID, "start": [1]})
    assert TwilioTranslator().parse(message) == [
        MessageIgnored("malformed", "start: no start object")
    ]


def test_a_second_start_is_ignored_and_changes_nothing() -> None:
    translator = started()
    second = start(seq=2, callSid="CAother")
    assert translator.parse(second) == [MessageIgnored("duplicate start")]
    assert translator.call_id == CALL


def test_a_second_connected_is_ignored() -> None:
    translator = started()
    assert translator.parse(connected()) == [MessageIgnored("duplicate connected")]


def test_media_gives_the_decoded_payload_and_timestamp() -> None:
    translator = started()
    assert translator.parse(media(2)) == [CallerAudio(b"\xff" * 160, 20)]
    assert translator.parse(media(3, "AH+A/w==", timestamp="40")) == [
        CallerAudio(b"\x00\x7f\x80\xff", 40)
    ]
    assert translator.audio_bytes_in == 164


@pytest.mark.parametrize("timestamp", [None, "soon", "", [1], True])
def test_media_without_a_usable_timestamp_still_carries_audio(timestamp: Any) -> None:
    assert started().parse(media(2, timestamp=timestamp)) == [CallerAudio(b"\xff" * 160, None)]


def test_media_accepts_a_numeric_timestamp() -> None:
    assert started().parse(media(2, timestamp=60)) == [CallerAudio(b"\xff" * 160, 60)]


def test_media_of_any_length_is_accepted() -> None:
    payload = base64.b64encode(bytes(range(256)) * 3).decode()
    assert started().parse(media(2, payload)) == [CallerAudio(bytes(range(256)) * 3, 20)]


def test_outbound_track_media_is_ignored() -> None:
    [event] = started().parse(media(2, track="outbound"))
    assert event == MessageIgnored("not the inbound track", "outbound")


def test_empty_media_is_ignored() -> None:
    assert started().parse(media(2, "")) == [MessageIgnored("empty audio")]


@pytest.mark.parametrize("payload", ["AAA", "A===", "AA==AA==", " AAAA", "AAAA\n", "é+//", "*"])
def test_invalid_base64_is_malformed(payload: str) -> None:
    [event] = started().parse(media(2, payload))
    assert isinstance(event, MessageIgnored)
    assert event.reason == "malformed"
    assert payload not in event.detail or len(payload) < 2


def test_media_before_start_is_ignored() -> None:
    translator = TwilioTranslator()
    translator.parse(connected())
    assert translator.parse(media(1)) == [MessageIgnored("before start", "media")]


def test_media_of_another_stream_is_ignored() -> None:
    assert started().parse(media(2, sid="MZother")) == [MessageIgnored("wrong stream", "media")]


def test_media_without_a_media_object_is_malformed() -> None:
    message = dumps({"event": "media", "sequenceNumber": "2", "streamSid": SID, "media": "x"})
    assert started().parse(message) == [MessageIgnored("malformed", "media: no media object")]


@pytest.mark.parametrize("digit", [*"0123456789*#ABCD"])
def test_dtmf(digit: str) -> None:
    assert started().parse(dtmf(2, digit)) == [DtmfPressed(digit)]


@pytest.mark.parametrize("digit", ["E", "a", "12", "", " "])
def test_invalid_dtmf_digits_are_ignored(digit: str) -> None:
    [event] = started().parse(dtmf(2, digit))
    assert isinstance(event, MessageIgnored)
    assert event.reason == "invalid DTMF digit"


def test_dtmf_without_a_digit_string_is_malformed() -> None:
    assert started().parse(dtmf(2, 5)) == [MessageIgnored("malformed", "dtmf: no digit string")]


def test_dtmf_before_start_is_ignored() -> None:
    assert TwilioTranslator().parse(dtmf(1)) == [MessageIgnored("before start", "dtmf")]


def test_mark() -> None:
    assert started().parse(mark(2)) == [PlaybackMarked("turn-1")]


def test_mark_without_a_name_is_malformed() -> None:
    assert started().parse(mark(2, None)) == [MessageIgnored("malformed", "mark: no name string")]


def test_stop() -> None:
    assert started().parse(stop(2)) == [CallStopped()]


def test_stop_before_start_still_ends_the_call() -> None:
    assert TwilioTranslator().parse(stop(1)) == [CallStopped()]


def test_stop_of_another_stream_is_ignored() -> None:
    assert started().parse(stop(2, sid="MZother")) == [MessageIgnored("wrong stream", "stop")]


def test_unknown_event_names_it_truncated() -> None:
    translator = started()
    message = dumps({"event": "x" * 500, "sequenceNumber": "2", "streamSid": SID})
    [event] = translator.parse(message)
    assert event == MessageIgnored("unknown event", "x" * 80 + "…")
    assert translator.sequence.expected == 3  # it arrived: no gap reported for it later


def test_control_characters_in_details_are_replaced() -> None:
    [event] = started().parse(dumps({"event": "bad\nline\x1b[31m", "sequenceNumber": "2"}))
    assert event == MessageIgnored("unknown event", "bad?line?[31m")


def test_a_whole_call_in_order() -> None:
    translator = TwilioTranslator()
    script = [connected(), start(), media(2), dtmf(3, "#"), mark(4), media(5), stop(6)]
    events = [event for message in script for event in translator.parse(message)]
    assert [type(e).__name__ for e in events] == [
        "StreamConnected",
        "CallStarted",
        "CallerAudio",
        "DtmfPressed",
        "PlaybackMarked",
        "CallerAudio",
        "CallStopped",
    ]
    assert translator.messages_parsed == 7
    assert translator.messages_ignored == 0
    assert translator.messages_missed == 0


def test_bytes_messages_are_decoded_as_utf8() -> None:
    translator = TwilioTranslator()
    assert translator.parse(connected().encode()) == [StreamConnected("Call", "1.0.0")]
    assert translator.parse(start().encode())[0] == TwilioTranslator().parse(start())[0]


# ------------------------------------------------------------------------- sequence numbers


AUDIO = CallerAudio(b"\xff" * 160, 20)


def test_a_gap_is_reported_once_the_next_message_follows_the_jump() -> None:
    translator = started()
    assert translator.parse(media(5)) == [AUDIO]  # processed at once, not believed yet
    assert translator.parse(media(6)) == [MessagesMissed(expected=2, received=5), AUDIO]
    assert translator.messages_missed == 3
    assert translator.parse(media(7)) == [AUDIO]


def test_a_first_message_after_one_is_a_gap_once_followed() -> None:
    translator = TwilioTranslator()
    [event] = translator.parse(start(seq=3))
    assert isinstance(event, CallStarted)
    assert translator.parse(media(4)) == [MessagesMissed(expected=1, received=3), AUDIO]


def test_a_wrong_number_costs_nothing() -> None:
    """One message numbered +1,000 (issue 22): every message is processed, nothing is counted
    missed, nothing is stale, marks and stop included."""
    translator = started()
    assert translator.parse(media(2)) == [AUDIO]
    assert translator.parse(media(1003)) == [AUDIO]  # in the place of 3, with a wrong number
    events = [e for m in (media(4), mark(5), dtmf(6, "1"), media(7)) for e in translator.parse(m)]
    assert events == [AUDIO, PlaybackMarked("turn-1"), DtmfPressed("1"), AUDIO]
    assert translator.parse(stop(8)) == [CallStopped()]
    assert translator.messages_missed == 0
    assert translator.messages_ignored == 0
    assert translator.sequence.wrong_numbers == 1


def test_a_wrong_number_on_an_extra_message_costs_nothing_either() -> None:
    translator = started()
    assert translator.parse(media(2)) == [AUDIO]
    assert translator.parse(mark(1002)) == [PlaybackMarked("turn-1")]
    assert translator.parse(media(3)) == [AUDIO]  # the stream goes on from before the jump
    assert translator.parse(media(4)) == [AUDIO]
    assert translator.messages_missed == 0


def test_a_duplicate_media_frame_is_dropped() -> None:
    translator = started()
    assert translator.parse(media(2)) == [AUDIO]
    assert translator.parse(media(2)) == [MessageIgnored("stale sequence", "2 after 2")]
    assert translator.audio_bytes_in == 160


def test_a_repeated_digit_is_dropped_but_marks_and_stop_never() -> None:
    translator = started()
    assert translator.parse(dtmf(2, "5")) == [DtmfPressed("5")]
    assert translator.parse(dtmf(2, "5")) == [MessageIgnored("stale sequence", "2 after 2")]
    assert translator.parse(mark(2)) == [PlaybackMarked("turn-1")]
    assert translator.parse(stop(2)) == [CallStopped()]


def test_numbers_that_went_back_resynchronise_the_tracking() -> None:
    """Older numbers never seen: a frame alone is dropped (audio stays in order); two that
    follow each other mean the numbering went back, and the stream goes on from them."""
    translator = started()
    for seq in (10, 11):  # a jump the next message confirmed
        translator.parse(media(seq))
    assert translator.messages_missed == 8
    assert translator.parse(media(3)) == [MessageIgnored("stale sequence", "3 after 11")]
    assert translator.parse(media(4)) == [AUDIO]
    assert translator.parse(media(5)) == [AUDIO]
    assert translator.parse(stop(6)) == [CallStopped()]
    assert translator.sequence.resynced == 1


def test_an_older_stop_is_not_dropped() -> None:
    translator = started()
    translator.parse(media(10))
    translator.parse(media(11))
    assert translator.parse(stop(7)) == [CallStopped()]
    assert translator.parse(media(12)) == [AUDIO]


@pytest.mark.parametrize("sequence", [None, "", "abc", "1.5", "9" * 30, [2], True])
def test_an_unusable_sequence_number_is_lenient(sequence: Any) -> None:
    translator = started()
    message = json.loads(media(2))
    message["sequenceNumber"] = sequence
    assert translator.parse(dumps(message)) == [AUDIO]
    assert translator.sequence.expected == 2
    assert translator.parse(media(2)) == [AUDIO]


def test_a_numeric_sequence_number_is_accepted() -> None:
    translator = started()
    message = json.loads(media(2))
    message["sequenceNumber"] = 2
    translator.parse(dumps(message))
    assert translator.sequence.expected == 3


@pytest.mark.parametrize("corrupt", [70_000, 10**18])
def test_an_implausible_jump_is_forgotten(corrupt: int) -> None:
    translator = started()
    assert translator.parse(media(corrupt)) == [AUDIO]
    assert translator.parse(media(3)) == [AUDIO]
    assert translator.sequence.expected == 4
    assert translator.messages_missed == 0


def test_a_malformed_message_still_advances_the_sequence() -> None:
    translator = started()
    assert translator.parse(media(2, "!!")) == [
        MessageIgnored("malformed", "media: invalid base64 (2 chars)")
    ]
    assert translator.parse(media(3)) == [CallerAudio(b"\xff" * 160, 20)]


# ---------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("message", "detail"),
    [
        ("", "invalid JSON at char 0"),
        ("{", "invalid JSON at char 1"),
        ('{"event":"media",', "invalid JSON at char 17"),
        ("[1,2]", "a JSON list, not an object"),
        ("42", "a JSON int, not an object"),
        ("null", "a JSON NoneType, not an object"),
        ("{}", "no event name"),
        ('{"event":5}', "no event name"),
        ('"\\ud800"', "a JSON str, not an object"),
        ("[" * 60_000, "invalid JSON"),
        (b"\xff\xfe{}", "invalid UTF-8 at byte 0"),
    ],
)
def test_malformed_input(message: str | bytes, detail: str) -> None:
    assert TwilioTranslator().parse(message) == [MessageIgnored("malformed", detail)]


def test_oversized_messages_are_refused_unparsed() -> None:
    big = '{"event":"media","pad":"' + "x" * MAX_CARRIER_MESSAGE_BYTES + '"}'
    size = len(big)
    assert TwilioTranslator().parse(big) == [
        MessageIgnored("oversized", f"{size} bytes > {MAX_CARRIER_MESSAGE_BYTES}")
    ]
    assert TwilioTranslator().parse(big.encode())[0].reason == "oversized"  # type: ignore[union-attr]


def test_oversized_is_measured_in_utf8_bytes() -> None:
    # 20 000 characters of 4 UTF-8 bytes each: 80 000 bytes although only 20 000 characters.
    wide = '{"event":"x","p":"' + "\U0001f600" * 20_000 + '"}'
    [event] = TwilioTranslator().parse(wide)
    assert isinstance(event, MessageIgnored)
    assert event.reason == "oversized"
    fits = '{"event":"x","p":"' + "é" * 1000 + '"}'
    assert TwilioTranslator().parse(fits)[0].reason == "unknown event"  # type: ignore[union-attr]


def test_details_never_echo_a_payload() -> None:
    secret = "c2VjcmV0LWF1ZGlvLWJ5dGVz" * 4 + "!"
    [event] = started().parse(media(2, secret))
    assert isinstance(event, MessageIgnored)
    assert "c2Vj" not in event.detail


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=12,
)
event_names = st.sampled_from(["connected", "start", "media", "dtmf", "mark", "stop", "x"])


@given(
    st.lists(
        st.one_of(
            st.binary(max_size=64),
            st.text(max_size=64),
            st.builds(lambda v: json.dumps(v), json_values),
            st.fixed_dictionaries(
                {"event": event_names},
                optional={
                    "sequenceNumber": st.one_of(st.integers(-2, 9).map(str), json_values),
                    "streamSid": st.sampled_from([SID, "MZx"]) | json_values,
                    "start": json_values,
                    "media": json_values,
                    "dtmf": json_values,
                    "mark": json_values,
                    "protocol": json_values,
                },
            ).map(json.dumps),
        ),
        max_size=8,
    )
)
def test_parse_never_raises(messages: list[str | bytes]) -> None:
    translator = TwilioTranslator()
    for message in [start(), *messages]:
        events = translator.parse(message)
        assert isinstance(events, list)


# ------------------------------------------------------------------------------- encoding


def test_encode_before_start_raises() -> None:
    translator = TwilioTranslator()
    for command in (PlayAudio(b"\xff"), PlaceMark("m"), ClearPlayback()):
        with pytest.raises(ValueError, match="not started"):
            translator.encode(command)


def test_a_silence_frame_encodes_to_the_b4_base64() -> None:
    encoded = started().encode(PlayAudio(b"\xff" * 160))
    assert encoded == (
        '{"event":"media","streamSid":"' + SID + '","media":{"payload":"' + SILENCE_B64 + '"}}'
    )
    assert len(SILENCE_B64) == 216


def test_encode_media_bytes() -> None:
    assert started().encode(PlayAudio(b"\x00\x7f\x80\xff")) == (
        '{"event":"media","streamSid":"MZ18ad3ab5a668481ce02b83e7395059f0",'
        '"media":{"payload":"AH+A/w=="}}'
    )


def test_encode_mark_bytes() -> None:
    assert started().encode(PlaceMark("turn-1")) == (
        '{"event":"mark","streamSid":"MZ18ad3ab5a668481ce02b83e7395059f0","mark":{"name":"turn-1"}}'
    )


def test_encode_clear_bytes() -> None:
    assert started().encode(ClearPlayback()) == (
        '{"event":"clear","streamSid":"MZ18ad3ab5a668481ce02b83e7395059f0"}'
    )


def test_encoded_strings_are_escaped() -> None:
    translator = TwilioTranslator()
    hostile = 'MZ"},"event":"x\\\n'
    message = json.loads(start())
    message["streamSid"] = message["start"]["streamSid"] = hostile
    translator.parse(dumps(message))
    name = '"quoted" \\ é \u2028'
    cases: list[tuple[CarrierCommand, dict[str, Any]]] = [
        (PlaceMark(name), {"event": "mark", "streamSid": hostile, "mark": {"name": name}}),
        (ClearPlayback(), {"event": "clear", "streamSid": hostile}),
        (
            PlayAudio(b"\x01"),
            {"event": "media", "streamSid": hostile, "media": {"payload": "AQ=="}},
        ),
    ]
    for command, expected in cases:
        encoded = translator.encode(command)
        assert json.loads(encoded) == expected
        assert encoded.isascii()


@given(st.binary(max_size=2000))
def test_encoded_media_round_trips_through_parse(payload: bytes) -> None:
    translator = started()
    encoded = json.loads(translator.encode(PlayAudio(payload)))
    assert encoded == {
        "event": "media",
        "streamSid": SID,
        "media": {"payload": base64.b64encode(payload).decode()},
    }
    assert dumps(encoded) == translator.encode(PlayAudio(payload))
    if payload:
        echoed = media(2, encoded["media"]["payload"])
        assert translator.parse(echoed) == [CallerAudio(payload, 20)]
