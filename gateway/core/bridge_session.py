"""The bridge's Live sessions: opening, handovers, reconnects, the fallback, transfers, hang-ups.

* A `goAway` makes a handover due. It starts at the next turn boundary (the model finished its
  turn, its handle is fresh, no tool call runs, the caller has been quiet `handover_quiet_ms`)
  or, failing that, `handover_margin_ms` before the server's deadline.
* A resumable close starts a forced handover at once. While no session is ready, caller audio
  and keys are held (`reconnect_buffer_ms`, drop-oldest) and replayed in order to the new one,
  the audio in chunks of up to a second (`ConnectBuffer.drain`).
* Attempts back off (`SessionKeeper`); a refused handle gets a fresh session told the
  conversation so far; fatal closes and exhausted attempts send the call to the fallback.
* A session that goes silent is stalled: once the caller spoke, a server message must come
  within `live_stall_timeout_ms` (the "live_stall" timer, armed at the first caller speech after
  a server message and re-armed lazily when it fires early). A stalled session is replaced like
  one that closed abruptly (resume with the newest handle); one that stalls again without having
  answered anything continues the outage, so the fallback follows when replacements fail.
* A transfer or hang-up (a tool's or the fallback's) first lets the agent's last words be heard
  (`WRAPPING_UP`), then asks the carrier's REST API (`HANDING_OFF`).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Final

import numpy as np

from gateway.core.bridge_state import (
    CONNECT_TIMER,
    HANDOFF_TIMER,
    HANDOVER_TIMER,
    STALL_TIMER,
    WRAP_UP_TIMER,
    BridgeState,
)
from gateway.core.connect_buffer import ConnectBuffer
from gateway.core.events import (
    CallAction,
    CallControlled,
    CancelTimer,
    CancelTool,
    CloseLive,
    Command,
    ControlCall,
    EndRequested,
    HangUp,
    LiveClosed,
    LiveOpened,
    Note,
    ReconnectLive,
    SendText,
    StartTimer,
    TimerFired,
    Transfer,
)
from gateway.core.states import CallState, Step
from gateway.live.closes import CloseKind
from gateway.live.events import (
    AudioChunk,
    GenerationComplete,
    InputTranscript,
    Interrupted,
    ModelText,
    OutputTranscript,
    ToolCall,
    ToolCallCancellation,
    TurnComplete,
    VoiceActivity,
    WaitingForInput,
)

__all__ = ["ANSWER_TYPES", "SessionSide", "action_name", "conversation_context"]

_CONTEXT_MAX_CHARS: Final = 6_000

ANSWER_TYPES: Final = frozenset(
    {
        AudioChunk,
        ModelText,
        InputTranscript,
        OutputTranscript,
        Interrupted,
        GenerationComplete,
        TurnComplete,
        WaitingForInput,
        VoiceActivity,
        ToolCall,
        ToolCallCancellation,
    }
)
"""Server messages that show the model heard the caller or answered. Set-up, resumption
updates, usage and `goAway` keep a stalled session's clock from running out but do not count:
a session that sends only those has never answered."""


def action_name(action: CallAction) -> str:
    return f"transfer:{action.label or 'number'}" if isinstance(action, Transfer) else "hang_up"


def conversation_context(lines: list[tuple[str, str]]) -> str | None:
    """The conversation so far, for a fresh session's system instruction (None: nothing yet)."""
    said = [f"{role}: {text.strip()}" for role, text in lines if text.strip()]
    if not said:
        return None
    body = "\n".join(said)
    if len(body) > _CONTEXT_MAX_CHARS:
        body = "…" + body[-_CONTEXT_MAX_CHARS:]
    return (
        "This phone call is already in progress; it moved to a new session. Continue it "
        "without greeting the caller again. The conversation so far:\n" + body
    )


