"""Who speaks first on an outbound call, and what an answering machine gets (pure).

On a call the gateway placed, the callee usually speaks first ("Hello?"). `Answering` is the
per-call policy the bridge consults (`Call.answering`, None on inbound calls):

* Without machine detection the callee's audio goes to the model from the start, so the
  model answers the hello when it ends (its own voice activity detection waits for the
  silence). If the callee says nothing for `hello_timeout_ms` after the session opened, the
  agent is told to greet (`HELLO_TIMER`).
* With machine detection (`screening`) the model hears nothing until the carrier's verdict
  (`AnswererDetected`), so it can never answer, or talk over, a voicemail greeting. A person
  (or an unknown verdict): the model is told to greet them, and hears the callee from then on.
  A machine with `hang_up`: the call is wrapped up with a hang-up. A machine with
  `leave_voicemail`: the model stays deaf and silent until the greeting ended (the beep), then
  is told to say the voicemail message; the turn that says it is the last: the call hangs up
  once it has played (the wrap-up waits for its marks).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from gateway.core.events import CancelTimer, Command, Note, SendText, StartTimer

__all__ = [
    "HELLO_TIMER",
    "VERDICT_TIMER",
    "Answering",
    "AnsweringPhase",
    "OutboundPolicy",
    "Verdict",
]

HELLO_TIMER: Final = "hello"
VERDICT_TIMER: Final = "verdict"
"""Fires at once when the first session opens with a verdict that came before it."""
VOICEMAIL_PROMPT: Final = (
    "An answering machine is recording now: the callee did not pick up. Say exactly this "
    "voicemail message, once, and nothing else: "
)


@dataclass(frozen=True)
class OutboundPolicy:
    """How an outbound call starts (`BridgeOptions.outbound`)."""

    greeting_text: str
    """What the model is told once it is its turn to greet (a person answered, or said
    nothing for `hello_timeout_ms`)."""
    hello_timeout_ms: float = 4_000.0
    screening: bool = False
    """Machine detection runs: the model hears nothing until the verdict."""
    machine_hang_up: bool = False
    voicemail_text: str | None = None
    """`leave_voicemail`: the message the agent leaves after the beep."""


class AnsweringPhase(StrEnum):
    WAITING_FOR_HELLO = "waiting_for_hello"
    SCREENING = "screening"
    """The model hears nothing: waiting for the carrier's verdict (or a machine's beep)."""
    TALKING = "talking"
    LEAVING_VOICEMAIL = "leaving_voicemail"
    """The message is being said: the call hangs up after that turn has played."""


class Verdict(StrEnum):
    """What the bridge does with a verdict."""

    NOTHING = "nothing"
    GREET = "greet"
    HANG_UP = "hang_up"
    VOICEMAIL = "voicemail"


class Answering:
    def __init__(self, policy: OutboundPolicy) -> None:
        self.policy = policy
        self.phase = (
            AnsweringPhase.SCREENING if policy.screening else AnsweringPhase.WAITING_FOR_HELLO
        )
        self.answered_by: str | None = None
        self.screened_ms = 0.0
        """Callee audio the model did not hear while screening, in ms."""
        self.greeted_by_timeout = False
        self.voicemail_said = False

    @property
    def model_hears(self) -> bool:
        return self.phase in (AnsweringPhase.WAITING_FOR_HELLO, AnsweringPhase.TALKING)

    def opened(self, now_ms: float) -> list[Command]:
        """The first session opened: the hello's clock starts."""
        if self.phase is AnsweringPhase.WAITING_FOR_HELLO:
            return [StartTimer(HELLO_TIMER, now_ms + self.policy.hello_timeout_ms)]
        return []

    def callee_spoke(self) -> list[Command]:
        """Speech from the callee while waiting for the hello: the model will answer it."""
        if self.phase is not AnsweringPhase.WAITING_FOR_HELLO:
            return []
        self.phase = AnsweringPhase.TALKING
        return [CancelTimer(HELLO_TIMER), Note("outbound.callee_spoke", {})]

    def hello_timeout(self) -> list[Command]:
        if self.phase is not AnsweringPhase.WAITING_FOR_HELLO:
            return []
        self.phase = AnsweringPhase.TALKING
        self.greeted_by_timeout = True
        return [
            Note("outbound.hello_timeout", {"timeout_ms": self.policy.hello_timeout_ms}),
            SendText(self.policy.greeting_text),
        ]

    def verdict(self, answered_by: str, greeting_ended: bool) -> Verdict:
        """The carrier's machine detection said who answered (`person`, `machine`,
        `unknown`); what to do now."""
        self.answered_by = answered_by
        if self.phase is not AnsweringPhase.SCREENING:
            return Verdict.NOTHING  # a late or repeated verdict
        if answered_by != "machine":
            self.phase = AnsweringPhase.TALKING
            return Verdict.GREET
        if self.policy.machine_hang_up or self.policy.voicemail_text is None:
            return Verdict.HANG_UP
        if not greeting_ended:
            return Verdict.NOTHING  # the greeting still plays: wait for its end
        self.phase = AnsweringPhase.LEAVING_VOICEMAIL
        return Verdict.VOICEMAIL

    def voicemail_prompt(self) -> str:
        assert self.policy.voicemail_text is not None
        return VOICEMAIL_PROMPT + self.policy.voicemail_text

    def turn_ended(self, spoke: bool) -> bool:
        """A model turn ended; True when it was the voicemail message (hang up after it)."""
        if self.phase is AnsweringPhase.LEAVING_VOICEMAIL and spoke and not self.voicemail_said:
            self.voicemail_said = True
            return True
        return False

    def summary(self) -> dict[str, object]:
        return {
            "answered_by": self.answered_by,
            "phase": self.phase.value,
            "screened_ms": round(self.screened_ms, 1),
            "greeted_by_timeout": self.greeted_by_timeout,
            "voicemail_said": self.voicemail_said,
        }
