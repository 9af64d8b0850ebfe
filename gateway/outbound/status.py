"""A dial-out's life, as `GET /calls/{id}` reports it (pure; time comes in as wall-clock ms).

`queued` (the carrier accepted it) → `ringing` → `answered` (by a person or a machine, when
detection ran) → `in_progress` (its media stream is bridged to the agent) → `ended` with a
reason: `no_answer`, `busy`, `failed`, `canceled`, `completed`, `voicemail_left`,
`machine_hung_up` (a machine answered and `hang_up` ended it). The carrier's progress
callbacks (`DialProgress`) and the gateway's own facts (bridged, the voicemail played, the
place request failed) move it; an ended dial-out never changes again, and progress that would
go back (a late `ringing` after `answered`) is ignored.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from gateway.carriers.dial import Answerer, CallProgress, DialProgress, MachineDetection

__all__ = [
    "DialOut",
    "DialStatus",
    "EndReason",
    "MachineMove",
    "decode",
    "encode",
    "machine_move",
    "merged",
]


class DialStatus(StrEnum):
    QUEUED = "queued"
    RINGING = "ringing"
    ANSWERED = "answered"
    IN_PROGRESS = "in_progress"
    ENDED = "ended"


class EndReason(StrEnum):
    NO_ANSWER = "no_answer"
    BUSY = "busy"
    FAILED = "failed"
    CANCELED = "canceled"
    COMPLETED = "completed"
    VOICEMAIL_LEFT = "voicemail_left"
    MACHINE_HUNG_UP = "machine_hung_up"


_ORDER = {s: i for i, s in enumerate(DialStatus)}
_ENDS = {
    CallProgress.BUSY: EndReason.BUSY,
    CallProgress.NO_ANSWER: EndReason.NO_ANSWER,
    CallProgress.FAILED: EndReason.FAILED,
    CallProgress.CANCELED: EndReason.CANCELED,
    CallProgress.COMPLETED: EndReason.COMPLETED,
}


class MachineMove(StrEnum):
    """What a machine-detection verdict asks of the gateway."""

    NONE = "none"
    HANG_UP = "hang_up"
    SPEAK_VOICEMAIL = "speak_voicemail"
    """The greeting ended: the agent leaves its message now."""


@dataclass(frozen=True)
class DialOut:
    """One dial-out, from the API's accept to its end."""

    id: str
    carrier: str
    to_number: str
    from_number: str
    profile: str
    machine_detection: MachineDetection
    created_ms: int
    carrier_call_id: str | None = None
    """The id the carrier answered the place request with."""
    leg_id: str | None = None
    """The call's own id when it differs (Plivo: `CallUUID` vs the `request_uuid`)."""
    status: DialStatus = DialStatus.QUEUED
    answered_by: Answerer | None = None
    greeting_ended: bool = False
    end_reason: EndReason | None = None
    answered_ms: int | None = None
    ended_ms: int | None = None
    voicemail_left: bool = False
    hung_up_on_machine: bool = False

    @property
    def ended(self) -> bool:
        return self.status is DialStatus.ENDED

    @property
    def call_id(self) -> str | None:
        """The id the call's webhooks and stream carry."""
        return self.leg_id or self.carrier_call_id

    def _to(self, status: DialStatus, now_ms: int) -> DialOut:
        if self.ended or _ORDER[status] <= _ORDER[self.status]:
            return self
        answered = self.answered_ms
        if status in (DialStatus.ANSWERED, DialStatus.IN_PROGRESS) and answered is None:
            answered = now_ms
        return replace(self, status=status, answered_ms=answered)

    def placed(self, carrier_call_id: str) -> DialOut:
        return replace(self, carrier_call_id=carrier_call_id)

    def progressed(self, progress: DialProgress, now_ms: int) -> DialOut:
        """The carrier's callback applied."""
        if self.ended:
            return self
        dial = self
        if progress.leg_id is not None and dial.leg_id is None:
            dial = replace(dial, leg_id=progress.leg_id)
        if progress.answered_by is not None:
            dial = replace(
                dial,
                answered_by=progress.answered_by,
                greeting_ended=dial.greeting_ended or progress.greeting_ended,
            )
        match progress.progress:
            case CallProgress.RINGING:
                return dial._to(DialStatus.RINGING, now_ms)
            case CallProgress.ANSWERED:
                return dial._to(DialStatus.ANSWERED, now_ms)
            case None | CallProgress.QUEUED:
                return dial
            case end:
                return dial.end(_ENDS[end], now_ms)

    def bridged(self, now_ms: int) -> DialOut:
        """Its media stream started: the agent is on the call."""
        return self._to(DialStatus.IN_PROGRESS, now_ms)

    def end(self, reason: EndReason, now_ms: int) -> DialOut:
        if self.ended:
            return self
        if reason is EndReason.COMPLETED:
            if self.voicemail_left:
                reason = EndReason.VOICEMAIL_LEFT
            elif self.hung_up_on_machine:
                reason = EndReason.MACHINE_HUNG_UP
            elif self.answered_ms is None:  # completed without ever answering: nobody did
                reason = EndReason.NO_ANSWER
        return replace(self, status=DialStatus.ENDED, end_reason=reason, ended_ms=now_ms)

    @property
    def time_to_answer_ms(self) -> int | None:
        return None if self.answered_ms is None else self.answered_ms - self.created_ms

    def to_json(self) -> dict[str, Any]:
        """The API's view (`GET /calls/{id}`)."""
        return {
            "id": self.id,
            "carrier": self.carrier,
            "carrier_call_id": self.carrier_call_id,
            "to": self.to_number,
            "from": self.from_number,
            "profile": self.profile,
            "machine_detection": self.machine_detection.value,
            "status": self.status.value,
            "answered_by": self.answered_by.value if self.answered_by else None,
            "end_reason": self.end_reason.value if self.end_reason else None,
            "time_to_answer_ms": self.time_to_answer_ms,
        }


