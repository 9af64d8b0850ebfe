"""A call's record of replaced Live sessions, bounded however many handovers happen.

A misbehaving Live service can make a call replace its session again and again (a `goAway` with
no time left after every setup). The reconnect budget ends that soon, but the record must not
grow with it: the summary keeps exact counts (in total, and per reason and outcome) and a sample
of the records themselves, the first `HEAD` and the last `TAIL`, with how many were left out in
between. The sample keeps each record's gap, handle age and attempts for diagnosis.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:  # handover.py imports this module
    from gateway.core.handover import HandoverRecord

__all__ = ["HEAD", "MAX_COUNT_KEYS", "TAIL", "HandoverLog"]

HEAD: Final = 8
"""Records kept from the start of the call."""
TAIL: Final = 8
"""Records kept from the end of the call."""
MAX_COUNT_KEYS: Final = 16
"""Distinct (reason, outcome) pairs counted; further reasons are counted under `other`."""


class HandoverLog:
    """Counts every handover record; keeps the first `HEAD` and the last `TAIL` of them."""

    def __init__(self) -> None:
        self.total = 0
        self.last: HandoverRecord | None = None
        self._head: list[HandoverRecord] = []
        self._tail: deque[HandoverRecord] = deque(maxlen=TAIL)
        self._counts: dict[tuple[str, str], int] = {}

    def add(self, record: HandoverRecord) -> None:
        self.total += 1
        self.last = record
        if len(self._head) < HEAD:
            self._head.append(record)
        else:
            self._tail.append(record)
        key = (record.reason, record.outcome)
        if key not in self._counts and len(self._counts) >= MAX_COUNT_KEYS:
            key = ("other", record.outcome)
        self._counts[key] = self._counts.get(key, 0) + 1

    @property
    def sample(self) -> list[HandoverRecord]:
        """The records kept, in the order they happened."""
        return [*self._head, *self._tail]

    @property
    def omitted(self) -> int:
        """Records counted but left out of the sample (between its head and its tail)."""
        return self.total - len(self._head) - len(self._tail)

    def counts(self) -> list[dict[str, Any]]:
        """How many handovers per (reason, outcome), most frequent first."""
        ordered = sorted(self._counts.items(), key=lambda item: (-item[1], item[0]))
        return [
            {"reason": reason, "outcome": outcome, "count": count}
            for (reason, outcome), count in ordered
        ]
