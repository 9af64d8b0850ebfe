"""The call's handlers and hooks for how it treats the caller: the silence watch.

A silent caller is checked on, then said goodbye to and hung up (`gateway.core.silence`); the
hang-up goes through the same wrap-up as the hang-up tool's, so the goodbye is heard first.
The hooks (`agent_done`, `caller_present`) are called by the handlers of `on_model`,
`on_carrier` and `on_session` where the agent stops speaking or the caller shows up. Each
`on_<name>` is the handler the table (`gateway.core.states`) names `<name>`.
"""

from __future__ import annotations

from gateway.core.call import Call
from gateway.core.events import Command, HangUp, Note, SendText, TimerFired
from gateway.core.silence import GOODBYE, PROMPT, SILENCE_GOODBYE, SILENCE_PROMPT, Phase
from gateway.core.states import Step

__all__ = ["agent_done", "caller_present", "goodbye_said"]

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
