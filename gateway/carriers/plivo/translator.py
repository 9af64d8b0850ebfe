"""Plivo Audio Streams (bidirectional): wire messages <-> bridge vocabulary.

protocols.md C.2. Plivo sends camelCase JSON text frames: `start` (`start.callId`,
`start.streamId`, `start.mediaFormat`, and the answer's `extraHeaders` as `extra_headers`),
`media`, `dtmf`, `playedStream` (a checkpoint played), `clearedAudio` (our `clearAudio` done)
and, in some accounts, `stop` (the socket closing ends the call anyway). `sequenceNumber` comes
as a number or a string; messages travel in order over one socket, so a jump is reported as
missed and an old number is dropped (`Reorder` with no window).

The gateway sends `playAudio` (raw μ-law 8 kHz or L16 at 8/16 kHz, little-endian, with its
`contentType` and `sampleRate`), `checkpoint` (answered by `playedStream` once the audio before
it has played) and `clearAudio`. Whether Plivo still answers the checkpoints a `clearAudio`
flushed is not documented, so on `clearedAudio` every checkpoint not yet answered is reported
as echoed (the ledger counts it flushed) and a later answer to it is dropped.

The stream token arrives in the stream URL's query string or in the extra headers (hex, see
`plivo_xml`); the route passes what it found on the upgrade as `presented`.
"""

from __future__ import annotations

import binascii
import json
from collections import deque
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
from gateway.carriers.plivo.xml import HEADER_TOKEN, token_from_header
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
)
from gateway.core.stream_tokens import STREAM_TOKEN_PARAMETER

__all__ = ["PlivoTranslator", "content_format", "extra_headers"]

_ENCODINGS: Final = {"audio/x-mulaw": Encoding.MULAW, "audio/x-l16": Encoding.L16}
_CONTENT_TYPES: Final = {Encoding.MULAW: "audio/x-mulaw", Encoding.L16: "audio/x-l16"}
_RATES: Final = {Encoding.MULAW: (8_000,), Encoding.L16: (8_000, 16_000)}


def content_format(content_type: str, rate_hz: object = None) -> CarrierFormat | None:
    """`audio/x-mulaw;rate=8000` (or an encoding and a separate rate) as a format, else None."""
    encoding_text, _, rest = content_type.replace(" ", "").lower().partition(";")
    encoding = _ENCODINGS.get(encoding_text)
    rate = integer(rest.removeprefix("rate=")) if rest else integer(rate_hz)
    if encoding is None or rate not in _RATES[encoding]:
        return None
    return CarrierFormat(encoding, rate)


def extra_headers(raw: object) -> dict[str, str]:
    """The answer's extraHeaders as Plivo echoes them: `k=v,k2=v2`, JSON text or an object."""
    if isinstance(raw, str):
        text = raw
        try:
            raw = json.loads(text)
        except ValueError:
            pairs = (item.partition("=") for item in text.split(","))
            return {k.strip(): v.strip() for k, sep, v in pairs if sep and k.strip()}
    if type(raw) is dict:
        return {str(k): v for k, v in raw.items() if isinstance(v, str)}
    return {}


