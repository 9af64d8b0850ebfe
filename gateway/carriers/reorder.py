"""A carrier's sequence numbers: messages back in order, and the numbers taken as evidence only.

Carriers number their media-stream messages. Telnyx says its frames may arrive out of order
(protocols.md C.1) and tells us to reorder them; Twilio, Plivo and Exotel number theirs on an
ordered socket, where a skipped number means the carrier lost messages. Either way one wrong
number must not silence a caller: a sequence number is evidence, not authority. `Reorder`
releases items in sequence order and keeps its tracking honest:

* the item the stream is waiting for (`expected`) is released at once, with every held item
  that follows it without a hole;
* with a `window`, a later item up to `max_held` numbers ahead is held while at most `window`
  *paced* items (media frames, which arrive every 20 ms whatever else happens) are held after
  the hole, so an item that arrives up to `window` frames late still takes its place. Counting
  frames, not messages, keeps the wait a time: a burst of mark echoes behind a late frame does
  not make it be given up. Once more than `window` paced items are held, the hole is given up:
  a `Gap` is reported and the held items are released;
* a forward **jump** (any later item without a window; beyond `max_held` with one) is released
  at once but not believed yet. The next item decides: if it follows the jump (its number plus
  one) the carrier really skipped, and the `Gap` is reported then; if it does not, the jumped
  number was wrong and is forgotten: nothing is reported missed and the tracking stays where
  the stream is (a +1,000 typo costs nothing, instead of 1,000 "stale" messages dropped). When
  the next item is the one after the place the jump was expected in, the jumped item is taken
  as that place's, with a wrong number: no hole is left there;
* an item already released (among the last `memory` numbers) or held is `Stale` with
  `duplicate` set: a repeat, which the caller drops so that audio is never doubled;
* an item older than `expected` that was never seen is `Stale` without `duplicate` (a frame
  late past its window, or numbering that went back). Two such items in a row that follow each
  other (n, then n + 1) **resynchronise** the tracking on them: the second is released and the
  stream goes on from there (numbers already released are skipped, not reported missed);
* `flush` releases everything held (the stream is ending: nothing more will fill the holes);
  a jump that nothing confirmed is not reported.

What a caller does with a `Stale` item is its choice: the translators drop caller audio (and a
repeated DTMF digit), but never a `stop`, a `start` or a mark echo because of its number.

At most `max_held` items are held whatever they are (only numbers within `max_held` of the
oldest hole are held), and the numbers remembered for duplicates are bounded by `memory`.
Pure and synchronous: no clock, no I/O.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Final, Generic, TypeVar

__all__ = ["DEFAULT_MAX_HELD", "DEFAULT_MEMORY", "Gap", "Released", "Reorder", "Stale"]

T = TypeVar("T")

DEFAULT_MAX_HELD: Final = 64
"""Items held at most, paced or not: memory stays bounded whatever arrives."""
DEFAULT_MEMORY: Final = 256
"""Released numbers remembered to recognise a repeat (5 s of 20 ms media)."""


@dataclass(frozen=True, slots=True)
class Gap:
    """Numbers `expected` up to (not including) `received` never arrived in time."""

    expected: int
    received: int


@dataclass(frozen=True, slots=True)
class Stale:
    """An item numbered `sequence` came after its place was passed: a repeat of one already
    seen (`duplicate`), or one older than the tracking that was never seen."""

    sequence: int
    expected: int
    duplicate: bool = True


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
        max_held: int = DEFAULT_MAX_HELD,
        memory: int = DEFAULT_MEMORY,
    ):
        if window < 0 or max_held < window or memory < 1:
            raise ValueError("window must not be negative nor above max_held; memory positive")
        self.window = window
        self.max_held = max_held
        self.expected = first
        """The next number in order (the oldest hole while items are held)."""
        self._held: dict[int, T] = {}
        self._paced: set[int] = set()  # the held numbers that are paced items
        self._seen: set[int] = set()  # numbers released lately (bounded by `memory`)
        self._order: deque[int] = deque()
        self._memory = memory
        self._jump: tuple[int, int] | None = None  # (expected before it, its number)
        self._behind: int | None = None  # the number that would continue a run below `expected`
        self.reordered = 0
        """Items that arrived after a later one and were put back in their place."""
        self.wrong_numbers = 0
        """Jumps the next item did not follow: numbers forgotten, nothing reported missed."""
        self.resynced = 0
        """Times the tracking moved back onto numbers below it."""

    @property
    def held(self) -> int:
        return len(self._held)

    def push(
        self, sequence: int, item: T, *, paced: bool = True
    ) -> list[Released[T] | Gap | Stale]:
        """Accept item number `sequence`; returns the results to act on, in order. `paced`:
        the item is one of the stream's regular frames (it counts towards the window)."""
        if sequence in self._held or sequence in self._seen:
            return [Stale(sequence, self.expected)]
        out: list[Released[T] | Gap | Stale] = []
        if self._jump is not None:
            out += self._settle_jump(sequence)
        if sequence == self.expected:
            return out + self._release(sequence, item)
        if sequence > self.expected:
            if self.window and sequence - self.expected <= self.max_held:
                return out + self._hold(sequence, item, paced)
            self._jump = (self.expected, sequence)  # believed once the next item follows it
            self._remember(sequence)
            return [*out, Released(item)]
        if sequence == self._behind:  # a second one in a row below the tracking: follow them
            self.resynced += 1
            out += self.flush()
            self.expected = sequence
            return out + self._release(sequence, item)
        self._behind = sequence + 1
        return [*out, Stale(sequence, self.expected, duplicate=False)]

    def flush(self) -> list[Released[T] | Gap | Stale]:
        """Release every held item in order, reporting the holes between them. A jump nothing
        confirmed is forgotten, not reported."""
        self._jump = None
        out: list[Released[T] | Gap | Stale] = []
        while self._held:
            out += self._skip_hole()
        return out

    def _settle_jump(self, sequence: int) -> list[Released[T] | Gap | Stale]:
        """The item after a jump decides whether it was real."""
        assert self._jump is not None
        before, number = self._jump
        self._jump = None
        if sequence != number + 1:  # the stream did not follow it: the number was wrong
            self.wrong_numbers += 1
            self._seen.discard(number)  # its true owner is taken when it comes
            if sequence == before + 1:  # it came in the place of `before`: no hole there
                self.expected = max(self.expected, sequence)
            return []
        out = self.flush()  # nothing held is worth waiting for behind a real jump
        if self.expected < number:
            out.append(Gap(self.expected, number))
        self.expected = number + 1
        return out

    def _release(self, sequence: int, item: T) -> list[Released[T] | Gap | Stale]:
        if self._held:
            self.reordered += 1
        self._behind = None
        self._remember(sequence)
        self.expected = sequence + 1
        return [Released(item), *self._advance()]

    def _hold(self, sequence: int, item: T, paced: bool) -> list[Released[T] | Gap | Stale]:
        self._held[sequence] = item
        if paced:
            self._paced.add(sequence)
        out: list[Released[T] | Gap | Stale] = []
        # Held numbers lie within `max_held` after `expected`: never more than that are held.
        while self._held and len(self._paced) > self.window:
            out += self._skip_hole()
        return out

    def _skip_hole(self) -> list[Released[T] | Gap | Stale]:
        nearest = min(self._held)
        gap = Gap(self.expected, nearest)
        self.expected = nearest
        return [gap, *self._advance()]

    def _advance(self) -> list[Released[T] | Gap | Stale]:
        """Release the held items that now follow in order; skip numbers already released."""
        out: list[Released[T] | Gap | Stale] = []
        while True:
            number = self.expected
            if number in self._held:
                out.append(Released(self._held.pop(number)))
                self._paced.discard(number)
                self._remember(number)
            elif number not in self._seen:
                return out
            self.expected = number + 1

    def _remember(self, sequence: int) -> None:
        self._seen.add(sequence)
        self._order.append(sequence)
        if len(self._order) > self._memory:
            self._seen.discard(self._order.popleft())
