"""The call's handlers for what Live says (audio, transcripts, turns, `goAway`, resumption
updates, usage) and asks for (tools, capped per call: `gateway.core.tool_desk`).

In LIVE a turn boundary, a fresh handle or a finished tool call may be the moment a due `goAway`
handover waits for (`Call.maybe_hand_over`); the session being replaced (RECONNECTING) and the
last words of a transfer or hang-up (WRAPPING_UP) have no such moment. A transfer or hang-up
tool wraps the call up instead of answering. Each `on_<name>` is the handler the table
(`gateway.core.states`) names `<name>`.
"""

from __future__ import annotations

from gateway.core.call import Call
from gateway.core.events import Command, Note, StartTimer, ToolFinished
from gateway.core.on_answer import after_turn
from gateway.core.on_conduct import (
    agent_done,
    caller_present,
    goodbye_said,
    hold_if_done,
    hold_if_waiting,
    stop_hold,
    take_digit_calls,
)
from gateway.core.states import HANDOVER_TIMER, Step
from gateway.live.events import (
    AudioChunk,
    GenerationComplete,
    GoAway,
    InputTranscript,
    Interrupted,
    LiveEvent,
    OutputTranscript,
    SessionResumptionUpdate,
    ToolCall,
    ToolCallCancellation,
    TurnComplete,
    UsageMetadata,
)

# ------------------------------------------------------------------------------ speech


def on_live_message(call: Call, event: LiveEvent, now_ms: float) -> list[Command]:
    return []  # nothing to do; the dispatcher told the stall watch the session was heard


def on_audio_chunk(call: Call, event: AudioChunk, now_ms: float) -> list[Command]:
    speech = call.speech
    assert speech is not None
    call.model_turn_open = True
    call.silence.quiet_since_ms = None  # the agent speaks: no silence clock
    if call.hold.playing:  # the model speaks again: the hold audio stops at once
        out: list[Command] = []
        stop_hold(call, now_ms, out)
        return out + speech.chunk(event, now_ms)
    return speech.chunk(event, now_ms)


def on_generation_complete(call: Call, event: GenerationComplete, now_ms: float) -> list[Command]:
    assert call.speech is not None
    return call.speech.finish_generation(now_ms)


def on_turn_complete(call: Call, event: TurnComplete, now_ms: float) -> Step:
    """LIVE: a turn boundary, where a due handover may start (or the asked-for goodbye ends
    the call, or, on an outbound call, the voicemail message's end: the hang-up); the silence
    clock starts once the turn has played."""
    spoke = call.model_turn_open
    out = on_turn_ended(call, event, now_ms)
    goodbye = goodbye_said(call, now_ms, out)
    if goodbye is not None:
        return goodbye
    voicemail_said = after_turn(call, spoke, now_ms, out)
    if voicemail_said is not None:
        return voicemail_said
    agent_done(call, now_ms, out)
    return call.maybe_hand_over(now_ms, out)


def on_turn_ended(call: Call, event: TurnComplete, now_ms: float) -> list[Command]:
    """The turn of a session being replaced, or of the last words: no handover."""
    assert call.speech is not None
    call.stats.turns += 1
    call.model_turn_open = False
    return call.speech.end_turn(now_ms)


def on_interrupted(call: Call, event: Interrupted, now_ms: float) -> list[Command]:
    assert call.speech is not None
    out = call.speech.interrupt(now_ms)
    stop_hold(call, now_ms, out, clear=False)  # the barge-in's clear stopped it
    caller_present(call, now_ms, out)  # the caller barged in
    return out


def on_input_transcript(call: Call, event: InputTranscript, now_ms: float) -> list[Command]:
    if not event.interim:  # an interim guess is replaced by the final text later
        at_ms = call.call_time_ms(now_ms)
        call.transcript.caller(event.text, finished=event.finished, at_ms=at_ms)
        out: list[Command] = []
        caller_present(call, now_ms, out)
        return out
    return []


