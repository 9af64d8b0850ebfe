"""Framer: exact frames, remainder carried, padding with the codec's silence."""

from __future__ import annotations

import pytest

from gateway.audio.framer import Framer


def test_exact_frames_and_carried_remainder() -> None:
    f = Framer(160, 0xFF)
    assert f.push(b"a" * 100) == []
    assert f.pending_bytes == 100
    assert f.push(b"b" * 100) == [b"a" * 100 + b"b" * 60]
    assert f.pending_bytes == 40
    frames = f.push(b"c" * 400)
    assert frames == [b"b" * 40 + b"c" * 120, b"c" * 160]
    assert f.pending_bytes == 120


def test_one_exact_frame_is_passed_through() -> None:
    f = Framer(160, 0xFF)
    data = bytes(range(160))
    assert f.push(data) == [data]
    assert f.pending_bytes == 0


def test_flush_pads_with_silence_and_empties() -> None:
    f = Framer(4, 0xFF)
    f.push(b"\x01\x02\x03\x04\x05")
    assert f.flush() == [b"\x05\xff\xff\xff"]
    assert f.flush() == []


def test_reset_drops_the_remainder() -> None:
    f = Framer(4, 0)
    f.push(b"\x01\x02")
    f.reset()
    assert f.push(b"\x03\x04\x05\x06") == [b"\x03\x04\x05\x06"]


@pytest.mark.parametrize(("size", "pad"), [(0, 0), (-1, 0), (4, 256)])
def test_rejects_bad_configuration(size: int, pad: int) -> None:
    with pytest.raises(ValueError, match="must be"):
        Framer(size, pad)


def test_push_joined_returns_whole_units_as_one_string() -> None:
    f = Framer(2, 0)
    assert f.push_joined(b"\x01\x02\x03") == b"\x01\x02"
    assert f.pending_bytes == 1
    assert f.push_joined(b"\x04") == b"\x03\x04"
    assert f.push_joined(b"") == b""
    assert f.pending_bytes == 0
