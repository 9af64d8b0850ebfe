"""Proto3 JSON helpers."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.live.wire import (
    b64decode_any,
    b64encode,
    camel_to_snake,
    get_field,
    parse_duration_s,
    parse_int64,
    pcm_rate_hz,
    snake_to_camel,
)


def test_casing() -> None:
    assert camel_to_snake("responseModalities") == "response_modalities"
    assert camel_to_snake("prefixPaddingMs") == "prefix_padding_ms"
    assert camel_to_snake("model") == "model"
    assert snake_to_camel("silence_duration_ms") == "silenceDurationMs"
    assert snake_to_camel("turnComplete") == "turnComplete"
    assert get_field({"turn_complete": True}, "turnComplete") is True
    assert get_field({"turnComplete": 1, "turn_complete": 2}, "turnComplete") == 1
    assert get_field({}, "turnComplete") is None


def test_base64_both_alphabets() -> None:
    assert b64encode(b"\xff\xd8") == "/9g="
    assert b64decode_any("/9g=") == b"\xff\xd8"
    assert b64decode_any("_9g=") == b"\xff\xd8"
    assert b64decode_any("_9g") == b"\xff\xd8"
    assert b64decode_any("") == b""
    assert b64decode_any("a b!") is None
    assert b64decode_any(5) is None


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("50s", 50.0),
        ("1.5s", 1.5),
        (" 10s ", 10.0),
        (3, 3.0),
        ({"seconds": "1", "nanos": 500000000}, 1.5),
        ("50", None),
        (True, None),
        (None, None),
    ],
)
def test_durations(value: Any, seconds: float | None) -> None:
    assert parse_duration_s(value) == seconds


@pytest.mark.parametrize(
    ("value", "number"),
    [
        ("123", 123),
        (" 9007199254740993 ", 9007199254740993),
        (7, 7),
        (7.0, 7),
        (7.5, None),
        ("x", None),
        (False, None),
        (None, None),
    ],
)
def test_int64(value: Any, number: int | None) -> None:
    assert parse_int64(value) == number


@pytest.mark.parametrize(
    ("mime", "rate"),
    [
        ("audio/pcm;rate=24000", 24000),
        ("audio/pcm; rate=16000", 16000),
        ("AUDIO/L16;codec=pcm;rate=8000", 8000),
        ("audio/pcm", 24000),
        ("audio/pcm;rate=5", None),
        ("audio/wav", None),
        (None, None),
    ],
)
def test_pcm_rate(mime: Any, rate: int | None) -> None:
    assert pcm_rate_hz(mime, 24000) == rate
