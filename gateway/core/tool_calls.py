"""The model's function calls in flight for one call, and what became of each.

Pure bookkeeping for the bridge: which calls run (and on which Live session they were asked),
which finished, were cancelled or came back too late, and the records the summary reports.
A result can only be sent as a `toolResponse` to the session that asked for it; a call that
outlived its session (a handover) has its result told to the new session as text instead.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Final

from gateway.core.events import ToolFinished

__all__ = ["PendingCall", "ToolCalls", "result_as_text"]

_MAX_TEXT_RESULT_CHARS: Final = 4_000


@dataclass(frozen=True, slots=True)
class PendingCall:
    name: str
    started_ms: float
    session: int
    """The Live session (counted from 1) that asked for the call."""


class ToolCalls:
    def __init__(self, configured: frozenset[str]) -> None:
        self.configured = configured
        self.pending: dict[str, PendingCall] = {}
        self.records: list[dict[str, Any]] = []
        self.cancelled = 0
        self.late = 0

    def start(self, call_id: str, name: str, now_ms: float, session: int) -> None:
        self.pending[call_id] = PendingCall(name, now_ms, session)

    def cancel(self, call_id: str, now_ms: float) -> PendingCall | None:
        """Forget a running call (the model cancelled it); None if it was not running."""
        call = self.pending.pop(call_id, None)
        if call is not None:
            self.cancelled += 1
            self._record(call.name, "cancelled", now_ms - call.started_ms)
        return call

    def finish(self, event: ToolFinished) -> PendingCall | None:
        """The running call `event` answers (now finished), or None for a late result."""
        call = self.pending.pop(event.call_id, None)
        if call is None:
            self.late += 1
            return None
        self._record(call.name, event.outcome, event.duration_ms)
        return call

    def _record(self, name: str, outcome: str, duration_ms: float) -> None:
        self.records.append(
            {"name": name, "outcome": outcome, "duration_ms": round(duration_ms, 1)}
        )


def result_as_text(event: ToolFinished) -> str:
    """A tool result for a session that never saw the call (asked before a handover)."""
    try:
        body = json.dumps(dict(event.response), ensure_ascii=False, separators=(",", ":"))
    except (TypeError, ValueError):
        body = json.dumps({"error": "the result could not be encoded"})
    if len(body) > _MAX_TEXT_RESULT_CHARS:
        body = body[:_MAX_TEXT_RESULT_CHARS] + "…"
    return (
        f"(The connection was renewed while your call to the function {event.name} was running. "
        f"It has now returned: {body} Continue the conversation with this result.)"
    )
