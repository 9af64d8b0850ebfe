"""Model audio between the downlink path and the carrier: the local queue and the carrier's lead.

The carrier plays what it is sent in real time and buffers the rest; only a `ClearPlayback` can
take it back. So the bridge sends no more than `lead_ms` ahead of the carrier's playout and
holds the rest locally, where a barge-in drops it for free. The carrier's playout is modelled by
deadline, never by a clock: each frame sent ends `frame_ms` after the later of now and the end
of the frame before it.

A frame goes out only if the carrier's lead stays within `lead_ms` once it is added, so the
carrier never holds more than `lead_ms` (at least one frame). When audio is held, the bridge asks
for a wake-up at the moment the next frame fits.

Queue items are segments: the frames of one model chunk (or end-of-turn flush) followed by the
chunk's mark. A mark costs no lead: it goes out right after the last frame of its segment.
"""

from __future__ import annotations

from collections import deque

from gateway.core.events import CancelTimer, Command, PlaceMark, PlayAudio, StartTimer
from gateway.core.playback import PlaybackLedger

__all__ = ["PLAYBACK_TIMER", "Playout"]

PLAYBACK_TIMER = "playback"


class _Segment:
    __slots__ = ("frames", "mark", "next")

    def __init__(self, frames: list[bytes], mark: str) -> None:
        self.frames = frames
        self.mark = mark
        self.next = 0  # index of the first frame not sent yet


class Playout:
    """One call's local playback queue and its estimate of the carrier's buffer."""

    def __init__(self, ledger: PlaybackLedger, *, frame_ms: int, lead_ms: float) -> None:
        self.ledger = ledger
        self.frame_ms = frame_ms
        self.lead_ms = max(lead_ms, frame_ms)  # less than a frame would never send anything
        self.playout_end_ms = 0.0
        """When the carrier will have played everything sent so far (estimated)."""
        self._queue: deque[_Segment] = deque()
        self._held_frames = 0
        self._timer_at_ms: float | None = None

    @property
    def held_ms(self) -> float:
        """Audio held locally, not sent yet."""
        return self._held_frames * self.frame_ms

    @property
    def idle(self) -> bool:
        """Nothing left in the local queue (no frames and no marks)."""
        return not self._queue

    def carrier_ms(self, now_ms: float) -> float:
        """Audio estimated to be still buffered at the carrier."""
        return max(0.0, self.playout_end_ms - now_ms)

    def ahead_ms(self, now_ms: float) -> float:
        """Audio not played yet: held locally plus buffered at the carrier."""
        return self.held_ms + self.carrier_ms(now_ms)

    def append(self, frames: list[bytes], mark: str) -> None:
        """Queue `frames` (whole carrier frames, at least one) followed by mark `mark`."""
        self._queue.append(_Segment(frames, mark))
        self._held_frames += len(frames)

    def release(self, now_ms: float, out: list[Command], *, unlimited: bool = False) -> None:
        """Append to `out` what may go to the carrier now: frames while the lead stays within
        `lead_ms` (all of them when `unlimited`), and every mark reached. If audio is still held,
        ask for a wake-up when one more frame fits."""
        frame_ms = self.frame_ms
        # A frame may start no later than this (the nanosecond absorbs float rounding when the
        # wake-up time computed below comes back as `now_ms`).
        last_start_ms = float("inf") if unlimited else now_ms + self.lead_ms - frame_ms + 1e-6
        end_ms = max(self.playout_end_ms, now_ms)
        queue = self._queue
        ledger = self.ledger
        while queue:
            segment = queue[0]
            frames = segment.frames
            first = index = segment.next
            count = len(frames)
            while index < count and end_ms <= last_start_ms:
                out.append(PlayAudio(frames[index]))
                index += 1
                end_ms += frame_ms
            if index > first:
                segment.next = index
                self._held_frames -= index - first
                ledger.audio_sent(segment.mark, (index - first) * frame_ms)
            if index < count:
                break
            queue.popleft()
            out.append(PlaceMark(segment.mark))
            ledger.mark_placed(segment.mark)
        self.playout_end_ms = end_ms
        if queue:
            at_ms = end_ms - self.lead_ms + frame_ms
            if at_ms != self._timer_at_ms:
                self._timer_at_ms = at_ms
                out.append(StartTimer(PLAYBACK_TIMER, at_ms))
        elif self._timer_at_ms is not None:
            self._timer_at_ms = None
            out.append(CancelTimer(PLAYBACK_TIMER))

    def timer_fired(self) -> None:
        """The playback timer went off (the shell forgets it): a new one must be asked for."""
        self._timer_at_ms = None

    def clear(self, now_ms: float, out: list[Command]) -> float:
        """Barge-in: drop the local queue, the carrier's buffer is cleared at `now_ms`, cancel
        the wake-up. Returns the audio ms dropped locally."""
        dropped_ms = self.held_ms
        self._queue.clear()
        self._held_frames = 0
        self.playout_end_ms = now_ms
        if self._timer_at_ms is not None:
            self._timer_at_ms = None
            out.append(CancelTimer(PLAYBACK_TIMER))
        return dropped_ms
