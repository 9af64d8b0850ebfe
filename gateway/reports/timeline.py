"""A call's timed events for its report, collected from its bridge steps (pure, clock-free).

The shell hands every bridge step of a recorded call (the event, the commands it gave and the
time) to the call's `CallTimeline`; the times are ms since the call's `CallStarted`, the same
origin as the transcript's `at_ms` and the recording's sample 0. Collected: barge-ins (the
carrier told to clear), tool calls (from `RunTool` to `ToolFinished`, with outcome and result),
Live handovers (their gap, ending when the new session opened), keypad digits, and the marks the
carrier echoed (played). Bounded: past `MAX_EVENTS` only the count goes on.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Final

from gateway.core.events import (
    BridgeEvent,
    CallStarted,
    ClearPlayback,
    Command,
    DtmfPressed,
    Note,
    PlaybackMarked,
    RunTool,
    ToolFinished,
)
from gateway.reports.model import BARGE_IN, DTMF, HANDOVER, MARK, TOOL, ReportEvent

__all__ = ["MAX_EVENTS", "RESULT_CHARS", "CallTimeline"]

MAX_EVENTS: Final = 5_000
RESULT_CHARS: Final = 300
"""A tool result is cut to this many characters in the report."""


class CallTimeline:
    """One call's timed events (see the module doc)."""

    def __init__(self) -> None:
        self.events: list[ReportEvent] = []
        self.omitted = 0
        self._origin_ms: float | None = None
        self._tools: dict[str, tuple[float, str]] = {}  # running: id -> (start, name)

    def observe(self, event: BridgeEvent, commands: Sequence[Command], now_ms: float) -> None:
        if self._origin_ms is None:
            if not isinstance(event, CallStarted):
                return
            self._origin_ms = now_ms
        at = now_ms - self._origin_ms
        if isinstance(event, PlaybackMarked):
            self._add(ReportEvent(MARK, at, event.name))
        elif isinstance(event, DtmfPressed):
            self._add(ReportEvent(DTMF, at, event.digit))
        elif isinstance(event, ToolFinished):
            start, name = self._tools.pop(event.call_id, (at, event.name))
            result = json.dumps(dict(event.response), ensure_ascii=False, default=str)
            if len(result) > RESULT_CHARS:
                result = result[: RESULT_CHARS - 1] + "…"
            self._add(ReportEvent(TOOL, start, name, at, f"{event.outcome}: {result}"))
        for command in commands:
            if isinstance(command, ClearPlayback):
                self._add(ReportEvent(BARGE_IN, at, "barge-in"))
            elif isinstance(command, RunTool):
                self._tools[command.call.call_id or ""] = (at, command.call.name)
            elif isinstance(command, Note) and command.event == "live.handover":
                gap = command.fields.get("gap_ms")
                gap_ms = float(gap) if isinstance(gap, int | float) else 0.0
                reason = str(command.fields.get("reason", ""))
                outcome = str(command.fields.get("outcome", ""))
                detail = f"{reason} {outcome}".strip()
                self._add(ReportEvent(HANDOVER, at - gap_ms, "handover", at, detail))

    def _add(self, event: ReportEvent) -> None:
        if len(self.events) >= MAX_EVENTS:
            self.omitted += 1
            return
        self.events.append(event)
