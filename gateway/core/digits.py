"""Keypad entry: the built-in `collect_digits` tool, gathered by the call itself.

The model calls a tool of kind `collect_digits` ("enter your account number followed by the
pound key"). The call is tracked by the tool desk like any running tool (so the silence clock
and a due handover wait for it), but nothing runs in the shell: the bridge gathers the caller's
DTMF digits here until the end key (`#`), `max_digits`, or a timeout (`first_digit_timeout_ms`
before the first digit, `inter_digit_timeout_ms` after each), and answers the function call with
them (`{"digits": "1234", "ended_by": "end_key"}`). While collecting, the digits are not sent
to the model one by one (the DTMF gate never sees them).

Digits never reach a log line (only their count). With `redact` they reach neither the
transcript nor anything made from it (the post-call webhook): the transcript shows `***`.
Without it the transcript shows the caller's entry as `[keypad] 1234`.

Pure and clock-free: one timer (`DIGITS_TIMER`), set at the start and at each press.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from gateway.core.events import StartTimer, ToolFinished

__all__ = [
    "DIGITS_TIMER",
    "REDACTED",
    "DigitCollection",
    "DigitCollector",
    "Gathering",
]

DIGITS_TIMER: Final = "digits"
REDACTED: Final = "***"
END_KEYS: Final = frozenset("#*")


@dataclass(frozen=True, slots=True)
class DigitCollection:
    """One `collect_digits` tool of the tools file."""

    name: str
    max_digits: int = 16
    end_key: str = "#"
    """`#`, `*` or empty (no end key: max length or the timeout end the entry)."""
    first_digit_timeout_ms: float = 15_000.0
    inter_digit_timeout_ms: float = 5_000.0
    redact: bool = False

    def __post_init__(self) -> None:
        if not 1 <= self.max_digits <= 64:
            raise ValueError(f"max_digits must be 1-64, got {self.max_digits}")
        if self.end_key and self.end_key not in END_KEYS:
            raise ValueError(f"end_key must be #, * or empty, got {self.end_key!r}")
        if self.first_digit_timeout_ms <= 0 or self.inter_digit_timeout_ms <= 0:
            raise ValueError("digit timeouts must be positive")


@dataclass(slots=True)
class Gathering:
    """The entry under way."""

    key: str
    """The function call's key at the tool desk."""
    spec: DigitCollection
    started_ms: float
    due_ms: float
    digits: str = ""


class DigitCollector:
    """At most one entry at a time per call."""

    def __init__(self, collections: tuple[DigitCollection, ...]) -> None:
        self.specs: dict[str, DigitCollection] = {c.name: c for c in collections}
        self.gathering: Gathering | None = None

    def is_collector(self, name: str) -> bool:
        return name in self.specs

    def start(self, key: str, name: str, now_ms: float) -> StartTimer:
        spec = self.specs[name]
        due = now_ms + spec.first_digit_timeout_ms
        self.gathering = Gathering(key, spec, now_ms, due)
        return StartTimer(DIGITS_TIMER, due)

    def active(self, pending: Mapping[str, Any]) -> Gathering | None:
        """The entry under way, unless its function call was cancelled meanwhile (`pending`:
        the tool desk's running keys): then it is forgotten and keys go to the model again."""
        gathering = self.gathering
        if gathering is not None and gathering.key not in pending:
            self.gathering = gathering = None
        return gathering

    def press(self, digit: str, now_ms: float) -> StartTimer | ToolFinished:
        """A key while gathering: the finished entry, or the next inter-digit timer."""
        gathering = self.gathering
        assert gathering is not None
        spec = gathering.spec
        if spec.end_key and digit == spec.end_key:
            return self._done("end_key", now_ms)
        gathering.digits += digit
        if len(gathering.digits) >= spec.max_digits:
            return self._done("max_digits", now_ms)
        gathering.due_ms = now_ms + spec.inter_digit_timeout_ms
        return StartTimer(DIGITS_TIMER, gathering.due_ms)

    def timer_fired(self, now_ms: float) -> StartTimer | ToolFinished | None:
        """The finished entry (timed out), the timer again (a press moved it), or None."""
        gathering = self.gathering
        if gathering is None:
            return None
        if now_ms < gathering.due_ms:
            return StartTimer(DIGITS_TIMER, gathering.due_ms)
        return self._done("timeout", now_ms)

    def _done(self, ended_by: str, now_ms: float) -> ToolFinished:
        gathering = self.gathering
        assert gathering is not None
        self.gathering = None
        response = {"output": {"digits": gathering.digits, "ended_by": ended_by}}
        return ToolFinished(
            gathering.key,
            gathering.spec.name,
            response,
            duration_ms=now_ms - gathering.started_ms,
        )

    @staticmethod
    def transcript_text(finished: ToolFinished, spec: DigitCollection) -> str:
        digits = str(finished.response["output"]["digits"])
        return f"[keypad] {REDACTED if spec.redact else digits or '(none)'}"
