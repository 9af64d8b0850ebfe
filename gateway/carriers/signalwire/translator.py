"""SignalWire cXML media streams: Twilio's dialect, SignalWire's codecs (pure).

protocols.md C.5: SignalWire's compatibility API is TwiML-compatible and its Media Streams are
message-compatible with Twilio's (`connected`, `start`, `media`, `mark`, `dtmf`, `stop` in;
`media`, `mark`, `clear` out), so the translator **is** `TwilioTranslator`, configured:

* under the carrier name `signalwire`;
* with the formats a `<Stream codec=…>` can select: `PCMU@8000h` (the default), `PCMA`, and raw
  16-bit PCM `L16@8000h|16000h|24000h`. With L16 the audio goes to Live and back with no G.711
  step at all (16 kHz needs no resampling towards Live). `start.mediaFormat` is read, not
  assumed; the spelling of its L16 `encoding` is not verified, so the common ones are taken,
  and an unknown one with a note, as the codec the answer asked for;
* with L16 optionally in network byte order (SIGNALWIRE_L16_BYTE_ORDER=big) [unverified];
* with the stream token the handshake's `Authorization: Bearer` carried (`authBearerToken`) as
  a presented parameter, under any `<Parameter>` the `start` brings.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Final

from gateway.audio.paths import CarrierFormat, Encoding
from gateway.carriers.twilio.translator import MediaFormats, TwilioTranslator

__all__ = ["SIGNALWIRE_FORMATS", "codec_attribute", "codec_format", "signalwire_translator"]

_L16_RATES: Final = frozenset({8_000, 16_000, 24_000})
_G711_RATES: Final = frozenset({8_000})
SIGNALWIRE_FORMATS: Final[MediaFormats] = {
    "audio/x-mulaw": (Encoding.MULAW, _G711_RATES),
    "audio/pcmu": (Encoding.MULAW, _G711_RATES),
    "pcmu": (Encoding.MULAW, _G711_RATES),
    "audio/x-alaw": (Encoding.ALAW, _G711_RATES),
    "audio/pcma": (Encoding.ALAW, _G711_RATES),
    "pcma": (Encoding.ALAW, _G711_RATES),
    "audio/x-l16": (Encoding.L16, _L16_RATES),
    "audio/l16": (Encoding.L16, _L16_RATES),
    "l16": (Encoding.L16, _L16_RATES),
}
_CODEC: Final = re.compile(r"(PCMU|PCMA|L16)(?:@(8000|16000|24000)h)?", re.IGNORECASE)
_ENCODINGS: Final = {"PCMU": Encoding.MULAW, "PCMA": Encoding.ALAW, "L16": Encoding.L16}


def codec_format(codec: str) -> CarrierFormat:
    """The format of a `<Stream codec=…>` value (`PCMU`, `L16@16000h`, ...); ValueError else."""
    match = _CODEC.fullmatch(codec.strip())
    if match is None:
        raise ValueError(f"not a SignalWire stream codec: {codec!r}")
    encoding = _ENCODINGS[match.group(1).upper()]
    rate = int(match.group(2) or 8000)
    if encoding is not Encoding.L16 and rate != 8000:
        raise ValueError(f"{match.group(1)} streams at 8000 Hz only")
    return CarrierFormat(encoding, rate)


def codec_attribute(codec: str) -> str | None:
    """The `codec` attribute to put on `<Stream>` (None: SignalWire's default, PCMU@8000h)."""
    media_format = codec_format(codec)
    if media_format.encoding is Encoding.MULAW:
        return None
    if media_format.encoding is Encoding.ALAW:
        return "PCMA"
    return f"L16@{media_format.rate_hz}h"


def signalwire_translator(
    presented: Mapping[str, str] | None = None,
    *,
    l16_big_endian: bool = False,
    codec: str | None = None,
) -> TwilioTranslator:
    """A translator for one SignalWire media stream whose answer asked for `codec`."""
    return TwilioTranslator(
        presented,
        carrier="signalwire",
        formats=SIGNALWIRE_FORMATS,
        l16_big_endian=l16_big_endian,
        expected=None if codec is None else codec_format(codec),
    )