def machine_move(before: DialOut, after: DialOut) -> MachineMove:
    """What the gateway does about a verdict that just came (`before` → `after`)."""
    if after.ended or after.machine_detection is MachineDetection.OFF:
        return MachineMove.NONE
    if after.answered_by is not Answerer.MACHINE:
        return MachineMove.NONE
    if after.machine_detection is MachineDetection.HANG_UP:
        return (
            MachineMove.HANG_UP if before.answered_by is not Answerer.MACHINE else MachineMove.NONE
        )
    if after.greeting_ended and not before.greeting_ended:
        return MachineMove.SPEAK_VOICEMAIL
    return MachineMove.NONE


def merged(a: DialOut, b: DialOut) -> DialOut:
    """Two views of one dial-out (two replicas moved it) as one: the furthest status, and every
    fact either view knows. Statuses only move forward, so merging never undoes a move."""
    first, other = (a, b) if _ORDER[a.status] >= _ORDER[b.status] else (b, a)
    answered = [ms for ms in (a.answered_ms, b.answered_ms) if ms is not None]
    return replace(
        first,
        carrier_call_id=first.carrier_call_id or other.carrier_call_id,
        leg_id=first.leg_id or other.leg_id,
        answered_by=first.answered_by or other.answered_by,
        greeting_ended=a.greeting_ended or b.greeting_ended,
        answered_ms=min(answered) if answered else None,
        voicemail_left=a.voicemail_left or b.voicemail_left,
        hung_up_on_machine=a.hung_up_on_machine or b.hung_up_on_machine,
    )


def encode(dial: DialOut) -> dict[str, Any]:
    """The dial-out as JSON-able data (cluster mode shares it through Redis)."""
    return {name: getattr(dial, name) for name in DialOut.__dataclass_fields__}


def decode(data: dict[str, Any]) -> DialOut:
    """`encode`'s data back; ValueError (or KeyError, TypeError) when it is not one."""

    def maybe(kind: Any, value: Any) -> Any:
        return None if value is None else kind(value)

    return DialOut(
        id=str(data["id"]),
        carrier=str(data["carrier"]),
        to_number=str(data["to_number"]),
        from_number=str(data["from_number"]),
        profile=str(data["profile"]),
        machine_detection=MachineDetection(data["machine_detection"]),
        created_ms=int(data["created_ms"]),
        carrier_call_id=maybe(str, data["carrier_call_id"]),
        leg_id=maybe(str, data["leg_id"]),
        status=DialStatus(data["status"]),
        answered_by=maybe(Answerer, data["answered_by"]),
        greeting_ended=bool(data["greeting_ended"]),
        end_reason=maybe(EndReason, data["end_reason"]),
        answered_ms=maybe(int, data["answered_ms"]),
        ended_ms=maybe(int, data["ended_ms"]),
        voicemail_left=bool(data["voicemail_left"]),
        hung_up_on_machine=bool(data["hung_up_on_machine"]),
    )
