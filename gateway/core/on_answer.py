"""Handlers of an outbound call's opening: the hello, the machine-detection verdict (pure).

The policy is `gateway.core.answering`; these apply its decisions to the call: a greeting
told to the model, a hang-up wrapped up like the hang-up tool's (the agent's last words are
heard first), the voicemail message told to the model (`on_turn_complete` hangs up after it).
"""

from __future__ import annotations

from gateway.core.answering import VERDICT_TIMER, Verdict
from gateway.core.call import Call
from gateway.core.events import (
    AnswererDetected,
    Command,
    HangUp,
    Note,
    SendAudio,
    SendText,
    StartTimer,
    TimerFired,
)
from gateway.core.states import Step


def on_early_verdict(call: Call, event: AnswererDetected, now_ms: float) -> list[Command]:
    """No session is open yet: the verdict is applied as soon as one is (`VERDICT_TIMER`)."""
    call.pending_verdict = (event.answered_by, event.greeting_ended)
    return [Note("outbound.verdict_held", {"answered_by": event.answered_by})]


def on_answerer_detected(
    call: Call, event: AnswererDetected, now_ms: float
) -> list[Command] | Step:
    return apply_verdict(call, event.answered_by, event.greeting_ended, now_ms)


def on_verdict_timer(call: Call, event: TimerFired, now_ms: float) -> list[Command] | Step:
    pending, call.pending_verdict = call.pending_verdict, None
    if pending is None:
        return []
    return apply_verdict(call, pending[0], pending[1], now_ms)


def on_hello_timer(call: Call, event: TimerFired, now_ms: float) -> list[Command]:
    return call.answering.hello_timeout() if call.answering is not None else []


def opening(call: Call, now_ms: float) -> list[Command]:
    """The first session opened: the hello's clock, and a verdict that came before it."""
    answering = call.answering
    if answering is None:
        return []
    out = answering.opened(now_ms)
    if call.pending_verdict is not None:
        out.append(StartTimer(VERDICT_TIMER, now_ms))
    return out


def screened(call: Call, held: list[Command]) -> list[Command]:
    """What was held while the session connected, less the callee's audio while the model may
    not hear it (screening for a machine)."""
    answering = call.answering
    if answering is None or answering.model_hears:
        return held
    kept: list[Command] = [c for c in held if not isinstance(c, SendAudio)]
    for command in held:
        if isinstance(command, SendAudio):
            answering.screened_ms += 500 * len(command.pcm) / command.rate_hz
    return kept


def apply_verdict(
    call: Call, answered_by: str, greeting_ended: bool, now_ms: float
) -> list[Command] | Step:
    answering = call.answering
    fields = {"answered_by": answered_by, "greeting_ended": greeting_ended}
    if answering is None:
        return [Note("outbound.verdict_ignored", fields)]
    verdict = answering.verdict(answered_by, greeting_ended)
    out: list[Command] = [Note("outbound.verdict", {**fields, "decision": verdict.value})]
    if verdict is Verdict.GREET:
        out.append(SendText(answering.policy.greeting_text))
    elif verdict is Verdict.VOICEMAIL:
        out.append(SendText(answering.voicemail_prompt()))
    elif verdict is Verdict.HANG_UP:
        return call.wrap_up(HangUp(), now_ms, out)
    return out


def after_turn(call: Call, spoke: bool, now_ms: float, out: list[Command]) -> Step | None:
    """A model turn ended: the voicemail message's turn hangs up once it has played."""
    answering = call.answering
    if answering is None or not answering.turn_ended(spoke):
        return None
    out.append(Note("outbound.voicemail_said", {}))
    return call.wrap_up(HangUp(), now_ms, out)
