"""Vonage Voice API WebSockets: wire messages <-> bridge vocabulary.

protocols.md C.3. The gateway's NCCO (`gateway.carriers.vonage.ncco`) connects the call to
`/vonage/media` with `content-type: audio/l16;rate=N` and `headers` carrying the call's UUID and
its stream token. Vonage then sends:

* first, one text frame: `{"event":"websocket:connected","content-type":"audio/l16;rate=16000",
  ...}` with the NCCO `headers` flattened into it [field]. The first Nexmo-era form had no
  `event` key; both are read, and headers nested under `headers` are read too. There is no
  Twilio-like `start` and no stream id: this message becomes `CallStarted` (call id from the
  `call_uuid` header, stream id given by the route, L16 at the message's rate, every string
  header as a custom parameter, so the stream token reaches `runtime.authorize`);
* binary frames of raw 16-bit little-endian PCM, 20 ms each -> `CallerAudio`;
* text events: `websocket:dtmf` (digit at the top level, or nested under `dtmf`),
  `websocket:notify` (echo of our `notify` once the audio before it played -> `PlaybackMarked`),
  `websocket:cleared` (answer to `clear`).

The gateway sends binary PCM frames, `{"action":"clear"}` and
`{"action":"notify","payload":{"mark":NAME}}`. Whether Vonage still answers the notifies that a
clear flushed is not documented, so on `websocket:cleared` every notify not yet answered is
reported as echoed (the ledger counts it flushed) and a late answer to it is dropped.
"""

from __future__ import annotations

import json
import re
from collections import deque
from typing import Any, Final

from gateway.audio.paths import CarrierFormat, Encoding
from gateway.carriers.messages import (
    DTMF_DIGITS,
    EventCounts,
    clip,
    json_object,
    malformed,
    oversized,
)
from gateway.core.events import (
    CallerAudio,
    CallStarted,
    CarrierCommand,
    CarrierEvent,
    ClearPlayback,
    DtmfPressed,
    MessageIgnored,
    PlaceMark,
    PlayAudio,
    PlaybackMarked,
    StreamConnected,
)

__all__ = [
    "CALL_ID_HEADER",
    "SUPPORTED_RATES_HZ",
    "VonageTranslator",
    "content_type",
    "rate_of_content_type",
]

SUPPORTED_RATES_HZ: Final = (8_000, 16_000, 24_000)
"""L16 rates the NCCO may ask for (24 kHz is reported in the field, not documented)."""
CALL_ID_HEADER: Final = "call_uuid"
"""The NCCO header that names the call (Vonage's `uuid`): the websocket itself carries none."""

_CONTENT_TYPE: Final = re.compile(r"\s*audio/l16\s*;\s*rate\s*=\s*(\d{4,5})\s*", re.IGNORECASE)
_NOT_PARAMETERS: Final = frozenset({"event", "content-type", "headers"})
_CLEAR: Final = json.dumps({"action": "clear"})


def content_type(rate_hz: int) -> str:
    """The NCCO `content-type` for L16 at `rate_hz`."""
    return f"audio/l16;rate={rate_hz}"


def rate_of_content_type(value: object) -> int | None:
    """The sample rate of a supported `audio/l16;rate=N` content type, else None."""
    if not isinstance(value, str):
        return None
    match = _CONTENT_TYPE.fullmatch(value)
    rate = int(match.group(1)) if match else None
    return rate if rate in SUPPORTED_RATES_HZ else None


