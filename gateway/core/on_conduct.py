"""The call's handlers and hooks for how it treats the caller: the silence watch and keypad
entry.

A silent caller is checked on, then said goodbye to and hung up (`gateway.core.silence`); the
hang-up goes through the same wrap-up as the hang-up tool's, so the goodbye is heard first.
The hooks (`agent_done`, `caller_present`) are called by the handlers of `on_model`,
`on_carrier` and `on_session` where the agent stops speaking or the caller shows up.

Keypad entry (`gateway.core.digits`): a `collect_digits` call is tracked at the tool desk like
any running tool, but gathered here instead of run by the shell; its answer goes the way every
tool result goes (to the session that asked, as text to its successor, or held while none is
open). Each
`on_<name>` is the handler the table (`gateway.core.states`) names `<name>`.
"""

from __future__ import annotations

from gateway.core.answering import AnsweringPhase
from gateway.core.call import Call
from gateway.core.digits import DigitCollector
from gateway.core.events import (
    Command,
    HangUp,
    Note,
    RunTool,
    SendText,
    StartTimer,
    TimerFired,
    ToolFinished,
)
from gateway.core.silence import GOODBYE, PROMPT, SILENCE_GOODBYE, SILENCE_PROMPT, Phase
from gateway.core.states import Step

__all__ = ["agent_done", "caller_present", "digit_pressed", "goodbye_said", "take_digit_calls"]

# ----------------------------------------------------------------------------- silence


def on_silence_timer(call: Call, event: TimerFired, now_ms: float) -> list[Command] | Step:
    """LIVE: the caller has been silent: check in, ask for the goodbye, or hang up."""
    out: list[Command] = []
    silence = call.silence
    asked = silence.fired(now_ms, out)
    if asked is None:
        return out
    if asked == PROMPT:
        call.stats.silence_prompts += 1
        fields = {"silent_ms": silence.prompt_ms, "prompts": call.stats.silence_prompts}
        return [SendText(SILENCE_PROMPT), Note("call.silence_prompt", fields), *out]
    if asked == GOODBYE:
        fields = {"silent_ms": silence.hangup_ms}
        return [SendText(SILENCE_GOODBYE), Note("call.silence_goodbye", fields), *out]
    # The goodbye was asked for and never came: the call ends all the same.
    return _hang_up(call, now_ms, [Note("call.silence_goodbye_missing", {}, "warning")])


def on_silence_timer_disarmed(call: Call, event: TimerFired, now_ms: float) -> list[Command]:
    """The silence timer outside LIVE: no clock runs; it is set again when one does."""
    call.silence.disarm()
    return []


def goodbye_said(call: Call, now_ms: float, out: list[Command]) -> Step | None:
    """LIVE, a model turn ended: the asked-for goodbye was that turn: wrap the call up."""
    if call.silence.phase is not Phase.GOODBYE:
        return None
    return _hang_up(call, now_ms, out)


def agent_done(call: Call, now_ms: float, out: list[Command]) -> None:
    """The agent stopped (its turn ended, a tool finished, a session opened): unless it still
    speaks or a tool runs, the clock starts once what it said has played."""
    if call.model_turn_open or call.tools.running or call.silence.prompt_ms is None:
        return
    answering = call.answering
    if answering is not None and answering.phase is not AnsweringPhase.TALKING:
        # An outbound call's opening (the hello, a machine's greeting, the voicemail message):
        # nobody is owed a check-in yet, and the model must not talk over a greeting.
        return
    speech = call.speech
    end_ms = now_ms if speech is None else now_ms + speech.playout.ahead_ms(now_ms)
    call.silence.resume(end_ms, out)


def caller_present(call: Call, now_ms: float, out: list[Command]) -> None:
    """The caller spoke or pressed a key."""
    if call.silence.prompt_ms is not None:
        call.silence.caller_spoke(now_ms, out)


def _hang_up(call: Call, now_ms: float, out: list[Command]) -> Step:
    call.stats.silence_hangups = 1
    out.append(Note("call.silence_hang_up", {"prompts": call.stats.silence_prompts}))
    return call.wrap_up(HangUp(), now_ms, out)


# ------------------------------------------------------------------------- keypad entry


def take_digit_calls(call: Call, out: list[Command], now_ms: float) -> list[Command]:
    """The tool desk's commands for a `toolCall`, with every `collect_digits` call gathered
    here instead of run by the shell (one entry at a time: another is answered with an error)."""
    digits = call.digits
    if not digits.specs or not any(
        isinstance(c, RunTool) and digits.is_collector(c.call.name) for c in out
    ):
        return out
    result: list[Command] = []
    for command in out:
        if not (isinstance(command, RunTool) and digits.is_collector(command.call.name)):
            result.append(command)
            continue
        key, name = str(command.call.call_id), command.call.name
        if digits.active(call.tools.calls.pending) is not None:
            busy = {"error": "the caller is already entering digits for another request"}
            refused = ToolFinished(key, name, busy, outcome="error")
            result.extend(_answer(call, refused, now_ms, held=False, transcript=False))
            continue
        result.append(digits.start(key, name, now_ms))
        spec = digits.specs[name]
        fields = {"name": name, "max_digits": spec.max_digits, "end_key": spec.end_key}
        result.append(Note("tool.collecting_digits", fields))
    return result


