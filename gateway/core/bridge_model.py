"""The bridge's model side: what Live says (audio, transcripts, turns) and asks for (tools).

Tool calls: a configured tool runs in the shell (`RunTool`) and comes back as `ToolFinished`;
any other name is answered with an error at once, so the model never waits on nothing. A
cancelled call is forgotten (its late result is dropped, never sent). The built-in transfer and
hang-up tools come back with an action: the bridge then wraps the call up instead of answering.
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
from gateway.core.states import Step
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
    ToolResult,
    TurnComplete,
    UsageMetadata,
)

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

    def _on_turn_complete(self, event: TurnComplete, now_ms: float) -> Step:
        """LIVE: a turn boundary, where a due handover may start."""
        return self._maybe_hand_over(now_ms, self._on_turn_ended(event, now_ms))

    def _on_turn_ended(self, event: TurnComplete, now_ms: float) -> list[Command]:
        """The turn of a session being replaced, or of the last words: no handover."""
        assert self._speech is not None
        self.stats.turns += 1
        self._model_turn_open = False
        return self._speech.end_turn(now_ms)

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

    def _on_go_away(self, event: GoAway, now_ms: float) -> Step:
        keeper = self._keeper
        first = not keeper.handover_due
        deadline_ms = keeper.go_away(event.time_left_s, now_ms)
        if first:  # until the caller is heard being quiet, assume they may be speaking
            self._caller_loud_ms = now_ms
        out: list[Command] = [
            StartTimer(HANDOVER_TIMER, deadline_ms),
            Note("live.go_away", {"time_left_s": event.time_left_s}),
        ]
        return self._maybe_hand_over(now_ms, out)

    def _on_resumption_update(self, event: SessionResumptionUpdate, now_ms: float) -> Step:
        self.stats.resumption_updates += 1
        self._keeper.resumption_update(event.new_handle, event.resumable, now_ms)
        return self._maybe_hand_over(now_ms, [])

    # ---------------------------------------------------------------------- tools

    def _on_tool_call(self, event: ToolCall, now_ms: float) -> list[Command]:
        """LIVE: the open session asks."""
        return self._tool_call(event, now_ms, old_session=False)

    def _on_old_session_tool_call(self, event: ToolCall, now_ms: float) -> list[Command]:
        """RECONNECTING: the session being replaced asks."""
        return self._tool_call(event, now_ms, old_session=True)

    def _tool_call(self, event: ToolCall, now_ms: float, *, old_session: bool) -> list[Command]:
        tools = self._tools
        self.stats.tool_calls += len(event.calls)
        out: list[Command] = []
        unknown: list[ToolResult] = []
        for received in event.calls:
            key, call = tools.keyed(received)  # an id-less call (Vertex) gets a local key
            if received.call_id is None:
                out.append(Note("tool.without_id", {"name": call.name[:64], "key": key}))
            if call.name in tools.configured:
                tools.start(key, call.name, now_ms, self._session_no, wire_id=received.call_id)
                out.append(RunTool(call))
            elif old_session:
                # Asked by the session being replaced: an answer would reach the new one, which
                # never made the call. There is nothing to run, so there is nothing to tell.
                out.append(Note("tool.not_configured", {"name": call.name[:64]}, "warning"))
            else:
                error = {"error": f"no tool named {call.name} is configured"}
                unknown.append(ToolResult(received.call_id, call.name, error))
                out.append(Note("tool.not_configured", {"name": call.name[:64]}, "warning"))
        if unknown:
            out.insert(0, SendToolResponse(tuple(unknown)))
        return out

    def _on_tool_call_cancellation(self, event: ToolCallCancellation, now_ms: float) -> Step:
        """LIVE: a running call may have been the last thing keeping a handover waiting."""
        return self._maybe_hand_over(
            now_ms, self._on_old_session_tool_call_cancellation(event, now_ms)
        )

    def _on_old_session_tool_call_cancellation(
        self, event: ToolCallCancellation, now_ms: float
    ) -> list[Command]:
        out: list[Command] = []
        for key in self._tools.keys_to_cancel(event.call_ids):
            if self._tools.cancel(key, now_ms) is not None:
                out.append(CancelTool(key))
        out.append(Note("tool.cancelled", {"call_ids": list(event.call_ids)}))
        return out

    def _on_tool_finished(self, event: ToolFinished, now_ms: float) -> list[Command] | Step:
        """LIVE: the result goes to the session that asked, or as text to its successor."""
        call = self._tools.finish(event)
        if call is None:  # cancelled (a barge-in) or unknown: a late result is never sent
            return [_late(event)]
        out: list[Command] = []
        if event.action is not None:
            return self._wrap_up(event.action, now_ms, out)
        if call.session == self._session_no:
            result = ToolResult(call.wire_id, event.name, event.response, event.scheduling)
            out.append(SendToolResponse((result,)))
        else:  # asked by a session that has since been replaced: it cannot take a response
            out.append(SendText(result_as_text(event)))
        return self._maybe_hand_over(now_ms, out)

    def _on_held_tool_finished(self, event: ToolFinished, now_ms: float) -> list[Command] | Step:
        """RECONNECTING: the next session hears the result as text."""
        call = self._tools.finish(event)
        if call is None:
            return [_late(event)]
        if event.action is not None:
            return self._wrap_up(event.action, now_ms, [])
        self._undelivered.append(result_as_text(event))
        return []


def _late(event: ToolFinished) -> Note:
    """A result of a cancelled (a barge-in) or unknown call: it is never sent."""
    return Note("tool.late_result_dropped", {"name": event.name, "call_id": event.call_id})
