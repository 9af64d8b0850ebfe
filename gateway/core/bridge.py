"""`CallBridge`: one call's decisions, pure and synchronous.

The shell feeds every carrier event, every Live event and its own facts to
`handle(event, now_ms)` and executes the returned commands in order. The bridge never awaits and
reads no clock; timers are `StartTimer` / `CancelTimer` commands answered by `TimerFired`. Which
events each state accepts is the table in `gateway.core.states`; anything else raises
`IllegalTransition` and changes nothing. After `EndCall` the shell drops the call's timers.

The handlers live in layers (see `gateway.core.bridge_state`): Live sessions in
`bridge_session`, the model's speech and tools in `bridge_model`, the carrier side and timers
here. Hot paths (a carrier frame, a model chunk) are one dict lookup and a handler each, with no
`Note` and no per-frame allocation beyond the commands themselves.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from gateway.audio.paths import UplinkPath
from gateway.core.bridge_model import ModelSide
from gateway.core.bridge_state import CONNECT_TIMER, ENDING_TIMER, START_TIMER
from gateway.core.connect_buffer import ConnectBuffer
from gateway.core.dtmf import DTMF_TIMER, DtmfGate, DtmfOut
from gateway.core.events import (
    BridgeEvent,
    CallerAudio,
    CallStarted,
    CallStopped,
    CancelTimer,
    CarrierClosed,
    CloseLive,
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
from gateway.core.log_budget import LogBudget
from gateway.core.options import BridgeOptions
from gateway.core.speech import AgentSpeech
from gateway.core.states import IGNORE, TABLE, CallState, IllegalTransition, Key, Step

__all__ = ["BridgeOptions", "CallBridge", "CallState", "IllegalTransition"]

_Handler = Callable[["CallBridge", Any, float], "list[Command] | Step"]
# Lines a carrier can repeat at will: a few per call are written, the rest counted.
UNKNOWN, GAP, IGNORED = "bridge.unknown_mark", "carrier.sequence_gap", "carrier.message_ignored"


@dataclass(frozen=True, slots=True)
class _Bound:
    """A `Move` with its handler resolved to the method."""

    handler: _Handler
    to: tuple[CallState, ...]
    heard: bool


class CallBridge(ModelSide):
    """One call between a carrier stream and a Live session (see the module doc)."""

    def __init__(self, options: BridgeOptions = BridgeOptions()) -> None:  # noqa: B008 (frozen)
        super().__init__(options)
        self._row = _DISPATCH[self._state]
        self._dtmf = DtmfGate(self.stats)
        self._logs = LogBudget(self.stats.logs_suppressed)

    def begin(self, now_ms: float) -> list[Command]:
        """The carrier stream opened: the `start` must come within `start_timeout_ms`."""
        return [StartTimer(START_TIMER, now_ms + self.options.start_timeout_ms)]

    def handle(self, event: BridgeEvent, now_ms: float) -> list[Command]:
        """Feed one event; returns the commands to execute, in order."""
        kind = type(event)
        row = self._row
        move = row.get(event.name) if kind is TimerFired else None  # type: ignore[union-attr]
        if move is None:
            move = row.get(kind)
            if move is None:
                raise IllegalTransition(self._state, kind)
        # The stall watch: only while a caller's speech awaits an answer, or the session has
        # not answered yet (two attribute reads otherwise).
        if move.heard and (self._stall_from_ms is not None or not self._session_answered):
            self._heard_from_live(kind)
        done = move.handler(self, event, now_ms)
        if type(done) is list:
            state = move.to[0]
        else:
            assert isinstance(done, Step)
            state, done = done.state, done.commands
            if state not in move.to:  # a handler that disagrees with the table is a bug
                raise RuntimeError(f"{kind.__name__} led {self._state} to {state}, not {move.to}")
        if state is not self._state:
            self._enter(state)
        return done

    def _enter(self, state: CallState) -> None:
        self._state = state
        self._row = _DISPATCH[state]
        if state is CallState.ENDED:
            self._dtmf.drop_held()  # keys still waiting are not sent: counted as dropped

    def _ignore(self, event: BridgeEvent, now_ms: float) -> list[Command]:
        return []

    def _on_live_message(self, event: BridgeEvent, now_ms: float) -> list[Command]:
        return []  # the stall watch in `handle` noted it

    # ------------------------------------------------------------------ call start/end

    def _on_call_started(self, event: CallStarted, now_ms: float) -> list[Command] | Step:
        fmt = event.media_format
        try:
            uplink = UplinkPath(fmt)
            speech = AgentSpeech(
                fmt,
                lead_ms=self.options.playback_lead_ms,
                ahead_max_ms=self.options.model_audio_ahead_max_ms,
                ledger=self.ledger,
                transcript=self._transcript,
                stats=self.stats,
            )
        except (ValueError, KeyError) as exc:
            note = Note("call.bad_format", {"format": repr(fmt), "error": str(exc)}, "warning")
            return self._end("unsupported media format", now_ms, [note])
        self._format, self._uplink, self._speech = fmt, uplink, speech
        self._held = ConnectBuffer(self.options.connect_buffer_ms, uplink.out_rate_hz)
        self._held_on_connect = True
        self.call_id, self.stream_id = event.call_id, event.stream_id
        self._keeper.seed(event.call_id)
        self.stats.started_at_ms = now_ms
        self._live_session = True
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
            StartTimer(CONNECT_TIMER, now_ms + self.options.connect_timeout_ms),
        ]

    def _play_out_and_end(self, now_ms: float, out: list[Command]) -> Step:
        """The model closed normally: what is queued plays out, then the call ends."""
        speech = self._speech
        assert speech is not None
        out.extend(speech.release_all(now_ms))
        if self.ledger.all_settled:
            return self._end("live closed", now_ms, out)
        end_ms = max(speech.playout.playout_end_ms, now_ms)
        out.append(StartTimer(ENDING_TIMER, end_ms + self.options.ending_grace_ms))
        pending = {"pending_ms": self.ledger.pending_ms, "last_mark": self.ledger.last_mark_name}
        out.append(Note("bridge.ending", pending))
        return Step(CallState.ENDING, out)

    def _on_carrier_ended(self, event: CallStopped | CarrierClosed, now_ms: float) -> Step:
        if isinstance(event, CallStopped):
            reason = event.reason
        else:
            reason = f"gateway closed: {event.refused}" if event.refused else "carrier closed"
        return self._carrier_ended(reason, now_ms)

    def _on_handed_off(self, event: CallStopped | CarrierClosed, now_ms: float) -> Step:
        """HANDING_OFF: the carrier ends the stream of the call it moved or hung up."""
        return self._carrier_ended(f"handed off ({self.stats.call_action})", now_ms)

    def _carrier_ended(self, reason: str, now_ms: float) -> Step:
        out: list[Command] = []
        if self._live_session:
            self._live_session = False
            out.append(CloseLive(reason))
        return self._end(reason, now_ms, out)

    # ---------------------------------------------------------------------------- timers
    # Which timer means what in which state is the table's (`gateway.core.states`); a stale
    # one (its state has gone, the shell had it queued before it saw the cancel) is ignored.

    def _on_unknown_timer(self, event: TimerFired, now_ms: float) -> list[Command]:
        return [Note("bridge.unknown_timer", {"name": event.name}, "warning")]

    def _on_start_timeout(self, event: TimerFired, now_ms: float) -> Step:
        return self._end("no start", now_ms, [])

    def _on_connect_timeout(self, event: TimerFired, now_ms: float) -> Step:
        return self._fall_back("live connect timeout", now_ms, [], connecting=True)

    def _on_handover_timer(self, event: TimerFired, now_ms: float) -> list[Command] | Step:
        """LIVE: the `goAway` handover found no turn boundary before its deadline."""
        if not self._keeper.handover_due:
            return []  # it started meanwhile, or was overtaken by a close
        out: list[Command] = []
        return Step(self._hand_over("go_away", now_ms, out, forced=True), out)

    def _on_ending_timeout(self, event: TimerFired, now_ms: float) -> Step:
        late = {"pending_ms": self.ledger.pending_ms, "last_mark": self.ledger.last_mark_name}
        return self._end("live closed", now_ms, [Note("bridge.ending_timeout", late, "warning")])

    def _on_wrap_up_timeout(self, event: TimerFired, now_ms: float) -> Step:
        late = {"pending_ms": round(self.ledger.pending_ms, 1)}
        out: list[Command] = [Note("call.wrap_up_timeout", late, "warning")]
        return self._hand_off(now_ms, out, wrapping_up=True)

    def _on_handoff_timeout(self, event: TimerFired, now_ms: float) -> Step:
        note = Note("call.handoff_timeout", {"action": self.stats.call_action}, "warning")
        return self._end(f"handed off ({self.stats.call_action})", now_ms, [note])

    def _on_playback_timer(self, event: TimerFired, now_ms: float) -> list[Command]:
        """Until the model is gone for good its audio keeps flowing under the lead limit; the
        last words of a transfer or hang-up too (the hand-off waits for their final mark)."""
        assert self._speech is not None
        return self._speech.timer_fired(now_ms, release=True)

    def _on_held_playback_timer(self, event: TimerFired, now_ms: float) -> list[Command]:
        assert self._speech is not None
        return self._speech.timer_fired(now_ms, release=False)

    # --------------------------------------------------------------------------- carrier

    def _on_early_audio(self, event: CallerAudio, now_ms: float) -> list[Command]:
        self.stats.caller_frames_before_start += 1
        return []

    def _on_held_audio(self, event: CallerAudio, now_ms: float) -> list[Command]:
        assert self._uplink is not None
        assert self._held is not None
        pcm = self._uplink.process(event.payload)
        if pcm:
            self._held.add_audio(pcm)
        return []

    def _on_caller_audio(self, event: CallerAudio, now_ms: float) -> list[Command]:
        uplink = self._uplink
        assert uplink is not None
        pcm = uplink.process(event.payload)
        if not pcm:
            return []
        out: list[Command] = [SendAudio(pcm, uplink.out_rate_hz)]
        if self._stall_from_ms is None:  # no answer awaited: does this speech await one?
            self._watch_for_stall(pcm, now_ms, out)
        if self._keeper.handover_due:
            self._caller_spoke(pcm, now_ms)
            self._maybe_hand_over(now_ms, out)
        return out

    def _on_dropped_audio(self, event: CallerAudio, now_ms: float) -> list[Command]:
        fmt = self._format
        assert fmt is not None
        self.stats.caller_dropped_ms += (
            1000 * len(event.payload) / (fmt.rate_hz * fmt.bytes_per_sample)
        )
        return []

    # DTMF: through the gate (`core.dtmf`), which coalesces and rate-limits presses so that a
    # flood never crowds out the caller's audio. What it lets through goes to the open session
    # (LIVE), is held for the next one (connecting, reconnecting), or is dropped.

    def _on_dtmf(self, event: DtmfPressed, now_ms: float) -> list[Command]:
        self.stats.dtmf_digits += 1
        return self._send_dtmf(self._dtmf.press(event.digit, now_ms))

    def _on_held_dtmf(self, event: DtmfPressed, now_ms: float) -> list[Command]:
        self.stats.dtmf_digits += 1
        return self._hold_dtmf(self._dtmf.press(event.digit, now_ms))

    def _on_dtmf_timer(self, event: TimerFired, now_ms: float) -> list[Command]:
        return self._send_dtmf(self._dtmf.timer_fired(now_ms))

    def _on_held_dtmf_timer(self, event: TimerFired, now_ms: float) -> list[Command]:
        return self._hold_dtmf(self._dtmf.timer_fired(now_ms))

    def _on_dropped_dtmf_timer(self, event: TimerFired, now_ms: float) -> list[Command]:
        """The call no longer takes keys (ending, handing off): what the gate lets go is lost."""
        decided = self._dtmf.timer_fired(now_ms)
        self.stats.dtmf_dropped += sum(len(digits) for digits in decided.send)
        return _dtmf_timer(decided)

    def _send_dtmf(self, decided: DtmfOut) -> list[Command]:
        out: list[Command] = [SendText(self._dtmf_text(digits)) for digits in decided.send]
        out += _dtmf_timer(decided)
        return out

    def _hold_dtmf(self, decided: DtmfOut) -> list[Command]:
        """No session yet: the texts are sent once it is open."""
        held = self._held
        assert held is not None
        for digits in decided.send:
            held.add_text(self._dtmf_text(digits))
        return _dtmf_timer(decided)

    def _dtmf_text(self, digits: str) -> str:
        return self.options.dtmf_text.format(digit=digits)

    # ----------------------------------------------------------------------------- marks

    def _on_playback_marked(self, event: PlaybackMarked, now_ms: float) -> list[Command]:
        ledger = self.ledger
        if not ledger.echoed(event.name) and self._logs.allow(UNKNOWN):
            return [Note(UNKNOWN, self._last({"name": event.name[:64]}, UNKNOWN), "warning")]
        return []

    def _on_final_mark(self, event: PlaybackMarked, now_ms: float) -> list[Command] | Step:
        """ENDING: the call ends once everything queued has been played."""
        out = self._on_playback_marked(event, now_ms)
        return self._end("live closed", now_ms, out) if self.ledger.all_settled else out

    def _on_last_words_mark(self, event: PlaybackMarked, now_ms: float) -> list[Command] | Step:
        """WRAPPING_UP: the action follows once the agent's last words have been played."""
        out = self._on_playback_marked(event, now_ms)
        if self.ledger.all_settled:
            return self._hand_off(now_ms, out, wrapping_up=True)
        return out

    def _on_messages_missed(self, event: MessagesMissed, now_ms: float) -> list[Command]:
        missed = max(0, event.count)
        self.stats.messages_missed += missed
        if not self._logs.allow(GAP):
            return []
        gap = {"expected": event.expected, "received": event.received, "missed": missed}
        return [Note(GAP, self._last(gap, GAP), "warning")]

    def _on_message_ignored(self, event: MessageIgnored, now_ms: float) -> list[Command]:
        self.stats.messages_ignored += 1
        if not self._logs.allow(IGNORED):
            return []
        ignored = {"reason": event.reason, "detail": event.detail[:200]}
        return [Note(IGNORED, self._last(ignored, IGNORED), "debug")]

    def _last(self, fields: Mapping[str, object], event: str) -> dict[str, object]:
        """`fields`, saying so when this is the call's last line of `event` (more are counted
        in `logs_suppressed`, not written)."""
        return {**fields, "more_counted_only": True} if self._logs.last(event) else dict(fields)


def _dtmf_timer(decided: DtmfOut) -> list[Command]:
    return [] if decided.timer_at_ms is None else [StartTimer(DTMF_TIMER, decided.timer_at_ms)]


def _handler(name: str) -> _Handler:
    handler: _Handler = getattr(CallBridge, "_ignore" if name == IGNORE else f"_on_{name}")
    return handler


# Resolved once at import: a handler name in the table without a method fails here, not mid-call.
_DISPATCH: Final[dict[CallState, dict[Key, _Bound]]] = {
    state: {key: _Bound(_handler(move.handler), move.to, move.heard) for key, move in row.items()}
    for state, row in TABLE.items()
}
