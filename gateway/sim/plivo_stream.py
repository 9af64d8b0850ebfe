"""Plivo audio-stream messages, as Plivo writes them and as Plivo checks the gateway's.

protocols.md C.2 (Plivo -> gateway): camelCase JSON text frames; `start` (`sequenceNumber` 1,
`start.callId`, `start.streamId`, `start.mediaFormat`, and the answer's extra headers echoed as
`extra_headers`, `k=v,k2=v2`), then `media` every 20 ms, `dtmf`, `playedStream` (a checkpoint
played) and `clearedAudio` (a `clearAudio` done), then `stop`. `sequenceNumber` is sent as a
JSON number here (it has been seen both ways).

protocols.md C.2 (gateway -> Plivo): `playAudio` with `media.contentType` and
`media.sampleRate` matching the stream and a base64 raw payload, `checkpoint` with a `name`,
`clearAudio`; `streamId`, when given, must be this stream's. Anything else is refused (code
ours: Plivo's stream error codes are not documented).

Choices where Plivo is undocumented (ours): the checkpoints a `clearAudio` flushed get no
`playedStream` at all (the stricter reading: the gateway must count them flushed on
`clearedAudio`), and `clearedAudio` goes out with the next media frame.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import numpy as np
import numpy.typing as npt

from gateway.sim.checks import event_name, json_message
from gateway.sim.codecs import StreamCodec, media_payload
from gateway.sim.dialect import GatewayClear, GatewayCommand, GatewayMark, ProtocolViolation

__all__ = ["STREAM_ERROR", "PlivoStream"]

STREAM_ERROR = 400
"""Ours: the code a refused gateway message is reported with (Plivo documents none)."""


def _dumps(message: dict[str, Any]) -> str:
    return json.dumps(message, separators=(",", ":"))


class PlivoStream:
    """One Plivo stream: numbering, checkpoint answers, validation of the gateway's messages."""

    def __init__(
        self,
        account_id: str,
        call_id: str,
        stream_id: str,
        content_type: str,
        codec: StreamCodec,
    ) -> None:
        self.account_id = account_id
        self.call_id = call_id
        self.stream_sid = stream_id
        self.content_type = content_type
        self.codec = codec
        self._sequence = 0
        self._chunk = 0
        self._clearing = False  # a clearAudio arrived: its flushed checkpoints get no answer
        self._cleared = 0  # clearAudio messages not acknowledged yet

    def _numbered(self, event: str, **body: Any) -> str:
        self._sequence += 1
        return _dumps(
            {"event": event, "sequenceNumber": self._sequence, "streamId": self.stream_sid, **body}
        )

    # -- Plivo -> gateway ----------------------------------------------------------------------

    def opening(self, parameters: tuple[tuple[str, str], ...]) -> list[str]:
        media_format = {"encoding": self.content_type, "sampleRate": self.codec.rate_hz}
        start = self._numbered(
            "start",
            start={
                "callId": self.call_id,
                "streamId": self.stream_sid,
                "accountId": self.account_id,
                "tracks": ["inbound"],
                "mediaFormat": media_format,
            },
            extra_headers=",".join(f"{k}={v}" for k, v in parameters),
        )
        return [start]

    def media(self, payload: bytes, timestamp_ms: int) -> list[str | bytes]:
        self._chunk += 1
        acks: list[str | bytes] = [self._numbered("clearedAudio") for _ in range(self._cleared)]
        self._cleared = 0
        media = {
            "track": "inbound",
            "timestamp": str(timestamp_ms),
            "chunk": self._chunk,
            "payload": base64.b64encode(payload).decode("ascii"),
        }
        return [*acks, self._numbered("media", media=media)]

    def dtmf(self, digit: str) -> str:
        return self._numbered("dtmf", dtmf={"digit": digit})

    def mark_echo(self, name: str) -> str | None:
        if self._clearing:
            return None
        return self._numbered("playedStream", name=name)

    def stop(self) -> str:
        return self._numbered("stop", stop={"callId": self.call_id})

    def encode_audio(self, samples: npt.NDArray[np.int16]) -> bytes:
        return self.codec.encode(samples)

    # -- gateway -> Plivo ----------------------------------------------------------------------

    def event_name(self, message: str | bytes) -> str:
        return event_name(message)

    def parse_gateway(self, message: str | bytes) -> GatewayCommand | ProtocolViolation:
        command = self._parse(message)
        self._clearing = isinstance(command, GatewayClear)
        if self._clearing:
            self._cleared += 1
        return command

    def _parse(self, message: str | bytes) -> GatewayCommand | ProtocolViolation:
        data = json_message(message, STREAM_ERROR, "Plivo")
        if isinstance(data, ProtocolViolation):
            return data
        event = data.get("event")
        if event not in ("playAudio", "checkpoint", "clearAudio"):
            return ProtocolViolation(STREAM_ERROR, f"unknown event {event!r}")
        stream_id = data.get("streamId", self.stream_sid)
        if stream_id != self.stream_sid:
            return ProtocolViolation(STREAM_ERROR, f"{event} for streamId {stream_id!r}")
        if event == "clearAudio":
            return GatewayClear()
        if event == "checkpoint":
            name = data.get("name")
            if not isinstance(name, str) or not name:
                return ProtocolViolation(STREAM_ERROR, "checkpoint without a name string")
            return GatewayMark(name)
        media = data.get("media")
        if not isinstance(media, dict):
            return ProtocolViolation(STREAM_ERROR, "playAudio without a media object")
        content_type = media.get("contentType")
        rate = media.get("sampleRate")
        if content_type != self.content_type or rate != self.codec.rate_hz:
            return ProtocolViolation(
                STREAM_ERROR,
                f"playAudio as {content_type!r} at {rate!r}, the stream is "
                f"{self.content_type} at {self.codec.rate_hz}",
            )
        return media_payload(media.get("payload"), self.codec, STREAM_ERROR)
