"""Exotel Voicebot applet (bidirectional AgentStream): wire messages <-> bridge vocabulary.

protocols.md C.4. JSON text frames, snake_case: `connected`, then `start` (`stream_sid`,
`call_sid`, `account_sid`, `custom_parameters`, `media_format` with `encoding` `audio/x-raw`
(16-bit little-endian PCM) and `sample_rate` as a string), `media` (base64 PCM, about 100 ms
a message), `dtmf`, `mark` (the echo of ours), `stop`. Every message after `connected` carries
a string `sequence_number`, counted from the first one seen; a repeat or an older one is dropped
(a replayed frame never doubles audio) and a gap is reported (`MessagesMissed`), as for Twilio.

Defensive choices for what is not documented [unverified]:

* the stream URL's query string (`sample-rate` and the custom parameters, which carry the stream
  token) is given by the route as `url_parameters`; they are custom parameters too, under the
  ones `start` names, in case Exotel does not copy them into `start`;
* a `start` without `media_format` is L16 at the URL's `sample-rate` (else 8 kHz); `audio/x-mulaw`
  (the beta extended configuration) is accepted as μ-law;
* the older `start` form, still sent by many clients and described in Exotel's older support
  article, names the transport instead of the codec: `"encoding": "base64"` with
  `"bit_rate": "128kbps"` (8,000 samples/s of 16 bits). It is the same 16-bit PCM and is taken as
  L16 at its `sample_rate`. A `bit_rate` in `kbps` is a bit rate, not a sample size, and is
  accepted whatever its value (it is informational in both forms);
* outbound audio goes in chunks of at least 100 ms, at least 3,200 bytes and a multiple of
  320 bytes (Exotel's chunk rules): `CarrierFormat.frame_ms` is `chunk_ms(...)`, so the bridge's
  downlink frames are exactly such chunks (200 ms at 8 kHz, 100 ms at 16 and 24 kHz);
* the stream id goes out as `stream_sid` (protocols.md; some clients send `streamSid`).
"""

from __future__ import annotations

import binascii
import functools
import json
from collections.abc import Mapping
from typing import Any, Final

from gateway.audio.paths import CarrierFormat, Encoding
from gateway.carriers.messages import (
    DTMF_DIGITS,
    EventCounts,
    clip,
    integer,
    json_object,
    malformed,
    stale_drop,
)
from gateway.carriers.reorder import Gap, Released, Reorder
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

__all__ = ["CHUNK_MULTIPLE_BYTES", "MIN_CHUNK_BYTES", "SUPPORTED_RATES_HZ", "ExotelTranslator"]

SUPPORTED_RATES_HZ: Final = (8_000, 16_000, 24_000)
MIN_CHUNK_MS: Final = 100
MIN_CHUNK_BYTES: Final = 3_200
CHUNK_MULTIPLE_BYTES: Final = 320
RATE_PARAMETER: Final = "sample-rate"
_ENCODINGS: Final = {
    "audio/x-raw": Encoding.L16,
    "audio/x-mulaw": Encoding.MULAW,
    "base64": Encoding.L16,  # the older form: the payload's transport, always 16-bit PCM
}


@functools.cache
def chunk_ms(encoding: Encoding, rate_hz: int) -> int:
    """The shortest whole-ms chunk that meets Exotel's rules for this format."""
    bytes_per_s = rate_hz * (2 if encoding is Encoding.L16 else 1)
    for ms in range(MIN_CHUNK_MS, 10_001):
        size, remainder = divmod(bytes_per_s * ms, 1000)
        if not remainder and size >= MIN_CHUNK_BYTES and size % CHUNK_MULTIPLE_BYTES == 0:
            return ms
    raise ValueError(f"no Exotel chunk size for {encoding} at {rate_hz} Hz")


def _bit_rate_fits(raw: object) -> bool:
    """Whether `bit_rate` is usable: absent, a sample size of 8 or 16 bits (`"16"`, the current
    form), or a bit rate in kbps (`"128kbps"`, the older form: informational)."""
    if raw is None:
        return True
    if isinstance(raw, str) and raw[-4:].lower() == "kbps":
        return (integer(raw[:-4].strip()) or 0) > 0
    return integer(raw) in (8, 16)


