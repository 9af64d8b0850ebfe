"""The dial-outs this process placed: their status, their agents, their counts (one per app).

`DialOuts` holds each dial-out's `DialOut` (gateway.outbound.status) by the API's id and by the
carrier's call id, with the agent profile its request chose (variables filled in). The carrier's
answer webhook and the stream's start find that profile here (`profile_for`, through
`Reception.outbound`); the progress callbacks move the status (`progressed`). Ended dial-outs
are kept for `GET /calls/{id}` up to `keep_ended`, oldest dropped first. Counts feed the
metrics: dial-outs by outcome, machine-detection verdicts, time to answer. Dial-outs still
ringing count in the runtime's load (`ringing`). In cluster mode `adopt` takes in another
replica's view (`gateway.shell.dial_share`).
"""

from __future__ import annotations

import time
from collections import Counter, OrderedDict
from collections.abc import Callable
from dataclasses import replace

from gateway.agents.profile import AgentProfile
from gateway.carriers.dial import DialProgress, MachineDetection
from gateway.core.answering import OutboundPolicy
from gateway.log import get_logger
from gateway.outbound.status import DialOut, EndReason, merged
from gateway.shell.latency import LatencySamples

__all__ = ["DialOuts"]

_log = get_logger(component="dial")


class DialOuts:
    def __init__(
        self, *, keep_ended: int = 10_000, wall_ms: Callable[[], int] | None = None
    ) -> None:
        self._dials: OrderedDict[str, DialOut] = OrderedDict()
        self._by_call: dict[str, str] = {}
        self._profiles: dict[str, AgentProfile] = {}
        self._policies: dict[str, OutboundPolicy] = {}
        self._variables: dict[str, dict[str, str]] = {}
        self._answering: set[str] = set()
        """Dial-outs whose answer webhook came (no longer ringing, whatever their status)."""
        self._keep_ended = keep_ended
        self._wall_ms = wall_ms or (lambda: int(time.time() * 1000))
        self.outcomes: Counter[str] = Counter()
        """Ended dial-outs by end reason (`completed`, `no_answer`, ...)."""
        self.verdicts: Counter[str] = Counter()
        """Machine-detection verdicts (`person`, `machine`, `unknown`)."""
        self.answer_ms = LatencySamples()
        """From placing to answer, per answered dial-out."""
        self.answer_s_sum = 0.0
        self.placed = 0
        """Dial-outs the carrier accepted."""

    def now_ms(self) -> int:
        return self._wall_ms()

    # -- the API's side ---------------------------------------------------------------------

    def add(
        self,
        dial: DialOut,
        profile: AgentProfile,
        policy: OutboundPolicy,
        variables: dict[str, str] | None = None,
    ) -> None:
        self.placed += 1
        self._keep(dial, profile, policy, variables or {})

    def _keep(
        self,
        dial: DialOut,
        profile: AgentProfile | None,
        policy: OutboundPolicy | None,
        variables: dict[str, str],
    ) -> None:
        self._dials[dial.id] = dial
        self._variables[dial.id] = variables
        if profile is not None and policy is not None and not dial.ended:
            self._profiles[dial.id] = profile
            self._policies[dial.id] = policy
        for call_id in (dial.carrier_call_id, dial.leg_id):
            if call_id:
                self._by_call[call_id] = dial.id
        self._forget_old()

    def adopt(
        self,
        dial: DialOut,
        variables: dict[str, str],
        rebuild: Callable[[DialOut, dict[str, str]], tuple[AgentProfile, OutboundPolicy] | None],
    ) -> DialOut:
        """Cluster mode: another replica's view of a dial-out, merged into this one's (not
        counted: the replica that saw each move counted it). `rebuild` makes its agent when
        this replica has none yet."""
        old = self._dials.get(dial.id)
        new = dial if old is None else merged(old, dial)
        made = None if dial.id in self._profiles else rebuild(new, variables)
        profile, policy = made if made is not None else (None, None)
        self._keep(new, profile, policy, variables)
        if new.ended:
            self._profiles.pop(new.id, None)
            self._policies.pop(new.id, None)
        return new

    def variables(self, dial_id: str) -> dict[str, str]:
        """The request's variables (cluster mode shares them with the record)."""
        return self._variables.get(dial_id, {})

    def get(self, dial_id: str) -> DialOut | None:
        return self._dials.get(dial_id)

    def by_call(self, call_id: str) -> DialOut | None:
        dial_id = self._by_call.get(call_id)
        return None if dial_id is None else self._dials.get(dial_id)

    @property
    def pending(self) -> int:
        """Dial-outs placed and not yet bridged or ended (they hold an admission slot)."""
        return sum(1 for d in self._dials.values() if d.status.value in ("queued", "ringing"))

    def ringing(self) -> int:
        """Dial-outs placed and neither answered nor ended (counted in the load)."""
        return sum(
            1
            for d in self._dials.values()
            if d.status.value in ("queued", "ringing") and d.id not in self._answering
        )

    def answering(self, call_id: str) -> None:
        dial_id = self._by_call.get(call_id)
        if dial_id is not None:
            self._answering.add(dial_id)

    def update(self, new: DialOut) -> DialOut:
        """Store `new` (a later state of a known dial-out); log and count what changed."""
        old = self._dials.get(new.id)
        if old is None or old == new:
            return new
        self._dials[new.id] = new
        if new.leg_id is not None and old.leg_id is None:  # Plivo: the call's own id
            self._by_call[new.leg_id] = new.id
        if new.answered_by is not None and old.answered_by is None:
            self.verdicts[new.answered_by.value] += 1
        if new.answered_ms is not None and old.answered_ms is None:
            ms = new.time_to_answer_ms
            if ms is not None:
                self.answer_ms.add(float(ms))
                self.answer_s_sum += ms / 1000
        if new.status != old.status or new.answered_by != old.answered_by:
            _log.info(
                "dial.progress",
                dial_id=new.id,
                call_sid=new.carrier_call_id,
                status=new.status.value,
                answered_by=new.answered_by.value if new.answered_by else None,
            )
        if new.ended and not old.ended:
            reason = new.end_reason.value if new.end_reason else "unknown"
            self.outcomes[reason] += 1
            self._profiles.pop(new.id, None)
            self._policies.pop(new.id, None)
            _log.info(
                "dial.ended",
                dial_id=new.id,
                call_sid=new.carrier_call_id,
                carrier=new.carrier,
                outcome=reason,
                answered_by=new.answered_by.value if new.answered_by else None,
                time_to_answer_ms=new.time_to_answer_ms,
            )
        return new

    def progressed(self, dial: DialOut, progress: DialProgress) -> DialOut:
        return self.update(dial.progressed(progress, self.now_ms()))

    def end(self, dial: DialOut, reason: EndReason) -> DialOut:
        return self.update(dial.end(reason, self.now_ms()))

    def _forget_old(self) -> None:
        ended = [d for d in self._dials.values() if d.ended]
        for dial in ended[: max(0, len(ended) - self._keep_ended)]:
            del self._dials[dial.id]
            self._variables.pop(dial.id, None)
            self._answering.discard(dial.id)
            for call_id in (dial.carrier_call_id, dial.leg_id):
                if call_id:
                    self._by_call.pop(call_id, None)

    # -- the calls' side (Reception.outbound) -------------------------------------------------

    def profile_for(self, call_id: str) -> AgentProfile | None:
        dial_id = self._by_call.get(call_id)
        return None if dial_id is None else self._profiles.get(dial_id)

    def policy_for(self, call_id: str) -> OutboundPolicy | None:
        dial_id = self._by_call.get(call_id)
        return None if dial_id is None else self._policies.get(dial_id)

    def bridged(self, call_id: str) -> None:
        dial = self.by_call(call_id)
        if dial is not None:
            self.update(dial.bridged(self.now_ms()))

    def stream_ended(
        self, call_id: str, opening: dict[str, object] | None
    ) -> dict[str, object] | None:
        dial = self.by_call(call_id)
        if dial is None:
            return None
        if opening is not None:
            said = bool(opening.get("voicemail_said"))
            hang_up = dial.machine_detection is MachineDetection.HANG_UP
            hung_up = hang_up and opening.get("answered_by") == "machine"
            dial = self.update(
                replace(
                    dial,
                    voicemail_left=dial.voicemail_left or said,
                    hung_up_on_machine=dial.hung_up_on_machine or hung_up,
                )
            )
        return {
            "opening": opening,
            "dial_id": dial.id,
            "answered_by": dial.answered_by.value if dial.answered_by else None,
            "machine_detection": dial.machine_detection.value,
            "voicemail_left": dial.voicemail_left,
            "hung_up_on_machine": dial.hung_up_on_machine,
            "time_to_answer_ms": dial.time_to_answer_ms,
        }
