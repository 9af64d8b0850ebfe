"""A silent caller: the check-in, then the goodbye. One call's silence watch.

When the agent has finished speaking and the caller says nothing for `prompt_ms`, the model is
told so (realtime text, `SILENCE_PROMPT`) and checks in ("Are you still there?"). If the caller
still says nothing for `hangup_ms` more after that check-in has played, the model is asked to
say goodbye (`SILENCE_GOODBYE`); once that turn is over the call is wrapped up like the hang-up
tool's (the goodbye is heard first, then the carrier hangs up). A goodbye the model never says
is bounded by `goodbye_max_ms`.

The clock runs only while the call waits for the caller: it is paused while the agent speaks
(model audio, until the estimated end of its playout), while a tool call runs and while a Live
session is being replaced; it starts again from zero when the agent's turn has played out, the
last tool finished or the new session opened. Caller speech (a frame at or above the speech
level, a transcript of the caller, a keypress) restarts it and takes back a check-in.

Pure and clock-free like the bridge that owns it: one timer (`SILENCE_TIMER`), armed when the
clock starts and re-armed lazily when it fires early (caller speech costs no timer per frame).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final

from gateway.core.events import Command, StartTimer

__all__ = [
    "GOODBYE",
    "GOODBYE_MAX_MS",
    "HANG_UP",
    "PROMPT",
    "SILENCE_GOODBYE",
    "SILENCE_PROMPT",
    "SILENCE_TIMER",
    "Phase",
    "SilenceWatch",
]

SILENCE_TIMER: Final = "silence"
SILENCE_PROMPT: Final = (
    "The caller has said nothing for a while. Check briefly whether they are still there."
)
SILENCE_GOODBYE: Final = (
    "The caller has still said nothing. Say a short, polite goodbye now; "
    "the call ends once you have said it."
)
PROMPT: Final = "prompt"
GOODBYE: Final = "goodbye"
HANG_UP: Final = "hang_up"
"""What a fired timer asks of the bridge: check in, ask for the goodbye, or hang up (the
goodbye was asked for and never said)."""
GOODBYE_MAX_MS: Final = 10_000.0
"""How long a requested goodbye may take to be said before the call is wrapped up anyway."""


class Phase(StrEnum):
    QUIET = "quiet"
    """Waiting for the caller; the check-in is next."""
    PROMPTED = "prompted"
    """The model checked in; the goodbye is next."""
    GOODBYE = "goodbye"
    """The model was asked to say goodbye: the call ends after its turn."""


class SilenceWatch:
    def __init__(
        self,
        prompt_ms: float | None,
        hangup_ms: float | None,
        goodbye_max_ms: float = GOODBYE_MAX_MS,
    ) -> None:
        self.prompt_ms = prompt_ms
        """None: the watch is off."""
        self.hangup_ms = hangup_ms
        """None: the call is never hung up for silence (one check-in per silence)."""
        self.goodbye_max_ms = goodbye_max_ms
        self.phase = Phase.QUIET
        self.quiet_since_ms: float | None = None
        """When the clock (re)started; None: paused (or off)."""
        self.armed_at_ms: float | None = None
        """When the pending timer fires (None: no timer pending)."""

    @property
    def running(self) -> bool:
        """Whether caller speech matters now (the clock runs towards a check-in or goodbye)."""
        return self.quiet_since_ms is not None

    def pause(self) -> None:
        """The agent speaks, a tool runs or the session is being replaced."""
        self.quiet_since_ms = None

    def resume(self, at_ms: float, out: list[Command]) -> None:
        """The call waits for the caller from `at_ms` on: the clock starts from zero."""
        if self.prompt_ms is None or self.phase is Phase.GOODBYE:
            return
        self.quiet_since_ms = at_ms
        due = self._due_ms()
        if due is not None:
            self._arm(due, out)

    def caller_spoke(self, now_ms: float, out: list[Command]) -> None:
        """The caller is there: a check-in is taken back and the clock restarts."""
        if self.phase is Phase.GOODBYE:
            return  # the goodbye was asked for: the call ends after it
        if self.phase is Phase.PROMPTED:
            self.phase = Phase.QUIET
            if self.quiet_since_ms is not None:
                self.quiet_since_ms = now_ms
                due = self._due_ms()
                assert due is not None
                self._arm(due, out)
            return
        if self.quiet_since_ms is not None:
            self.quiet_since_ms = now_ms  # the pending timer finds it later and waits on

    def disarm(self) -> None:
        """The timer fired where the call does not watch (the session being replaced)."""
        self.armed_at_ms = None

    def fired(self, now_ms: float, out: list[Command]) -> str | None:
        """The timer is due: `PROMPT`, `GOODBYE` or `HANG_UP` for the bridge to act on, else
        None (paused, or not yet: the timer is set again in `out`)."""
        self.armed_at_ms = None
        if self.phase is Phase.GOODBYE:
            return HANG_UP  # the goodbye was never said: wrap up anyway
        due = self._due_ms()
        if due is None:
            return None
        if now_ms < due:
            self._arm(due, out)
            return None
        if self.phase is Phase.QUIET:
            self.phase = Phase.PROMPTED
            self.resume(now_ms, out)  # a check-in the model does not say still counts
            return PROMPT
        self.phase = Phase.GOODBYE
        self.quiet_since_ms = None
        self._arm(now_ms + self.goodbye_max_ms, out)
        return GOODBYE

    # ---------------------------------------------------------------------------- inside

    def _due_ms(self) -> float | None:
        since = self.quiet_since_ms
        if since is None or self.prompt_ms is None:
            return None
        if self.phase is Phase.QUIET:
            return since + self.prompt_ms
        return None if self.hangup_ms is None else since + self.hangup_ms

    def _arm(self, at_ms: float, out: list[Command]) -> None:
        """A timer at `at_ms`, unless one is pending earlier (it re-arms when it fires)."""
        if self.armed_at_ms is not None and self.armed_at_ms <= at_ms:
            return
        self.armed_at_ms = at_ms
        out.append(StartTimer(SILENCE_TIMER, at_ms))
