"""Telnyx media-streaming messages, as Telnyx writes them and as Telnyx checks the gateway's.

protocols.md C.1 (Telnyx -> gateway): snake_case JSON text frames; `connected` (no number), then
`start` (`sequence_number` "1", `stream_id`, `start.call_control_id`, `start.media_format`
`{encoding: PCMU|PCMA, sample_rate: 8000, channels: 1}`), `media` (`track`, `chunk`, `timestamp`,
base64 payload), `dtmf`, `mark` echoes and `stop`; every message after `connected` is numbered
and carries `stream_id`. Telnyx does not guarantee their order: with `swap_every` N the stream
holds every Nth media frame back and sends it after the next one (its number still its own), as
a network that reorders would deliver them.

protocols.md C.1 (gateway -> Telnyx, RTP mode): `media` with `media.payload` (base64 of raw
PCMU/PCMA, no container header), `mark` with `mark.name`, and `clear`; a `stream_id`, when
given, must be this stream's. Anything else is Telnyx's `malformed_frame` (100003) or
`invalid_media` (100004).
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

__all__ = ["INVALID_MEDIA", "MALFORMED_FRAME", "TelnyxStream", "event_name"]

MALFORMED_FRAME = 100003
INVALID_MEDIA = 100004


def _dumps(message: dict[str, Any]) -> str:
    return json.dumps(message, separators=(",", ":"))


class TelnyxStream:
    """One Telnyx stream: numbering, optional reordering, validation of the gateway's messages."""

    def __init__(
        self,
        call_control_id: str,
        stream_id: str,
        codec_name: str,
        codec: StreamCodec,
        *,
        swap_every: int = 0,
    ) -> None:
        self.call_control_id = call_control_id
        self.stream_sid = stream_id
        self.codec_name = codec_name
        self.codec = codec
        self.swap_every = swap_every
        self.swapped = 0
        """Media frames sent after the frame that follows them."""
        self._sequence = 0
        self._chunk = 0
        self._held: str | None = None

    def _numbered(self, event: str, **body: Any) -> str:
        self._sequence += 1
        message = {"event": event, "sequence_number": str(self._sequence), **body}
        return _dumps({**message, "stream_id": self.stream_sid})

    # -- Telnyx -> gateway ---------------------------------------------------------------------

    def opening(self, parameters: tuple[tuple[str, str], ...]) -> list[str]:
        del parameters  # TeXML passes values in the stream URL, which the socket already used
        start = self._numbered(
            "start",
            start={
                "user_id": "3e6f995f-85f7-4705-9741-53b116d28237",
                "call_control_id": self.call_control_id,
                "call_session_id": "428c31b6-7af4-4bcb-b7f5-5013ef9657c1",
                "from": "+15017122661",
                "to": "+15558675310",
                "tags": [],
                "client_state": None,
                "media_format": {"encoding": self.codec_name, "sample_rate": 8000, "channels": 1},
            },
        )
        return [_dumps({"event": "connected", "version": "1.0.0"}), start]

    def media(self, payload: bytes, timestamp_ms: int) -> list[str | bytes]:
        self._chunk += 1
        message = self._numbered(
            "media",
            media={
                "track": "inbound",
                "chunk": str(self._chunk),
                "timestamp": str(timestamp_ms),
                "payload": base64.b64encode(payload).decode("ascii"),
            },
        )
        if self._held is not None:
            held, self._held = self._held, None
            self.swapped += 1
            return [message, held]
        if self.swap_every and self._chunk % self.swap_every == 0:
            self._held = message
            return []
        return [message]

    def dtmf(self, digit: str) -> str:
        occurred = "2025-06-05T08:54:19.698408Z"
        return self._numbered("dtmf", occurred_at=occurred, dtmf={"digit": digit})

    def mark_echo(self, name: str) -> str:
        return self._numbered("mark", mark={"name": name})

    def stop(self) -> list[str | bytes]:
        held = [] if self._held is None else [self._held]
        self._held = None
        stop = self._numbered("stop", stop={"user_id": "", "call_control_id": self.call_control_id})
        return [*held, stop]

    def encode_audio(self, samples: npt.NDArray[np.int16]) -> bytes:
        return self.codec.encode(samples)

    # -- gateway -> Telnyx ---------------------------------------------------------------------

    def event_name(self, message: str | bytes) -> str:
        return event_name(message)

    def parse_gateway(self, message: str | bytes) -> GatewayCommand | ProtocolViolation:
        data = json_message(message, MALFORMED_FRAME, "Telnyx")
        if isinstance(data, ProtocolViolation):
            return data
        event = data.get("event")
        if event not in ("media", "mark", "clear"):
            return ProtocolViolation(MALFORMED_FRAME, f"unknown event {event!r}")
        stream_id = data.get("stream_id", self.stream_sid)
        if stream_id != self.stream_sid:
            return ProtocolViolation(MALFORMED_FRAME, f"{event} for stream_id {stream_id!r}")
        if event == "clear":
            return GatewayClear()
        body = data.get(event)
        if event == "mark":
            name = body.get("name") if isinstance(body, dict) else None
            if not isinstance(name, str) or not name:
                return ProtocolViolation(MALFORMED_FRAME, "mark without a mark.name string")
            return GatewayMark(name)
        payload = body.get("payload") if isinstance(body, dict) else None
        return media_payload(payload, self.codec, INVALID_MEDIA)
