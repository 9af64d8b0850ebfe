"""Re-chunking of an encoded byte stream into fixed-size carrier frames."""

from __future__ import annotations


class Framer:
    """Cuts a byte stream into frames of exactly `frame_bytes`, carrying the remainder.

    `push` returns the complete frames so far; `flush` pads the remainder with `pad_byte` (the
    codec's silence) into a last frame; `reset` drops the remainder (barge-in).
    """

    def __init__(self, frame_bytes: int, pad_byte: int) -> None:
        if frame_bytes <= 0:
            raise ValueError(f"frame size must be positive, got {frame_bytes}")
        if not 0 <= pad_byte <= 0xFF:
            raise ValueError(f"pad byte must be 0..255, got {pad_byte}")
        self.frame_bytes = frame_bytes
        self.pad_byte = pad_byte
        self._pending = b""

    @property
    def pending_bytes(self) -> int:
        """Bytes held for the next frame (always fewer than `frame_bytes`)."""
        return len(self._pending)

    def push(self, data: bytes) -> list[bytes]:
        """Append `data`; return every complete frame, oldest first."""
        # Not built on push_joined: this runs per chunk of model audio, and a call costs.
        if self._pending:
            data = self._pending + data
        size = self.frame_bytes
        end = len(data) - len(data) % size
        self._pending = data[end:]
        if end == size:
            return [data if end == len(data) else data[:size]]
        return [data[i : i + size] for i in range(0, end, size)]

    def push_joined(self, data: bytes) -> bytes:
        """Append `data`; return every complete frame as one byte string (maybe empty).

        With `frame_bytes=2` this keeps 16-bit PCM whole when a sample is split across chunks.
        """
        if self._pending:
            data = self._pending + data
        end = len(data) - len(data) % self.frame_bytes
        self._pending = data[end:]
        return data if end == len(data) else data[:end]

    def flush(self) -> list[bytes]:
        """Return the remainder padded to a whole frame (or nothing), and start empty."""
        if not self._pending:
            return []
        frame = self._pending + bytes([self.pad_byte]) * (self.frame_bytes - len(self._pending))
        self._pending = b""
        return [frame]

    def reset(self) -> None:
        """Drop the remainder."""
        self._pending = b""
