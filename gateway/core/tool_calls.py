"""The model's function calls in flight for one call, and what became of each.

Pure bookkeeping for the bridge: which calls run (and on which Live session they were asked),
which finished, were cancelled or came back too late, and the records the summary reports.
A result can only be sent as a `toolResponse` to the session that asked for it; a call that
outlived its session (a handover) has its result told to the new session as text instead.

Every call is kept under a key: its id when the server sent one, else a local key (`local-N`),
since Vertex may send calls without an id (protocols.md A.11). The tool runs and comes back
under that key; the response carries the call's own id, or none when it had none. A
cancellation names ids; one that names none cancels the running calls that had no id (the only
calls it can mean).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any, Final

from gateway.core.events import ToolFinished
from gateway.live.events import FunctionCall

__all__ = ["LOCAL_KEY_PREFIX", "PendingCall", "ToolCalls", "result_as_text"]

_MAX_TEXT_RESULT_CHARS: Final = 4_000
LOCAL_KEY_PREFIX: Final = "local-"
"""Keys of calls that came without an id (never sent to the server)."""


@dataclass(frozen=True, slots=True)
class PendingCall:
    name: str
    started_ms: float
    session: int
    """The Live session (counted from 1) that asked for the call."""
    wire_id: str | None = None
    """The id the server gave the call (None: it gave none; the response carries none)."""


class ToolCalls:
    def __init__(self, configured: frozenset[str]) -> None:
        self.configured = configured
        self.pending: dict[str, PendingCall] = {}
        self.records: list[dict[str, Any]] = []
        self.cancelled = 0
        self.late = 0
        self.without_id = 0
        """Calls that came without an id (answered under a local key)."""

    def keyed(self, call: FunctionCall) -> tuple[str, FunctionCall]:
        """(key, `call` under its key): its id when it has one, else a fresh local key."""
        if call.call_id:
            return call.call_id, call
        self.without_id += 1
        key = f"{LOCAL_KEY_PREFIX}{self.without_id}"
        return key, replace(call, call_id=key)

    def start(
        self,
        call_id: str,
        name: str,
        now_ms: float,
        session: int,
        *,
        wire_id: str | None = None,
    ) -> None:
        """Track a running call under `call_id` (its key); `wire_id` is the server's id."""
        self.pending[call_id] = PendingCall(name, now_ms, session, wire_id)

    def keys_to_cancel(self, ids: Sequence[str]) -> list[str]:
        """The running calls a `toolCallCancellation` naming `ids` means (see the module doc)."""
        if ids:
            return [key for key, call in self.pending.items() if call.wire_id in ids]
        return [key for key, call in self.pending.items() if call.wire_id is None]

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
