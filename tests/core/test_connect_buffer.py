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
    assert buffer.drain() == [SendText("pressed 1"), SendAudio(_pcm(3) + _pcm(4))]


def test_a_zero_limit_holds_no_audio() -> None:
    buffer = ConnectBuffer(limit_ms=0)
    buffer.add_audio(_pcm(1))
    assert (buffer.audio_ms, buffer.dropped_ms) == (0, 20)
    assert buffer.drain() == []


def test_held_audio_is_replayed_in_chunks_of_at_most_a_second() -> None:
    # 30 s of 20 ms frames (1,500) with a key pressed after the 70th frame.
    buffer = ConnectBuffer(limit_ms=30_000)
    for index in range(1_500):
        buffer.add_audio(_pcm(index % 251))
        if index == 69:
            buffer.add_text("pressed 1")
    assert buffer.audio_ms == 30_000
    drained = buffer.drain()
    sizes = [len(item.pcm) if isinstance(item, SendAudio) else item for item in drained]
    # 1 s is 32,000 bytes: 50 frames, then the 20 before the key, then the rest in seconds.
    assert sizes == [32_000, 640 * 20, SendText("pressed 1"), *[32_000] * 28, 640 * 30]
    joined = b"".join(item.pcm for item in drained if isinstance(item, SendAudio))
    assert joined == b"".join(_pcm(index % 251) for index in range(1_500))  # every byte, in order
    assert buffer.dropped_ms == 0


def test_a_frame_longer_than_a_chunk_stays_whole() -> None:
    buffer = ConnectBuffer(limit_ms=10_000, chunk_ms=40)
    buffer.add_audio(_pcm(1))
    buffer.add_audio(_pcm(2, ms=60))
    buffer.add_audio(_pcm(3))
    buffer.add_audio(_pcm(4))
    assert buffer.drain() == [
        SendAudio(_pcm(1)),
        SendAudio(_pcm(2, ms=60)),
        SendAudio(_pcm(3) + _pcm(4)),
    ]
