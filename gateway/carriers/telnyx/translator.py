"""Telnyx media streaming (bidirectional RTP mode): wire messages <-> bridge vocabulary.

protocols.md C.1. Telnyx sends snake_case JSON text frames: `connected`, `start` (with
`stream_id`, `start.call_control_id` and `start.media_format`), `media` (base64 RTP payload, no
header), `dtmf`, `mark` (echo of ours), `error` (about a frame we sent) and `stop`. Every message
but `connected` carries `sequence_number` (a string); ordering is explicitly **not guaranteed**,
so messages are put back in order by it (`gateway.carriers.reorder`, a window of
`REORDER_WINDOW` media frames): a hole is waited for while at most that many later frames have
arrived (other messages held meanwhile do not count), then reported as `MessagesMissed`; a late
or repeated message is dropped. `stop` first
releases whatever is held (nothing can fill the holes any more).

The gateway sends `{"event":"media","media":{"payload":…}}` (raw PCMU or PCMA, 20 ms),
`{"event":"mark","mark":{"name":…}}` and `{"event":"clear"}`, without `stream_id` (as Telnyx's
examples and pipecat do).

The media WebSocket carries no signature. The stream token travels in the stream URL's query
string; the route hands it to the translator as `presented` parameters, which `CallStarted`
reports (under any `start.custom_parameters` Telnyx might send) so `runtime.authorize` finds it.
"""

from __future__ import annotations

import binascii
import json
from collections.abc import Mapping
from typing import Any, Final

from gateway.audio.paths import CarrierFormat, Encoding
from gateway.carriers.messages import (
    DTMF_DIGITS,
    clip,
    inbound_audio,
    integer,
    json_object,
    malformed,
    stale_drop,
)
from gateway.carriers.reorder import Gap, Released, Reorder
from gateway.core.events import (
    CallStarted,
    CallStopped,
    CarrierCommand,
    CarrierEvent,
    ClearPlayback,
    DtmfPressed,
    MessageIgnored,
    MessagesMissed,
    PlaceMark,
    PlayAudio,
    PlaybackMarked,
    StreamConnected,
)

__all__ = ["CODECS", "REORDER_WINDOW", "TelnyxTranslator", "parameters_of"]

REORDER_WINDOW: Final = 3
"""Media frames a late message may trail by and still take its place (60 ms); a lost message
delays the ones after it by at most this many frames."""

CODECS: Final = {
    "PCMU": Encoding.MULAW,
    "audio/x-mulaw": Encoding.MULAW,
    "PCMA": Encoding.ALAW,
    "audio/x-alaw": Encoding.ALAW,
}
"""`media_format.encoding` values the bridge can take (older examples show `audio/x-mulaw`)."""

_RATE_HZ: Final = 8_000
_CLEAR: Final = '{"event":"clear"}'
_MEDIA_PREFIX: Final = '{"event":"media","media":{"payload":"'
_MARK_PREFIX: Final = '{"event":"mark","mark":{"name":'


def parameters_of(raw: object) -> dict[str, str]:
    """Custom parameters as an object of strings, or as a list of `{name, value}` objects."""
    if type(raw) is dict:
        return {k: v for k, v in raw.items() if isinstance(v, str)}
    if type(raw) is list:
        pairs = ((item.get("name"), item.get("value")) for item in raw if type(item) is dict)
        return {k: v for k, v in pairs if isinstance(k, str) and isinstance(v, str)}
    return {}


