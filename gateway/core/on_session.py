"""The call's handlers for its Live sessions: opening, handovers, reconnects, stalls, the
fallback, transfers and hang-ups.

* A `goAway` makes a handover due. It starts at the next turn boundary (the model finished its
  turn, its handle is fresh, no tool call runs, the caller has been quiet `handover_quiet_ms`)
  or, failing that, `handover_margin_ms` before the server's deadline (the "handover" timer).
* A resumable close starts a forced handover at once. While no session is ready, caller audio
  and keys are held (`reconnect_buffer_ms`, drop-oldest) and replayed in order to the new one,
  the audio in chunks of up to a second (`ConnectBuffer.drain`).
* Attempts back off (`SessionKeeper`); a refused handle gets a fresh session told the
  conversation so far; fatal closes and exhausted attempts send the call to the fallback.
* A session that goes silent after the caller spoke is stalled (`core.stall`): it is replaced
  like one that closed abruptly (resume with the newest handle); one that stalls again without
  having answered anything continues the outage, so the fallback follows when replacements fail.
* A transfer or hang-up (a tool's or the fallback's) first lets the agent's last words be heard
  (`WRAPPING_UP`), then asks the carrier's REST API (`HANDING_OFF`).

Each `on_<name>` is the handler the table (`gateway.core.states`) names `<name>`.
"""

from __future__ import annotations

from gateway.core import on_answer
from gateway.core.call import Call, action_name
from gateway.core.events import (
    CallControlled,
    CancelTimer,
    CloseLive,
    Command,
    EndRequested,
    LiveClosed,
    LiveOpened,
    Note,
    SendText,
    TimerFired,
)
from gateway.core.on_conduct import agent_done
from gateway.core.stall import Stalled
from gateway.core.states import CONNECT_TIMER, Step
from gateway.live.closes import CloseKind

# ---------------------------------------------------------------------------- opening


def on_live_opened(call: Call, event: LiveOpened, now_ms: float) -> list[Command]:
    """CONNECTING_MODEL: the call's first session is open."""
    held_out, held = call.release_held()
    # The greeting goes first: the agent speaks first, then hears what the caller said while
    # the session was opening.
    greeting = call.options.greeting_text
    out: list[Command] = [SendText(greeting)] if greeting else []
    out.extend(on_answer.screened(call, held_out))
    stats = call.stats
    stats.connect_buffer_dropped_ms += held["dropped_ms"]
    started_ms = now_ms if stats.started_at_ms is None else stats.started_at_ms
    stats.connect_wait_ms = now_ms - started_ms
    call.session_no += 1
    if call.keeper.reconnecting:  # the first connect needed retries: recorded as one
        call.keeper.opened(now_ms)
    else:
        call.keeper.session_opened_ms = now_ms
    call.stall.new_session()
    out.append(CancelTimer(CONNECT_TIMER))
    out.extend(on_answer.opening(call, now_ms))
    opened = {
        "session_id": event.session_id,
        "resumed": event.resumed,
        "connect_wait_ms": round(now_ms - started_ms, 1),
        **{name: round(ms, 1) for name, ms in held.items()},
    }
    out.append(Note("live.opened", opened))
    agent_done(call, now_ms, out)  # the silence clock starts: the call waits for the caller
    return out


def on_connect_failed(call: Call, event: LiveClosed, now_ms: float) -> list[Command] | Step:
    """CONNECTING_MODEL: another attempt, or the fallback."""
    close = event.close
    call.stats.live_close = close
    keeper = call.keeper
    if not keeper.reconnecting:
        keeper.begin("connect failed", now_ms, forced=True)
    retry = keeper.attempt_failed(close)
    if retry is None:
        keeper.gave_up()
        call.live_open = False
        reason = f"live unavailable ({close.kind.value})"
        return call.fall_back(reason, now_ms, [], connecting=True)
    return [retry, call.retry_note(retry, close.code, close.kind)]


def on_connect_timeout(call: Call, event: TimerFired, now_ms: float) -> Step:
    return call.fall_back("live connect timeout", now_ms, [], connecting=True)


# -------------------------------------------------------------------------- handovers


def on_handover_timer(call: Call, event: TimerFired, now_ms: float) -> list[Command] | Step:
    """LIVE: the `goAway` handover found no turn boundary before its deadline."""
    if not call.keeper.handover_due:
        return []  # it started meanwhile, or was overtaken by a close
    return call.hand_over("go_away", now_ms, [], forced=True)