class PlivoTranslator:
    """One Plivo audio stream: `parse` each text frame, `encode` each command."""

    carrier = "plivo"

    def __init__(
        self, presented: Mapping[str, str] | None = None, *, expected: CarrierFormat | None = None
    ) -> None:
        self.presented = dict(presented or {})
        self.expected = expected or CarrierFormat()
        """The format the answer asked for: assumed when `start` names none."""
        self.call_id: str | None = None
        self.stream_id: str | None = None
        self.format = self.expected
        self.sequence: Reorder[dict[str, Any]] = Reorder(0)
        self._pending: deque[str] = deque()  # checkpoints sent, not yet answered
        self._media_prefix = ""

    # ------------------------------------------------------------------------------ parsing

    def parse(self, message: str | bytes) -> list[CarrierEvent]:
        """Events carried by one inbound message, in order (never raises)."""
        decoded = json_object(message)
        if isinstance(decoded, MessageIgnored):
            return [decoded]
        if not isinstance(decoded.get("event"), str):
            return [malformed("no event name")]
        sequence = integer(decoded.get("sequenceNumber"))
        if sequence is None:
            return self._handle(decoded)
        events: list[CarrierEvent] = []
        for result in self.sequence.push(sequence, decoded):
            if isinstance(result, Released):
                events += self._handle(result.item)
            elif isinstance(result, Gap):
                events.append(MessagesMissed(result.expected, result.received))
            else:  # a number after its place: only audio and a repeated digit are dropped
                dropped = stale_drop(str(decoded["event"]), result)
                events += [dropped] if dropped is not None else self._handle(decoded)
        return events

    def _handle(self, message: dict[str, Any]) -> list[CarrierEvent]:
        event = str(message["event"])
        if event == "start":
            return self._start(message)
        if event == "stop":
            return [CallStopped()]
        if self.stream_id is None:
            return [MessageIgnored("before start", clip(event))]
        stream_id = message.get("streamId", self.stream_id)
        if stream_id != self.stream_id:
            return [MessageIgnored("wrong stream", clip(event))]
        if event == "media":
            return [inbound_audio(message.get("media"))]
        if event == "dtmf":
            dtmf = message.get("dtmf")
            digit = dtmf.get("digit") if type(dtmf) is dict else None
            if not isinstance(digit, str) or digit not in DTMF_DIGITS:
                return [MessageIgnored("invalid DTMF digit", clip(str(digit)))]
            return [DtmfPressed(digit)]
        if event == "playedStream":
            return self._played(message.get("name"))
        if event == "clearedAudio":
            flushed = [PlaybackMarked(name) for name in self._pending]
            self._pending.clear()
            return list(flushed)
        return [MessageIgnored("unknown event", clip(event))]

    def _start(self, message: dict[str, Any]) -> list[CarrierEvent]:
        if self.stream_id is not None:
            return [MessageIgnored("duplicate start")]
        start = message.get("start")
        if type(start) is not dict:
            return [malformed("start: no start object")]
        call_id = start.get("callId")
        stream_id = start.get("streamId", message.get("streamId"))
        if not isinstance(call_id, str) or not call_id:
            return [malformed("start: no callId")]
        if not isinstance(stream_id, str) or not stream_id:
            return [malformed("start: no streamId")]
        raw_format = start.get("mediaFormat")
        media_format = self.expected
        if type(raw_format) is dict:
            encoding = raw_format.get("encoding")
            found = (
                content_format(encoding, raw_format.get("sampleRate"))
                if isinstance(encoding, str)
                else None
            )
            if found is None:
                detail = clip(f"{encoding} at {raw_format.get('sampleRate')} Hz")
                return [MessageIgnored("unsupported media format", detail)]
            media_format = found
        headers = extra_headers(message.get("extra_headers", start.get("extra_headers")))
        parameters = {**self.presented, **headers}
        hex_token = headers.get(HEADER_TOKEN)
        token = token_from_header(hex_token) if hex_token else None
        if token is not None and STREAM_TOKEN_PARAMETER not in parameters:
            parameters[STREAM_TOKEN_PARAMETER] = token
        account = start.get("accountId", "")
        self.call_id, self.stream_id, self.format = call_id, stream_id, media_format
        media = {
            "contentType": _CONTENT_TYPES[media_format.encoding],
            "sampleRate": media_format.rate_hz,
        }
        prefix = json.dumps(
            {"event": "playAudio", "streamId": stream_id, "media": media}, separators=(",", ":")
        )
        self._media_prefix = prefix[:-2] + ',"payload":"'
        return [
            CallStarted(
                call_id=call_id,
                stream_id=stream_id,
                account_id=account if isinstance(account, str) else "",
                media_format=media_format,
                custom_parameters=parameters,
            )
        ]

    def _played(self, name: object) -> list[CarrierEvent]:
        if not isinstance(name, str):
            return [malformed("playedStream: no name string")]
        if name not in self._pending:
            return [MessageIgnored("late checkpoint", clip(name))]
        # Checkpoints play in order: one answered means every earlier one has played too.
        played: list[CarrierEvent] = []
        while self._pending:
            pending = self._pending.popleft()
            played.append(PlaybackMarked(pending))
            if pending == name:
                break
        return played

    # ----------------------------------------------------------------------------- encoding

    def encode(self, command: CarrierCommand) -> str:
        """The JSON text frame for one command. ValueError before `start`."""
        if self.stream_id is None:
            raise ValueError("Plivo stream not started")
        sid = json.dumps(self.stream_id)
        if type(command) is PlayAudio:
            payload = binascii.b2a_base64(command.payload, newline=False).decode("ascii")
            return self._media_prefix + payload + '"}}'
        if type(command) is PlaceMark:
            self._pending.append(command.name)
            name = json.dumps(command.name)
            return '{"event":"checkpoint","streamId":' + sid + ',"name":' + name + "}"
        if type(command) is ClearPlayback:
            return '{"event":"clearAudio","streamId":' + sid + "}"
        raise TypeError(f"not a carrier command: {type(command).__name__}")
