"""What the caller says and presses while the model connects, held to be sent once it is open.

Audio is held already converted (16 kHz PCM16), so the uplink's filter state runs on without a
gap. Past `limit_ms` of audio the oldest audio goes first (counted); keypresses are tiny and
never dropped. Everything comes out in the order it arrived.
"""

from __future__ import annotations

from collections import deque

from gateway.core.events import SendAudio, SendText

__all__ = ["ConnectBuffer"]

_PCM16_BYTES_PER_SAMPLE = 2


class ConnectBuffer:
    def __init__(self, limit_ms: float, rate_hz: int = 16_000) -> None:
        self._bytes_per_ms = rate_hz * _PCM16_BYTES_PER_SAMPLE / 1000
        self._limit_bytes = limit_ms * self._bytes_per_ms
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
        """Everything held, in arrival order; the buffer is empty afterwards."""
        items = list(self._items)
        self._items.clear()
        self._audio_bytes = 0
        return items
