"""Putting a carrier's sequence-numbered messages back in order, within a small bounded window.

Telnyx says its media-stream frames may arrive out of order (protocols.md C.1) and tells us to
reorder them by `sequence_number`. `Reorder` releases items strictly in sequence order:

* the item the stream is waiting for (`expected`) is released at once, with every held item
  that follows it without a hole;
* a later item is held while at most `window` *paced* items (media frames, which arrive every
  20 ms whatever else happens) are held after the hole, so an item that arrives up to `window`
  frames late still takes its place. Counting frames, not messages, keeps the wait a time: a
  burst of mark echoes behind a late frame does not make it be given up. Once more than
  `window` paced items are held, the hole is given up: a `Gap` is reported and the held items
  are released. A lost frame therefore delays what follows it by at most `window` frames;
* an item older than `expected`, or a repeat of a held one, is `Stale` (a duplicate or one that
  came after its hole was given up): the caller drops it, so audio is never doubled;
* `flush` releases everything held (the stream is ending: nothing more will fill the holes).

At most `max_held` items are held whatever they are (then the oldest hole is given up). A
number more than `max_jump` ahead is implausible (a corrupt field, not a gap) and is released
at once without moving the tracking. Pure and synchronous: no clock, no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Generic, TypeVar

__all__ = ["DEFAULT_MAX_HELD", "DEFAULT_MAX_JUMP", "Gap", "Released", "Reorder", "Stale"]

T = TypeVar("T")

DEFAULT_MAX_JUMP: Final = 65_536
"""A forward jump beyond this (22 min of 20 ms media) is a corrupt number, not a gap."""
DEFAULT_MAX_HELD: Final = 64
"""Items held at most, paced or not: memory stays bounded whatever arrives."""


@dataclass(frozen=True, slots=True)
class Gap:
    """Numbers `expected` up to (not including) `received` never arrived in time."""

    expected: int
    received: int


@dataclass(frozen=True, slots=True)
class Stale:
    """An item numbered `sequence` came after its place was passed (or twice)."""

    sequence: int
    expected: int


@dataclass(frozen=True, slots=True)
class Released(Generic[T]):
    """An item to process now, in order."""

    item: T


class Reorder(Generic[T]):
    """Items numbered 1, 2, 3, ... back in order; `push` returns what to process now."""

    def __init__(
        self,
        window: int = 3,
        *,
        first: int = 1,
        max_jump: int = DEFAULT_MAX_JUMP,
        max_held: int = DEFAULT_MAX_HELD,
    ):
        if window < 0 or max_held < window:
            raise ValueError("window must not be negative nor above max_held")
        self.window = window
        self.max_held = max_held
        self.max_jump = max_jump
        self.expected = first
        """The next number in order (the oldest hole while items are held)."""
        self._held: dict[int, T] = {}
        self._paced: set[int] = set()  # the held numbers that are paced items
        self.reordered = 0
        """Items that arrived after a later one and were put back in their place."""

    @property
    def held(self) -> int:
        return len(self._held)

    def push(
        self, sequence: int, item: T, *, paced: bool = True
    ) -> list[Released[T] | Gap | Stale]:
        """Accept item number `sequence`; returns the results to act on, in order. `paced`:
        the item is one of the stream's regular frames (it counts towards the window)."""
        if sequence < self.expected or sequence in self._held:
            return [Stale(sequence, self.expected)]
        if sequence - self.expected > self.max_jump:
            return [Released(item)]  # not tracked: one corrupt number must not stall the stream
        if sequence > self.expected:
            self._held[sequence] = item
            if paced:
                self._paced.add(sequence)
            out: list[Released[T] | Gap | Stale] = []
            while self._held and (
                len(self._paced) > self.window or len(self._held) > self.max_held
            ):
                out += self._skip_hole()
            return out
        if self._held:
            self.reordered += 1
        self.expected += 1
        return [Released(item), *self._drain()]

    def flush(self) -> list[Released[T] | Gap | Stale]:
        """Release every held item in order, reporting the holes between them."""
        out: list[Released[T] | Gap | Stale] = []
        while self._held:
            out += self._skip_hole()
        return out

    def _skip_hole(self) -> list[Released[T] | Gap | Stale]:
        nearest = min(self._held)
        gap = Gap(self.expected, nearest)
        self.expected = nearest
        return [gap, *self._drain()]

    def _drain(self) -> list[Released[T] | Gap | Stale]:
        out: list[Released[T] | Gap | Stale] = []
        while self.expected in self._held:
            out.append(Released(self._held.pop(self.expected)))
            self._paced.discard(self.expected)
            self.expected += 1
        return out
