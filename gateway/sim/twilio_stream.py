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

from gateway.audio.paths import Encoding
from gateway.sim.checks import event_name, json_message
from gateway.sim.codecs import FILE_HEADERS, StreamCodec
from gateway.sim.dialect import (
    GatewayClear,
    GatewayCommand,
    GatewayMark,
    GatewayMedia,
    ProtocolViolation,
)

__all__ = ["FILE_HEADERS", "PROTOCOL_ERROR", "TwilioStream"]

PROTOCOL_ERROR = 31924


def _dumps(message: dict[str, Any]) -> str:
    return json.dumps(message, separators=(",", ":"))


class TwilioStream:
    """One stream's messages: sequence numbers, chunk numbers, validation of the gateway's."""

    def __init__(
        self,
        account_sid: str,
        call_sid: str,
        stream_sid: str,
        *,
        codec: StreamCodec | None = None,
        encoding: str = "audio/x-mulaw",
    ) -> None:
        """Twilio's μ-law 8 kHz stream; a Twilio-compatible carrier (SignalWire) passes the
        `codec` its answer selected and the `mediaFormat.encoding` it names it by."""
        self.account_sid = account_sid
        self.call_sid = call_sid
        self.stream_sid = stream_sid
        self.codec = codec or StreamCodec(Encoding.MULAW)
        self.encoding = encoding
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
                "mediaFormat": {
                    "encoding": self.encoding,
                    "sampleRate": self.codec.rate_hz,
                    "channels": 1,
                },
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
        return self.codec.encode(samples)

    # -- gateway -> Twilio ---------------------------------------------------------------------

    def event_name(self, message: str | bytes) -> str:
        return event_name(message)

    def parse_gateway(self, message: str | bytes) -> GatewayCommand | ProtocolViolation:
        data = json_message(message, PROTOCOL_ERROR, "Twilio")
        if isinstance(data, ProtocolViolation):
            return data
        event = data.get("event")
        if event not in ("media", "mark", "clear"):
            return _violation(f"unknown event {event!r} (only media, mark, clear)")
        stream_sid = data.get("streamSid")
        if stream_sid is None:
            return _violation(f"{event} without streamSid")
        if stream_sid != self.stream_sid:
            return _violation(f"{event} for streamSid {stream_sid!r}, not this stream's")
        if event == "media":
            return _media(data.get("media"), self.codec)
        if event == "mark":
            mark = data.get("mark")
            name = mark.get("name") if isinstance(mark, dict) else None
            if not isinstance(name, str) or not name:
                return _violation("mark without a mark.name string")
            return GatewayMark(name)
        return GatewayClear()


def _violation(reason: str) -> ProtocolViolation:
    return ProtocolViolation(PROTOCOL_ERROR, reason)


def _media(media: object, codec: StreamCodec) -> GatewayMedia | ProtocolViolation:
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
    samples = codec.decode(codes)
    if samples is None:
        return _violation("media payload: an odd number of L16 bytes")
    return GatewayMedia(samples)