class ExotelTranslator(EventCounts):
    """One Exotel stream: `parse` each text frame, `encode` each command.

    After `CallStarted`, `call_id` and `stream_id` are set and `encode` works.
    """

    carrier = "exotel"

    def __init__(self, url_parameters: Mapping[str, str] | None = None) -> None:
        super().__init__()
        self.url_parameters = dict(url_parameters or {})
        self.call_id: str | None = None
        self.stream_id: str | None = None
        self.audio_bytes_in = 0
        self._sequence: Reorder[dict[str, Any]] | None = None
        self._connected = False
        self._sid = ""  # the JSON-escaped stream id, computed once at `start`

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
            return [malformed("no event name")]
        if event == "connected":
            if self._connected:
                return [MessageIgnored("duplicate connected")]
            self._connected = True
            return [StreamConnected("connected")]
        sequence = integer(decoded.get("sequence_number"))
        if sequence is None:
            return self._handle(event, decoded)
        if self._sequence is None:  # count from the first number seen, whatever it is
            self._sequence = Reorder(window=0, first=sequence)
        out: list[CarrierEvent] = []
        for result in self._sequence.push(sequence, decoded):
            if isinstance(result, Released):
                out += self._handle(event, result.item)
            elif isinstance(result, Gap):
                out.append(MessagesMissed(result.expected, result.received))
            else:  # a number after its place: only audio and a repeated digit are dropped
                dropped = stale_drop(event, result)
                out += [dropped] if dropped is not None else self._handle(event, decoded)
        return out

    def _handle(self, event: str, message: dict[str, Any]) -> list[CarrierEvent]:
        if event == "start":
            return self._start(message)
        if event == "stop":
            if self.stream_id is not None and message.get("stream_sid", self.stream_id) != (
                self.stream_id
            ):
                return [MessageIgnored("wrong stream", "stop")]
            return [CallStopped()]
        handler = {"media": self._media, "dtmf": self._dtmf, "mark": self._mark}.get(event)
        if handler is None:
            return [MessageIgnored("unknown event", clip(event))]
        if self.stream_id is None:
            return [MessageIgnored("before start", event)]
        if message.get("stream_sid", self.stream_id) != self.stream_id:
            return [MessageIgnored("wrong stream", event)]
        body = message.get(event)
        if type(body) is not dict:
            return [malformed(f"{event}: no {event} object")]
        return handler(body)

    def _start(self, message: dict[str, Any]) -> list[CarrierEvent]:
        if self.stream_id is not None:
            return [MessageIgnored("duplicate start")]
        start = message.get("start")
        if type(start) is not dict:
            return [malformed("start: no start object")]
        call_id = start.get("call_sid")
        stream_id = start.get("stream_sid", message.get("stream_sid"))
        account_id = start.get("account_sid", "")
        if not isinstance(call_id, str) or not call_id:
            return [malformed("start: no call_sid")]
        if not isinstance(stream_id, str) or not stream_id:
            return [malformed("start: no stream_sid")]
        media_format = self._media_format(start.get("media_format"))
        if isinstance(media_format, MessageIgnored):
            return [media_format]
        raw = start.get("custom_parameters")
        named = {k: v for k, v in raw.items() if isinstance(v, str)} if type(raw) is dict else {}
        self.call_id, self.stream_id = call_id, stream_id
        self._sid = json.dumps(stream_id)
        return [
            CallStarted(
                call_id=call_id,
                stream_id=stream_id,
                account_id=account_id if isinstance(account_id, str) else "",
                media_format=media_format,
                custom_parameters={**self.url_parameters, **named},
            )
        ]

    def _media_format(self, raw: object) -> CarrierFormat | MessageIgnored:
        fields = raw if type(raw) is dict else {}
        encoding = _ENCODINGS.get(str(fields.get("encoding", "audio/x-raw")).lower())
        default_rate = integer(self.url_parameters.get(RATE_PARAMETER)) or 8_000
        rate_hz = integer(fields.get("sample_rate", default_rate))
        if encoding is None or rate_hz not in SUPPORTED_RATES_HZ:
            detail = clip(f"{fields.get('encoding')} at {fields.get('sample_rate')} Hz")
            return MessageIgnored("unsupported media format", detail)
        if not _bit_rate_fits(fields.get("bit_rate")):
            detail = clip(f"{fields.get('encoding')} with bit_rate {fields.get('bit_rate')}")
            return MessageIgnored("unsupported media format", detail)
        return CarrierFormat(encoding, rate_hz, chunk_ms(encoding, rate_hz))

    def _media(self, media: dict[str, Any]) -> list[CarrierEvent]:
        payload = media.get("payload")
        if not isinstance(payload, str):
            return [malformed("media: no payload string")]
        try:
            audio = binascii.a2b_base64(payload, strict_mode=True)
        except (binascii.Error, ValueError):
            return [malformed(f"media: invalid base64 ({len(payload)} chars)")]
        if not audio:
            return [MessageIgnored("empty audio")]
        self.audio_bytes_in += len(audio)
        return [CallerAudio(audio, integer(media.get("timestamp")))]

    def _dtmf(self, dtmf: dict[str, Any]) -> list[CarrierEvent]:
        digit = dtmf.get("digit")
        if not isinstance(digit, str):
            return [malformed("dtmf: no digit string")]
        if digit not in DTMF_DIGITS:
            return [MessageIgnored("invalid DTMF digit", clip(digit))]
        return [DtmfPressed(digit)]

    def _mark(self, mark: dict[str, Any]) -> list[CarrierEvent]:
        name = mark.get("name")
        if not isinstance(name, str):
            return [malformed("mark: no name string")]
        return [PlaybackMarked(name)]

    # ----------------------------------------------------------------------------- encoding

    def encode(self, command: CarrierCommand) -> str:
        """The JSON text frame for one command. ValueError before `start`."""
        if self.stream_id is None:
            raise ValueError("Exotel stream not started: no stream_sid to address")
        if type(command) is PlayAudio:
            payload = binascii.b2a_base64(command.payload, newline=False).decode("ascii")
            return f'{{"event":"media","stream_sid":{self._sid},"media":{{"payload":"{payload}"}}}}'
        if type(command) is PlaceMark:
            name = json.dumps(command.name)
            return f'{{"event":"mark","stream_sid":{self._sid},"mark":{{"name":{name}}}}}'
        if type(command) is ClearPlayback:
            return f'{{"event":"clear","stream_sid":{self._sid}}}'
        raise TypeError(f"not a carrier command: {type(command).__name__}")
