"""The JSON helpers every carrier translator shares."""

from __future__ import annotations

import pytest

from gateway.carriers.messages import (
    MAX_ID_CHARS,
    bounded_id,
    clip,
    integer,
    json_object,
    oversized,
    stale_drop,
)
from gateway.carriers.reorder import Stale
from gateway.core.events import MessageIgnored


def test_json_object() -> None:
    assert json_object('{"a": 1}') == {"a": 1}
    assert json_object(b'{"a": 1}') == {"a": 1}


@pytest.mark.parametrize(
    ("message", "detail"),
    [
        ("nope", "invalid JSON at char 0"),
        ("[1, 2]", "a JSON list, not an object"),
        (b"\xff{}", "invalid UTF-8 at byte 0"),
        ('"\\ud800"', "a JSON str, not an object"),
        ("[" * 100_000, None),
    ],
)
def test_json_object_refusals(message: str | bytes, detail: str | None) -> None:
    result = json_object(message)
    assert isinstance(result, MessageIgnored)
    if detail is not None:
        assert result.detail == detail


def test_oversized() -> None:
    assert oversized("x" * 10) is None
    assert oversized("é" * 40_000) == MessageIgnored("oversized", "80000 bytes > 65536")
    assert oversized(b"x" * 11, limit=10) == MessageIgnored("oversized", "11 bytes > 10")


def test_clip_and_integer() -> None:
    assert clip("a\x00b") == "a?b"
    assert clip("x" * 100) == "x" * 80 + "…"
    assert [integer(v) for v in ("12", 12, 12.0, True, "x", "1" * 30, None)] == [
        12, 12, 12, None, None, None, None,
    ]  # fmt: skip


def test_bounded_id() -> None:
    call_sid = "CA" + "0" * 32
    assert bounded_id(call_sid) == call_sid
    huge = "CA" + "9" * 60_000
    assert bounded_id(huge) == "CA" + "9" * (MAX_ID_CHARS - 2) + "…[60002 chars]"
    assert bounded_id("a\nb\x1b") == "a?b?"
    assert bounded_id("x" * 300, 200) == "x" * 200 + "…[300 chars]"


def test_stale_drop_drops_only_audio_and_repeated_digits() -> None:
    repeat, unseen = Stale(2, 5), Stale(2, 5, duplicate=False)
    assert stale_drop("media", unseen) == MessageIgnored("stale sequence", "2 after 4")
    assert stale_drop("dtmf", repeat) == MessageIgnored("stale sequence", "2 after 4")
    assert stale_drop("dtmf", unseen) is None
    for event in ("stop", "mark", "start", "playedStream", "clearedAudio"):
        assert stale_drop(event, repeat) is None
