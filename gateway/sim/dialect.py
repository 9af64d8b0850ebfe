"""The seam between the simulator and one carrier's wire dialect.

A `CarrierDialect` knows how that carrier calls a gateway: the webhook request it sends, how it
reads the answer (TwiML for Twilio), how it signs the media WebSocket upgrade. For each stream it
creates a `StreamDialect` that writes the carrier's messages (opening, media, DTMF, mark echoes,
stop) and validates what the gateway sends back, turning each message into a carrier-neutral
`GatewayCommand` or a `ProtocolViolation`. Everything here is synchronous; the shell
(`gateway.sim.call`) does the I/O. Twilio is `gateway.sim.twilio`; every dialect is registered
by name in `gateway.sim.carriers`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt

from gateway.sim.script import SimOptions

__all__ = [
    "AnswerRefusedError",
    "CarrierDialect",
    "GatewayClear",
    "GatewayCommand",
    "GatewayMark",
    "GatewayMedia",
    "ProtocolViolation",
    "StreamAnswer",
    "StreamDialect",
    "Verb",
    "WebhookRequest",
]

# -- what the gateway tells the carrier on the media stream, carrier-neutral ---------------------


@dataclass(frozen=True, eq=False)
class GatewayMedia:
    """Audio to play to the caller, decoded to 8 kHz int16."""

    samples: npt.NDArray[np.int16]


@dataclass(frozen=True)
class GatewayMark:
    name: str


@dataclass(frozen=True)
class GatewayClear:
    pass


GatewayCommand = GatewayMedia | GatewayMark | GatewayClear


@dataclass(frozen=True)
class ProtocolViolation:
    """A gateway message the carrier refuses (Twilio: error 31924); the stream then ends."""

    code: int
    reason: str


# -- call setup ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class WebhookRequest:
    """The HTTP request that tells the gateway a call is ringing.

    A form POST by default (`form` url-encoded as the body). A carrier that signs the raw body
    or sends JSON sets `body`: those exact bytes are sent (with the dialect's `Content-Type` in
    `headers`) and `form` then only lists the fields for the report. `method` `GET` sends `form`
    as the query string instead.
    """

    url: str
    form: tuple[tuple[str, str], ...]
    headers: tuple[tuple[str, str], ...]
    body: bytes | None = None
    method: str = "POST"


@dataclass(frozen=True)
class Verb:
    """One instruction of the gateway's answer other than the stream (e.g. `Say`, `Hangup`)."""

    kind: str
    text: str = ""
    attributes: tuple[tuple[str, str], ...] = ()

    def describe(self) -> str:
        attrs = " ".join(f'{name}="{value}"' for name, value in self.attributes)
        head = f"<{self.kind}{' ' + attrs if attrs else ''}>"
        return f"{head} {self.text}".rstrip()


@dataclass(frozen=True)
class StreamAnswer:
    """What the gateway answered: a media stream to open (or None) and the other verbs.

    `before` run before the stream opens (the simulator records them, it does not speak them);
    `after` run once the gateway closes the stream (a fallback `Dial`, a goodbye `Say`).
    """

    stream_url: str | None
    parameters: tuple[tuple[str, str], ...] = ()
    before: tuple[Verb, ...] = ()
    after: tuple[Verb, ...] = ()
    attributes: tuple[tuple[str, str], ...] = ()
    """The stream element's attributes other than its URL (codec, mode, ...)."""
    action: str | None = None
    """Twilio's `<Connect action>`: requested when the stream ends without the caller hanging
    up; its answer is the call's next TwiML (a new stream, or the end)."""


class AnswerRefusedError(Exception):
    """The answer asks for something the carrier refuses (bad TwiML, a forbidden stream URL)."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(f"{code}: {reason}")
        self.code = code
        self.reason = reason


# -- protocols ----------------------------------------------------------------------------------


class StreamDialect(Protocol):
    """One media stream's wire messages (keeps the sequence counters)."""

    stream_sid: str

    def opening(self, parameters: tuple[tuple[str, str], ...]) -> list[str]:
        """The messages that open the stream (Twilio: `connected`, then `start`)."""
        ...

    def media(self, payload: bytes, timestamp_ms: int) -> str | bytes | list[str | bytes]:
        """One inbound audio frame; `payload` is in the stream's encoding (μ-law for Twilio).

        Text is sent as a text frame, bytes as a binary frame (carriers with binary audio). A
        list is sent in its order (a carrier that delivers frames out of order holds one back
        and sends it after the next); an empty list sends nothing now."""
        ...

    def dtmf(self, digit: str) -> str: ...

    def mark_echo(self, name: str) -> str | None:
        """The carrier's answer to a playback marker (Twilio: the `mark` echo); None when the
        carrier sends none (a marker a flush dropped, on carriers that do not answer those)."""
        ...

    def stop(self) -> str | list[str | bytes] | None:
        """The message(s) that end the stream (None: the carrier just closes the socket)."""
        ...

    def encode_audio(self, samples: npt.NDArray[np.int16]) -> bytes:
        """8 kHz int16 samples -> the stream's payload encoding."""
        ...

    def parse_gateway(self, message: str | bytes) -> GatewayCommand | ProtocolViolation:
        """Validate one message from the gateway as the carrier would."""
        ...

    def event_name(self, message: str | bytes) -> str:
        """The message's event name for logs (`"?"` when it has none)."""
        ...


class CarrierDialect(Protocol):
    """How one carrier places a call against a gateway."""

    name: str
    webhook_path: str

    def webhook(self, base_url: str, options: SimOptions) -> WebhookRequest: ...

    def parse_answer(self, body: str) -> StreamAnswer:
        """The gateway's answer; raises `AnswerRefusedError` when the carrier would refuse it."""
        ...

    def upgrade_headers(self, stream_url: str, options: SimOptions) -> list[tuple[str, str]]:
        """Extra headers on the WebSocket upgrade request (signature, user agent)."""
        ...

    def new_stream(self, options: SimOptions) -> StreamDialect:
        """The stream the last parsed answer asked for (a dialect object serves one call)."""
        ...
