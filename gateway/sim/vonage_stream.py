"""Vonage websocket messages, as Vonage writes them and as it checks the gateway's.

protocols.md C.3 (Vonage -> gateway): one text `websocket:connected` with the NCCO's
`content-type` and `headers` flattened into it, then binary frames of 20 ms L16 (little-endian,
at the NCCO's rate), `websocket:dtmf` (digit at the top level) and `websocket:notify` when the
audio queued before a `notify` has played. Vonage sends no stop message: it closes the socket.

Gateway -> Vonage: binary frames of exactly 20 ms of L16 at the stream's rate, and text actions
`{"action":"clear"}` and `{"action":"notify","payload":{...}}`. Anything else is refused (ours:
Vonage's reaction to a bad frame is undocumented; the simulator closes the stream, as for
Twilio's 31924).

Choices where Vonage is undocumented (ours): the notifies a clear flushed get no answer (their
audio never played; `answer_flushed=True` answers them at the clear instead, as Twilio answers
marks), and `websocket:cleared` goes out with the next media frame.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import numpy.typing as npt

from gateway.carriers.vonage.translator import CALL_ID_HEADER, content_type
from gateway.sim.codecs import StreamCodec
from gateway.sim.dialect import (
    GatewayClear,
    GatewayCommand,
    GatewayMark,
    GatewayMedia,
    ProtocolViolation,
)

__all__ = ["PROTOCOL_ERROR", "VonageStream"]

PROTOCOL_ERROR = 1007
"""Ours: the close code the simulator records for a frame Vonage would refuse."""


def _dumps(message: dict[str, Any]) -> str:
    return json.dumps(message, separators=(",", ":"))


def _violation(reason: str) -> ProtocolViolation:
    return ProtocolViolation(PROTOCOL_ERROR, reason)


class VonageStream:
    """One Vonage websocket: opening, binary audio both ways, DTMF, notify answers."""

    def __init__(self, call_uuid: str, codec: StreamCodec, *, answer_flushed: bool = False) -> None:
        self.call_uuid = call_uuid
        self.answer_flushed = answer_flushed
        self._clearing = False  # the message being handled is a clear
        self.stream_sid = f"vonage-ws-{call_uuid}"
        self.rate_hz = codec.rate_hz
        self.frame_bytes = self.rate_hz * 20 // 1000 * 2
        self.codec = codec
        self._cleared = 0  # clears not acknowledged yet
        self._payloads: dict[str, dict[str, Any]] = {}  # mark name -> the notify's payload

    # -- Vonage -> gateway ---------------------------------------------------------------------

    def opening(self, parameters: tuple[tuple[str, str], ...]) -> list[str]:
        headers = dict(parameters)
        headers.setdefault(CALL_ID_HEADER, self.call_uuid)  # only if the NCCO named none
        connected = {"event": "websocket:connected", "content-type": content_type(self.rate_hz)}
        return [_dumps({**connected, **headers})]

    def media(self, payload: bytes, timestamp_ms: int) -> list[str | bytes]:
        acks: list[str | bytes] = [_dumps({"event": "websocket:cleared"})] * self._cleared
        self._cleared = 0
        return [*acks, payload]

    def dtmf(self, digit: str) -> str:
        return _dumps({"event": "websocket:dtmf", "digit": digit, "duration": 260})

    def mark_echo(self, name: str) -> str | None:
        payload = self._payloads.pop(name, {"mark": name})
        if self._clearing and not self.answer_flushed:
            return None
        return _dumps({"event": "websocket:notify", "payload": payload})

    def stop(self) -> None:
        return None  # Vonage closes the socket when the call leg ends

    def encode_audio(self, samples: npt.NDArray[np.int16]) -> bytes:
        return self.codec.encode(samples)

    # -- gateway -> Vonage ---------------------------------------------------------------------

    def event_name(self, message: str | bytes) -> str:
        if isinstance(message, bytes):
            return "audio"
        try:
            action = json.loads(message).get("action")
        except (ValueError, AttributeError):
            return "?"
        return action if isinstance(action, str) else "?"

    def parse_gateway(self, message: str | bytes) -> GatewayCommand | ProtocolViolation:
        command = self._parse(message)
        self._clearing = isinstance(command, GatewayClear)
        if self._clearing:
            self._cleared += 1
        return command

    def _parse(self, message: str | bytes) -> GatewayCommand | ProtocolViolation:
        if isinstance(message, bytes):
            if len(message) != self.frame_bytes:
                return _violation(
                    f"an audio frame of {len(message)} bytes; 20 ms at {self.rate_hz} Hz is "
                    f"{self.frame_bytes}"
                )
            samples = self.codec.decode(message)
            assert samples is not None  # an even byte count
            return GatewayMedia(samples)
        try:
            data = json.loads(message)
        except ValueError:
            return _violation("a text frame that is not JSON")
        action = data.get("action") if isinstance(data, dict) else None
        if action == "clear":
            return GatewayClear()
        if action == "notify":
            payload = data.get("payload")
            if not isinstance(payload, dict):
                return _violation("notify without a payload object")
            # The answer carries the payload back intact; the report names it by its `mark`.
            name = payload.get("mark")
            name = name if isinstance(name, str) and name else _dumps(payload)
            self._payloads[name] = payload
            return GatewayMark(name)
        return _violation(f"unknown action {action!r} (only clear, notify)")
