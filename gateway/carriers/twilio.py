"""Twilio Media Streams (bidirectional, `<Connect><Stream>`): wire messages <-> bridge vocabulary.

protocols.md B.2-B.4. One `TwilioTranslator` per media WebSocket. `parse` never raises: anything
it cannot use becomes `MessageIgnored(reason, detail)`, where `detail` is short and safe to log
(never a payload, never a whole message). `encode` raises ValueError until a `start` was parsed,
because every outbound message needs the stream's `streamSid`.

Sequence numbers (a string integer on every message but `connected`) are tracked: a jump forward
yields `MessagesMissed` before the message's own events; a repeated or older number drops the
message (`MessageIgnored("stale sequence")`) so that a replayed media frame never doubles audio.
A message without a usable sequence number (or with an implausible jump, `MAX_SEQUENCE_JUMP`) is
still processed, but does not move the tracking.
"""

from __future__ import annotations

import binascii
import json
from typing import Any, Final

from gateway.audio.paths import CarrierFormat, Encoding
from gateway.carriers.base import MAX_CARRIER_MESSAGE_BYTES
from gateway.core.events import (
    CallerAudio,
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

__all__ = ["DTMF_DIGITS", "MAX_SEQUENCE_JUMP", "SUPPORTED_RATES_HZ", "TwilioTranslator"]

DTMF_DIGITS: Final = frozenset("0123456789*#ABCD")
SUPPORTED_RATES_HZ: Final = frozenset({8_000})
"""Twilio streams μ-law at 8 kHz only (B.2); anything else would be a different carrier."""

_MULAW: Final = "audio/x-mulaw"
_DETAIL_CHARS: Final = 80
_INTEGER_CHARS: Final = 20  # an int64 is 19 digits: anything longer is garbage
MAX_SEQUENCE_JUMP: Final = 65_536
"""A forward jump beyond this (22 min of media) is a corrupt number, not a gap: it is not tracked,
so one bad value cannot make every later message look stale."""


def _clip(text: str) -> str:
    """`text` cut to a loggable size, with control characters replaced."""
    cut = text[:_DETAIL_CHARS]
    safe = cut if cut.isprintable() else "".join(c if c.isprintable() else "?" for c in cut)
    return safe + "…" if len(text) > _DETAIL_CHARS else safe


def _malformed(detail: str) -> list[CarrierEvent]:
    return [MessageIgnored("malformed", detail)]


def _integer(raw: object) -> int | None:
    """An integer sent as a short decimal string (as Twilio documents) or a JSON number."""
    if isinstance(raw, str):
        if 0 < len(raw) <= _INTEGER_CHARS:
            try:
                return int(raw)
            except ValueError:
                return None
        return None
    if isinstance(raw, bool):  # JSON true is not a number
        return None
    if isinstance(raw, int):
        return raw
    if isinstance(raw, float) and raw.is_integer():
        return int(raw)
    return None


class TwilioTranslator:
    """One Twilio media stream: `parse` each inbound text frame, `encode` each command.

    After `CallStarted`, `call_id` and `stream_id` are set and `encode` works. The counters
    (`messages_parsed`, `messages_ignored`, `messages_missed`, `audio_bytes_in`) feed the call's
    summary line.
    """

    carrier = "twilio"

    def __init__(self) -> None:
        self.call_id: str | None = None
        self.stream_id: str | None = None
        self.last_sequence: int | None = None
        """The highest sequence number seen so far (None before the first one)."""
        self.messages_parsed = 0
        self.messages_ignored = 0
        self.messages_missed = 0
        self.audio_bytes_in = 0
        self._connected = False
        # Outbound messages are built by concatenation around the JSON-escaped streamSid,
        # computed once at `start`: media is the hot path (50 messages/s per call).
        self._media_prefix = ""
        self._mark_prefix = ""
        self._clear = ""

    # ------------------------------------------------------------------------------ parsing

    def parse(self, message: str | bytes) -> list[CarrierEvent]:
        """Events carried by one inbound message, in order (never raises)."""
        events = self._parse(message)
        self.messages_parsed += 1
        for event in events:
            if type(event) is MessageIgnored:
                self.messages_ignored += 1
            elif type(event) is MessagesMissed:
                self.messages_missed += event.count
        return events

    def _parse(self, message: str | bytes) -> list[CarrierEvent]:
        size = len(message)
        if isinstance(message, str) and size * 4 > MAX_CARRIER_MESSAGE_BYTES:
            # Only long text needs its UTF-8 size measured (a character is at most 4 bytes).
            size = len(message.encode("utf-8", "surrogatepass"))
        if size > MAX_CARRIER_MESSAGE_BYTES:
            return [MessageIgnored("oversized", f"{size} bytes > {MAX_CARRIER_MESSAGE_BYTES}")]
        if isinstance(message, bytes):
            try:
                message = message.decode("utf-8")
            except UnicodeDecodeError as exc:
                return _malformed(f"invalid UTF-8 at byte {exc.start}")
        try:
            decoded = json.loads(message)
        except json.JSONDecodeError as exc:
            return _malformed(f"invalid JSON at char {exc.pos}")
        except (ValueError, RecursionError):  # lone surrogates, absurd nesting
            return _malformed("invalid JSON")
        if type(decoded) is not dict:
            return _malformed(f"a JSON {type(decoded).__name__}, not an object")
        event = decoded.get("event")
        if not isinstance(event, str):
            return _malformed("no event name")
        if event == "connected":
            return self._connected_event(decoded)

        missed: list[CarrierEvent] = []
        sequence = _integer(decoded.get("sequenceNumber"))
        if sequence is not None and sequence - (self.last_sequence or 0) <= MAX_SEQUENCE_JUMP:
            last = self.last_sequence
            expected = 1 if last is None else last + 1
            if last is not None and sequence <= last:
                return [MessageIgnored("stale sequence", f"{sequence} after {last}")]
            if sequence > expected:
                missed.append(MessagesMissed(expected, sequence))
            self.last_sequence = sequence

        handler = self._HANDLERS.get(event)
        if handler is None:
            return [*missed, MessageIgnored("unknown event", _clip(event))]
        return missed + handler(self, decoded)

    def _connected_event(self, message: dict[str, Any]) -> list[CarrierEvent]:
        if self._connected:
            return [MessageIgnored("duplicate connected")]
        protocol = message.get("protocol", "")
        version = message.get("version", "")
        if not isinstance(protocol, str) or not isinstance(version, str):
            return _malformed("connected: non-string protocol or version")
        self._connected = True
        return [StreamConnected(_clip(protocol), _clip(version))]

    def _start(self, message: dict[str, Any]) -> list[CarrierEvent]:
        if self.stream_id is not None:
            return [MessageIgnored("duplicate start")]
        start = message.get("start")
        if type(start) is not dict:
            return _malformed("start: no start object")
        call_id = start.get("callSid")
        outer_sid = message.get("streamSid")
        stream_id = start.get("streamSid", outer_sid)
        account_id = start.get("accountSid", "")
        if not isinstance(call_id, str) or not call_id:
            return _malformed("start: no callSid")
        if not isinstance(stream_id, str) or not stream_id:
            return _malformed("start: no streamSid")
        if outer_sid is not None and outer_sid != stream_id:
            return _malformed("start: streamSid differs inside and outside start")
        if not isinstance(account_id, str):
            return _malformed("start: non-string accountSid")
        media_format = self._media_format(start.get("mediaFormat"))
        if isinstance(media_format, MessageIgnored):
            return [media_format]

        raw_parameters = start.get("customParameters")
        parameters = (
            {k: v for k, v in raw_parameters.items() if isinstance(v, str)}
            if type(raw_parameters) is dict
            else {}
        )
        raw_tracks = start.get("tracks")
        tracks = (
            tuple(t for t in raw_tracks if isinstance(t, str))
            if type(raw_tracks) is list
            else ("inbound",)
        )

        self.call_id = call_id
        self.stream_id = stream_id
        sid = json.dumps(stream_id)
        self._media_prefix = '{"event":"media","streamSid":' + sid + ',"media":{"payload":"'
        self._mark_prefix = '{"event":"mark","streamSid":' + sid + ',"mark":{"name":'
        self._clear = '{"event":"clear","streamSid":' + sid + "}"
        return [
            CallStarted(
                call_id=call_id,
                stream_id=stream_id,
                account_id=account_id,
                media_format=media_format,
                custom_parameters=parameters,
                tracks=tracks,
            )
        ]

    @staticmethod
    def _media_format(raw: object) -> CarrierFormat | MessageIgnored:
        if type(raw) is not dict:
            return MessageIgnored("malformed", "start: no mediaFormat object")
        encoding = raw.get("encoding")
        rate_hz = _integer(raw.get("sampleRate"))
        channels = raw.get("channels", 1)
        if encoding != _MULAW or rate_hz not in SUPPORTED_RATES_HZ or channels not in (1, "1"):
            shown = encoding if isinstance(encoding, str) else type(encoding).__name__
            detail = f"{_clip(shown)} at {rate_hz} Hz, {_clip(str(channels))} channel(s)"
            return MessageIgnored("unsupported media format", detail)
        return CarrierFormat(Encoding.MULAW, rate_hz)

    def _media(self, message: dict[str, Any]) -> list[CarrierEvent]:
        if self.stream_id is None:
            return [MessageIgnored("before start", "media")]
        if message.get("streamSid") != self.stream_id:
            return [MessageIgnored("wrong stream", "media")]
        media = message.get("media")
        if type(media) is not dict:
            return _malformed("media: no media object")
        # Absent track: <Connect> streams carry only the inbound track (B.2).
        track = media.get("track", "inbound")
        if track != "inbound":
            return [MessageIgnored("not the inbound track", _clip(str(track)))]
        payload = media.get("payload")
        if not isinstance(payload, str):
            return _malformed("media: no payload string")
        if not payload:
            return [MessageIgnored("empty audio")]
        try:
            audio = binascii.a2b_base64(payload, strict_mode=True)
        except (binascii.Error, ValueError):
            return _malformed(f"media: invalid base64 ({len(payload)} chars)")
        if not audio:
            return [MessageIgnored("empty audio")]
        self.audio_bytes_in += len(audio)
        return [CallerAudio(audio, _integer(media.get("timestamp")))]

    def _dtmf(self, message: dict[str, Any]) -> list[CarrierEvent]:
        wrong = self._check_stream(message, "dtmf")
        if wrong is not None:
            return [wrong]
        dtmf = message.get("dtmf")
        digit = dtmf.get("digit") if type(dtmf) is dict else None
        if not isinstance(digit, str):
            return _malformed("dtmf: no digit string")
        if digit not in DTMF_DIGITS:
            return [MessageIgnored("invalid DTMF digit", _clip(digit))]
        return [DtmfPressed(digit)]

    def _mark(self, message: dict[str, Any]) -> list[CarrierEvent]:
        wrong = self._check_stream(message, "mark")
        if wrong is not None:
            return [wrong]
        mark = message.get("mark")
        name = mark.get("name") if type(mark) is dict else None
        if not isinstance(name, str):
            return _malformed("mark: no name string")
        return [PlaybackMarked(name)]

    def _stop(self, message: dict[str, Any]) -> list[CarrierEvent]:
        # A stop ends the call even before `start` (a stream that failed to set up), so only a
        # stop for some other stream is refused.
        if self.stream_id is not None and message.get("streamSid", self.stream_id) != (
            self.stream_id
        ):
            return [MessageIgnored("wrong stream", "stop")]
        return [CallStopped()]

    def _check_stream(self, message: dict[str, Any], event: str) -> MessageIgnored | None:
        if self.stream_id is None:
            return MessageIgnored("before start", event)
        if message.get("streamSid") != self.stream_id:
            return MessageIgnored("wrong stream", event)
        return None

    _HANDLERS: Final = {
        "start": _start,
        "media": _media,
        "dtmf": _dtmf,
        "mark": _mark,
        "stop": _stop,
    }

    # ----------------------------------------------------------------------------- encoding

    def encode(self, command: CarrierCommand) -> str:
        """The compact JSON text frame for one command (B.3). ValueError before `start`."""
        if self.stream_id is None:
            raise ValueError("Twilio stream not started: no streamSid to address")
        if type(command) is PlayAudio:
            payload = binascii.b2a_base64(command.payload, newline=False).decode("ascii")
            return self._media_prefix + payload + '"}}'
        if type(command) is PlaceMark:
            return self._mark_prefix + json.dumps(command.name) + "}}"
        if type(command) is ClearPlayback:
            return self._clear
        raise TypeError(f"not a carrier command: {type(command).__name__}")
