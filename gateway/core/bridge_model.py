"""The bridge's model side: what Live says (audio, transcripts, turns) and asks for (tools).

Tool calls: a configured tool runs in the shell (`RunTool`) and comes back as `ToolFinished`;
any other name is answered with an error at once, so the model never waits on nothing, and so
is every call beyond `BridgeOptions.max_running_tools` running at once (counted as
`tool_calls_refused`). A cancelled call is forgotten (its late result is dropped, never sent).
The built-in transfer and hang-up tools come back with an action: the bridge answers them, then
wraps the call up.
"""

from __future__ import annotations

from gateway.core.bridge_session import SessionSide
from gateway.core.bridge_state import HANDOVER_TIMER
from gateway.core.events import (
    CancelTool,
    Command,
    Note,
    RunTool,
    SendText,
    SendToolResponse,
    StartTimer,
    ToolFinished,
)
from gateway.core.tool_calls import result_as_text
from gateway.live.events import (
    AudioChunk,
    GenerationComplete,
    GoAway,
    InputTranscript,
    Interrupted,
    OutputTranscript,
    SessionResumptionUpdate,
    ToolCall,
    ToolCallCancellation,
    TurnComplete,
    UsageMetadata,
)
from gateway.live.protocol import ToolResult

__all__ = ["ModelSide"]


class ModelSide(SessionSide):
    # --------------------------------------------------------------------- speech

    def _on_audio_chunk(self, event: AudioChunk, now_ms: float) -> list[Command]:
        speech = self._speech
        assert speech is not None
        self._model_turn_open = True
        return speech.chunk(event, now_ms)

    def _on_generation_complete(self, event: GenerationComplete, now_ms: float) -> list[Command]:
        assert self._speech is not None
        return self._speech.finish_generation(now_ms)

    def _on_turn_complete(self, event: TurnComplete, now_ms: float) -> list[Command]:
        assert self._speech is not None
        self.stats.turns += 1
        self._model_turn_open = False
        out = self._speech.end_turn(now_ms)
        self._maybe_hand_over(now_ms, out)
        return out

    def _on_interrupted(self, event: Interrupted, now_ms: float) -> list[Command]:
        assert self._speech is not None
        return self._speech.interrupt(now_ms)

    def _on_input_transcript(self, event: InputTranscript, now_ms: float) -> list[Command]:
        if not event.interim:  # an interim guess is replaced by the final text later
            at_ms = self._call_time_ms(now_ms)
            self._transcript.caller(event.text, finished=event.finished, at_ms=at_ms)
        return []

    def _on_output_transcript(self, event: OutputTranscript, now_ms: float) -> list[Command]:
        self._transcript.agent(event.text, at_ms=self._call_time_ms(now_ms))
        return []

    def _on_usage(self, event: UsageMetadata, now_ms: float) -> list[Command]:
        self.usage.add(event)
        return []

    # ------------------------------------------------------------------- sessions

    def _on_go_away(self, event: GoAway, now_ms: float) -> list[Command]:
        keeper = self._keeper
        first = not keeper.handover_due
        deadline_ms = keeper.go_away(event.time_left_s, now_ms)
        if first:  # until the caller is heard being quiet, assume they may be speaking
            self._caller_loud_ms = now_ms
        out: list[Command] = [
            StartTimer(HANDOVER_TIMER, deadline_ms),
            Note("live.go_away", {"time_left_s": event.time_left_s}),
        ]
        self._maybe_hand_over(now_ms, out)
        return out

    def _on_resumption_update(self, event: SessionResumptionUpdate, now_ms: float) -> list[Command]:
        self.stats.resumption_updates += 1
        self._keeper.resumption_update(event.new_handle, event.resumable, now_ms)
        out: list[Command] = []
        self._maybe_hand_over(now_ms, out)
        return out

    # ---------------------------------------------------------------------- tools

    def _on_tool_call(self, event: ToolCall, now_ms: float) -> list[Command]:
        tools = self._tools
        self.stats.tool_calls += len(event.calls)
        out: list[Command] = []
        unknown: list[ToolResult] = []
        refused = 0
        limit = self.options.max_running_tools
        for received in event.calls:
            key, call = tools.keyed(received)  # an id-less call (Vertex) gets a local key
            if received.call_id is None:
                out.append(Note("tool.without_id", {"name": call.name[:64], "key": key}))
            if call.name in tools.configured and len(tools.pending) >= limit:
                # One call may not flood the backends (nor the gateway): the rest are answered
                # at once, in the same toolResponse as unknown names.
                refused += 1
                if self._held is None:
                    too_many = _too_many(call.name, limit)
                    unknown.append(ToolResult(received.call_id, call.name, too_many))
            elif call.name in tools.configured:
                tools.start(key, call.name, now_ms, self._session_no, wire_id=received.call_id)
                out.append(RunTool(call))
            elif self._held is not None:
                # Asked by the session being replaced: an answer would reach the new one, which
                # never made the call. There is nothing to run, so there is nothing to tell.
                out.append(Note("tool.not_configured", {"name": call.name[:64]}, "warning"))
            else:
                error = {"error": f"no tool named {call.name} is configured"}
                unknown.append(ToolResult(received.call_id, call.name, error))
                out.append(Note("tool.not_configured", {"name": call.name[:64]}, "warning"))
        if refused:
            self.stats.tool_calls_refused += refused
            fields = {"refused": refused, "running": len(tools.pending), "limit": limit}
            out.append(Note("tool.refused", fields, "warning"))
        if unknown:
            out.insert(0, SendToolResponse(tuple(unknown)))
        return out

    def _on_tool_call_cancellation(
        self, event: ToolCallCancellation, now_ms: float
    ) -> list[Command]:
        out: list[Command] = []
        for key in self._tools.keys_to_cancel(event.call_ids):
            if self._tools.cancel(key, now_ms) is not None:
                out.append(CancelTool(key))
        out.append(Note("tool.cancelled", {"call_ids": list(event.call_ids)}))
        self._maybe_hand_over(now_ms, out)
        return out

    def _on_tool_finished(self, event: ToolFinished, now_ms: float) -> list[Command]:
        call = self._tools.finish(event)
        if call is None:  # cancelled (a barge-in) or unknown: a late result is never sent
            return [
                Note("tool.late_result_dropped", {"name": event.name, "call_id": event.call_id})
            ]
        out: list[Command] = []
        if event.action is not None:
            # Every function call gets its response, the transfer and hang-up too ("the call
            # will end once your last words have been heard"), before the call is wrapped up.
            if self._held is None and call.session == self._session_no:
                result = ToolResult(event.call_id, event.name, event.response, event.scheduling)
                out.append(SendToolResponse((result,)))
            return self._wrap_up(event.action, now_ms, out)
        if self._held is not None:  # reconnecting: the next session hears it as text
            self._undelivered.append(result_as_text(event))
        elif call.session == self._session_no:
            result = ToolResult(call.wire_id, event.name, event.response, event.scheduling)
            out.append(SendToolResponse((result,)))
        else:  # asked by a session that has since been replaced: it cannot take a response
            out.append(SendText(result_as_text(event)))
        self._maybe_hand_over(now_ms, out)
        return out


def _too_many(name: str, limit: int) -> dict[str, str]:
    return {
        "error": f"{name} was not run: at most {limit} tool calls may run at once; "
        "wait for their results, then try again if you still need it"
    }