class SessionSide(BridgeState):
    # ----------------------------------------------------------------- first session

    def _release_held(self) -> tuple[list[Command], dict[str, float]]:
        """What was held while no session was ready, in arrival order, and its figures (ms)."""
        held = self._held
        assert held is not None
        figures = {"buffered_ms": held.audio_ms, "dropped_ms": held.dropped_ms}
        self._held = None
        return list(held.drain()), figures

    def _on_live_opened(self, event: LiveOpened, now_ms: float) -> list[Command]:
        held_out, held = self._release_held()
        # The greeting goes first: the agent speaks first, then hears what the caller said
        # while the session was opening.
        greeting = self.options.greeting_text
        out: list[Command] = [SendText(greeting)] if greeting else []
        out.extend(held_out)
        self.stats.connect_buffer_dropped_ms += held["dropped_ms"]
        started_ms = now_ms if self.stats.started_at_ms is None else self.stats.started_at_ms
        self.stats.connect_wait_ms = now_ms - started_ms
        self._session_no += 1
        if self._keeper.reconnecting:  # the first connect needed retries: recorded as one
            self._keeper.opened(now_ms)
        else:
            self._keeper.session_opened_ms = now_ms
        self._stall_from_ms, self._session_answered = None, False
        out.append(CancelTimer(CONNECT_TIMER))
        opened = {
            "session_id": event.session_id,
            "resumed": event.resumed,
            "connect_wait_ms": round(now_ms - started_ms, 1),
            **{name: round(ms, 1) for name, ms in held.items()},
        }
        out.append(Note("live.opened", opened))
        return out

    def _on_connect_failed(self, event: LiveClosed, now_ms: float) -> list[Command] | Step:
        close = event.close
        self.stats.live_close = close
        keeper = self._keeper
        if not keeper.reconnecting:
            keeper.begin("connect failed", now_ms, forced=True)
        retry = keeper.attempt_failed(close)
        if retry is None:
            keeper.gave_up()
            self._live_session = False
            reason = f"live unavailable ({close.kind.value})"
            return self._fall_back(reason, now_ms, [], connecting=True)
        return [retry, self._retry_note(retry, close.code, close.kind)]

    # -------------------------------------------------------------------- handovers

    def _maybe_hand_over(self, now_ms: float, out: list[Command]) -> Step:
        """LIVE: start the due `goAway` handover if this is a turn boundary."""
        keeper = self._keeper
        if (
            keeper.handover_due
            and keeper.handle_fresh
            and not self._model_turn_open
            and not self._tools.pending
            and now_ms - self._caller_loud_ms >= self.options.handover_quiet_ms
        ):
            return Step(self._hand_over("go_away", now_ms, out, forced=False), out)
        return Step(CallState.LIVE, out)

    def _is_speech(self, pcm: bytes) -> bool:
        """Caller audio at or above `caller_speech_dbfs`."""
        samples = np.frombuffer(pcm, dtype="<i2").astype(np.float64)
        if not samples.size:
            return False
        mean_square = float(np.dot(samples, samples)) / samples.size
        return mean_square >= 32768.0**2 * 10 ** (self.options.caller_speech_dbfs / 10)

    def _caller_spoke(self, pcm: bytes, now_ms: float) -> None:
        """Track caller speech while a handover waits for a quiet moment (not otherwise)."""
        if self._is_speech(pcm):
            self._caller_loud_ms = now_ms

    # ------------------------------------------------------------------ stalled sessions

    def _watch_for_stall(self, pcm: bytes, now_ms: float, out: list[Command]) -> None:
        """Caller audio in LIVE while no answer is awaited: speech starts the stall clock."""
        if not self._is_speech(pcm):
            return
        self._stall_from_ms = now_ms
        if not self._stall_armed:
            self._stall_armed = True
            out.append(StartTimer(STALL_TIMER, now_ms + self.options.live_stall_timeout_ms))

    def _heard_from_live(self, event_type: type) -> None:
        """Any server message stops the stall clock; model output shows the session answers."""
        self._stall_from_ms = None
        if event_type in ANSWER_TYPES:
            self._session_answered = True

    def _on_stall_timer_disarmed(self, event: TimerFired, now_ms: float) -> list[Command]:
        """The stall timer outside LIVE: the session is being replaced or gone."""
        self._stall_armed = False
        return []

    def _on_stall_timer(self, event: TimerFired, now_ms: float) -> list[Command] | Step:
        self._stall_armed = False
        since = self._stall_from_ms
        if since is None:
            return []  # answered meanwhile
        due_ms = since + self.options.live_stall_timeout_ms
        if now_ms < due_ms:  # the clock restarted after the timer was set: wait for its end
            self._stall_armed = True
            return [StartTimer(STALL_TIMER, due_ms)]
        self.stats.stalls += 1
        answered = self._session_answered
        fields = {"silent_ms": round(now_ms - since), "answered_before": answered}
        out: list[Command] = [Note("live.stalled", fields, "warning")]
        state = self._hand_over("stalled", now_ms, out, forced=True, abrupt=True, answered=answered)
        return Step(state, out)

    def _hand_over(
        self,
        reason: str,
        now_ms: float,
        out: list[Command],
        *,
        forced: bool,
        abrupt: bool = False,
        answered: bool = True,
    ) -> CallState:
        """Replace the session: RECONNECTING, or the fallback when attempts are exhausted."""
        speech = self._speech
        assert speech is not None
        assert self._uplink is not None
        if forced:  # what the model already sent plays out; the downlink's remainder too
            out.extend(speech.finish_generation(now_ms))
        self._model_turn_open = False
        if self._keeper.handover_due:
            out.append(CancelTimer(HANDOVER_TIMER))
        self._stall_from_ms = None
        first = self._keeper.begin(reason, now_ms, forced=forced, abrupt=abrupt, answered=answered)
        if first is None:  # a session still open (goAway, stalled) is closed by the fallback
            self._keeper.gave_up()
            return self._fall_back("live session keeps failing", now_ms, out).state
        self._live_session = True
        self._held = ConnectBuffer(self.options.reconnect_buffer_ms, self._uplink.out_rate_hz)
        self._held_on_connect = False
        out.append(self._with_context(first))
        age = self._keeper.handle_at_ms
        started = {
            "reason": reason,
            "forced": forced,
            "resume": first.handle is not None,
            "handle_age_ms": None if age is None else round(now_ms - age),
            "delay_ms": round(first.delay_ms),
        }
        out.append(Note("live.handover_started", started))
        return CallState.RECONNECTING

    def _with_context(self, command: ReconnectLive) -> ReconnectLive:
        if command.handle is not None:
            return command
        return replace(command, context=conversation_context(self.heard_transcript()))

    def _retry_note(self, command: ReconnectLive, code: int, kind: CloseKind) -> Note:
        fields = {
            "attempt": command.attempt,
            "delay_ms": round(command.delay_ms),
            "resume": command.handle is not None,
            "close_code": code,
            "close_kind": kind.value,
        }
        return Note("live.reconnect_retry", fields, "warning")

    def _on_live_reopened(self, event: LiveOpened, now_ms: float) -> list[Command]:
        out, held = self._release_held()
        self.stats.reconnect_buffer_dropped_ms += held["dropped_ms"]
        out.extend(SendText(text) for text in self._undelivered)
        self._undelivered.clear()
        record = self._keeper.opened(now_ms)
        self._session_no += 1
        self._stall_from_ms, self._session_answered = None, False
        rounded = {name: round(ms, 1) for name, ms in held.items()}
        done = record.as_dict() | {"session_id": event.session_id, **rounded}
        out.append(Note("live.handover", done))
        return out

    def _on_reconnect_failed(self, event: LiveClosed, now_ms: float) -> list[Command] | Step:
        close = event.close
        self.stats.live_close = close
        retry = self._keeper.attempt_failed(close)
        if retry is None:
            record = self._keeper.gave_up()
            self._live_session = False
            out: list[Command] = [Note("live.handover", record.as_dict(), "error")]
            return self._fall_back(f"live lost ({close.kind.value})", now_ms, out)
        return [self._with_context(retry), self._retry_note(retry, close.code, close.kind)]

    def _on_live_closed(self, event: LiveClosed, now_ms: float) -> Step:
        close = event.close
        self.stats.live_close = close
        self._live_session = False
        out: list[Command] = []
        if close.kind is CloseKind.RESUMABLE:
            reason = f"close {close.code}"
            abrupt = not close.go_away_seen
            return Step(self._hand_over(reason, now_ms, out, forced=True, abrupt=abrupt), out)
        if close.kind is not CloseKind.NORMAL:
            return self._fall_back(f"live failed ({close.kind.value})", now_ms, out)
        return self._play_out_and_end(now_ms, out)

    def _play_out_and_end(self, now_ms: float, out: list[Command]) -> Step:
        raise NotImplementedError  # CallBridge: the ENDING state

    # ------------------------------------------------------------ fallback, transfers

    def _fall_back(
        self, reason: str, now_ms: float, out: list[Command], *, connecting: bool = False
    ) -> Step:
        """Live is gone for good: the caller hears an apology and goes to the fallback number,
        or a goodbye (never silence). `connecting`: the first session never opened."""
        options = self.options
        self.stats.fallback = reason
        self._drop_held()
        for call_id in list(self._tools.pending):  # their results could go nowhere
            self._tools.cancel(call_id, now_ms)
            out.append(CancelTool(call_id))
        if self._live_session:
            self._live_session = False
            out.append(CloseLive("fallback"))
        action: CallAction
        if options.fallback_number:
            action = Transfer(
                options.fallback_number, "fallback", announcement=options.fallback_transfer_text
            )
        else:
            action = HangUp(announcement=options.fallback_goodbye_text)
        out.append(
            Note("call.fallback", {"reason": reason, "action": action_name(action)}, "error")
        )
        return self._wrap_up(action, now_ms, out, connecting=connecting)

    def _wrap_up(
        self, action: CallAction, now_ms: float, out: list[Command], *, connecting: bool = False
    ) -> Step:
        """Let what the agent is saying be heard, then perform `action`."""
        self._action = action
        self.stats.call_action = action_name(action)
        self._drop_held()
        speech = self._speech
        if speech is not None:
            out.extend(speech.release_all(now_ms))
        if self._keeper.handover_due:
            self._keeper.go_away_deadline_ms = None
            out.append(CancelTimer(HANDOVER_TIMER))
        if connecting:
            out.append(CancelTimer(CONNECT_TIMER))
        if self.ledger.all_settled:
            return self._hand_off(now_ms, out, wrapping_up=False)
        end_ms = now_ms if speech is None else max(speech.playout.playout_end_ms, now_ms)
        wait_ms = min(end_ms + self.options.ending_grace_ms, now_ms + self.options.wrap_up_max_ms)
        out.append(StartTimer(WRAP_UP_TIMER, wait_ms))
        pending = {"action": action_name(action), "pending_ms": round(self.ledger.pending_ms, 1)}
        out.append(Note("call.wrap_up", pending))
        return Step(CallState.WRAPPING_UP, out)

    def _hand_off(self, now_ms: float, out: list[Command], *, wrapping_up: bool) -> Step:
        """Ask the carrier to perform the action; `wrapping_up`: its timer is pending."""
        action = self._action
        assert action is not None
        if wrapping_up:
            out.append(CancelTimer(WRAP_UP_TIMER))
        if self._live_session:
            self._live_session = False
            out.append(CloseLive("handing off"))
        out.append(ControlCall(action))
        out.append(StartTimer(HANDOFF_TIMER, now_ms + self.options.handoff_timeout_ms))
        return Step(CallState.HANDING_OFF, out)

    def _on_last_words_live_closed(self, event: LiveClosed, now_ms: float) -> list[Command] | Step:
        self._live_session = False
        out: list[Command] = []
        speech = self._speech
        if speech is not None:
            out.extend(speech.release_all(now_ms))
        if self.ledger.all_settled:
            return self._hand_off(now_ms, out, wrapping_up=True)
        return out

    def _on_unwanted_live_opened(self, event: LiveOpened, now_ms: float) -> list[Command]:
        # A connect that was under way when the call moved on: close what it opened.
        return [CloseLive("not needed")]

    def _on_call_controlled(self, event: CallControlled, now_ms: float) -> list[Command] | Step:
        fields: dict[str, object] = {"action": action_name(event.action), "ok": event.ok}
        if event.ok:
            # The carrier now ends the stream (Twilio sends `stop`); the handoff timer bounds it.
            return [Note("call.controlled", fields)]
        fields["detail"] = event.detail[:200]
        note = Note("call.control_failed", fields, "warning")
        return self._end("call control failed", now_ms, [note])

    def _on_end_requested_connecting(self, event: EndRequested, now_ms: float) -> Step:
        if event.fallback:
            return self._fall_back(event.reason, now_ms, [], connecting=True)
        return self._on_end_requested(event, now_ms)

    def _on_end_requested_fallback(self, event: EndRequested, now_ms: float) -> Step:
        """A session is open or being replaced: an internal error goes to the fallback."""
        if event.fallback:
            return self._fall_back(event.reason, now_ms, [])
        return self._on_end_requested(event, now_ms)

    def _on_end_requested(self, event: EndRequested, now_ms: float) -> Step:
        out: list[Command] = []
        if self._live_session:
            self._live_session = False
            out.append(CloseLive(event.reason))
        return self._end(event.reason, now_ms, out)
