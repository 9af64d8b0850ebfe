"""The playback ledger: what became of every millisecond of model audio sent to the carrier.

Each model audio chunk (and each end-of-turn flush) gets a mark. The mark's life:

    QUEUED   created; its audio sits in the bridge's local queue (some of it may already be sent)
    SENT     `PlaceMark` went out after all of its audio; the carrier will echo it
    CLEARED  it was SENT when a `ClearPlayback` went out: its echo means "flushed", not "played"
    PLAYED   echoed without a clear in between: the caller heard its audio
    FLUSHED  echoed after a clear, or still QUEUED at a clear (never placed, never echoed)

Carriers echo marks in the order they were placed (protocols.md B.4), so the echo of a mark
also settles every earlier mark still awaiting its echo. Each mark settles once; an echo of an
unknown or already settled mark is counted in `marks_unknown` and changes nothing else.

A mark may also be placed as a *rider* of the next mark placed (`mark_placed(name, rider=True)`):
its audio went out, but no message of its own (the playout spaces marks on the wire,
`gateway.core.playout`); the echo of the mark it rides with settles it. Riders count in the audio
totals, not in the `marks_*` counts, which are the marks on the wire (`marks_merged` counts them).

Invariants: `played_ms + flushed_ms + pending_ms == sent_ms`, and
`marks_created == marks_played + marks_flushed + marks_outstanding + marks_queued + marks_merged`.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from enum import StrEnum

__all__ = ["MarkRecord", "MarkState", "PlaybackLedger"]


class MarkState(StrEnum):
    QUEUED = "queued"
    SENT = "sent"
    CLEARED = "cleared"
    PLAYED = "played"
    FLUSHED = "flushed"


class MarkRecord:
    """One mark: the audio sent ahead of it (since the previous mark) and the agent's words."""

    __slots__ = ("audio_ms", "name", "rider", "state", "text")

    def __init__(self, name: str) -> None:
        self.name = name
        self.state = MarkState.QUEUED
        self.audio_ms = 0.0
        self.text = ""
        self.rider = False
        """Placed with the next mark, not on the wire on its own."""

    def __repr__(self) -> str:
        return f"MarkRecord({self.name!r}, {self.state.value}, {self.audio_ms} ms, {self.text!r})"


class PlaybackLedger:
    """Marks in creation order and the audio totals they account for (one call)."""

    def __init__(self, prefix: str = "m") -> None:
        self._prefix = prefix
        self._marks: dict[str, MarkRecord] = {}
        self._queued: deque[MarkRecord] = deque()
        self._outstanding: deque[MarkRecord] = deque()
        self._last_placed: MarkRecord | None = None
        self.sent_ms = 0.0
        self.played_ms = 0.0
        self.flushed_ms = 0.0
        self.marks_sent = 0
        self.marks_played = 0
        self.marks_flushed = 0
        self.marks_unknown = 0
        self.marks_merged = 0
        """Marks placed as riders of a later mark (not on the wire themselves)."""

    # ------------------------------------------------------------------------------ updates

    def new_mark(self) -> str:
        """Create the next mark (QUEUED) and return its name: short and unique in the call."""
        name = f"{self._prefix}{len(self._marks) + 1}"
        record = MarkRecord(name)
        self._marks[name] = record
        self._queued.append(record)
        return name

    def audio_sent(self, name: str, ms: float) -> None:
        """`ms` of audio that precedes mark `name` (still QUEUED) went to the carrier."""
        self._marks[name].audio_ms += ms
        self.sent_ms += ms

    def mark_placed(self, name: str, *, rider: bool = False) -> None:
        """`PlaceMark(name)` went out (`rider`: it did not, the next mark placed stands for it).
        Marks are placed in the order they were created."""
        record = self._queued.popleft()
        if record.name != name:
            self._queued.appendleft(record)
            raise ValueError(f"mark {name} placed before {record.name}")
        record.state = MarkState.SENT
        self._outstanding.append(record)
        if rider:
            record.rider = True
            self.marks_merged += 1
            return
        self._last_placed = record
        self.marks_sent += 1

    def add_text(self, name: str, text: str) -> None:
        """Attribute a piece of the agent's transcript to mark `name`."""
        self._marks[name].text += text

    def clear(self) -> None:
        """A `ClearPlayback` went out: the marks awaiting an echo will come back flushed, and the
        marks never placed (their audio dropped from the local queue) are flushed now."""
        for record in self._outstanding:
            record.state = MarkState.CLEARED
        while self._queued:
            self._settle(self._queued.popleft())

    def echoed(self, name: str) -> bool:
        """The carrier echoed mark `name`; False (and counted) if no such mark awaits an echo."""
        record = self._marks.get(name)
        if record is None or record.state not in (MarkState.SENT, MarkState.CLEARED):
            self.marks_unknown += 1
            return False
        outstanding = self._outstanding
        while True:
            head = outstanding.popleft()
            self._settle(head)
            if head is record:
                return True

    def _settle(self, record: MarkRecord) -> None:
        counted = 0 if record.rider else 1
        if record.state is MarkState.SENT:
            record.state = MarkState.PLAYED
            self.marks_played += counted
            self.played_ms += record.audio_ms
        else:
            record.state = MarkState.FLUSHED
            self.marks_flushed += counted
            self.flushed_ms += record.audio_ms

    # ------------------------------------------------------------------------------ queries

    @property
    def pending_ms(self) -> float:
        """Audio sent whose fate is not known yet (at the carrier, or awaiting its mark)."""
        return self.sent_ms - self.played_ms - self.flushed_ms

    @property
    def marks_created(self) -> int:
        return len(self._marks)

    @property
    def marks_outstanding(self) -> int:
        """Marks placed on the wire and not yet echoed."""
        return sum(1 for record in self._outstanding if not record.rider)

    @property
    def marks_queued(self) -> int:
        """Marks created and not yet placed."""
        return len(self._queued)

    @property
    def all_settled(self) -> bool:
        """Every mark placed has come back and no audio sent awaits a mark: the carrier is idle."""
        return not self._outstanding and self.pending_ms == 0

    @property
    def last_mark_name(self) -> str | None:
        """The mark placed last (the one whose echo means everything sent so far is done)."""
        return None if self._last_placed is None else self._last_placed.name

    def state(self, name: str) -> MarkState | None:
        record = self._marks.get(name)
        return None if record is None else record.state

    def played(self, name: str) -> bool:
        record = self._marks.get(name)
        return record is not None and record.state is MarkState.PLAYED

    def text(self, name: str) -> str:
        record = self._marks.get(name)
        return "" if record is None else record.text

    def audio_ms(self, name: str) -> float:
        record = self._marks.get(name)
        return 0.0 if record is None else record.audio_ms

    def __iter__(self) -> Iterator[MarkRecord]:
        """Every mark, in creation order."""
        return iter(self._marks.values())
