"""Twilio Media Streams messages, as Twilio writes them and as Twilio checks the gateway's.

protocols.md B.2 (Twilio -> gateway): every message but `connected` carries `streamSid` and a
string `sequenceNumber` counting from "1" across all messages; `media` carries `track`,
`chunk` (from "1"), `timestamp` (ms since stream start, a string) and base64 μ-law.

protocols.md B.3 (gateway -> Twilio): JSON text frames with `event` `media`, `mark` or `clear`
and this stream's `streamSid`; a media payload is base64 of raw μ-law 8 kHz, no file header.
Anything else is error 31924 and the stream ends.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

import numpy as np
import numpy.typing as npt

from gateway.audio import g711
from gateway.sim.dialect import (
    GatewayClear,
    GatewayCommand,
    GatewayMark,
    GatewayMedia,
    ProtocolViolation,
)

__all__ = ["FILE_HEADERS", "PROTOCOL_ERROR", "TwilioStream"]

PROTOCOL_ERROR = 31924

FILE_HEADERS: dict[bytes, str] = {
    b"RIFF": "a WAV (RIFF) header",
    b"RIFX": "a WAV (RIFX) header",
    b"ID3": "an MP3 (ID3) header",
    b"OggS": "an Ogg header",
    b"fLaC": "a FLAC header",
    b".snd": "a Sun/NeXT .au header",
    b"FORM": "an AIFF header",
    b"#!AMR": "an AMR header",
}
"""Magic numbers of audio containers a gateway might wrongly send as a payload.

Raw μ-law has no structure, so only container headers are detectable: MP3 frame syncs (0xFF 0xFB…)
are not checked, because 0xFF is μ-law silence and that pair is ordinary audio.
"""


def _dumps(message: dict[str, Any]) -> str:
    return json.dumps(message, separators=(",", ":"))


class TwilioStream:
    """One stream's messages: sequence numbers, chunk numbers, validation of the gateway's."""

    def __init__(self, account_sid: str, call_sid: str, stream_sid: str) -> None:
        self.account_sid = account_sid
        self.call_sid = call_sid
        self.stream_sid = stream_sid
        self._sequence = 0
        self._chunk = 0

    def _numbered(self, event: str, **body: Any) -> str:
        self._sequence += 1
        return _dumps(
            {
                "event": event,
                "sequenceNumber": str(self._sequence),
                **body,
                "streamSid": self.stream_sid,
            }
        )

    # -- Twilio -> gateway ---------------------------------------------------------------------

    def opening(self, parameters: tuple[tuple[str, str], ...]) -> list[str]:
        connected = _dumps({"event": "connected", "protocol": "Call", "version": "1.0.0"})
        start = self._numbered(
            "start",
            start={
                "accountSid": self.account_sid,
                "streamSid": self.stream_sid,
                "callSid": self.call_sid,
                "tracks": ["inbound"],
                "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1},
                "customParameters": dict(parameters),
            },
        )
        return [connected, start]

    def media(self, payload: bytes, timestamp_ms: int) -> str:
        self._chunk += 1
        return self._numbered(
            "media",
            media={
                "track": "inbound",
                "chunk": str(self._chunk),
                "timestamp": str(timestamp_ms),
                "payload": base64.b64encode(payload).decode("ascii"),
            },
        )

    def dtmf(self, digit: str) -> str:
        return self._numbered("dtmf", dtmf={"track": "inbound_track", "digit": digit})

    def mark_echo(self, name: str) -> str:
        return self._numbered("mark", mark={"name": name})

    def stop(self) -> str:
        return self._numbered(
            "stop", stop={"accountSid": self.account_sid, "callSid": self.call_sid}
        )

    def encode_audio(self, samples: npt.NDArray[np.int16]) -> bytes:
        return g711.ulaw_encode(samples.astype("<i2", copy=False).tobytes())

    # -- gateway -> Twilio ---------------------------------------------------------------------

    def event_name(self, message: str | bytes) -> str:
        if isinstance(message, bytes):
            return "?"
        try:
            event = json.loads(message).get("event")
        except (ValueError, AttributeError):
            return "?"
        return event if isinstance(event, str) else "?"

    def parse_gateway(self, message: str | bytes) -> GatewayCommand | ProtocolViolation:
        if isinstance(message, bytes):
            return _violation("a binary frame (Twilio takes JSON text frames only)")
        try:
            data = json.loads(message)
        except ValueError:
            return _violation("not valid JSON")
        if not isinstance(data, dict):
            return _violation("not a JSON object")
        event = data.get("event")
        if event not in ("media", "mark", "clear"):
            return _violation(f"unknown event {event!r} (only media, mark, clear)")
        stream_sid = data.get("streamSid")
        if stream_sid is None:
            return _violation(f"{event} without streamSid")
        if stream_sid != self.stream_sid:
            return _violation(f"{event} for streamSid {stream_sid!r}, not this stream's")
        if event == "media":
            return _media(data.get("media"))
        if event == "mark":
            mark = data.get("mark")
            name = mark.get("name") if isinstance(mark, dict) else None
            if not isinstance(name, str) or not name:
                return _violation("mark without a mark.name string")
            return GatewayMark(name)
        return GatewayClear()


def _violation(reason: str) -> ProtocolViolation:
    return ProtocolViolation(PROTOCOL_ERROR, reason)


def _media(media: object) -> GatewayMedia | ProtocolViolation:
    payload = media.get("payload") if isinstance(media, dict) else None
    if not isinstance(payload, str):
        return _violation("media without a media.payload string")
    try:
        codes = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        return _violation("media payload is not valid base64")
    for magic, what in FILE_HEADERS.items():
        if codes.startswith(magic):
            return _violation(f"media payload starts with {what}; send raw μ-law")
    return GatewayMedia(g711.pcm16_samples(g711.ulaw_decode(codes)).astype(np.int16))
