"""What the web softphone shows while a call runs, picked from the call's events and commands.

The call runner hands every bridge step (the event, the commands it gave and the time) to the
call's `PhoneView` when the carrier is the softphone; the view answers with the messages to send
the page next to its audio (the browser dialect's `view` messages,
`BrowserTranslator.encode_view`): the transcript as it comes (caller and agent), barge-ins,
tool calls started and finished (with their duration and outcome, never their arguments), Live
session handovers and their gap, the latencies the gateway measured at the end of each model
turn, and the call's end. Nothing here is sent at frame cadence: audio events give no message.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from gateway.carriers.browser.translator import BrowserTranslator
from gateway.core.events import (
    BridgeEvent,
    ClearPlayback,
    Command,
    DtmfPressed,
    EndCall,
    Note,
    RunTool,
    ToolFinished,
)
from gateway.live.events import InputTranscript, OutputTranscript, TurnComplete

__all__ = ["FIGURES", "PhoneView"]

FIGURES = (
    "uplink_p50_ms", "uplink_p99_ms", "downlink_p50_ms", "downlink_p99_ms", "clear_p50_ms",
    "clear_max_ms", "connect_wait_ms", "interruptions", "played_ms", "flushed_ms",
)  # fmt: skip
"""The summary's figures the page shows (the shell's latencies, and what was played)."""


class PhoneView:
    """One softphone call's view (see the module doc)."""

    def __init__(
        self, translator: BrowserTranslator, figures: Callable[[], Mapping[str, Any]]
    ) -> None:
        self._translator = translator
        self._figures = figures  # the call's summary so far (the runner's)
        self._tools: dict[str, float] = {}  # running tool calls: id -> started at (ms)

    def observe(self, event: BridgeEvent, commands: Sequence[Command], now_ms: float) -> list[str]:
        out = self._from_event(event, now_ms)
        for command in commands:
            out.extend(self._from_command(command, now_ms))
        return out

    def _send(self, event: str, **fields: Any) -> str:
        return self._translator.encode_view(event, fields)

    def _from_event(self, event: BridgeEvent, now_ms: float) -> list[str]:
        if isinstance(event, InputTranscript) and not event.interim:
            return [self._send("transcript", role="caller", text=event.text)]
        if isinstance(event, OutputTranscript):
            return [self._send("transcript", role="agent", text=event.text)]
        if isinstance(event, DtmfPressed):
            return [self._send("dtmf", digit=event.digit)]
        if isinstance(event, ToolFinished):
            started = self._tools.pop(event.call_id, None)
            duration = None if started is None else round(now_ms - started, 1)
            return [
                self._send(
                    "tool_finished",
                    id=event.call_id,
                    name=event.name,
                    outcome=event.outcome,
                    duration_ms=duration,
                )
            ]
        if isinstance(event, TurnComplete):
            return [self._send("figures", **self._pick())]
        return []

    def _from_command(self, command: Command, now_ms: float) -> list[str]:
        if isinstance(command, ClearPlayback):
            return [self._send("barge_in")]
        if isinstance(command, RunTool):
            call_id = command.call.call_id or ""
            self._tools[call_id] = now_ms
            return [self._send("tool_started", id=call_id, name=command.call.name)]
        if isinstance(command, Note) and command.event == "live.handover":
            gap = command.fields.get("gap_ms")
            return [self._send("handover", gap_ms=gap if isinstance(gap, int | float) else None)]
        if isinstance(command, EndCall):
            return [self._send("ended", reason=command.reason, **self._pick())]
        return []

    def _pick(self) -> dict[str, Any]:
        figures = self._figures()
        return {name: figures.get(name) for name in FIGURES}