def digit_pressed(call: Call, digit: str, now_ms: float, *, held: bool) -> list[Command] | None:
    """A key while an entry is under way: gathered (never sent to the model one by one);
    None when no entry is under way (the key goes its usual way)."""
    digits = call.digits
    if digits.gathering is None or digits.active(call.tools.calls.pending) is None:
        return None
    call.stats.dtmf_digits += 1
    decided = digits.press(digit, now_ms)
    if isinstance(decided, StartTimer):
        return [decided]
    return _answer(call, decided, now_ms, held=held)


def on_digits_timer(call: Call, event: TimerFired, now_ms: float) -> list[Command]:
    """LIVE: the entry timed out (or a press moved its deadline)."""
    return _digits_due(call, now_ms, held=False)


def on_held_digits_timer(call: Call, event: TimerFired, now_ms: float) -> list[Command]:
    """RECONNECTING: as in LIVE; the result waits for the next session."""
    return _digits_due(call, now_ms, held=True)


def _digits_due(call: Call, now_ms: float, *, held: bool) -> list[Command]:
    digits = call.digits
    if digits.active(call.tools.calls.pending) is None:
        return []
    decided = digits.timer_fired(now_ms)
    if decided is None or isinstance(decided, StartTimer):
        return [] if decided is None else [decided]
    return _answer(call, decided, now_ms, held=held)


def _answer(
    call: Call, finished: ToolFinished, now_ms: float, *, held: bool, transcript: bool = True
) -> list[Command]:
    """The entry's result, the way a tool's goes: to the session that asked, as text to its
    successor, or held while no session is open. Its digits never reach a log line."""
    pending = call.tools.finished(finished)
    if pending is None:
        return []
    spec = call.digits.specs[finished.name]
    output = finished.response.get("output")
    fields: dict[str, object] = {"name": finished.name, "outcome": finished.outcome}
    if isinstance(output, dict):
        fields |= {"digits": len(str(output["digits"])), "ended_by": output["ended_by"]}
        if transcript:
            text = DigitCollector.transcript_text(finished, spec)
            call.transcript.keypad(text, at_ms=call.call_time_ms(now_ms))
    out: list[Command] = [Note("tool.digits_collected", fields)]
    if held:
        call.tools.hold(finished)
        return out
    out.append(call.tools.answer(finished, pending, call.session_no))
    agent_done(call, now_ms, out)
    return out


# --------------------------------------------------------------------------- hold audio


def _blocking_running(call: Call) -> bool:
    """Whether a tool the model waits for runs (not NON_BLOCKING, not keypad entry)."""
    exempt = call.options.non_blocking_tools
    digits = call.digits.specs
    return any(
        p.name not in exempt and p.name not in digits for p in call.tools.calls.pending.values()
    )


def hold_if_waiting(call: Call, out: list[Command], now_ms: float) -> None:
    """The tools just asked for: a blocking one sets the hold timer."""
    if call.hold.after_ms is not None and _blocking_running(call):
        call.hold.tool_started(now_ms, out)


def stop_hold(call: Call, now_ms: float, out: list[Command], *, clear: bool = True) -> None:
    """The model speaks, the caller barged in, or the wait is over: the hold stops at once."""
    hold = call.hold
    started_ms = hold.started_ms
    heard_ms = hold.stop(now_ms, out, clear=clear)
    if heard_ms is not None:
        call.transcript.hold(heard_ms, at_ms=call.call_time_ms(started_ms))
        out.append(Note("call.hold_stopped", {"heard_ms": round(heard_ms, 1)}))


def hold_if_done(call: Call, now_ms: float, out: list[Command]) -> None:
    """A tool finished or was cancelled: with no blocking tool left, the hold stops."""
    hold = call.hold
    if (hold.waiting or hold.playing) and not _blocking_running(call):
        stop_hold(call, now_ms, out)


def on_hold_timer(call: Call, event: TimerFired, now_ms: float) -> list[Command]:
    """LIVE, RECONNECTING: feed the hold, or start it once the agent's audio has played."""
    out: list[Command] = []
    speech = call.speech
    assert speech is not None
    assert call.format is not None
    quiet_at = now_ms + speech.playout.ahead_ms(now_ms) if _blocking_running(call) else None
    if call.hold.fired(now_ms, call.format, quiet_at, out):
        out.append(Note("call.hold_started", {"after_ms": call.hold.after_ms}))
    return out


def on_hold_timer_stopped(call: Call, event: TimerFired, now_ms: float) -> list[Command]:
    """The hold timer where the call plays no hold (wrapping up, ending)."""
    call.hold.forget()
    return []
