"""What the emulator received, per session, so tests can assert what the model heard.

Plain synchronous data. Audio payloads are not kept in the message log (only their sample
counts); the caller audio itself is kept per session when `keep_audio` is on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["ReceivedMessage", "Recorder", "SessionRecord", "summarise"]


@dataclass(frozen=True)
class ReceivedMessage:
    """One client message: emulated time since the emulator started, connection (1-based)."""

    t_s: float
    connection: int
    kind: str
    body: dict[str, Any]


@dataclass
class SessionRecord:
    """Everything one Live session (across its resumed connections) received and did."""

    session_id: str
    keep_audio: bool = True
    setups: list[dict[str, Any]] = field(default_factory=list)
    messages: list[ReceivedMessage] = field(default_factory=list)
    audio_samples: int = 0
    audio_samples_by_connection: dict[int, int] = field(default_factory=dict)
    audio_rates_hz: set[int] = field(default_factory=set)
    utterances: list[tuple[int, int]] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    tool_responses: list[dict[str, Any]] = field(default_factory=list)
    model_audio_samples: int = 0
    closes: list[tuple[int, int, str]] = field(default_factory=list)
    handles: list[tuple[int, str]] = field(default_factory=list)
    """(connection, handle) of every resumable handle issued, in order."""
    connections: int = 0
    _audio: list[tuple[int, npt.NDArray[np.int16]]] = field(default_factory=list, repr=False)

    def add_audio(self, connection: int, samples: npt.NDArray[np.int16], rate_hz: int) -> None:
        self.audio_samples += len(samples)
        self.audio_samples_by_connection[connection] = self.audio_samples_by_connection.get(
            connection, 0
        ) + len(samples)
        self.audio_rates_hz.add(rate_hz)
        if self.keep_audio:
            self._audio.append((connection, samples))

    def audio(self, connection: int | None = None) -> npt.NDArray[np.int16]:
        """All caller audio received (or on one `connection`), empty if not kept.

        Connection by connection, each in the order it arrived: the handlers of an old and a
        new connection may run interleaved for a moment, while the client's order is
        everything on the old one, then everything on the new one."""
        chunks = [
            samples
            for number, samples in sorted(self._audio, key=lambda item: item[0])
            if connection is None or number == connection
        ]
        if not chunks:
            return np.zeros(0, dtype=np.int16)
        return np.concatenate(chunks)

    def kinds(self) -> list[str]:
        return [m.kind for m in self.messages]


@dataclass
class Recorder:
    """All sessions, in the order they were created, plus refused connections."""

    keep_audio: bool = True
    sessions: list[SessionRecord] = field(default_factory=list)
    refused: list[tuple[int, str]] = field(default_factory=list)

    def new_session(self, session_id: str) -> SessionRecord:
        record = SessionRecord(session_id=session_id, keep_audio=self.keep_audio)
        self.sessions.append(record)
        return record

    def session(self, session_id: str) -> SessionRecord:
        for record in self.sessions:
            if record.session_id == session_id:
                return record
        raise KeyError(session_id)


def _decoded_size(text: Any) -> int:
    """Bytes a base64 string decodes to (either alphabet, padded or not), without decoding it."""
    if not isinstance(text, str):
        return 0
    return len(text.rstrip("=")) * 3 // 4


def summarise(kind: str, body: dict[str, Any]) -> dict[str, Any]:
    """The body to record: audio payloads replaced by their sample counts."""
    if kind != "realtimeInput":
        return body
    result = dict(body)
    for name in ("audio", "mediaChunks"):
        blobs = body.get(name)
        if blobs is None:
            continue
        items = blobs if isinstance(blobs, list) else [blobs]
        summarised = []
        for blob in items:
            data = blob.get("data", "") if isinstance(blob, dict) else ""
            mime = blob.get("mimeType") if isinstance(blob, dict) else None
            summarised.append({"mimeType": mime, "samples": _decoded_size(data) // 2})
        result[name] = summarised if isinstance(blobs, list) else summarised[0]
    return result
