"""The carrier's playback buffer as the caller hears it: synchronous and clock-free.

protocols.md B.3/B.4: outbound audio is queued and plays back-to-back at real time, starting when
it arrives if nothing is playing; a mark is echoed once all audio queued before it has played; a
clear drops every unplayed sample at once and echoes every pending mark immediately, in order.

Time comes in as `now_ms` (call time, 0 = stream start). Positions are kept in samples, so mark
times are exact: feed `(now_ms, message)` with `feed`, ask what is due with `due(now_ms)`, and
sleep until `next_due_ms()`.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from gateway.sim.dialect import GatewayClear, GatewayCommand, GatewayMark, GatewayMedia
from gateway.sim.script import CALL_RATE_HZ

__all__ = ["Cleared", "MarkDue", "PlaybackModel"]


@dataclass(frozen=True)
class MarkDue:
    """A mark to echo now: its audio played out (`played`) or a clear flushed it."""

    name: str
    sent_ms: float
    """When the gateway's mark arrived."""
    due_ms: float
    """When the audio before it finished playing, or when the clear flushed it."""
    played: bool


@dataclass(frozen=True)
class Cleared:
    """A clear arrived at `at_ms` and dropped `dropped_ms` of queued, unplayed audio."""

    at_ms: float
    dropped_ms: float
    flushed_marks: int


@dataclass
class _Segment:
    start: int  # sample index (call time) of the segment's first sample
    samples: npt.NDArray[np.int16]

    @property
    def end(self) -> int:
        return self.start + len(self.samples)


@dataclass(frozen=True)
class _PendingMark:
    name: str
    sent_ms: float
    due: int  # sample index


class PlaybackModel:
    """One stream's playback queue; also remembers what was played, for the heard audio."""

    def __init__(self, rate_hz: int = CALL_RATE_HZ) -> None:
        self.rate_hz = rate_hz
        self._queue_end = 0
        self._segments: list[_Segment] = []
        self._marks: deque[_PendingMark] = deque()
        self.clears: list[Cleared] = []

    # -- time ----------------------------------------------------------------------------------

    def _sample(self, now_ms: float) -> int:
        # The small epsilon keeps integer-ms inputs exact despite float rounding of ms*rate.
        return math.floor(now_ms * self.rate_hz / 1000 + 1e-9)

    def _ms(self, sample: int) -> float:
        return sample * 1000 / self.rate_hz

    # -- inputs --------------------------------------------------------------------------------

    def feed(self, now_ms: float, command: GatewayCommand) -> list[MarkDue]:
        """Apply one gateway message; returns the mark echoes due now, in order."""
        echoes = self.due(now_ms)
        now = self._sample(now_ms)
        if isinstance(command, GatewayMedia):
            if len(command.samples):
                start = max(now, self._queue_end)
                self._segments.append(_Segment(start, command.samples))
                self._queue_end = start + len(command.samples)
        elif isinstance(command, GatewayMark):
            due = max(now, self._queue_end)
            if due <= now and not self._marks:
                echoes.append(MarkDue(command.name, now_ms, self._ms(now), played=True))
            else:
                self._marks.append(_PendingMark(command.name, now_ms, due))
        elif isinstance(command, GatewayClear):
            echoes.extend(self._clear(now_ms, now))
        return echoes

    def _clear(self, now_ms: float, now: int) -> list[MarkDue]:
        dropped = max(0, self._queue_end - now)
        self._queue_end = min(self._queue_end, now)
        kept: list[_Segment] = []
        for segment in self._segments:
            if segment.end <= now:
                kept.append(segment)
            elif segment.start < now:
                kept.append(_Segment(segment.start, segment.samples[: now - segment.start]))
        self._segments = kept
        flushed = [MarkDue(m.name, m.sent_ms, now_ms, played=False) for m in self._marks]
        self._marks.clear()
        self.clears.append(Cleared(now_ms, self._ms(dropped), len(flushed)))
        return flushed

    # -- queries -------------------------------------------------------------------------------

    def due(self, now_ms: float) -> list[MarkDue]:
        """Marks whose audio has finished playing by `now_ms`, in the order they were sent."""
        now = self._sample(now_ms)
        echoes: list[MarkDue] = []
        while self._marks and self._marks[0].due <= now:
            mark = self._marks.popleft()
            echoes.append(MarkDue(mark.name, mark.sent_ms, self._ms(mark.due), played=True))
        return echoes

    def next_due_ms(self) -> float | None:
        """When the oldest pending mark comes due (None: no mark pending)."""
        return self._ms(self._marks[0].due) if self._marks else None

    def queued_ms(self, now_ms: float) -> float:
        """Audio queued and not yet played at `now_ms`."""
        return self._ms(max(0, self._queue_end - self._sample(now_ms)))

    @property
    def pending_marks(self) -> list[str]:
        return [mark.name for mark in self._marks]

    def heard(self, total_samples: int) -> npt.NDArray[np.int16]:
        """What the caller heard from sample 0 to `total_samples` (silence where nothing played).

        Audio still queued at `total_samples` is cut there: the call ended before it played.
        """
        out = np.zeros(total_samples, dtype=np.int16)
        for segment in self._segments:
            if segment.start >= total_samples:
                continue
            stop = min(segment.end, total_samples)
            out[segment.start : stop] = segment.samples[: stop - segment.start]
        return out

    def playing_intervals(self, total_samples: int) -> list[tuple[int, int]]:
        """(start, end) sample ranges during which gateway audio was coming out, merged."""
        intervals: list[tuple[int, int]] = []
        for segment in sorted(self._segments, key=lambda s: s.start):
            start, end = segment.start, min(segment.end, total_samples)
            if start >= end:
                continue
            if intervals and start <= intervals[-1][1]:
                intervals[-1] = (intervals[-1][0], max(intervals[-1][1], end))
            else:
                intervals.append((start, end))
        return intervals

    def played_samples(self, total_samples: int) -> int:
        """How many samples of gateway audio played before `total_samples`."""
        return sum(
            max(0, min(s.end, total_samples) - s.start)
            for s in self._segments
            if s.start < total_samples
        )
