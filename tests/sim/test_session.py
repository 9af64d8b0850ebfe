"""A whole media stream driven without a socket: times in, messages out."""

from __future__ import annotations

import base64
import json
from typing import Any

import numpy as np

from gateway.sim.script import CallScript, DtmfPress
from gateway.sim.session import CloseStream, SendText, StreamSession
from gateway.sim.twilio_stream import TwilioStream

SID = "MZ" + "2" * 32


def session(ms: int = 100, tail_ms: float = 0, **kwargs: Any) -> StreamSession:
    audio = np.full(ms * 8, 500, dtype=np.int16)
    script = CallScript(audio, tail_ms=tail_ms, **kwargs)
    return StreamSession(TwilioStream("AC1", "CA1", SID), script, (("token", "t"),))


def texts(out: list[SendText | CloseStream]) -> list[dict[str, Any]]:
    return [json.loads(item.text) for item in out if isinstance(item, SendText)]


def gateway_media(ms: int) -> str:
    payload = base64.b64encode(b"\x80" * (ms * 8)).decode()  # loud: decodes to 32124
    return json.dumps({"event": "media", "streamSid": SID, "media": {"payload": payload}})


def gateway_mark(name: str) -> str:
    return json.dumps({"event": "mark", "streamSid": SID, "mark": {"name": name}})


CLEAR = json.dumps({"event": "clear", "streamSid": SID})


def test_a_stream_from_open_to_stop() -> None:
    s = session(100, dtmf=(DtmfPress(50, "3"),))
    opening = texts(s.open(0))
    assert [m["event"] for m in opening] == ["connected", "start"]
    assert opening[1]["start"]["customParameters"] == {"token": "t"}
    assert s.next_deadline_ms() == 20
    assert s.tick(19) == []
    sent = texts(s.tick(60))
    assert [m["event"] for m in sent] == ["media", "media", "dtmf", "media"]
    out = s.tick(100)
    assert [m["event"] for m in texts(out)] == ["media", "media", "stop"]
    assert out[-1] == CloseStream(1000, "")
    assert s.ending
    assert s.next_deadline_ms() is None
    assert s.tick(200) == []
    s.socket_closed(101, 1000, "", "simulator")
    assert s.records.close is not None
    assert s.records.close.by == "simulator"
    said, heard = s.audio()
    assert len(said) == len(heard) == 800
    assert np.all(said == 500)
    assert not heard.any()
    kinds = [e.kind for e in s.records.timeline]
    assert kinds == ["sent.connected", "sent.start", "sent.dtmf", "sent.stop", "close"]


def test_marks_are_echoed_when_their_audio_has_played_and_clear_flushes_the_rest() -> None:
    s = session(1000)
    s.open(0)
    s.tick(100)
    assert s.receive(100, gateway_media(40)) == []
    assert s.receive(100, gateway_mark("a")) == []
    assert s.receive(100, gateway_media(200)) == []
    assert s.receive(100, gateway_mark("b")) == []
    assert s.next_deadline_ms() == 120  # the next frame, then mark "a" at 140
    out = s.tick(140)
    echoes = [m for m in texts(out) if m["event"] == "mark"]
    assert echoes == [
        {"event": "mark", "sequenceNumber": echoes[0]["sequenceNumber"], "mark": {"name": "a"},
         "streamSid": SID}
    ]  # fmt: skip
    out = s.receive(200, CLEAR)
    assert [m["mark"]["name"] for m in texts(out)] == ["b"]
    marks = s.records.marks
    assert [(m.name, m.played, m.due_ms) for m in marks] == [("a", True, 140), ("b", False, 200)]
    assert s.clears[0].dropped_ms == 140  # b's audio would have played until 340
    _, heard = s.audio()
    assert np.all(heard[800:1600] == 32124)  # 100..200 ms played
    assert not heard[1600:].any()
    assert s.records.media_frames_received == 2
    assert s.records.media_bytes_received == 1920
    assert [m.event for m in s.records.messages_received] == ["mark", "mark", "clear"]


def test_a_mark_due_before_a_media_frame_is_echoed_not_lost() -> None:
    s = session(1000)
    s.open(0)
    s.receive(0, gateway_media(20))
    s.receive(0, gateway_mark("a"))
    out = s.receive(50, gateway_media(20))  # "a" came due at 20; nobody ticked since
    assert [m["mark"]["name"] for m in texts(out)] == ["a"]


def test_a_protocol_violation_closes_and_nothing_more_is_sent_or_read() -> None:
    s = session(1000)
    s.open(0)
    out = s.receive(30, b"\x00binary")
    assert out == [CloseStream(1008, "31924 protocol error")]
    assert [e.code for e in s.records.errors] == [31924]
    assert s.ending
    assert s.tick(500) == []
    assert s.receive(40, gateway_mark("late")) == []
    assert s.records.marks == []
    assert s.end_ms == 30


def test_the_gateway_closing_first_ends_the_stream_where_it_closed() -> None:
    s = session(1000)
    s.open(0)
    s.tick(100)
    s.receive(100, gateway_media(500))
    s.socket_closed(300, 1000, "bye", "gateway")
    assert s.records.close is not None
    assert (s.records.close.by, s.records.close.code, s.records.close.reason) == (
        "gateway",
        1000,
        "bye",
    )
    assert s.tick(1000) == []
    said, heard = s.audio()
    assert len(said) == len(heard) == 2400  # to the close at 300 ms
    assert np.all(heard[800:2400] == 32124)
    s.socket_closed(400, None, "", "gateway")  # a second report of the close is ignored
    assert s.records.close.at_ms == 300