class TelnyxTranslator:
    """One Telnyx media stream: `parse` each text frame, `encode` each command."""

    carrier = "telnyx"

    def __init__(
        self,
        presented: Mapping[str, str] | None = None,
        *,
        codec: Encoding = Encoding.MULAW,
        window: int = REORDER_WINDOW,
    ) -> None:
        self.presented = dict(presented or {})
        """Parameters the stream presented outside its messages (the URL's query string)."""
        self.codec = codec
        """The codec the answer asked for: assumed when `start` names none."""
        self.call_id: str | None = None
        self.stream_id: str | None = None
        self.reorder: Reorder[dict[str, Any]] = Reorder(window)
        self._connected = False

    # ------------------------------------------------------------------------------ parsing

    def parse(self, message: str | bytes) -> list[CarrierEvent]:
        """Events carried by one inbound message, in order (never raises)."""
        decoded = json_object(message)
        if isinstance(decoded, MessageIgnored):
            return [decoded]
        event = decoded.get("event")
        if not isinstance(event, str):
            return [malformed("no event name")]
        if event == "connected":
            if self._connected:
                return [MessageIgnored("duplicate connected")]
            self._connected = True
            version = decoded.get("version", "")
            return [StreamConnected("", clip(version) if isinstance(version, str) else "")]
        sequence = integer(decoded.get("sequence_number"))
        if sequence is None:
            return self._handle(decoded, event)
        results = self.reorder.push(sequence, decoded, paced=event == "media")
        if event == "stop":
            results += self.reorder.flush()
        events: list[CarrierEvent] = []
        for result in results:
            if isinstance(result, Released):
                item: dict[str, Any] = result.item
                events += self._handle(item, str(item.get("event")))
            elif isinstance(result, Gap):
                events.append(MessagesMissed(result.expected, result.received))
            else:  # a number after its place: only audio and a repeated digit are dropped
                dropped = stale_drop(event, result)
                events += [dropped] if dropped is not None else self._handle(decoded, event)
        return events

    def _handle(self, message: dict[str, Any], event: str) -> list[CarrierEvent]:
        if event == "start":
            return self._start(message)
        if event == "stop":
            return self._stop(message)
        if event == "error":
            return [self._error(message)]
        if event not in ("media", "dtmf", "mark"):
            return [MessageIgnored("unknown event", clip(event))]
        if self.stream_id is None:
            return [MessageIgnored("before start", event)]
        stream_id = message.get("stream_id", self.stream_id)
        if stream_id != self.stream_id:
            return [MessageIgnored("wrong stream", event)]
        body = message.get(event)
        if type(body) is not dict:
            return [malformed(f"{event}: no {event} object")]
        if event == "media":
            return [inbound_audio(body)]
        field = "digit" if event == "dtmf" else "name"
        value = body.get(field)
        if not isinstance(value, str):
            return [malformed(f"{event}: no {field} string")]
        if event == "mark":
            return [PlaybackMarked(value)]
        if value not in DTMF_DIGITS:
            return [MessageIgnored("invalid DTMF digit", clip(value))]
        return [DtmfPressed(value)]

    def _start(self, message: dict[str, Any]) -> list[CarrierEvent]:
        if self.stream_id is not None:
            return [MessageIgnored("duplicate start")]
        start = message.get("start")
        if type(start) is not dict:
            return [malformed("start: no start object")]
        call_id = start.get("call_control_id")
        stream_id = message.get("stream_id")
        if not isinstance(call_id, str) or not call_id:
            return [malformed("start: no call_control_id")]
        if not isinstance(stream_id, str) or not stream_id:
            return [malformed("start: no stream_id")]
        media_format = self._media_format(start.get("media_format"))
        if isinstance(media_format, MessageIgnored):
            return [media_format]
        account = start.get("user_id", "")
        self.call_id = call_id
        self.stream_id = stream_id
        parameters = {**self.presented, **parameters_of(start.get("custom_parameters"))}
        return [
            CallStarted(
                call_id=call_id,
                stream_id=stream_id,
                account_id=account if isinstance(account, str) else "",
                media_format=media_format,
                custom_parameters=parameters,
            )
        ]

    def _media_format(self, raw: object) -> CarrierFormat | MessageIgnored:
        if raw is None:
            return CarrierFormat(self.codec, _RATE_HZ)
        if type(raw) is not dict:
            return malformed("start: media_format is not an object")
        encoding = raw.get("encoding")
        rate_hz = integer(raw.get("sample_rate", _RATE_HZ))
        channels = integer(raw.get("channels", 1))
        codec = CODECS.get(encoding) if isinstance(encoding, str) else None
        if codec is None or rate_hz != _RATE_HZ or channels != 1:
            shown = clip(encoding) if isinstance(encoding, str) else type(encoding).__name__
            detail = f"{shown} at {rate_hz} Hz, {channels} channel(s)"
            return MessageIgnored("unsupported media format", detail)
        return CarrierFormat(codec, rate_hz)

    def _stop(self, message: dict[str, Any]) -> list[CarrierEvent]:
        stream_id = message.get("stream_id", self.stream_id)
        if self.stream_id is not None and stream_id != self.stream_id:
            return [MessageIgnored("wrong stream", "stop")]
        return [CallStopped()]

    @staticmethod
    def _error(message: dict[str, Any]) -> MessageIgnored:
        payload = message.get("payload")
        if type(payload) is not dict:
            return MessageIgnored("carrier error", "no payload")
        code, title = payload.get("code"), payload.get("title")
        return MessageIgnored("carrier error", clip(f"{code} {title}"))

    # ----------------------------------------------------------------------------- encoding

    def encode(self, command: CarrierCommand) -> str:
        """The compact JSON text frame for one command. ValueError before `start`."""
        if self.stream_id is None:
            raise ValueError("Telnyx stream not started")
        if type(command) is PlayAudio:
            payload = binascii.b2a_base64(command.payload, newline=False).decode("ascii")
            return _MEDIA_PREFIX + payload + '"}}'
        if type(command) is PlaceMark:
            return _MARK_PREFIX + json.dumps(command.name) + "}}"
        if type(command) is ClearPlayback:
            return _CLEAR
        raise TypeError(f"not a carrier command: {type(command).__name__}")
