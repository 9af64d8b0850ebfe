"""Exotel Voicebot stream messages, as Exotel writes them and as it checks the gateway's.

protocols.md C.4 (Exotel -> gateway), snake_case JSON text frames: `connected`, then `start`
(`stream_sid`, `call_sid`, `account_sid`, `custom_parameters`, `media_format` with `encoding`
`audio/x-raw`, `sample_rate` and `bit_rate` as strings), `media` about every 100 ms (five of the
simulator's 20 ms frames: `chunk`, `timestamp`, base64 L16), `dtmf`, `mark` echoes, `stop`.
Every message after `connected` carries a string `sequence_number` from "1". With
`legacy_format` the `start` has the older `media_format` many clients still send (Exotel's older
support article): `"encoding": "base64"` and `bit_rate` in kbps (`"128kbps"` at 8 kHz), for the
same 16-bit PCM.

Gateway -> Exotel: `media` (`stream_sid`, base64 L16 at the stream's rate), `mark`, `clear`.
Exotel's chunk rules are checked strictly: a media payload of fewer than 3,200 bytes, more than
100 KB or not a multiple of 320 bytes is refused (ours: Exotel documents gaps and jitter, not a
refusal; the simulator stops the call so that a test sees it). Marks are echoed when the audio
before them has played, and at a clear (ours: undocumented, as Twilio does).
"""

from __future__ import annotations

import base64
import json
from typing import Any

import numpy as np
import numpy.typing as npt

from gateway.carriers.exotel.translator import CHUNK_MULTIPLE_BYTES, MIN_CHUNK_BYTES, RATE_PARAMETER
from gateway.sim.checks import event_name
from gateway.sim.codecs import StreamCodec, media_payload
from gateway.sim.dialect import GatewayClear, GatewayCommand, GatewayMark, ProtocolViolation

__all__ = ["FRAMES_PER_CHUNK", "MAX_CHUNK_BYTES", "PROTOCOL_ERROR", "ExotelStream"]

PROTOCOL_ERROR = 1007
"""Ours: Exotel documents no error codes for the stream."""
FRAMES_PER_CHUNK = 5
"""Caller audio goes out in 100 ms chunks (five 20 ms frames), as Exotel sends it."""
MAX_CHUNK_BYTES = 100 * 1024


def _dumps(message: dict[str, Any]) -> str:
    return json.dumps(message, separators=(",", ":"))


def _violation(reason: str) -> ProtocolViolation:
    return ProtocolViolation(PROTOCOL_ERROR, reason)


class ExotelStream:
    """One Voicebot stream: sequence and chunk numbers, 100 ms chunks, validation."""

    def __init__(
        self, account_sid: str, call_sid: str, codec: StreamCodec, *, legacy_format: bool = False
    ) -> None:
        self.legacy_format = legacy_format
        self.account_sid = account_sid
        self.call_sid = call_sid
        self.stream_sid = "ES" + call_sid[-30:]
        self.codec = codec
        self._sequence = 0
        self._chunk = 0
        self._pending: list[bytes] = []
        self._pending_ms = 0

    def _numbered(self, event: str, **body: Any) -> str:
        self._sequence += 1
        message = {"event": event, "sequence_number": str(self._sequence)}
        return _dumps({**message, "stream_sid": self.stream_sid, **body})

    # -- Exotel -> gateway ---------------------------------------------------------------------

    def opening(self, parameters: tuple[tuple[str, str], ...]) -> list[str]:
        custom = {k: v for k, v in parameters if k != RATE_PARAMETER}
        start = {
            "stream_sid": self.stream_sid,
            "call_sid": self.call_sid,
            "account_sid": self.account_sid,
            "from": "09999900000",
            "to": "08047100000",
            "custom_parameters": custom,
            "media_format": self._media_format(),
        }
        return [_dumps({"event": "connected"}), self._numbered("start", start=start)]

    def _media_format(self) -> dict[str, str]:
        rate = str(self.codec.rate_hz)
        if self.legacy_format:
            kbps = self.codec.rate_hz * 16 // 1000
            return {"encoding": "base64", "sample_rate": rate, "bit_rate": f"{kbps}kbps"}
        return {"encoding": "audio/x-raw", "sample_rate": rate, "bit_rate": "16"}

    def _chunk_message(self) -> str:
        self._chunk += 1
        payload = b"".join(self._pending)
        media = {
            "chunk": str(self._chunk),
            "timestamp": str(self._pending_ms),
            "payload": base64.b64encode(payload).decode("ascii"),
        }
        self._pending = []
        return self._numbered("media", media=media)

    def media(self, payload: bytes, timestamp_ms: int) -> list[str | bytes]:
        if not self._pending:
            self._pending_ms = timestamp_ms
        self._pending.append(payload)
        if len(self._pending) < FRAMES_PER_CHUNK:
            return []
        return [self._chunk_message()]

    def dtmf(self, digit: str) -> str:
        return self._numbered("dtmf", dtmf={"digit": digit, "duration": "100"})

    def mark_echo(self, name: str) -> str:
        return self._numbered("mark", mark={"name": name})

    def stop(self) -> list[str | bytes]:
        rest: list[str | bytes] = [self._chunk_message()] if self._pending else []
        stop = {"call_sid": self.call_sid, "account_sid": self.account_sid, "reason": "callended"}
        return [*rest, self._numbered("stop", stop=stop)]

    def encode_audio(self, samples: npt.NDArray[np.int16]) -> bytes:
        return self.codec.encode(samples)

    # -- gateway -> Exotel ---------------------------------------------------------------------

    def event_name(self, message: str | bytes) -> str:
        return event_name(message)

    def parse_gateway(self, message: str | bytes) -> GatewayCommand | ProtocolViolation:
        if isinstance(message, bytes):
            return _violation("a binary frame (Exotel takes JSON text frames)")
        try:
            data = json.loads(message)
        except ValueError:
            return _violation("not valid JSON")
        event = data.get("event") if isinstance(data, dict) else None
        if event not in ("media", "mark", "clear"):
            return _violation(f"unknown event {event!r} (only media, mark, clear)")
        if data.get("stream_sid") != self.stream_sid:
            return _violation(f"{event} without this stream's stream_sid")
        if event == "clear":
            return GatewayClear()
        if event == "mark":
            mark = data.get("mark")
            name = mark.get("name") if isinstance(mark, dict) else None
            if not isinstance(name, str) or not name:
                return _violation("mark without a mark.name string")
            return GatewayMark(name)
        media = data.get("media")
        payload = media.get("payload") if isinstance(media, dict) else None
        result = media_payload(payload, self.codec, PROTOCOL_ERROR)
        if isinstance(result, ProtocolViolation) or not isinstance(payload, str):
            return result
        size = len(payload) * 3 // 4 - payload.count("=")  # valid base64 by now
        if size < MIN_CHUNK_BYTES or size > MAX_CHUNK_BYTES or size % CHUNK_MULTIPLE_BYTES:
            return _violation(
                f"a media chunk of {size} bytes: Exotel needs at least {MIN_CHUNK_BYTES}, at "
                f"most {MAX_CHUNK_BYTES} and a multiple of {CHUNK_MULTIPLE_BYTES}"
            )
        return result
