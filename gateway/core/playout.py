"""Model audio between the downlink path and the carrier: the local queue and the carrier's lead.

The carrier plays what it is sent in real time and buffers the rest; only a `ClearPlayback` can
take it back. So the bridge sends no more than `lead_ms` ahead of the carrier's playout and
holds the rest locally, where a barge-in drops it for free. The carrier's playout is modelled by
deadline, never by a clock: each frame sent ends `frame_ms` after the later of now and the end
of the frame before it.

A frame goes out only if the carrier's lead stays within `lead_ms` once it is added, so the
carrier never holds more than `lead_ms` (at least one frame). When audio is held, the bridge asks
for a wake-up at the moment the next message fits.

Messages: consecutive frames released together go out as one `PlayAudio` of up to
`message_frames` frames (the carrier format's `message_frames`: one for carriers that take
exactly one frame per message). While the lead holds audio back, the wake-up waits until a
whole message fits (or all that is held, if less), so the carrier's buffer runs between
`lead_ms` minus one message and `lead_ms`; audio arriving while the carrier's buffer has room
goes out at once, whatever its size.

Queue items are segments: the frames of one model chunk (or end-of-turn flush) followed by the
chunk's mark. A mark costs no lead: it goes out right after the last frame of its segment, or,
with `mark_interval_ms` > 0, only every so often: a segment sent completely whose mark is not
due yet leaves its mark unplaced (`QUEUED` in the ledger), and the next mark placed stands for it
(the ledger records the skipped marks as its riders: the carrier's echo of that mark settles them
all). A mark is due `mark_interval_ms` after the oldest unplaced one was reached, at the end
of a generation (`finish`), when everything is released at once, and never later: a wake-up is
asked for it. A barge-in's clear settles the unplaced marks as flushed at once.
"""

from __future__ import annotations

from collections import deque

from gateway.core.events import CancelTimer, Command, PlaceMark, PlayAudio, StartTimer
from gateway.core.playback import PlaybackLedger

__all__ = ["PLAYBACK_TIMER", "Playout"]

PLAYBACK_TIMER = "playback"
_NEVER = float("inf")


class _Segment:
    __slots__ = ("final", "frames", "mark", "next")

    def __init__(self, frames: list[bytes], mark: str) -> None:
        self.frames = frames
        self.mark = mark
        self.next = 0  # index of the first frame not sent yet
        self.final = False  # the last of a generation: its mark goes out with its last frame


