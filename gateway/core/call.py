"""One call's parts, owned together, and the moves every handler group shares.

`CallBridge` owns one `Call` and dispatches each event to the handler its table names
(`gateway.core.states`); the handlers (`on_carrier`, `on_session`, `on_model`) work on the parts
kept here: the playback ledger, transcript and figures, the media paths and the agent's speech
(built at `CallStarted`), the session keeper (handles, handovers), the stall watch, the tool
desk, the DTMF gate and the caller input held while no session is ready.

The shared moves (`end`, `fall_back`, `wrap_up`, `hand_off`, `hand_over`, `play_out_and_end`)
return a `Step` naming the state they lead to; none of them sets the state (the dispatcher does,
checked against the table) and none of them reads it: where the way out depends on where the
call is, the caller says so (`connecting=`, `wrapping_up=`).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Final

import numpy as np

from gateway.audio.paths import CarrierFormat, UplinkPath
from gateway.core.answering import Answering
from gateway.core.connect_buffer import ConnectBuffer
from gateway.core.digits import DigitCollector
from gateway.core.dtmf import DtmfGate
from gateway.core.events import (
    CallAction,
    CancelTimer,
    CloseLive,
    Command,
    ControlCall,
    EndCall,
    HangUp,
    Note,
    ReconnectLive,
    StartTimer,
    Transfer,
)
from gateway.core.handover import SessionKeeper
from gateway.core.hold import HoldMusic
from gateway.core.log_budget import LogBudget
from gateway.core.options import BridgeOptions
from gateway.core.playback import PlaybackLedger
from gateway.core.silence import SilenceWatch
from gateway.core.speech import AgentSpeech
from gateway.core.stall import StallWatch
from gateway.core.states import (
    CONNECT_TIMER,
    ENDING_TIMER,
    HANDOFF_TIMER,
    HANDOVER_TIMER,
    WRAP_UP_TIMER,
    CallState,
    Step,
)
from gateway.core.summary import CallStats
from gateway.core.tool_desk import ToolDesk
from gateway.core.transcript import Transcript
from gateway.core.usage import CallUsage
from gateway.live.closes import CloseKind

__all__ = ["Call", "action_name", "conversation_context"]

_CONTEXT_MAX_CHARS: Final = 6_000


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


class Call:
    def __init__(self, options: BridgeOptions) -> None:
        self.options = options
        self.ledger = PlaybackLedger()
        self.transcript = Transcript(self.ledger)
        self.stats = CallStats()
        self.usage = CallUsage()
        """Live token usage, summed over the call's sessions."""
        self.logs = LogBudget(self.stats.logs_suppressed)
        self.call_id: str | None = None
        self.stream_id: str | None = None
        # Built at CallStarted, from the call's media format.
        self.format: CarrierFormat | None = None
        self.uplink: UplinkPath | None = None
        self.speech: AgentSpeech | None = None
        self.dtmf = DtmfGate(self.stats)
        self.held: ConnectBuffer | None = None
        """Caller audio and keys held while no session is ready (connect, reconnect)."""
        self.held_on_connect = True  # whether `held` serves the first connect (its figures)
        self.live_open = False  # a session is open or being connected: close it at the end
        self.session_no = 0  # sessions opened so far (tool calls remember theirs)
        self.keeper = SessionKeeper(options.reconnect)
        self.stall = StallWatch(options.live_stall_timeout_ms)
        self.tools = ToolDesk(options.tool_names, options.max_running_tools, self.stats)
        self.model_turn_open = False  # the model has spoken since its last turnComplete
        self.caller_loud_ms = 0.0  # last caller speech seen while a handover is due
        self.action: CallAction | None = None  # the transfer or hang-up being wrapped up
        self.silence = SilenceWatch(options.silence_prompt_ms, options.silence_hangup_ms)
        self.digits = DigitCollector(options.digit_collections)
        self.hold = HoldMusic(options.hold_after_ms, options.hold_pcm)
        self.answering = Answering(options.outbound) if options.outbound is not None else None
        """An outbound call's opening: who speaks first, what a machine gets."""
        self.pending_verdict: tuple[str, bool] | None = None
        """A machine-detection verdict that came before the session opened."""

    def configure(self, options: BridgeOptions) -> None:
        self.options = options
        self.keeper = SessionKeeper(options.reconnect)
        self.stall = StallWatch(options.live_stall_timeout_ms)
        self.tools = ToolDesk(options.tool_names, options.max_running_tools, self.stats)
        self.silence = SilenceWatch(options.silence_prompt_ms, options.silence_hangup_ms)
        self.digits = DigitCollector(options.digit_collections)
        self.hold = HoldMusic(options.hold_after_ms, options.hold_pcm)
        self.answering = Answering(options.outbound) if options.outbound is not None else None

    def call_time_ms(self, now_ms: float) -> float:
        """`now_ms` as ms since the call started (transcript times)."""
        started = self.stats.started_at_ms
        return round(now_ms - (started if started is not None else now_ms), 1)

    def is_speech(self, pcm: bytes) -> bool:
        """Caller audio at or above `caller_speech_dbfs`."""
        samples = np.frombuffer(pcm, dtype="<i2").astype(np.float64)
        if not samples.size:
            return False
        mean_square = float(np.dot(samples, samples)) / samples.size
        return mean_square >= 32768.0**2 * 10 ** (self.options.caller_speech_dbfs / 10)

    # --------------------------------------------------------------------- held input

    def release_held(self) -> tuple[list[Command], dict[str, float]]:
        """What was held while no session was ready, in arrival order, and its figures (ms)."""
        held = self.held
        assert held is not None
        figures = {"buffered_ms": held.audio_ms, "dropped_ms": held.dropped_ms}
        self.held = None
        return list(held.drain()), figures

    def drop_held(self) -> None:
        """Forget held caller audio (the call is not going back to a model), counting it."""
        held = self.held
        if held is None:
            return
        if self.held_on_connect:
            self.stats.connect_buffer_dropped_ms += held.dropped_ms + held.audio_ms
        else:
            self.stats.reconnect_buffer_dropped_ms += held.dropped_ms + held.audio_ms
        self.held = None

    # ------------------------------------------------------------------------- ending

    def close_live(self, reason: str, out: list[Command]) -> None:
        if self.live_open:
            self.live_open = False
            out.append(CloseLive(reason))

    def end(self, reason: str, now_ms: float, out: list[Command]) -> Step:
        out.append(EndCall(reason))
        self.drop_held()
        self.stats.end_reason = reason
        self.stats.ended_at_ms = now_ms
        return Step(CallState.ENDED, out)

    def play_out_and_end(self, now_ms: float, out: list[Command]) -> Step:
        """The model closed normally: what is queued plays out (ENDING), then the call ends."""
        speech = self.speech
        assert speech is not None
        out.extend(speech.release_all(now_ms))
        if self.ledger.all_settled:
            return self.end("live closed", now_ms, out)
        end_ms = max(speech.playout.playout_end_ms, now_ms)
        out.append(StartTimer(ENDING_TIMER, end_ms + self.options.ending_grace_ms))
        pending = {"pending_ms": self.ledger.pending_ms, "last_mark": self.ledger.last_mark_name}
        out.append(Note("bridge.ending", pending))
        return Step(CallState.ENDING, out)

    def fall_back(
        self, reason: str, now_ms: float, out: list[Command], *, connecting: bool = False
    ) -> Step:
        """Live is gone for good: the caller hears an apology and goes to the fallback number,
        or a goodbye (never silence). `connecting`: the first session never opened."""
        options = self.options
        self.stats.fallback = reason
        self.drop_held()
        out.extend(self.tools.cancel_all(now_ms))
        self.close_live("fallback", out)
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
        return self.wrap_up(action, now_ms, out, connecting=connecting)

    def wrap_up(
        self, action: CallAction, now_ms: float, out: list[Command], *, connecting: bool = False
    ) -> Step:
        """Let what the agent is saying be heard (WRAPPING_UP), then perform `action`."""
        self.action = action
        self.stats.call_action = action_name(action)
        self.drop_held()
        hold_started_ms = self.hold.started_ms
        held_ms = self.hold.stop(now_ms, out)  # the last words are not said over the hold audio
        if held_ms is not None:
            self.transcript.hold(held_ms, at_ms=self.call_time_ms(hold_started_ms))
        speech = self.speech
        if speech is not None:
            out.extend(speech.release_all(now_ms))
        if self.keeper.handover_due:
            self.keeper.go_away_deadline_ms = None
            out.append(CancelTimer(HANDOVER_TIMER))
        if connecting:
            out.append(CancelTimer(CONNECT_TIMER))
        if self.ledger.all_settled:
            return self.hand_off(now_ms, out, wrapping_up=False)
        end_ms = now_ms if speech is None else max(speech.playout.playout_end_ms, now_ms)
        wait_ms = min(end_ms + self.options.ending_grace_ms, now_ms + self.options.wrap_up_max_ms)
        out.append(StartTimer(WRAP_UP_TIMER, wait_ms))
        pending = {"action": action_name(action), "pending_ms": round(self.ledger.pending_ms, 1)}
        out.append(Note("call.wrap_up", pending))
        return Step(CallState.WRAPPING_UP, out)

    def hand_off(self, now_ms: float, out: list[Command], *, wrapping_up: bool) -> Step:
        """Ask the carrier to perform the action (HANDING_OFF); `wrapping_up`: its timer runs."""
        action = self.action
        assert action is not None
        if wrapping_up:
            out.append(CancelTimer(WRAP_UP_TIMER))
        self.close_live("handing off", out)
        out.append(ControlCall(action))
        out.append(StartTimer(HANDOFF_TIMER, now_ms + self.options.handoff_timeout_ms))
        return Step(CallState.HANDING_OFF, out)

    # ---------------------------------------------------------------------- handovers

    def maybe_hand_over(self, now_ms: float, out: list[Command]) -> Step:
        """LIVE: start the due `goAway` handover if this is a turn boundary."""
        keeper = self.keeper
        if (
            keeper.handover_due
            and keeper.handle_fresh
            and not self.model_turn_open
            and not self.tools.running
            and now_ms - self.caller_loud_ms >= self.options.handover_quiet_ms
        ):
            return self.hand_over("go_away", now_ms, out, forced=False)
        return Step(CallState.LIVE, out)

    def hand_over(
        self,
        reason: str,
        now_ms: float,
        out: list[Command],
        *,
        forced: bool,
        abrupt: bool = False,
        answered: bool = True,
    ) -> Step:
        """Replace the session (RECONNECTING), or fall back when attempts are exhausted."""
        speech = self.speech
        assert speech is not None
        assert self.uplink is not None
        if forced:  # what the model already sent plays out; the downlink's remainder too
            out.extend(speech.finish_generation(now_ms))
        self.model_turn_open = False
        if self.keeper.handover_due:
            out.append(CancelTimer(HANDOVER_TIMER))
        self.stall.stop()
        self.silence.pause()  # no clock while the session is replaced
        first = self.keeper.begin(reason, now_ms, forced=forced, abrupt=abrupt, answered=answered)
        if first is None:  # a session still open (goAway, stalled) is closed by the fallback
            self.keeper.gave_up()
            return self.fall_back("live session keeps failing", now_ms, out)
        self.live_open = True
        self.held = ConnectBuffer(self.options.reconnect_buffer_ms, self.uplink.out_rate_hz)
        self.held_on_connect = False
        out.append(self.with_context(first))
        age = self.keeper.handle_at_ms
        started = {
            "reason": reason,
            "forced": forced,
            "resume": first.handle is not None,
            "handle_age_ms": None if age is None else round(now_ms - age),
            "delay_ms": round(first.delay_ms),
        }
        out.append(Note("live.handover_started", started))
        return Step(CallState.RECONNECTING, out)

    def with_context(self, command: ReconnectLive) -> ReconnectLive:
        """A fresh session (no handle) is told the conversation so far."""
        if command.handle is not None:
            return command
        return replace(command, context=conversation_context(self.transcript.heard()))

    @staticmethod
    def retry_note(command: ReconnectLive, code: int, kind: CloseKind) -> Note:
        fields = {
            "attempt": command.attempt,
            "delay_ms": round(command.delay_ms),
            "resume": command.handle is not None,
            "close_code": code,
            "close_kind": kind.value,
        }
        return Note("live.reconnect_retry", fields, "warning")
