"""The toy media stream: JSON text frames, base64 μ-law at 8 kHz.

Toy -> gateway: `{"type": "hello", "call": ID, "stream": SID, "token": T}`, then
`{"type": "audio", "data": B64}`, `{"type": "key", "digit": D}`, `{"type": "played", "name":
N}` (a mark echo) and `{"type": "bye"}`. Gateway -> toy: `{"type": "audio", "data": B64}`,
`{"type": "mark", "name": N}`, `{"type": "clear"}`.
"""

from __future__ import annotations

import binascii
import json
from collections.abc import Mapping
from typing import Any

from gateway.audio.paths import CarrierFormat, Encoding
from gateway.carriers.messages import DTMF_DIGITS, EventCounts, json_object, malformed
from gateway.core.events import (
    CallerAudio,
    CallStarted,
    CallStopped,
    CarrierCommand,
    CarrierEvent,
    ClearPlayback,
    DtmfPressed,
    MessageIgnored,
    PlaceMark,
    PlayAudio,
    PlaybackMarked,
)
from gateway.core.stream_tokens import STREAM_TOKEN_PARAMETER

__all__ = ["ToyTranslator"]


class ToyTranslator(EventCounts):
    carrier = "toy"

    def __init__(self, presented: Mapping[str, str] | None = None) -> None:
        super().__init__()
        self.presented = dict(presented or {})
        self.call_id: str | None = None

    def parse(self, message: str | bytes) -> list[CarrierEvent]:
        return self.counted(self._parse(message))

    def _parse(self, message: str | bytes) -> list[CarrierEvent]:
        decoded = json_object(message)
        if isinstance(decoded, MessageIgnored):
            return [decoded]
        kind = decoded.get("type")
        if kind == "hello":
            return self._hello(decoded)
        if kind == "bye":
            return [CallStopped()]
        if self.call_id is None:
            return [MessageIgnored("before start", str(kind)[:32])]
        if kind == "audio":
            try:
                audio = binascii.a2b_base64(str(decoded.get("data", "")), strict_mode=True)
            except (binascii.Error, ValueError):
                return [malformed("audio: invalid base64")]
            return [CallerAudio(audio)] if audio else [MessageIgnored("empty audio")]
        if kind == "key" and decoded.get("digit") in DTMF_DIGITS:
            return [DtmfPressed(str(decoded["digit"]))]
        if kind == "played" and isinstance(decoded.get("name"), str):
            return [PlaybackMarked(decoded["name"])]
        return [MessageIgnored("unknown event", str(kind)[:32])]

    def _hello(self, message: dict[str, Any]) -> list[CarrierEvent]:
        if self.call_id is not None:
            return [MessageIgnored("duplicate start")]
        call_id, stream_id = message.get("call"), message.get("stream")
        if not isinstance(call_id, str) or not call_id or not isinstance(stream_id, str):
            return [malformed("hello: no call or stream")]
        token = message.get("token")
        parameters = {**self.presented}
        if isinstance(token, str):
            parameters[STREAM_TOKEN_PARAMETER] = token
        self.call_id = call_id
        return [
            CallStarted(
                call_id,
                stream_id,
                media_format=CarrierFormat(Encoding.MULAW, 8_000),
                custom_parameters=parameters,
            )
        ]

    def encode(self, command: CarrierCommand) -> str:
        if self.call_id is None:
            raise ValueError("toy stream not started")
        if type(command) is PlayAudio:
            data = binascii.b2a_base64(command.payload, newline=False).decode("ascii")
            return json.dumps({"type": "audio", "data": data})
        if type(command) is PlaceMark:
            return json.dumps({"type": "mark", "name": command.name})
        if type(command) is ClearPlayback:
            return json.dumps({"type": "clear"})
        raise TypeError(f"not a carrier command: {type(command).__name__}")
