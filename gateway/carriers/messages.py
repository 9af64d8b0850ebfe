"""Reading carriers' JSON control messages safely: the helpers every translator shares.

A translator must never raise on what a carrier (or an impostor) sends, and whatever it puts in
a log line must be short and printable. `json_object` decodes one text message into a JSON
object or says, in a `MessageIgnored`, why it could not; `clip` makes a string loggable;
`integer` reads the numbers carriers send as decimal strings; `bounded_id` makes an id a carrier
chose (a CallSid, a stream id, a phone number) fit on a log line, and `MAX_ID_CHARS` is how long
an id may be at all (a longer one is refused where it enters: webhook, stream `start`).
"""

from __future__ import annotations

import binascii
import json
from typing import Any, Final

from gateway.carriers.base import MAX_CARRIER_MESSAGE_BYTES
from gateway.carriers.reorder import Stale
from gateway.core.events import CallerAudio, CarrierEvent, MessageIgnored, MessagesMissed

__all__ = [
    "DTMF_DIGITS",
    "MAX_ID_CHARS",
    "EventCounts",
    "bounded_id",
    "clip",
    "inbound_audio",
    "integer",
    "json_object",
    "malformed",
    "oversized",
    "stale_drop",
]

DTMF_DIGITS: Final = frozenset("0123456789*#ABCD")

_DETAIL_CHARS: Final = 80
MAX_ID_CHARS: Final = 128
"""Longest id a carrier may give a call or stream. Real ones are 32-90 characters (Twilio's
CA + 32 hex, UUIDs, Telnyx's `v3:` call control ids); a 60 KB CallSid is not an id."""
_INTEGER_CHARS: Final = 20  # an int64 is 19 digits: anything longer is garbage


class EventCounts:
    """A translator's counters of what it parsed (messages, ignored ones, missed ones)."""

    def __init__(self) -> None:
        self.messages_parsed = 0
        self.messages_ignored = 0
        self.messages_missed = 0

    def counted(self, events: list[CarrierEvent]) -> list[CarrierEvent]:
        """Count one parsed message and its events; returns `events`."""
        self.messages_parsed += 1
        for event in events:
            if type(event) is MessageIgnored:
                self.messages_ignored += 1
            elif type(event) is MessagesMissed:
                self.messages_missed += event.count
        return events


def clip(text: str) -> str:
    """`text` cut to a loggable size, with control characters replaced."""
    cut = text[:_DETAIL_CHARS]
    safe = cut if cut.isprintable() else "".join(c if c.isprintable() else "?" for c in cut)
    return safe + "…" if len(text) > _DETAIL_CHARS else safe


def stale_drop(event: str, stale: Stale) -> MessageIgnored | None:
    """Why a message whose sequence number came after its place is dropped, or None when it
    is handled all the same. Caller audio is dropped (never doubled, never out of order), and a
    DTMF digit that repeats one already seen; a `stop`, a `start`, a mark echo or any other
    control message is never dropped because of its number (a sequence number is evidence)."""
    if event == "media" or (event == "dtmf" and stale.duplicate):
        return MessageIgnored("stale sequence", f"{stale.sequence} after {stale.expected - 1}")
    return None


def bounded_id(text: str, limit: int = MAX_ID_CHARS) -> str:
    """A carrier-supplied id or string for a log line: printable, at most `limit` characters,
    else cut with a marker that says how long it was (`CA12…[61440 chars]`)."""
    safe = text if text.isprintable() else "".join(c if c.isprintable() else "?" for c in text)
    if len(safe) <= limit:
        return safe
    return f"{safe[:limit]}…[{len(text)} chars]"


def malformed(detail: str) -> MessageIgnored:
    return MessageIgnored("malformed", detail)


def integer(raw: object) -> int | None:
    """An integer sent as a short decimal string or as a JSON number (None otherwise)."""
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


def oversized(
    message: str | bytes, limit: int = MAX_CARRIER_MESSAGE_BYTES
) -> MessageIgnored | None:
    """A `MessageIgnored` when `message` is larger than `limit` bytes (UTF-8 for text)."""
    size = len(message)
    if isinstance(message, str) and size * 4 > limit:
        # Only long text needs its UTF-8 size measured (a character is at most 4 bytes).
        size = len(message.encode("utf-8", "surrogatepass"))
    if size > limit:
        return MessageIgnored("oversized", f"{size} bytes > {limit}")
    return None


def json_object(message: str | bytes) -> dict[str, Any] | MessageIgnored:
    """One text message decoded as a JSON object, or why it is not one (never raises)."""
    too_big = oversized(message)
    if too_big is not None:
        return too_big
    if isinstance(message, bytes):
        try:
            message = message.decode("utf-8")
        except UnicodeDecodeError as exc:
            return malformed(f"invalid UTF-8 at byte {exc.start}")
    try:
        decoded = json.loads(message)
    except json.JSONDecodeError as exc:
        return malformed(f"invalid JSON at char {exc.pos}")
    except (ValueError, RecursionError):  # lone surrogates, absurd nesting
        return malformed("invalid JSON")
    if type(decoded) is not dict:
        return malformed(f"a JSON {type(decoded).__name__}, not an object")
    return decoded


def inbound_audio(media: object) -> CallerAudio | MessageIgnored:
    """A JSON `media` object's caller audio: the inbound track (absent: inbound), a strict
    base64 `payload` and the carrier's `timestamp` (the shape Twilio, Telnyx and Plivo share)."""
    if type(media) is not dict:
        return malformed("media: no media object")
    track = media.get("track", "inbound")
    if track != "inbound":
        return MessageIgnored("not the inbound track", clip(str(track)))
    payload = media.get("payload")
    if not isinstance(payload, str):
        return malformed("media: no payload string")
    try:
        audio = binascii.a2b_base64(payload, strict_mode=True)
    except (binascii.Error, ValueError):
        return malformed(f"media: invalid base64 ({len(payload)} chars)")
    if not audio:
        return MessageIgnored("empty audio")
    return CallerAudio(audio, integer(media.get("timestamp")))