class Playout:
    """One call's local playback queue and its estimate of the carrier's buffer."""

    def __init__(
        self,
        ledger: PlaybackLedger,
        *,
        frame_ms: int,
        lead_ms: float,
        message_frames: int = 1,
        mark_interval_ms: float = 0.0,
    ) -> None:
        self.ledger = ledger
        self.frame_ms = frame_ms
        self.lead_ms = max(lead_ms, frame_ms)  # less than a frame would never send anything
        # A message never needs more than the lead to fit.
        self.message_frames = max(1, min(message_frames, int(self.lead_ms // frame_ms)))
        self.mark_interval_ms = mark_interval_ms
        self.playout_end_ms = 0.0
        """When the carrier will have played everything sent so far (estimated)."""
        self._queue: deque[_Segment] = deque()
        self._held_frames = 0
        self._timer_at_ms: float | None = None
        self._unplaced: list[str] = []
        """Marks of segments sent completely, not placed yet (oldest first)."""
        self._mark_due_ms = _NEVER

    @property
    def held_ms(self) -> float:
        """Audio held locally, not sent yet."""
        return self._held_frames * self.frame_ms

    @property
    def idle(self) -> bool:
        """Nothing left in the local queue (no frames and no marks)."""
        return not self._queue and not self._unplaced

    @property
    def marks_unplaced(self) -> bool:
        """Audio sent completely whose mark is not placed yet."""
        return bool(self._unplaced)

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

    def finish(self) -> None:
        """The generation's audio is all queued: its last mark is due with its last frame (at
        once if it was sent already). Call `release` next."""
        if self._queue:
            self._queue[-1].final = True
        elif self._unplaced:
            self._mark_due_ms = -_NEVER

    def release(self, now_ms: float, out: list[Command], *, unlimited: bool = False) -> None:
        """Append to `out` what may go to the carrier now: frames while the lead stays within
        `lead_ms` (all of them when `unlimited`), and every mark due. If audio is still held, or
        a mark is not placed yet, ask for a wake-up when the next message fits or the mark is
        due."""
        frame_ms = self.frame_ms
        # A frame may start no later than this (the nanosecond absorbs float rounding when the
        # wake-up time computed below comes back as `now_ms`).
        last_start_ms = _NEVER if unlimited else now_ms + self.lead_ms - frame_ms + 1e-6
        end_ms = max(self.playout_end_ms, now_ms)
        per_message = self.message_frames
        if per_message > 1 and not unlimited and self._queue:
            # Wait until a whole message fits (or all that is held, if less).
            wanted = min(per_message, self._held_frames)
            if end_ms + (wanted - 1) * frame_ms > last_start_ms:
                last_start_ms = -_NEVER
        queue = self._queue
        ledger = self.ledger
        batch: list[bytes] = []
        while queue:
            segment = queue[0]
            if self._unplaced and (unlimited or now_ms >= self._mark_due_ms):
                # Due marks go out before the next segment's first frame, so that an echo
                # stands for the audio of the marks it settles and nothing more.
                self._flush(batch, out)
                batch = []
                self._place_marks(out)
            frames = segment.frames
            first = index = segment.next
            count = len(frames)
            while index < count and end_ms <= last_start_ms:
                batch.append(frames[index])
                index += 1
                end_ms += frame_ms
                if len(batch) == per_message:
                    out.append(PlayAudio(batch[0] if per_message == 1 else b"".join(batch)))
                    batch = []
            if index > first:
                segment.next = index
                self._held_frames -= index - first
                ledger.audio_sent(segment.mark, (index - first) * frame_ms)
            if index < count:
                break
            queue.popleft()
            self._unplaced.append(segment.mark)
            if len(self._unplaced) == 1 and self._mark_due_ms == _NEVER:
                self._mark_due_ms = now_ms + self.mark_interval_ms
            if segment.final:
                self._flush(batch, out)
                batch = []
                self._place_marks(out)
        self._flush(batch, out)
        if self._unplaced and (unlimited or now_ms >= self._mark_due_ms):
            self._place_marks(out)  # the queue is empty: every frame sent is theirs
        self.playout_end_ms = end_ms
        self._ask_wake_up(end_ms, out)

    def _ask_wake_up(self, end_ms: float, out: list[Command]) -> None:
        at_ms = _NEVER
        if self._queue:
            wanted = min(self.message_frames, self._held_frames)
            at_ms = end_ms - self.lead_ms + wanted * self.frame_ms
        if self._unplaced:
            at_ms = min(at_ms, self._mark_due_ms)
        if at_ms != _NEVER:
            if at_ms != self._timer_at_ms:
                self._timer_at_ms = at_ms
                out.append(StartTimer(PLAYBACK_TIMER, at_ms))
        elif self._timer_at_ms is not None:
            self._timer_at_ms = None
            out.append(CancelTimer(PLAYBACK_TIMER))

    @staticmethod
    def _flush(batch: list[bytes], out: list[Command]) -> None:
        if batch:
            out.append(PlayAudio(batch[0] if len(batch) == 1 else b"".join(batch)))

    def _place_marks(self, out: list[Command]) -> None:
        """Place the newest unplaced mark; the ledger records the older ones as placed with it."""
        last = self._unplaced[-1]
        for name in self._unplaced[:-1]:
            self.ledger.mark_placed(name, rider=True)
        self.ledger.mark_placed(last)
        out.append(PlaceMark(last))
        self._unplaced.clear()
        self._mark_due_ms = _NEVER

    def timer_fired(self) -> None:
        """The playback timer went off (the shell forgets it): a new one must be asked for."""
        self._timer_at_ms = None

    def clear(self, now_ms: float, out: list[Command]) -> float:
        """Barge-in: drop the local queue, the carrier's buffer is cleared at `now_ms`, cancel
        the wake-up. Returns the audio ms dropped locally. Marks not placed yet stay `QUEUED`
        in the ledger, whose clear settles them as flushed."""
        dropped_ms = self.held_ms
        self._queue.clear()
        self._held_frames = 0
        self._unplaced.clear()
        self._mark_due_ms = _NEVER
        self.playout_end_ms = now_ms
        if self._timer_at_ms is not None:
            self._timer_at_ms = None
            out.append(CancelTimer(PLAYBACK_TIMER))
        return dropped_ms
