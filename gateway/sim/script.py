"""What a simulated call does (`CallScript`) and how the simulator behaves (`SimOptions`)."""

from __future__ import annotations

import secrets
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

__all__ = [
    "CALL_RATE_HZ",
    "DTMF_DIGITS",
    "CallScript",
    "DtmfPress",
    "SimOptions",
    "Utterance",
    "new_call_sid",
]

CALL_RATE_HZ = 8_000
"""Sample rate of every audio array the simulator takes or gives (the telephone rate)."""

DTMF_DIGITS = frozenset("0123456789*#")
"""Digits a Twilio `dtmf` message can carry."""


def new_call_sid() -> str:
    """A random Twilio-shaped call SID: `CA` and 32 lowercase hex digits."""
    return "CA" + secrets.token_hex(16)


@dataclass(frozen=True)
class Utterance:
    """Where the caller speaks in the script's audio, and what they say (for the timeline)."""

    start_ms: float
    end_ms: float
    text: str = ""

    def __post_init__(self) -> None:
        if not 0 <= self.start_ms < self.end_ms:
            raise ValueError(f"utterance needs 0 <= start_ms < end_ms, got {self}")

    @property
    def duration_ms(self) -> float:
        return self.end_ms - self.start_ms


@dataclass(frozen=True)
class DtmfPress:
    """A key the caller presses `at_ms` after the stream started."""

    at_ms: float
    digit: str

    def __post_init__(self) -> None:
        if self.at_ms < 0:
            raise ValueError(f"DTMF time must not be negative, got {self.at_ms}")
        if self.digit not in DTMF_DIGITS:
            raise ValueError(f"DTMF digit must be one of 0-9 * #, got {self.digit!r}")


@dataclass(frozen=True, eq=False)
class CallScript:
    """The caller's side of a call.

    `audio` is what the caller says, 8 kHz int16 mono, sample 0 at the stream's start. After it
    ends the caller stays on the line for `tail_ms` (sending silence, as a real line does), then
    the carrier stops the stream. `dtmf` presses happen at their times (anywhere in the call);
    `utterances` annotate where speech is, for the answer latency and the timeline.
    """

    audio: npt.NDArray[np.int16]
    dtmf: tuple[DtmfPress, ...] = ()
    utterances: tuple[Utterance, ...] = ()
    tail_ms: float = 3_000.0

    def __post_init__(self) -> None:
        if self.audio.ndim != 1 or self.audio.dtype != np.int16:
            raise ValueError("script audio must be a 1-D int16 array at 8 kHz")
        if self.tail_ms < 0:
            raise ValueError(f"tail_ms must not be negative, got {self.tail_ms}")
        late = [press for press in self.dtmf if press.at_ms > self.duration_ms]
        if late:
            raise ValueError(f"DTMF after the end of the call ({self.duration_ms} ms): {late}")
        # Sorted once here so every consumer can rely on the order.
        object.__setattr__(self, "dtmf", tuple(sorted(self.dtmf, key=lambda p: p.at_ms)))
        object.__setattr__(
            self, "utterances", tuple(sorted(self.utterances, key=lambda u: u.start_ms))
        )

    @property
    def audio_ms(self) -> float:
        return len(self.audio) * 1000 / CALL_RATE_HZ

    def after(self, offset_ms: float) -> CallScript:
        """The rest of the call from `offset_ms` on (a new stream of the same call: what the
        caller said before it is gone), with the same end."""
        start = min(len(self.audio), round(offset_ms * CALL_RATE_HZ / 1000))
        rest = self.audio[start:]
        end_ms = self.duration_ms - offset_ms
        tail_ms = max(0.0, end_ms - len(rest) * 1000 / CALL_RATE_HZ)
        dtmf = tuple(
            DtmfPress(p.at_ms - offset_ms, p.digit) for p in self.dtmf if p.at_ms >= offset_ms
        )
        utterances = tuple(
            Utterance(max(0.0, u.start_ms - offset_ms), u.end_ms - offset_ms, u.text)
            for u in self.utterances
            if u.end_ms > offset_ms
        )
        return CallScript(rest.copy(), dtmf, utterances, tail_ms)

    @property
    def duration_ms(self) -> float:
        """Audio plus tail: how long the stream lasts unless the gateway ends it first."""
        return self.audio_ms + self.tail_ms


@dataclass(frozen=True)
class SimOptions:
    """How the simulated carrier presents itself and how fast it runs.

    `speed` scales every call duration (pacing, playback, DTMF times, tail): 10 runs a 30 s
    call in 3 s. Timeouts are wall-clock seconds and are not scaled: they guard against a
    gateway that does not answer at all.
    """

    account_sid: str = "AC" + "0" * 32
    auth_token: str | None = None
    """Signs the webhook and the WebSocket upgrade; None sends no `X-Twilio-Signature`."""
    call_sid: str = field(default_factory=new_call_sid)
    from_number: str = "+15017122661"
    to_number: str = "+15558675310"
    speed: float = 1.0
    http_timeout_s: float = 10.0
    ws_open_timeout_s: float = 10.0
    ws_send_timeout_s: float = 10.0
    ws_close_timeout_s: float = 5.0
    ssl_context: ssl.SSLContext | None = None
    """For https:// webhooks and wss:// streams with a private CA (None: system defaults)."""
    extra_webhook_fields: Mapping[str, str] = field(default_factory=dict)
    """Added to (or overriding) the webhook's form fields, and signed with them."""
    sign_webhook: bool = True
    sign_upgrade: bool = True
    corrupt_signature: bool = False
    """Send a wrong signature (negative tests): the right one with its first character changed."""

    def __post_init__(self) -> None:
        if self.speed <= 0:
            raise ValueError(f"speed must be positive, got {self.speed}")
        timeouts = (
            self.http_timeout_s,
            self.ws_open_timeout_s,
            self.ws_send_timeout_s,
            self.ws_close_timeout_s,
        )
        if min(timeouts) <= 0:
            raise ValueError("timeouts must be positive")
