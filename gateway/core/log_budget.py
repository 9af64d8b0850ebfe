"""A per-call budget of log lines for what the outside world can repeat at will.

A carrier decides how often some lines would be written: 10,000 unknown mark echoes were
10,000 warnings, and every sequence gap or ignored message is one more. `LogBudget.allow(event)`
lets the first `limit` lines of each such event through for the call and counts the rest in
the call's `logs_suppressed` (event -> lines not written), which `call.ended` reports and the
metrics sum. The counts that matter (`marks_unknown`, `messages_missed`, `messages_ignored`)
are kept whole in the summary either way. Pure: no clock, no I/O.
"""

from __future__ import annotations

from typing import Final

__all__ = ["LOGGED_PER_EVENT", "LogBudget"]

LOGGED_PER_EVENT: Final = 5
"""Lines written per call for each flood-prone event; the rest are only counted."""


class LogBudget:
    def __init__(self, suppressed: dict[str, int], limit: int = LOGGED_PER_EVENT) -> None:
        self._written: dict[str, int] = {}
        self._suppressed = suppressed
        self.limit = limit

    def allow(self, event: str) -> bool:
        """Whether the next `event` line of this call is written (else it is counted)."""
        written = self._written.get(event, 0)
        if written < self.limit:
            self._written[event] = written + 1
            return True
        self._suppressed[event] = self._suppressed.get(event, 0) + 1
        return False

    def last(self, event: str) -> bool:
        """Whether the line just allowed is the last one written for `event` (say so in it)."""
        return self._written.get(event, 0) == self.limit
