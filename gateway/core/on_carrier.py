"""The call's handlers for the carrier side and the call's own timers.

Each `on_<name>` is the handler the table (`gateway.core.states`) names `<name>`; it works on the
call's parts (`gateway.core.call.Call`), returns its commands (or a `Step` where the table
allows more than one next state) and never sets the state. Hot paths (a carrier frame) are one
handler each, with no `Note` and no per-frame allocation beyond the commands themselves.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from gateway.audio.paths import UplinkPath
from gateway.core.answering import AnsweringPhase
from gateway.core.call import Call
from gateway.core.connect_buffer import ConnectBuffer
from gateway.core.dtmf import DTMF_TIMER, DtmfOut
from gateway.core.events import (
    CallerAudio,
    CallStarted,
    CallStopped,
    CancelTimer,
    CarrierClosed,
    Command,
    DtmfPressed,
    MessageIgnored,
    MessagesMissed,
    Note,
    PlaybackMarked,
    SendAudio,
    SendText,
    StartTimer,
    TimerFired,
)
from gateway.core.on_conduct import caller_present, digit_pressed
from gateway.core.speech import AgentSpeech
from gateway.core.states import CONNECT_TIMER, START_TIMER, Step

# Lines a carrier can repeat at will: a few per call are written, the rest counted.
UNKNOWN: Final = "bridge.unknown_mark"
GAP: Final = "carrier.sequence_gap"
IGNORED: Final = "carrier.message_ignored"

# ------------------------------------------------------------------------- call start/end


def on_call_started(call: Call, event: CallStarted, now_ms: float) -> list[Command] | Step:
    fmt = event.media_format
    options = call.options
    try:
        uplink = UplinkPath(fmt)
        speech = AgentSpeech(
            fmt,
            lead_ms=options.playback_lead_ms,
            message_frames=max(1, int(options.media_message_ms // fmt.frame_ms)),
            mark_interval_ms=options.mark_interval_ms,
            ahead_max_ms=options.model_audio_ahead_max_ms,
            ledger=call.ledger,
            transcript=call.transcript,
            stats=call.stats,
        )
    except (ValueError, KeyError) as exc:
        note = Note("call.bad_format", {"format": repr(fmt), "error": str(exc)}, "warning")
        return call.end("unsupported media format", now_ms, [note])
    call.format, call.uplink, call.speech = fmt, uplink, speech
    call.held = ConnectBuffer(options.connect_buffer_ms, uplink.out_rate_hz)
    call.held_on_connect = True
    call.call_id, call.stream_id = event.call_id, event.stream_id
    call.keeper.seed(event.call_id)
    call.stats.started_at_ms = now_ms
    call.live_open = True
    started = {
        "call_id": event.call_id,
        "stream_id": event.stream_id,
        "encoding": fmt.encoding.value,
        "rate_hz": fmt.rate_hz,
        "frame_ms": fmt.frame_ms,
    }
    return [
        CancelTimer(START_TIMER),
        Note("call.started", started),
        StartTimer(CONNECT_TIMER, now_ms + options.connect_timeout_ms),
    ]


def on_carrier_ended(call: Call, event: CallStopped | CarrierClosed, now_ms: float) -> Step:
    if isinstance(event, CallStopped):
        reason = event.reason
    else:
        reason = f"gateway closed: {event.refused}" if event.refused else "carrier closed"
    out: list[Command] = []
    call.close_live(reason, out)
    return call.end(reason, now_ms, out)


def on_handed_off(call: Call, event: CallStopped | CarrierClosed, now_ms: float) -> Step:
    """HANDING_OFF: the carrier ends the stream of the call it moved or hung up."""
    reason = f"handed off ({call.stats.call_action})"
    out: list[Command] = []
    call.close_live(reason, out)
    return call.end(reason, now_ms, out)


# -------------------------------------------------------------------------------- timers
# Which timer means what in which state is the table's; a stale one (its state has gone, the
# shell had it queued before it saw the cancel) is ignored there.


def on_unknown_timer(call: Call, event: TimerFired, now_ms: float) -> list[Command]:
    return [Note("bridge.unknown_timer", {"name": event.name}, "warning")]


def on_start_timeout(call: Call, event: TimerFired, now_ms: float) -> Step:
    return call.end("no start", now_ms, [])


def on_ending_timeout(call: Call, event: TimerFired, now_ms: float) -> Step:
    late = {"pending_ms": call.ledger.pending_ms, "last_mark": call.ledger.last_mark_name}
    return call.end("live closed", now_ms, [Note("bridge.ending_timeout", late, "warning")])


def on_wrap_up_timeout(call: Call, event: TimerFired, now_ms: float) -> Step:
    late = {"pending_ms": round(call.ledger.pending_ms, 1)}
    out: list[Command] = [Note("call.wrap_up_timeout", late, "warning")]
    return call.hand_off(now_ms, out, wrapping_up=True)


def on_handoff_timeout(call: Call, event: TimerFired, now_ms: float) -> Step:
    note = Note("call.handoff_timeout", {"action": call.stats.call_action}, "warning")
    return call.end(f"handed off ({call.stats.call_action})", now_ms, [note])


def on_playback_timer(call: Call, event: TimerFired, now_ms: float) -> list[Command]:
    """Until the model is gone for good its audio keeps flowing under the lead limit; the last
    words of a transfer or hang-up too (the hand-off waits for their final mark)."""
    assert call.speech is not None
    return call.speech.timer_fired(now_ms, release=True)


def on_held_playback_timer(call: Call, event: TimerFired, now_ms: float) -> list[Command]:
    assert call.speech is not None
    return call.speech.timer_fired(now_ms, release=False)


# ------------------------------------------------------------------------- caller audio


def on_early_audio(call: Call, event: CallerAudio, now_ms: float) -> list[Command]:
    call.stats.caller_frames_before_start += 1
    return []


def on_held_audio(call: Call, event: CallerAudio, now_ms: float) -> list[Command]:
    assert call.uplink is not None
    assert call.held is not None
    pcm = call.uplink.process(event.payload)
    if pcm:
        call.held.add_audio(pcm)
    return []


def on_caller_audio(call: Call, event: CallerAudio, now_ms: float) -> list[Command] | Step:
    """LIVE: to the model; speech may start the stall clock, or hold back a due handover."""
    uplink = call.uplink
    assert uplink is not None
    pcm = uplink.process(event.payload)
    if not pcm:
        return []
    out: list[Command] = []
    answering = call.answering
    if answering is not None and answering.phase is not AnsweringPhase.TALKING:
        if not answering.model_hears:  # screening for a machine: the model hears nothing
            answering.screened_ms += 500 * len(pcm) / uplink.out_rate_hz
            return out
        if call.is_speech(pcm):
            out += answering.callee_spoke()
    out.append(SendAudio(pcm, uplink.out_rate_hz))
    watching = call.stall.since_ms is None  # does speech now await an answer?
    due = call.keeper.handover_due  # the handover waits for a quiet moment
    silent = call.silence.quiet_since_ms is not None  # the silence clock runs
    # The level is measured once per frame, and only when one of them needs it.
    speech = (watching or due or silent) and call.is_speech(pcm)
    if silent and speech:
        call.silence.caller_spoke(now_ms, out)
    if watching and speech:
        timer = call.stall.caller_spoke(now_ms)
        if timer is not None:
            out.append(timer)
    if due:
        if speech:
            call.caller_loud_ms = now_ms
        return call.maybe_hand_over(now_ms, out)
    return out


def on_dropped_audio(call: Call, event: CallerAudio, now_ms: float) -> list[Command]:
    fmt = call.format
    assert fmt is not None
    call.stats.caller_dropped_ms += 1000 * len(event.payload) / (fmt.rate_hz * fmt.bytes_per_sample)
    return []


# ---------------------------------------------------------------------------------- DTMF
# Through the gate (`core.dtmf`), which coalesces and rate-limits presses so that a flood never
# crowds out the caller's audio. What it lets through goes to the open session (LIVE), is held
# for the next one (connecting, reconnecting), or is dropped (the call no longer takes keys).


def on_dtmf(call: Call, event: DtmfPressed, now_ms: float) -> list[Command]:
    out = digit_pressed(call, event.digit, now_ms, held=False)  # a keypad entry under way
    if out is None:
        call.stats.dtmf_digits += 1
        out = _send_dtmf(call, call.dtmf.press(event.digit, now_ms))
    caller_present(call, now_ms, out)
    return out


def on_held_dtmf(call: Call, event: DtmfPressed, now_ms: float) -> list[Command]:
    gathered = digit_pressed(call, event.digit, now_ms, held=True)
    if gathered is not None:
        return gathered
    call.stats.dtmf_digits += 1
    return _hold_dtmf(call, call.dtmf.press(event.digit, now_ms))


def on_dtmf_timer(call: Call, event: TimerFired, now_ms: float) -> list[Command]:
    return _send_dtmf(call, call.dtmf.timer_fired(now_ms))


def on_held_dtmf_timer(call: Call, event: TimerFired, now_ms: float) -> list[Command]:
    return _hold_dtmf(call, call.dtmf.timer_fired(now_ms))


def on_dropped_dtmf_timer(call: Call, event: TimerFired, now_ms: float) -> list[Command]:
    decided = call.dtmf.timer_fired(now_ms)
    call.stats.dtmf_dropped += sum(len(digits) for digits in decided.send)
    return _dtmf_timer(decided)


def _send_dtmf(call: Call, decided: DtmfOut) -> list[Command]:
    template = call.options.dtmf_text
    out: list[Command] = [SendText(template.format(digit=digits)) for digits in decided.send]
    out += _dtmf_timer(decided)
    return out


def _hold_dtmf(call: Call, decided: DtmfOut) -> list[Command]:
    """No session yet: the texts are sent once it is open."""
    held = call.held
    assert held is not None
    for digits in decided.send:
        held.add_text(call.options.dtmf_text.format(digit=digits))
    return _dtmf_timer(decided)


def _dtmf_timer(decided: DtmfOut) -> list[Command]:
    return [] if decided.timer_at_ms is None else [StartTimer(DTMF_TIMER, decided.timer_at_ms)]


# ------------------------------------------------------------------ marks, housekeeping


def on_playback_marked(call: Call, event: PlaybackMarked, now_ms: float) -> list[Command]:
    if not call.ledger.echoed(event.name) and call.logs.allow(UNKNOWN):
        return [Note(UNKNOWN, _last(call, {"name": event.name[:64]}, UNKNOWN), "warning")]
    return []


def on_final_mark(call: Call, event: PlaybackMarked, now_ms: float) -> list[Command] | Step:
    """ENDING: the call ends once everything queued has been played."""
    out = on_playback_marked(call, event, now_ms)
    return call.end("live closed", now_ms, out) if call.ledger.all_settled else out


def on_last_words_mark(call: Call, event: PlaybackMarked, now_ms: float) -> list[Command] | Step:
    """WRAPPING_UP: the action follows once the agent's last words have been played."""
    out = on_playback_marked(call, event, now_ms)
    if call.ledger.all_settled:
        return call.hand_off(now_ms, out, wrapping_up=True)
    return out


def on_messages_missed(call: Call, event: MessagesMissed, now_ms: float) -> list[Command]:
    missed = max(0, event.count)
    call.stats.messages_missed += missed
    if not call.logs.allow(GAP):
        return []
    gap = {"expected": event.expected, "received": event.received, "missed": missed}
    return [Note(GAP, _last(call, gap, GAP), "warning")]


def on_message_ignored(call: Call, event: MessageIgnored, now_ms: float) -> list[Command]:
    call.stats.messages_ignored += 1
    if not call.logs.allow(IGNORED):
        return []
    ignored = {"reason": event.reason, "detail": event.detail[:200]}
    return [Note(IGNORED, _last(call, ignored, IGNORED), "debug")]


def _last(call: Call, fields: Mapping[str, object], event: str) -> dict[str, object]:
    """`fields`, saying so when this is the call's last line of `event` (more are counted in
    `logs_suppressed`, not written)."""
    return {**fields, "more_counted_only": True} if call.logs.last(event) else dict(fields)
