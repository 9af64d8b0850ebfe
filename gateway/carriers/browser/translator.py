"""The web softphone's media stream: JSON text frames for control, binary frames for audio.

Browser -> gateway:

* `{"type": "start", "call": ID, "token": T}`: the first message; `call` and `token` are what
  `POST /phone/call` answered (the token is the call's single-use stream token).
* binary: caller audio, PCM16 little-endian mono at 16 kHz (Live's input rate: no resampling).
* `{"type": "dtmf", "digit": D}`: a keypad press (`0-9 * # A-D`).
* `{"type": "played", "name": N}`: the playback reached mark `N` (or a clear flushed it).
* `{"type": "hangup"}`: the caller hung up.

Gateway -> browser:

* binary: agent audio, PCM16 little-endian mono at 24 kHz (Live's output rate, untouched by
  μ-law or a resampler), in 20 ms frames.
* `{"type": "mark", "name": N}`: echo `played` once everything sent before it has played.
* `{"type": "clear"}`: empty the playback buffer now, echoing every mark still pending.
* what the page shows (`encode_view`): `{"type": "view", "event": E, ...}` with `E` one of
  `transcript`, `barge_in`, `tool_started`, `tool_finished`, `handover`, `figures`, `ended`
  (`gateway.shell.phone_view` decides when).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Final

from gateway.audio.paths import CarrierFormat, Encoding
from gateway.carriers.messages import DTMF_DIGITS, EventCounts, bounded_id, json_object, malformed
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

__all__ = ["BROWSER_FORMAT", "BrowserTranslator"]

CALLER_RATE_HZ: Final = 16_000
AGENT_RATE_HZ: Final = 24_000
BROWSER_FORMAT: Final = CarrierFormat(Encoding.L16, CALLER_RATE_HZ, 20, AGENT_RATE_HZ)
"""16 kHz PCM16 up, 24 kHz PCM16 down, 20 ms frames."""


class BrowserTranslator(EventCounts):
    """One softphone stream (see the module doc). `stream_id`: the upgrade's nonce."""

    carrier = "browser"

    def __init__(self, stream_id: str) -> None:
        super().__init__()
        self.stream_id = stream_id
        self.call_id: str | None = None

    def parse(self, message: str | bytes) -> list[CarrierEvent]:
        return self.counted(self._parse(message))

    def _parse(self, message: str | bytes) -> list[CarrierEvent]:
        if isinstance(message, bytes):
            if self.call_id is None:
                return [MessageIgnored("before start", "audio")]
            return [CallerAudio(message)] if message else [MessageIgnored("empty audio")]
        decoded = json_object(message)
        if isinstance(decoded, MessageIgnored):
            return [decoded]
        kind = decoded.get("type")
        if kind == "start":
            return self._start(decoded)
        if kind == "hangup":
            return [CallStopped()]
        if self.call_id is None:
            return [MessageIgnored("before start", bounded_id(str(kind), 32))]
        if kind == "dtmf":
            digit = decoded.get("digit")
            if isinstance(digit, str) and digit in DTMF_DIGITS:
                return [DtmfPressed(digit)]
            return [malformed("dtmf: not a keypad digit")]
        if kind == "played":
            name = decoded.get("name")
            if isinstance(name, str) and name:
                return [PlaybackMarked(name)]
            return [malformed("played: no mark name")]
        return [MessageIgnored("unknown event", bounded_id(str(kind), 32))]

    def _start(self, message: Mapping[str, Any]) -> list[CarrierEvent]:
        if self.call_id is not None:
            return [MessageIgnored("duplicate start")]
        call_id, token = message.get("call"), message.get("token")
        if not isinstance(call_id, str) or not call_id or not isinstance(token, str):
            return [malformed("start: no call or token")]
        self.call_id = call_id
        return [
            CallStarted(
                call_id,
                self.stream_id,
                media_format=BROWSER_FORMAT,
                custom_parameters={STREAM_TOKEN_PARAMETER: token},
            )
        ]

    def encode(self, command: CarrierCommand) -> str | bytes:
        if self.call_id is None:
            raise ValueError("browser stream not started")
        if type(command) is PlayAudio:
            return command.payload
        if type(command) is PlaceMark:
            return json.dumps({"type": "mark", "name": command.name})
        if type(command) is ClearPlayback:
            return '{"type": "clear"}'
        raise TypeError(f"not a carrier command: {type(command).__name__}")

    def encode_view(self, event: str, fields: Mapping[str, Any]) -> str:
        """What the page shows: `{"type": "view", "event": event, ...fields}`."""
        return json.dumps({"type": "view", "event": event, **fields}, separators=(",", ":"))
