"""The model's function calls as the bridge handles them: what goes out for each ask, answer
and cancellation, on the session that asked or on its successor.

A configured tool runs in the shell (`RunTool`) and comes back as `ToolFinished`; any other name
is answered with an error at once, so the model never waits on nothing, and so is every call
beyond `max_running` running at once (counted as `tool_calls_refused`): one call may not flood
the backends (nor the gateway). Neither is answered when the session that asked is being
replaced (an answer would reach the new one, which never made the call). A cancelled call is
forgotten (its late result is dropped, never sent). A result goes as a `toolResponse` to the
session that asked; one whose session has since been replaced is told to the new session as
text, and one that comes back while no session is open waits for the next (`replay`). The
built-in transfer and hang-up tools get their response too, before the call is wrapped up. The
bookkeeping itself is `ToolCalls`.
"""

from __future__ import annotations

from typing import Any

from gateway.core.events import (
    CancelTool,
    Command,
    Note,
    RunTool,
    SendText,
    SendToolResponse,
    ToolFinished,
)
from gateway.core.summary import CallStats
from gateway.core.tool_calls import PendingCall, ToolCalls, result_as_text
from gateway.live.events import ToolCall, ToolCallCancellation, ToolResult

__all__ = ["ToolDesk"]


class ToolDesk:
    def __init__(self, configured: frozenset[str], max_running: int, stats: CallStats) -> None:
        self.calls = ToolCalls(configured)
        self.max_running = max_running
        self._stats = stats
        self._undelivered: list[str] = []  # results for the next session, as text

    @property
    def running(self) -> bool:
        return bool(self.calls.pending)

    @property
    def records(self) -> list[dict[str, Any]]:
        return self.calls.records

    def asked(
        self, event: ToolCall, now_ms: float, session: int, *, old_session: bool
    ) -> list[Command]:
        """Session number `session` asked (`old_session`: it is being replaced)."""
        calls = self.calls
        out: list[Command] = []
        unknown: list[ToolResult] = []
        refused = 0
        limit = self.max_running
        for received in event.calls:
            key, call = calls.keyed(received)  # an id-less call (Vertex) gets a local key
            if received.call_id is None:
                out.append(Note("tool.without_id", {"name": call.name[:64], "key": key}))
            if call.name in calls.configured and len(calls.pending) >= limit:
                # The rest are answered at once, in the same toolResponse as unknown names.
                refused += 1
                if not old_session:
                    too_many = _too_many(call.name, limit)
                    unknown.append(ToolResult(received.call_id, call.name, too_many))
            elif call.name in calls.configured:
                calls.start(key, call.name, now_ms, session, wire_id=received.call_id)
                out.append(RunTool(call))
            elif old_session:
                # There is nothing to run, so there is nothing to tell.
                out.append(Note("tool.not_configured", {"name": call.name[:64]}, "warning"))
            else:
                error = {"error": f"no tool named {call.name} is configured"}
                unknown.append(ToolResult(received.call_id, call.name, error))
                out.append(Note("tool.not_configured", {"name": call.name[:64]}, "warning"))
        if refused:
            self._stats.tool_calls_refused += refused
            fields = {"refused": refused, "running": len(calls.pending), "limit": limit}
            out.append(Note("tool.refused", fields, "warning"))
        if unknown:
            out.insert(0, SendToolResponse(tuple(unknown)))
        return out

    def cancelled(self, event: ToolCallCancellation, now_ms: float) -> list[Command]:
        out: list[Command] = []
        for key in self.calls.keys_to_cancel(event.call_ids):
            if self.calls.cancel(key, now_ms) is not None:
                out.append(CancelTool(key))
        out.append(Note("tool.cancelled", {"call_ids": list(event.call_ids)}))
        return out

    def cancel_all(self, now_ms: float) -> list[Command]:
        """The model is gone for good: the running calls' results could go nowhere."""
        out: list[Command] = []
        for call_id in list(self.calls.pending):
            self.calls.cancel(call_id, now_ms)
            out.append(CancelTool(call_id))
        return out

    def finished(self, event: ToolFinished) -> PendingCall | None:
        """The running call `event` answers, or None: a late result (see `late`)."""
        return self.calls.finish(event)

    @staticmethod
    def late(event: ToolFinished) -> Note:
        """A result of a cancelled (a barge-in) or unknown call: it is never sent."""
        return Note("tool.late_result_dropped", {"name": event.name, "call_id": event.call_id})

    @staticmethod
    def answer(event: ToolFinished, call: PendingCall, session: int) -> Command:
        """The result for the open session number `session`."""
        if call.session == session:
            result = ToolResult(call.wire_id, event.name, event.response, event.scheduling)
            return SendToolResponse((result,))
        # Asked by a session that has since been replaced: it cannot take a response.
        return SendText(result_as_text(event))

    @staticmethod
    def answer_action(event: ToolFinished, call: PendingCall, session: int) -> list[Command]:
        """A transfer's or hang-up's own response ("the call will end once your last words
        have been heard"), for the open session number `session` if it asked."""
        if call.session != session:
            return []
        return [
            SendToolResponse(
                (ToolResult(call.wire_id, event.name, event.response, event.scheduling),)
            )
        ]

    def hold(self, event: ToolFinished) -> None:
        """No session is open: the next one hears the result as text."""
        self._undelivered.append(result_as_text(event))

    def replay(self) -> list[Command]:
        """The held results, for the session that just opened."""
        out: list[Command] = [SendText(text) for text in self._undelivered]
        self._undelivered.clear()
        return out


def _too_many(name: str, limit: int) -> dict[str, str]:
    return {
        "error": f"{name} was not run: at most {limit} tool calls may run at once; "
        "wait for their results, then try again if you still need it"
    }
