"""When the simulated carrier sends what: the uplink pacing schedule. Synchronous, no clock.

The caller's audio (plus the tail of silence) is cut into 20 ms frames. Frame k holds samples
[k*160, (k+1)*160) and is due when its last sample has been "spoken": at (k+1) * 20 ms of call
time. Due times are computed from the samples sent so far, never by adding up sleeps, so a late
wake-up sends every overdue item at once and the stream never drifts. DTMF presses go out at
their times, and `stop` once the last frame is out and the call's duration has passed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from gateway.sim.script import CALL_RATE_HZ, CallScript

__all__ = ["SendDtmf", "SendFrame", "SendStop", "UplinkItem", "UplinkSchedule"]


@dataclass(frozen=True, eq=False)
class SendFrame:
    index: int
    """0-based frame number (Twilio's `chunk` is index + 1)."""
    at_ms: float
    timestamp_ms: int
    """The frame's first sample, in ms since stream start (Twilio's `timestamp`)."""
    samples: npt.NDArray[np.int16]


@dataclass(frozen=True)
class SendDtmf:
    at_ms: float
    digit: str


@dataclass(frozen=True)
class SendStop:
    at_ms: float


UplinkItem = SendFrame | SendDtmf | SendStop


class UplinkSchedule:
    """Everything the carrier sends after `start`, with due times in call ms."""

    def __init__(self, script: CallScript, frame_ms: int = 20, rate_hz: int = CALL_RATE_HZ) -> None:
        self.frame_ms = frame_ms
        self.rate_hz = rate_hz
        self.frame_samples = rate_hz * frame_ms // 1000
        total = math.ceil(script.duration_ms * rate_hz / 1000 - 1e-9)
        self.frame_count = -(-total // self.frame_samples)
        # The tail is silence; the last partial frame is padded with silence too.
        self._audio = np.zeros(self.frame_count * self.frame_samples, dtype=np.int16)
        self._audio[: len(script.audio)] = script.audio
        self._dtmf = list(script.dtmf)
        self._stop_ms = max(script.duration_ms, self.frame_count * frame_ms)
        self.frames_sent = 0
        self._dtmf_sent = 0
        self.stopped = False

    def _frame_due_ms(self, index: int) -> float:
        return (index + 1) * self.frame_samples * 1000 / self.rate_hz

    def next_due_ms(self) -> float | None:
        """The due time of the next item (None once `stop` has been taken)."""
        candidates: list[float] = []
        if self.frames_sent < self.frame_count:
            candidates.append(self._frame_due_ms(self.frames_sent))
        if self._dtmf_sent < len(self._dtmf):
            candidates.append(self._dtmf[self._dtmf_sent].at_ms)
        if not candidates and not self.stopped:
            candidates.append(self._stop_ms)
        return min(candidates) if candidates else None

    def take_due(self, now_ms: float) -> list[UplinkItem]:
        """Every item due at or before `now_ms`, in due order (frames first on a tie)."""
        items: list[UplinkItem] = []
        while (due := self.next_due_ms()) is not None and due <= now_ms:
            items.append(self._take_next(due))
        return items

    def _take_next(self, due_ms: float) -> UplinkItem:
        if self.frames_sent < self.frame_count and self._frame_due_ms(self.frames_sent) == due_ms:
            index = self.frames_sent
            self.frames_sent += 1
            start = index * self.frame_samples
            samples = self._audio[start : start + self.frame_samples]
            return SendFrame(index, due_ms, start * 1000 // self.rate_hz, samples)
        if self._dtmf_sent < len(self._dtmf) and self._dtmf[self._dtmf_sent].at_ms == due_ms:
            press = self._dtmf[self._dtmf_sent]
            self._dtmf_sent += 1
            return SendDtmf(due_ms, press.digit)
        self.stopped = True
        return SendStop(due_ms)

    def sent_audio(self) -> npt.NDArray[np.int16]:
        """The caller audio sent so far (sample 0 = stream start)."""
        return self._audio[: self.frames_sent * self.frame_samples].copy()
