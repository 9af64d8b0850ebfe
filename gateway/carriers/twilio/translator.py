"""Twilio Media Streams (bidirectional, `<Connect><Stream>`): wire messages <-> bridge vocabulary.

protocols.md B.2-B.4. One `TwilioTranslator` per media WebSocket. `parse` never raises: anything
it cannot use becomes `MessageIgnored(reason, detail)`, where `detail` is short and safe to log
(never a payload, never a whole message). `encode` raises ValueError until a `start` was parsed,
because every outbound message needs the stream's `streamSid`.

Sequence numbers (a string integer on every message but `connected`) are evidence, not
authority (`gateway.carriers.reorder`, no window: the socket is ordered). A jump forward is
processed at once and reported as `MessagesMissed` when the next message follows it; when the
next one continues from before it instead, the number was wrong and nothing is missed. A
repeated number drops caller audio and DTMF (`MessageIgnored("stale sequence")`) so that a
replayed frame never doubles audio; an older one never seen drops caller audio only, and two in
a row resynchronise the tracking on them. `stop`, `start` and marks are never dropped because of
their number. A message without a usable sequence number is processed and moves nothing.
"""

from __future__ import annotations

import array
import binascii
import json
from collections.abc import Mapping
from typing import Any, Final

from gateway.audio.paths import CarrierFormat, Encoding
from gateway.carriers.messages import DTMF_DIGITS, EventCounts, json_object, stale_drop
from gateway.carriers.messages import clip as _clip
from gateway.carriers.messages import integer as _integer
from gateway.carriers.messages import malformed as _malformed_event
from gateway.carriers.reorder import Gap, Reorder, Stale
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

__all__ = [
    "DTMF_DIGITS",
    "SUPPORTED_RATES_HZ",
    "TWILIO_FORMATS",
    "MediaFormats",
    "TwilioTranslator",
]

SUPPORTED_RATES_HZ: Final = frozenset({8_000})
"""Twilio streams μ-law at 8 kHz only (B.2); anything else would be a different carrier."""

MediaFormats = Mapping[str, tuple[Encoding, frozenset[int]]]
"""`mediaFormat.encoding` (lower case) -> the encoding and the sample rates taken with it."""
TWILIO_FORMATS: Final[MediaFormats] = {"audio/x-mulaw": (Encoding.MULAW, SUPPORTED_RATES_HZ)}


def _malformed(detail: str) -> list[CarrierEvent]:
    return [_malformed_event(detail)]


def _byteswap(pcm: bytes) -> bytes:
    """16-bit samples with their two bytes exchanged (network order <-> little-endian)."""
    samples = array.array("h", pcm[: len(pcm) // 2 * 2])
    samples.byteswap()
    return samples.tobytes()


class TwilioTranslator(EventCounts):
    """One Twilio media stream: `parse` each inbound text frame, `encode` each command.

    After `CallStarted`, `call_id` and `stream_id` are set and `encode` works. The counters
    (`messages_parsed`, `messages_ignored`, `messages_missed`, `audio_bytes_in`) feed the call's
    summary line.
    """

    carrier = "twilio"

    def __init__(
        self,
        presented: Mapping[str, str] | None = None,
        *,
        carrier: str = "twilio",
        formats: MediaFormats = TWILIO_FORMATS,
        l16_big_endian: bool = False,
        expected: CarrierFormat | None = None,
    ) -> None:
        """Twilio's dialect by default. Twilio-compatible carriers (SignalWire) reuse it under
        their own `carrier` name, with the `formats` they stream (L16 at other rates), L16 in
        network byte order if need be, the `presented` parameters their upgrade carried
        (reported in `CallStarted.custom_parameters` under the ones `start` carries), and the
        format their answer asked for (`expected`: taken, with a note, when `start` names a
        format in a spelling not in `formats`)."""
        super().__init__()
        self.expected = expected
        self.carrier = carrier
        self.presented = dict(presented or {})
        self.formats = formats
        self._l16_big_endian = l16_big_endian
        self._swap = False  # L16 in network byte order: swap every payload both ways
        self.call_id: str | None = None
        self.stream_id: str | None = None
        self.sequence: Reorder[None] = Reorder(0)
        """The sequence numbers' tracking (no window: Twilio's socket is ordered)."""
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
        return self.counted(self._parse(message))

    def _parse(self, message: str | bytes) -> list[CarrierEvent]:
        decoded = json_object(message)
        if isinstance(decoded, MessageIgnored):
            return [decoded]
        event = decoded.get("event")
        if not isinstance(event, str):
            return _malformed("no event name")
        if event == "connected":
            return self._connected_event(decoded)

        missed: list[CarrierEvent] = []
        sequence = _integer(decoded.get("sequenceNumber"))
        if sequence is not None:
            for result in self.sequence.push(sequence, None):
                if isinstance(result, Gap):
                    missed.append(MessagesMissed(result.expected, result.received))
                elif isinstance(result, Stale):
                    dropped = stale_drop(event, result)
                    if dropped is not None:
                        return [*missed, dropped]

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
        assumed: list[CarrierEvent] = []
        if isinstance(media_format, MessageIgnored):
            if self.expected is None:
                return [media_format]
            # The answer asked for `expected`; a spelling we do not know is not worth the call.
            assumed = [MessageIgnored("media format assumed", media_format.detail)]
            media_format = self.expected

        raw_parameters = start.get("customParameters")
        parameters = {
            **self.presented,
            **(
                {k: v for k, v in raw_parameters.items() if isinstance(v, str)}
                if type(raw_parameters) is dict
                else {}
            ),
        }
        raw_tracks = start.get("tracks")
        tracks = (
            tuple(t for t in raw_tracks if isinstance(t, str))
            if type(raw_tracks) is list
            else ("inbound",)
        )

        self.call_id = call_id
        self.stream_id = stream_id
        self._swap = self._l16_big_endian and media_format.encoding is Encoding.L16
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
            ),
            *assumed,
        ]

    def _media_format(self, raw: object) -> CarrierFormat | MessageIgnored:
        if type(raw) is not dict:
            return MessageIgnored("malformed", "start: no mediaFormat object")
        encoding = raw.get("encoding")
        rate_hz = _integer(raw.get("sampleRate"))
        channels = raw.get("channels", 1)
        known = self.formats.get(encoding.lower()) if isinstance(encoding, str) else None
        if known is None or rate_hz not in known[1] or channels not in (1, "1"):
            shown = encoding if isinstance(encoding, str) else type(encoding).__name__
            detail = f"{_clip(shown)} at {rate_hz} Hz, {_clip(str(channels))} channel(s)"
            return MessageIgnored("unsupported media format", detail)
        assert rate_hz is not None
        return CarrierFormat(known[0], rate_hz)

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
        if self._swap:
            audio = _byteswap(audio)
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
            raise ValueError(f"{self.carrier} stream not started: no streamSid to address")
        if type(command) is PlayAudio:
            audio = _byteswap(command.payload) if self._swap else command.payload
            payload = binascii.b2a_base64(audio, newline=False).decode("ascii")
            return self._media_prefix + payload + '"}}'
        if type(command) is PlaceMark:
            return self._mark_prefix + json.dumps(command.name) + "}}"
        if type(command) is ClearPlayback:
            return self._clear
        raise TypeError(f"not a carrier command: {type(command).__name__}")
