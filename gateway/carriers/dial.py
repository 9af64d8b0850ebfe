"""Placing a call through a carrier's REST API, as data (pure; docs/outbound.md).

A carrier that can dial out gives a `Dialer` (`CarrierPlugin.dialer`; the default is None:
it cannot). The dialer builds the one REST request that places a call (`place`), reads the
carrier's answer to it (`placed`: the carrier's call id, or why it refused), and reads the
carrier's signed progress callbacks (`progress`: ringing, answered, the end and its reason,
the answering-machine verdict) into the carrier-neutral `DialProgress`. Vendor field names
stay in each carrier's folder (`<name>/dial.py`); the shell (`gateway.shell.dial_api`) sends
the request and routes the callbacks.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from gateway.carriers.plugin import Webhook

__all__ = [
    "Answerer",
    "CallProgress",
    "DialProgress",
    "Dialer",
    "MachineDetection",
    "PlaceCall",
    "PlaceFailed",
    "PlaceRequest",
    "Placed",
]


class MachineDetection(StrEnum):
    OFF = "off"
    """No detection: whoever answers gets the agent."""
    HANG_UP = "hang_up"
    """End the call as soon as a machine is detected."""
    LEAVE_VOICEMAIL = "leave_voicemail"
    """Wait for the greeting's end (the beep), speak the voicemail message, hang up."""


class CallProgress(StrEnum):
    """Where a placed call stands, as its carrier reports it."""

    QUEUED = "queued"
    RINGING = "ringing"
    ANSWERED = "answered"
    COMPLETED = "completed"
    BUSY = "busy"
    NO_ANSWER = "no_answer"
    FAILED = "failed"
    CANCELED = "canceled"


class Answerer(StrEnum):
    """Who answered, by the carrier's machine detection."""

    PERSON = "person"
    MACHINE = "machine"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class PlaceCall:
    """A call to place: the numbers, where the carrier calls back, and the detection asked."""

    to_number: str
    from_number: str
    answer_url: str
    """The carrier's voice webhook on the gateway (`https://gw/twilio/voice`)."""
    status_url: str
    """Progress callbacks (`https://gw/twilio/dial-status?dial=<id>`)."""
    machine_url: str
    """Machine-detection callbacks (asynchronous AMD), when the carrier sends them apart."""
    machine_detection: MachineDetection = MachineDetection.OFF
    ring_timeout_s: int = 30
    """How long it rings before the carrier gives up (no answer)."""


@dataclass(frozen=True)
class PlaceRequest:
    """One REST request that places a call. `headers` carry credentials: never logged."""

    method: str
    url: str
    headers: Mapping[str, str] = field(default_factory=dict, repr=False)
    form: tuple[tuple[str, str], ...] | None = field(default=None, repr=False)
    """Form fields in order (a name may repeat: Twilio's `StatusCallbackEvent`)."""
    json: Mapping[str, Any] | None = field(default=None, repr=False)
    description: str = ""


@dataclass(frozen=True)
class Placed:
    """The carrier accepted the call: its call id."""

    call_id: str


@dataclass(frozen=True)
class PlaceFailed:
    """The carrier refused or failed: `reason` is safe to show (never a credential)."""

    reason: str
    status: int


@dataclass(frozen=True)
class DialProgress:
    """One progress callback, carrier-neutral."""

    call_id: str
    progress: CallProgress | None = None
    """None: the callback carries only a machine-detection verdict."""
    answered_by: Answerer | None = None
    greeting_ended: bool = False
    """The machine's greeting has ended (the beep, or its silence): a message may start."""
    leg_id: str | None = None
    """The call's own id when the carrier answered `place` with another one (Plivo's
    `request_uuid` vs the `CallUUID` its webhooks and stream carry)."""


class Dialer(Protocol):
    """One carrier's dial-out requests and callbacks."""

    carrier: str
    detects_greeting_end: bool
    """Its machine detection reports the end of a voicemail greeting (needed by
    `leave_voicemail`: the message must not start over the greeting)."""

    def place(self, call: PlaceCall) -> PlaceRequest:
        """The request that places `call`; ValueError for a number or URL it cannot carry."""
        ...

    def placed(self, status: int, body: bytes) -> Placed | PlaceFailed:
        """The carrier's answer to `place` (HTTP `status`, raw `body`)."""
        ...

    def progress(self, webhook: Webhook) -> DialProgress | None:
        """A signed progress or detection callback; None when it names no call."""
        ...
