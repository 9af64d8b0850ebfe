"""The JSON helpers every carrier translator shares."""

from __future__ import annotations

import pytest

from gateway.carriers.messages import clip, integer, json_object, oversized
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
