"""Cluster mode's post-call document: one per call, however many legs (streams) it had.

A call in cluster mode may run on several replicas one after the other: a draining replica
hands it over, or the replica holding it dies, and the carrier opens a new stream (a new leg)
elsewhere (gateway.shell.carry_on). The call's webhook document is sent once, by the leg that
ends the call, and covers the whole call: `started_at` of the first leg, the transcript of the
earlier legs (from the call's snapshot in Redis, `gateway.core.carry_on.CallSnapshot`) then this
leg's, and `legs`. Its `delivery_id` is the same for every leg of the call (`call_delivery_id`).

A leg that ended without ending the call on purpose (a handover, a dropped carrier socket:
`ended_on_purpose` is false) queues its document `CARRY_ON_GRACE_S` late instead: when the call
is carried on, the new leg withdraws it (`GatewayServices.call_carried_on`) and, ending the call,
queues the whole call's under the same id; when nothing carries the call on (the caller hung up
as the socket dropped), that document is the call's, sent after the grace. Each document carries
its leg's number: the shared outbox refuses one of a leg older than a leg already begun, so an
old leg's document that comes late never replaces or follows the call's
(gateway.shell.cluster_outbox).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from gateway.core.carry_on import CallSnapshot, ended_on_purpose

__all__ = ["CARRY_ON_GRACE_S", "CallLeg", "call_delivery_id", "whole_call"]

CARRY_ON_GRACE_S: Final = 60.0
"""How long the document of a leg that did not end the call waits for the call to carry on."""


@dataclass(frozen=True)
class CallLeg:
    """One stream of a call in cluster mode: what came before it and how it ended."""

    carried: CallSnapshot | None
    """The snapshot of the earlier legs (None: this is the call's first leg)."""
    end_reason: str | None

    @property
    def number(self) -> int:
        """1 for the call's first leg, then one more per leg."""
        return 1 if self.carried is None else self.carried.legs + 1

    @property
    def delay_s(self) -> float:
        """How long its document waits: 0 when this leg ended the call."""
        return 0.0 if ended_on_purpose(self.end_reason) else CARRY_ON_GRACE_S


def call_delivery_id(carrier: str, call_id: str) -> str:
    """The call's document id, the same on every replica and leg (receivers dedupe on it)."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"gateway-call:{carrier}:{call_id}"))


def whole_call(document: dict[str, Any], leg: CallLeg) -> dict[str, Any]:
    """`document` (this leg's) made the whole call's: first start, earlier lines first, legs."""
    carried = leg.carried
    if carried is None:
        return {**document, "legs": leg.number}
    earlier = [
        {"role": role, "text": text, "earlier_leg": True} for role, text in carried.transcript
    ]
    whole = {
        **document,
        "legs": carried.legs + 1,
        "transcript": [*earlier, *document["transcript"]],
    }
    if carried.started_at_s:
        whole["started_at"] = datetime.fromtimestamp(carried.started_at_s, UTC).isoformat(
            timespec="milliseconds"
        )
    return whole