def on_output_transcript(call: Call, event: OutputTranscript, now_ms: float) -> list[Command]:
    call.transcript.agent(event.text, at_ms=call.call_time_ms(now_ms))
    return []


def on_usage(call: Call, event: UsageMetadata, now_ms: float) -> list[Command]:
    call.usage.add(event)
    return []


# ---------------------------------------------------------------------------- sessions


def on_go_away(call: Call, event: GoAway, now_ms: float) -> Step:
    keeper = call.keeper
    first = not keeper.handover_due
    deadline_ms = keeper.go_away(event.time_left_s, now_ms)
    if first:  # until the caller is heard being quiet, assume they may be speaking
        call.caller_loud_ms = now_ms
    out: list[Command] = [
        StartTimer(HANDOVER_TIMER, deadline_ms),
        Note("live.go_away", {"time_left_s": event.time_left_s}),
    ]
    return call.maybe_hand_over(now_ms, out)


def on_resumption_update(call: Call, event: SessionResumptionUpdate, now_ms: float) -> Step:
    call.stats.resumption_updates += 1
    call.keeper.resumption_update(event.new_handle, event.resumable, now_ms)
    return call.maybe_hand_over(now_ms, [])


# ------------------------------------------------------------------------------- tools


def on_tool_call(call: Call, event: ToolCall, now_ms: float) -> list[Command]:
    """LIVE: the open session asks."""
    call.stats.tool_calls += len(event.calls)
    out = call.tools.asked(event, now_ms, call.session_no, old_session=False)
    out = take_digit_calls(call, out, now_ms)  # `collect_digits` is gathered by the call
    hold_if_waiting(call, out, now_ms)
    if call.tools.running:
        call.silence.pause()  # no silence clock while a tool runs
    return out


def on_old_session_tool_call(call: Call, event: ToolCall, now_ms: float) -> list[Command]:
    """RECONNECTING: the session being replaced asks."""
    call.stats.tool_calls += len(event.calls)
    out = call.tools.asked(event, now_ms, call.session_no, old_session=True)
    out = take_digit_calls(call, out, now_ms)
    hold_if_waiting(call, out, now_ms)
    return out


def on_tool_call_cancellation(call: Call, event: ToolCallCancellation, now_ms: float) -> Step:
    """LIVE: a running call may have been the last thing keeping a handover waiting."""
    out = call.tools.cancelled(event, now_ms)
    hold_if_done(call, now_ms, out)
    return call.maybe_hand_over(now_ms, out)


def on_old_session_tool_call_cancellation(
    call: Call, event: ToolCallCancellation, now_ms: float
) -> list[Command]:
    return call.tools.cancelled(event, now_ms)


def on_tool_finished(call: Call, event: ToolFinished, now_ms: float) -> list[Command] | Step:
    """LIVE: the result goes to the session that asked, or as text to its successor."""
    pending = call.tools.finished(event)
    if pending is None:
        return [call.tools.late(event)]
    if event.action is not None:  # answered (every function call is), then wrapped up
        out = call.tools.answer_action(event, pending, call.session_no)
        return call.wrap_up(event.action, now_ms, out)
    done: list[Command] = []
    hold_if_done(call, now_ms, done)
    done.append(call.tools.answer(event, pending, call.session_no))
    agent_done(call, now_ms, done)
    return call.maybe_hand_over(now_ms, done)


def on_held_tool_finished(call: Call, event: ToolFinished, now_ms: float) -> list[Command] | Step:
    """RECONNECTING: the next session hears the result as text."""
    pending = call.tools.finished(event)
    if pending is None:
        return [call.tools.late(event)]
    if event.action is not None:  # the session that asked is gone: no response
        return call.wrap_up(event.action, now_ms, [])
    call.tools.hold(event)
    out: list[Command] = []
    hold_if_done(call, now_ms, out)
    return out