class VonageTranslator(EventCounts):
    """One Vonage websocket: `parse` each frame (text or binary), `encode` each command.

    `stream_id` names this socket in logs (Vonage gives it no id of its own). After
    `CallStarted`, `call_id` is set and `encode` works.
    """

    carrier = "vonage"

    def __init__(self, stream_id: str) -> None:
        super().__init__()
        self.stream_id = stream_id
        self.call_id: str | None = None
        self.rate_hz: int | None = None
        self.audio_bytes_in = 0
        self._notifies: deque[str] = deque()  # notify names sent and not answered yet

    # ------------------------------------------------------------------------------ parsing

    def parse(self, message: str | bytes) -> list[CarrierEvent]:
        """Events carried by one inbound frame, in order (never raises)."""
        return self.counted(self._parse(message))

    def _parse(self, message: str | bytes) -> list[CarrierEvent]:
        if isinstance(message, bytes):
            return self._audio(message)
        decoded = json_object(message)
        if isinstance(decoded, MessageIgnored):
            return [decoded]
        event = decoded.get("event")
        if event == "websocket:connected" or (event is None and "content-type" in decoded):
            return self._connected(decoded)
        if not isinstance(event, str):
            return [malformed("no event name")]
        if self.call_id is None:
            return [MessageIgnored("before start", clip(event))]
        if event == "websocket:dtmf":
            return self._dtmf(decoded)
        if event == "websocket:notify":
            return self._notified(decoded.get("payload"))
        if event == "websocket:cleared":
            flushed: list[CarrierEvent] = [PlaybackMarked(name) for name in self._notifies]
            self._notifies.clear()
            return flushed
        return [MessageIgnored("unknown event", clip(event))]

    def _connected(self, message: dict[str, Any]) -> list[CarrierEvent]:
        if self.call_id is not None:
            return [MessageIgnored("duplicate start")]
        rate_hz = rate_of_content_type(message.get("content-type"))
        if rate_hz is None:
            shown = message.get("content-type")
            detail = clip(shown) if isinstance(shown, str) else type(shown).__name__
            return [MessageIgnored("unsupported media format", detail)]
        headers = dict(message)
        nested = message.get("headers")
        if type(nested) is dict:
            headers.update(nested)
        parameters = {
            key: value
            for key, value in headers.items()
            if isinstance(value, str) and key not in _NOT_PARAMETERS
        }
        call_id = parameters.get(CALL_ID_HEADER)
        if not call_id:
            return [malformed(f"websocket:connected: no {CALL_ID_HEADER} header")]
        self.call_id = call_id
        self.rate_hz = rate_hz
        return [
            StreamConnected("websocket:connected"),
            CallStarted(
                call_id=call_id,
                stream_id=self.stream_id,
                media_format=CarrierFormat(Encoding.L16, rate_hz),
                custom_parameters=parameters,
            ),
        ]

    def _audio(self, frame: bytes) -> list[CarrierEvent]:
        too_big = oversized(frame)
        if too_big is not None:
            return [too_big]
        if self.call_id is None:
            return [MessageIgnored("before start", "audio")]
        if not frame:
            return [MessageIgnored("empty audio")]
        self.audio_bytes_in += len(frame)
        return [CallerAudio(frame)]

    def _dtmf(self, message: dict[str, Any]) -> list[CarrierEvent]:
        nested = message.get("dtmf")
        digits = message.get("digit", nested.get("digit") if type(nested) is dict else None)
        if not isinstance(digits, str) or not digits:
            return [malformed("websocket:dtmf: no digit string")]
        if any(digit not in DTMF_DIGITS for digit in digits):
            return [MessageIgnored("invalid DTMF digit", clip(digits))]
        return [DtmfPressed(digit) for digit in digits]

    def _notified(self, payload: object) -> list[CarrierEvent]:
        name = payload.get("mark") if type(payload) is dict else None
        if not isinstance(name, str):
            return [malformed("websocket:notify: no payload.mark string")]
        if name not in self._notifies:
            return []  # already reported by a `websocket:cleared`, or not ours
        while self._notifies.popleft() != name:
            pass
        return [PlaybackMarked(name)]

    # ----------------------------------------------------------------------------- encoding

    def encode(self, command: CarrierCommand) -> str | bytes:
        """One binary audio frame or one JSON text action. ValueError before the start."""
        if self.call_id is None:
            raise ValueError("Vonage stream not started: no websocket:connected yet")
        if type(command) is PlayAudio:
            return command.payload
        if type(command) is PlaceMark:
            self._notifies.append(command.name)
            return json.dumps({"action": "notify", "payload": {"mark": command.name}})
        if type(command) is ClearPlayback:
            return _CLEAR
        raise TypeError(f"not a carrier command: {type(command).__name__}")
