"""Audio and keypresses held while the model connects: order kept, oldest audio dropped first."""

from __future__ import annotations

from gateway.core.connect_buffer import ConnectBuffer
from gateway.core.events import SendAudio, SendText


def _pcm(tag: int, ms: int = 20) -> bytes:
    return bytes([tag]) * (32 * ms)  # 16 kHz PCM16: 32 bytes per ms


def test_everything_comes_out_in_arrival_order() -> None:
    buffer = ConnectBuffer(limit_ms=1000)
    buffer.add_audio(_pcm(1))
    buffer.add_text("pressed 1")
    buffer.add_audio(_pcm(2))
    assert buffer.audio_ms == 40
    assert buffer.drain() == [SendAudio(_pcm(1)), SendText("pressed 1"), SendAudio(_pcm(2))]
    assert buffer.drain() == []
    assert buffer.audio_ms == 0


def test_overflow_drops_the_oldest_audio_and_keeps_keypresses() -> None:
    buffer = ConnectBuffer(limit_ms=40)
    buffer.add_text("pressed 1")
    for tag in (1, 2, 3, 4):
        buffer.add_audio(_pcm(tag))
    assert buffer.dropped_ms == 40
    assert buffer.audio_ms == 40
    assert buffer.drain() == [SendText("pressed 1"), SendAudio(_pcm(3)), SendAudio(_pcm(4))]


def test_a_zero_limit_holds_no_audio() -> None:
    buffer = ConnectBuffer(limit_ms=0)
    buffer.add_audio(_pcm(1))
    assert (buffer.audio_ms, buffer.dropped_ms) == (0, 20)
    assert buffer.drain() == []
