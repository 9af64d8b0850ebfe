"""Keeping one call on Live across sessions: handles, `goAway`, reconnect attempts, their record.

`SessionKeeper` is pure and clock-free like the bridge that owns it. It remembers the newest
resumable handle (and when it came), turns a `goAway` into a deadline for the handover, decides
how each reconnect attempt is made (resume with the handle, or fresh with the conversation as
context) and how long to wait before it (backoff with deterministic jitter), and records every
handover for the call summary.

Why the rules are what they are:
* The handle is only resumable while the model is idle: the server sends `resumable: false`
  during generation and tool calls. A handover at a turn boundary therefore resumes exactly
  where the conversation is; a forced one resumes at the last boundary.
* A resume is refused while the old socket is open, so the shell closes it first.
* The first attempt after an abrupt close goes at once (most closes are one-offs); later ones back
  off exponentially with jitter so a regional outage does not become a retry storm.
* A refused or expired handle (1007/1008 on a resume) gets one fresh session that is told the
  conversation so far; only a fresh session failing the same way is fatal.
* Every replacement counts against the same budget, whatever started it (a `goAway`, an abrupt
  close, a stalled session): a session opened by a handover that has to be replaced within
  `STABLE_SESSION_MS`, or that stalled without ever answering, continues the outage (its attempt
  count and backoff), so a service that sends `goAway {timeLeft: 0s}` after every setup gets
  `max_attempts` backed-off attempts and then the fallback, not a loop. A call also makes at
  most `max_attempts_per_call` attempts in all.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any, Final

from gateway.core.events import ReconnectLive
from gateway.core.handover_log import HandoverLog
from gateway.live.closes import CloseInfo, CloseKind

__all__ = ["HandoverRecord", "ReconnectPolicy", "SessionKeeper"]

STABLE_SESSION_MS: Final = 5_000.0
"""A session opened by a handover that closes sooner than this counts as the same outage: its
replacement continues the attempt count (and its backoff) instead of starting again."""


@dataclass(frozen=True, slots=True)
class ReconnectPolicy:
    max_attempts: int = 5
    """Reconnect attempts per outage before the call falls back."""
    backoff_ms: float = 250.0
    """Wait before the second attempt; doubled per attempt after that (the first goes at once)."""
    backoff_max_ms: float = 4_000.0
    jitter: float = 0.5
    """Each wait is scaled by a factor in [1 - jitter, 1 + jitter]."""
    handover_margin_ms: float = 5_000.0
    """A `goAway` handover that found no turn boundary starts this long before the close."""
    max_attempts_per_call: int = 60
    """Reconnect attempts per call, over every outage and handover (a Live connection lasts
    about ten minutes: 60 covers ten hours of planned handovers)."""

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if self.max_attempts_per_call < self.max_attempts:
            raise ValueError("max_attempts_per_call must be at least max_attempts")
        if not 0 <= self.jitter < 1:
            raise ValueError("jitter must be in [0, 1)")
        if self.backoff_ms < 0 or self.backoff_max_ms < self.backoff_ms:
            raise ValueError("backoff_ms must be >= 0 and <= backoff_max_ms")


@dataclass(frozen=True, slots=True)
class HandoverRecord:
    """One replaced session, for the summary and the metrics."""

    reason: str
    forced: bool
    gap_ms: float | None
    """From the decision to replace the session to the new one being ready (None: never)."""
    handle_age_ms: float | None
    """Age of the handle used, at the decision (None: fresh session)."""
    attempts: int
    outcome: str
    """`resumed`, `fresh` (a new session told the conversation so far) or `failed`."""

    def as_dict(self) -> dict[str, Any]:
        return {
            "reason": self.reason,
            "forced": self.forced,
            "gap_ms": None if self.gap_ms is None else round(self.gap_ms, 1),
            "handle_age_ms": None if self.handle_age_ms is None else round(self.handle_age_ms),
            "attempts": self.attempts,
            "outcome": self.outcome,
        }


class SessionKeeper:
    """Handles, goAway deadlines and reconnect attempts of one call (see the module doc)."""

    def __init__(self, policy: ReconnectPolicy, jitter_seed: str = "") -> None:
        self.policy = policy
        self._seed = jitter_seed
        self.handle: str | None = None
        self.handle_at_ms: float | None = None
        self.handle_fresh = False
        """The newest resumption update was resumable: the model is idle right now."""
        self.go_away_deadline_ms: float | None = None
        self.session_opened_ms: float | None = None
        self.log = HandoverLog()
        """Every replaced session, counted; a bounded sample kept."""
        self.attempts_made = 0
        """Reconnect attempts in this call so far (`max_attempts_per_call`)."""
        # The handover in progress.
        self._reason = ""
        self._forced = False
        self._started_ms = 0.0
        self._attempt = 0
        self._handle_age_ms: float | None = None
        self._fresh_with_context = False

    def seed(self, jitter_seed: str) -> None:
        """Jitter differs per call (the call id), yet is reproducible."""
        self._seed = jitter_seed

    # ------------------------------------------------------------------- while live

    def resumption_update(self, handle: str | None, resumable: bool, now_ms: float) -> None:
        self.handle_fresh = resumable and bool(handle)
        if self.handle_fresh:
            self.handle, self.handle_at_ms = handle, now_ms

    def go_away(self, time_left_s: float | None, now_ms: float) -> float:
        """The deadline (ms) by which a handover must start; kept if an earlier one exists."""
        left_ms = 10_000.0 if time_left_s is None else max(0.0, time_left_s * 1000.0)
        margin = min(self.policy.handover_margin_ms, left_ms / 2)
        deadline = now_ms + left_ms - margin
        if self.go_away_deadline_ms is None or deadline < self.go_away_deadline_ms:
            self.go_away_deadline_ms = deadline
        return self.go_away_deadline_ms

    @property
    def handover_due(self) -> bool:
        return self.go_away_deadline_ms is not None

    # ------------------------------------------------------------------- replacing

    @property
    def reconnecting(self) -> bool:
        return self._attempt > 0

    @property
    def records(self) -> list[HandoverRecord]:
        """The handover records kept (all of them up to `handover_log.HEAD + TAIL`)."""
        return self.log.sample

    def begin(
        self,
        reason: str,
        now_ms: float,
        *,
        forced: bool,
        abrupt: bool = False,
        answered: bool = True,
    ) -> ReconnectLive | None:
        """Start replacing the session (goAway, an abrupt close, a stall): the first attempt, or
        None when no attempt is left (the session came from a recent handover and the outage
        it continues has used its attempts, or the call has used its budget).

        A session opened by a handover continues that handover's outage when it lived less
        than `STABLE_SESSION_MS` (whatever ends it: a close, or a `goAway` with little time
        left) or when it never `answered` (a stalled session: no model output since it
        opened). `abrupt` is kept for the callers' record; it no longer changes the decision."""
        del abrupt
        self._reason, self._forced, self._started_ms = reason, forced, now_ms
        self._fresh_with_context = self.handle is None
        self._handle_age_ms = None if self.handle_at_ms is None else now_ms - self.handle_at_ms
        self.go_away_deadline_ms = None
        self._attempt = 1
        last = self.log.last
        if last is not None and (self.flapping(now_ms) or not answered):
            # The last handover's session did not stay up: this outage continues that one.
            previous = last.attempts
            if previous >= self.policy.max_attempts:
                self._attempt = previous  # recorded as failed after the attempts it made
                return None
            self._attempt = previous + 1
            return self._counted(self._backoff_ms(self._attempt))
        return self._counted(0.0)

    def attempt_failed(self, close: CloseInfo) -> ReconnectLive | None:
        """The attempt's connection failed with `close`: the next attempt, or None (fall back)."""
        resumed = not self._fresh_with_context
        refused = close.kind is CloseKind.FATAL_CONFIG and close.code in (1007, 1008)
        if resumed and refused:
            # A refused or expired handle: one fresh session that knows the conversation.
            self._fresh_with_context = True
            self._attempt += 1
            return self._counted(0.0)
        if close.kind in (CloseKind.FATAL_CONFIG, CloseKind.QUOTA):
            return None
        if self._attempt >= self.policy.max_attempts:
            return None
        self._attempt += 1
        return self._counted(self._backoff_ms(self._attempt))

    def opened(self, now_ms: float) -> HandoverRecord:
        """The replacement session is ready; the handover is recorded."""
        record = HandoverRecord(
            reason=self._reason,
            forced=self._forced,
            gap_ms=now_ms - self._started_ms,
            handle_age_ms=None if self._fresh_with_context else self._handle_age_ms,
            attempts=self._attempt,
            outcome="fresh" if self._fresh_with_context else "resumed",
        )
        self.log.add(record)
        self._attempt = 0
        self.handle_fresh = False
        self.session_opened_ms = now_ms
        return record

    def gave_up(self) -> HandoverRecord:
        """No attempt is left (or the failure was fatal): recorded as failed."""
        age = None if self._fresh_with_context else self._handle_age_ms
        record = HandoverRecord(self._reason, self._forced, None, age, self._attempt, "failed")
        self.log.add(record)
        self._attempt = 0
        return record

    def session_lived_ms(self, now_ms: float) -> float | None:
        opened = self.session_opened_ms
        return None if opened is None else now_ms - opened

    def flapping(self, now_ms: float) -> bool:
        """The session that just closed was opened by a recent handover (counts as a retry)."""
        lived = self.session_lived_ms(now_ms)
        return self.log.total > 0 and lived is not None and lived < STABLE_SESSION_MS

    # ------------------------------------------------------------------- helpers

    def _counted(self, delay_ms: float) -> ReconnectLive | None:
        """The next attempt, unless the call has used its budget of attempts (None)."""
        if self.attempts_made >= self.policy.max_attempts_per_call:
            self._attempt -= 1  # recorded as failed after the attempts it made
            return None
        self.attempts_made += 1
        return self._command(delay_ms)

    def _command(self, delay_ms: float) -> ReconnectLive:
        handle = None if self._fresh_with_context else self.handle
        return ReconnectLive(
            reason=self._reason, handle=handle, delay_ms=delay_ms, attempt=self._attempt
        )

    def _backoff_ms(self, attempt: int) -> float:
        policy = self.policy
        base = min(policy.backoff_max_ms, policy.backoff_ms * 2 ** max(0, attempt - 2))
        digest = hashlib.blake2b(f"{self._seed}:{self.log.total}:{attempt}".encode(), digest_size=8)
        unit = int.from_bytes(digest.digest(), "big") / 2**64  # deterministic in [0, 1)
        return float(base * (1 - policy.jitter + 2 * policy.jitter * unit))

    def summary(self) -> list[dict[str, Any]]:
        """The sampled records (every one while there are few; see `HandoverLog`)."""
        return [record.as_dict() for record in self.log.sample]
