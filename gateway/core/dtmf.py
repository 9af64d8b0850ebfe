"""How many keypresses reach the model: digits coalesced into few texts, at a bounded rate.

Every DTMF digit used to become one text to Live. A caller (or a broken line) pressing keys as
fast as a carrier can send them then floods the Live session with texts: 5,000 presses sent
2,308 texts and the caller's audio, queued behind them, was lost. `DtmfGate` decides what to
send, pure and clock-free (time comes in as `now_ms`):

* a press when the gate is idle (no text in the last `coalesce_ms`, a text allowed by the rate)
  is sent at once, alone: a menu choice is never delayed;
* presses within `coalesce_ms` of the last text are held and sent together as one text when
  that window closes (a timer, `DTMF_TIMER`), e.g. "The caller pressed 4242 on the keypad.";
* texts are limited to `max_texts_per_s` (a token bucket with a burst of as many): held digits
  wait for the next allowed text, and more digits join them meanwhile;
* at most `max_held_digits` wait: further presses are dropped and counted (`dtmf_dropped`), never
  logged one by one (digits are the caller's secrets: they never reach a log at all).

So a flood costs at most `max_texts_per_s` small texts a second, whatever it is, and the
caller's audio keeps its place on the uplink. `press` and `timer_fired` return `DtmfOut`: the
digit groups to send now (the bridge words them with its `dtmf_text`) and when, if at all, the
gate wants `timer_fired` called.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

from gateway.core.summary import CallStats

__all__ = ["DTMF_TIMER", "DtmfGate", "DtmfOut"]

DTMF_TIMER: Final = "dtmf"
COALESCE_MS: Final = 200.0
"""Presses closer than this to the last text are sent together (quick typing of a number)."""
MAX_TEXTS_PER_S: Final = 2.0
MAX_HELD_DIGITS: Final = 32
"""Longer than any account or card number typed at once; beyond it presses are dropped."""


@dataclass(frozen=True, slots=True)
class DtmfOut:
    """What the gate decided: digit groups to send now, and a timer to set (None: none)."""

    send: tuple[str, ...] = ()
    timer_at_ms: float | None = None


_NOTHING: Final = DtmfOut()


@dataclass
class DtmfGate:
    """One call's keypresses on their way to the model (see the module doc)."""

    stats: CallStats = field(default_factory=CallStats)
    coalesce_ms: float = COALESCE_MS
    max_texts_per_s: float = MAX_TEXTS_PER_S
    max_held_digits: int = MAX_HELD_DIGITS
    _held: list[str] = field(default_factory=list, init=False)
    _window_end_ms: float = field(default=float("-inf"), init=False)
    _timer_at_ms: float | None = field(default=None, init=False)
    _tokens: float = field(default=-1.0, init=False)  # full at the first press
    _refilled_ms: float = field(default=0.0, init=False)

    def press(self, digit: str, now_ms: float) -> DtmfOut:
        """The caller pressed `digit` (already validated by the carrier's translator)."""
        if not self._held and now_ms >= self._window_end_ms and self._take(now_ms):
            return self._sent(digit, now_ms)
        if len(self._held) >= self.max_held_digits:
            self.stats.dtmf_dropped += 1
            return _NOTHING
        self._held.append(digit)
        if self._timer_at_ms is not None:
            return _NOTHING  # it joins the digits already waiting
        return self._wait(max(self._window_end_ms, self._next_token_ms(now_ms)))

    def timer_fired(self, now_ms: float) -> DtmfOut:
        """`DTMF_TIMER` is due: send what is held if the rate allows, else wait again."""
        self._timer_at_ms = None
        if not self._held:
            return _NOTHING
        if not self._take(now_ms):
            return self._wait(self._next_token_ms(now_ms))
        digits = "".join(self._held)
        self._held.clear()
        return self._sent(digits, now_ms)

    def drop_held(self) -> None:
        """The call can no longer take keypresses: what waits is dropped (counted)."""
        self.stats.dtmf_dropped += len(self._held)
        self._held.clear()

    @property
    def held(self) -> int:
        return len(self._held)

    # ------------------------------------------------------------------------------ inside

    def _sent(self, digits: str, now_ms: float) -> DtmfOut:
        self.stats.dtmf_texts += 1
        self._window_end_ms = now_ms + self.coalesce_ms
        return DtmfOut((digits,))

    def _wait(self, at_ms: float) -> DtmfOut:
        self._timer_at_ms = at_ms
        return DtmfOut((), at_ms)

    def _refill(self, now_ms: float) -> None:
        burst = self.max_texts_per_s
        if self._tokens < 0:
            self._tokens, self._refilled_ms = burst, now_ms
            return
        elapsed_s = max(0.0, now_ms - self._refilled_ms) / 1000
        self._tokens = min(burst, self._tokens + elapsed_s * self.max_texts_per_s)
        self._refilled_ms = now_ms

    def _take(self, now_ms: float) -> bool:
        self._refill(now_ms)
        if self._tokens >= 1.0 - 1e-9:  # a token due now, whatever the float rounding
            self._tokens = max(0.0, self._tokens - 1.0)
            return True
        return False

    def _next_token_ms(self, now_ms: float) -> float:
        """When the next text is allowed (now, if one is)."""
        self._refill(now_ms)
        missing = max(0.0, 1.0 - self._tokens)
        return now_ms + missing * 1000 / self.max_texts_per_s