def on_stall_timer(call: Call, event: TimerFired, now_ms: float) -> list[Command] | Step:
    fired = call.stall.fired(now_ms)
    if not isinstance(fired, Stalled):
        return [] if fired is None else [fired]  # answered meanwhile, or not due yet
    call.stats.stalls += 1
    fields = {"silent_ms": round(fired.silent_ms), "answered_before": fired.answered}
    out: list[Command] = [Note("live.stalled", fields, "warning")]
    return call.hand_over("stalled", now_ms, out, forced=True, abrupt=True, answered=fired.answered)


def on_stall_timer_disarmed(call: Call, event: TimerFired, now_ms: float) -> list[Command]:
    """The stall timer outside LIVE: no open session to watch."""
    call.stall.disarm()
    return []


def on_live_reopened(call: Call, event: LiveOpened, now_ms: float) -> list[Command]:
    """RECONNECTING: the replacement is open; what was held goes to it in order."""
    out, held = call.release_held()
    call.stats.reconnect_buffer_dropped_ms += held["dropped_ms"]
    out.extend(call.tools.replay())
    record = call.keeper.opened(now_ms)
    call.session_no += 1
    call.stall.new_session()
    rounded = {name: round(ms, 1) for name, ms in held.items()}
    done = record.as_dict() | {"session_id": event.session_id, **rounded}
    out.append(Note("live.handover", done))
    agent_done(call, now_ms, out)
    return out


def on_reconnect_failed(call: Call, event: LiveClosed, now_ms: float) -> list[Command] | Step:
    close = event.close
    call.stats.live_close = close
    retry = call.keeper.attempt_failed(close)
    if retry is None:
        record = call.keeper.gave_up()
        call.live_open = False
        out: list[Command] = [Note("live.handover", record.as_dict(), "error")]
        return call.fall_back(f"live lost ({close.kind.value})", now_ms, out)
    return [call.with_context(retry), call.retry_note(retry, close.code, close.kind)]


def on_live_closed(call: Call, event: LiveClosed, now_ms: float) -> Step:
    """LIVE: resumable -> a handover; fatal -> the fallback; normal -> play out and end."""
    close = event.close
    call.stats.live_close = close
    call.live_open = False
    if close.kind is CloseKind.RESUMABLE:
        abrupt = not close.go_away_seen
        return call.hand_over(f"close {close.code}", now_ms, [], forced=True, abrupt=abrupt)
    if close.kind is not CloseKind.NORMAL:
        return call.fall_back(f"live failed ({close.kind.value})", now_ms, [])
    return call.play_out_and_end(now_ms, [])


# ------------------------------------------------------------------ wrapping up, handing off


def on_last_words_live_closed(call: Call, event: LiveClosed, now_ms: float) -> list[Command] | Step:
    call.live_open = False
    out: list[Command] = []
    if call.speech is not None:
        out.extend(call.speech.release_all(now_ms))
    if call.ledger.all_settled:
        return call.hand_off(now_ms, out, wrapping_up=True)
    return out


def on_unwanted_live_opened(call: Call, event: LiveOpened, now_ms: float) -> list[Command]:
    # A connect that was under way when the call moved on: close what it opened.
    return [CloseLive("not needed")]


def on_call_controlled(call: Call, event: CallControlled, now_ms: float) -> list[Command] | Step:
    fields: dict[str, object] = {"action": action_name(event.action), "ok": event.ok}
    if event.ok:
        # The carrier now ends the stream (Twilio sends `stop`); the handoff timer bounds it.
        return [Note("call.controlled", fields)]
    fields["detail"] = event.detail[:200]
    note = Note("call.control_failed", fields, "warning")
    return call.end("call control failed", now_ms, [note])


# ---------------------------------------------------------------------- asked to end


def on_end_requested(call: Call, event: EndRequested, now_ms: float) -> Step:
    out: list[Command] = []
    call.close_live(event.reason, out)
    return call.end(event.reason, now_ms, out)


def on_end_requested_connecting(call: Call, event: EndRequested, now_ms: float) -> Step:
    if event.fallback:
        return call.fall_back(event.reason, now_ms, [], connecting=True)
    return on_end_requested(call, event, now_ms)


def on_end_requested_fallback(call: Call, event: EndRequested, now_ms: float) -> Step:
    """A session is open or being replaced: an internal error goes to the fallback."""
    if event.fallback:
        return call.fall_back(event.reason, now_ms, [])
    return on_end_requested(call, event, now_ms)
