"""What the caller says and presses while no model session is ready, held to be sent once it is.

Audio is held already converted (16 kHz PCM16), so the uplink's filter state runs on without a
gap. Past `limit_ms` of audio the oldest audio goes first (counted); keypresses are tiny and
never dropped. Everything comes out in the order it arrived.

Held audio is replayed in large chunks: consecutive frames are joined into `realtimeInput` audio
messages of up to `HELD_CHUNK_MS` (1 s, 32,000 bytes of PCM, about 43 KB as JSON), so 30 s of held
audio is 30 messages, not 1,500 frames, and the Live link's queue takes the whole replay at once.
Live takes audio messages of any length (the Live guide sends a whole file in one message; the
emulator's message limit is 16 MiB); 1 s keeps each one far below any frame limit.
"""

from __future__ import annotations

from collections import deque
from typing import Final

from gateway.core.events import SendAudio, SendText

__all__ = ["HELD_CHUNK_MS", "ConnectBuffer"]

_PCM16_BYTES_PER_SAMPLE = 2
HELD_CHUNK_MS: Final = 1_000
"""The longest audio message a replay of held audio sends."""


class ConnectBuffer:
    def __init__(
        self, limit_ms: float, rate_hz: int = 16_000, *, chunk_ms: float = HELD_CHUNK_MS
    ) -> None:
        self._bytes_per_ms = rate_hz * _PCM16_BYTES_PER_SAMPLE / 1000
        self._limit_bytes = limit_ms * self._bytes_per_ms
        self._chunk_bytes = chunk_ms * self._bytes_per_ms
        self._items: deque[SendAudio | SendText] = deque()
        self._audio_bytes = 0
        self.dropped_bytes = 0
        self.rate_hz = rate_hz

    @property
    def audio_ms(self) -> float:
        """Audio held now."""
        return self._audio_bytes / self._bytes_per_ms

    @property
    def dropped_ms(self) -> float:
        """Audio dropped so far because the buffer was full."""
        return self.dropped_bytes / self._bytes_per_ms

    def add_audio(self, pcm: bytes) -> None:
        self._items.append(SendAudio(pcm, self.rate_hz))
        self._audio_bytes += len(pcm)
        while self._audio_bytes > self._limit_bytes:
            self._drop_oldest_audio()

    def add_text(self, text: str) -> None:
        self._items.append(SendText(text))

    def _drop_oldest_audio(self) -> None:
        items = self._items
        for index, item in enumerate(items):
            if isinstance(item, SendAudio):
                del items[index]
                self._audio_bytes -= len(item.pcm)
                self.dropped_bytes += len(item.pcm)
                return

    def drain(self) -> list[SendAudio | SendText]:
        """Everything held, in arrival order, consecutive audio joined into chunks of at most
        `chunk_ms` (a longer single frame stays whole); the buffer is empty afterwards."""
        out: list[SendAudio | SendText] = []
        chunk: list[bytes] = []
        size = 0
        for item in self._items:
            if isinstance(item, SendAudio):
                if chunk and size + len(item.pcm) > self._chunk_bytes:
                    out.append(SendAudio(b"".join(chunk), self.rate_hz))
                    chunk, size = [], 0
                chunk.append(item.pcm)
                size += len(item.pcm)
                continue
            if chunk:
                out.append(SendAudio(b"".join(chunk), self.rate_hz))
                chunk, size = [], 0
            out.append(item)
        if chunk:
            out.append(SendAudio(b"".join(chunk), self.rate_hz))
        self._items.clear()
        self._audio_bytes = 0
        return out
