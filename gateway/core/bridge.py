"""`CallBridge`: one call's decisions, pure and synchronous.

The shell feeds every carrier event, every Live event and its own facts to
`handle(event, now_ms)` and executes the returned commands in order. The bridge never awaits and
reads no clock; timers are `StartTimer` / `CancelTimer` commands answered by `TimerFired`. Which
events each state accepts is the table in `gateway.core.states`; anything else raises
`IllegalTransition` and changes nothing. After `EndCall` the shell drops the call's timers.

Hot paths (a carrier frame, a model chunk) are one dict lookup and a handler each, with no
`Note` and no per-frame allocation beyond the commands themselves.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from gateway.audio.paths import CarrierFormat, UplinkPath
from gateway.core.connect_buffer import ConnectBuffer
from gateway.core.events import (
    BridgeEvent,
    CallControlled,
    CallerAudio,
    CallStarted,
    CallStopped,
    CancelTimer,
    CarrierClosed,
    CloseLive,
    Command,
    DtmfPressed,
    EndCall,
    EndRequested,
    LiveClosed,
    LiveOpened,
    MessageIgnored,
    MessagesMissed,
    Note,
    PlaybackMarked,
    SendAudio,
    SendText,
    SendToolResponse,
    StartTimer,
    TimerFired,
    ToolFinished,
)
from gateway.core.options import BridgeOptions
from gateway.core.playback import PlaybackLedger
from gateway.core.playout import PLAYBACK_TIMER
from gateway.core.speech import AgentSpeech
from gateway.core.states import IGNORE, TABLE, CallState, IllegalTransition
from gateway.core.summary import CallStats, summarize
from gateway.core.transcript import Transcript, TranscriptLine
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
    TurnComplete,
    UsageMetadata,
)
from gateway.live.protocol import ToolResult

__all__ = ["BridgeOptions", "CallBridge", "CallState", "IllegalTransition"]

START_TIMER: Final = "start"
CONNECT_TIMER: Final = "connect"
ENDING_TIMER: Final = "ending"

_Handler = Callable[["CallBridge", Any, float], list[Command]]


class CallBridge:
    """One call between a carrier stream and a Live session (see the module doc)."""

    def __init__(self, options: BridgeOptions = BridgeOptions()) -> None:  # noqa: B008 (frozen)
        self.options = options
        self._state = CallState.WAITING_FOR_START
        self._row = _DISPATCH[self._state]
        self.ledger = PlaybackLedger()
        self._transcript = Transcript(self.ledger)
        self.stats = CallStats()
        self.call_id: str | None = None
        self.stream_id: str | None = None
        # Built at CallStarted, from the call's media format.
        self._format: CarrierFormat | None = None
        self._uplink: UplinkPath | None = None
        self._speech: AgentSpeech | None = None
        self._held: ConnectBuffer | None = None  # only while the model connects
        self._live_session = False  # a session is open or being connected: close it at the end
        self._resume_handle: str | None = None

    # ------------------------------------------------------------------------------ API

    @property
    def state(self) -> CallState:
        return self._state

    @property
    def resume_handle(self) -> str | None:
        """The latest resumable Live session handle, if any."""
        return self._resume_handle

    def begin(self, now_ms: float) -> list[Command]:
        """The carrier stream opened: the `start` must come within `start_timeout_ms`."""
        return [StartTimer(START_TIMER, now_ms + self.options.start_timeout_ms)]

    def handle(self, event: BridgeEvent, now_ms: float) -> list[Command]:
        """Feed one event; returns the commands to execute, in order."""
        handler = self._row.get(type(event))
        if handler is None:
            raise IllegalTransition(self._state, type(event))
        return handler(self, event, now_ms)

    def transcript(self) -> list[TranscriptLine]:
        """Every line so far, caller and agent, each with what of it was heard."""
        return self._transcript.lines()

    def heard_transcript(self) -> list[tuple[str, str]]:
        """(role, text) of what the caller actually heard (agent text of played marks only)."""
        return self._transcript.heard()

    def summary(self) -> dict[str, Any]:
        uplink = self._uplink
        caller_ms = 0.0 if uplink is None else 1000 * uplink.input_samples / uplink.carrier.rate_hz
        return summarize(
            self.stats, self.ledger, state=self._state.value, caller_audio_ms=caller_ms
        )

    # ----------------------------------------------------------------------- transitions

    def _enter(self, state: CallState) -> None:
        self._state = state
        self._row = _DISPATCH[state]

    def _end(self, reason: str, now_ms: float, out: list[Command]) -> list[Command]:
        out.append(EndCall(reason))
        if self._held is not None:
            self.stats.connect_buffer_dropped_ms = self._held.dropped_ms
            self._held = None
        self.stats.end_reason = reason
        self.stats.ended_at_ms = now_ms
        self._enter(CallState.ENDED)
        return out

    def _ignore(self, event: BridgeEvent, now_ms: float) -> list[Command]:
        return []

    def _on_call_started(self, event: CallStarted, now_ms: float) -> list[Command]:
        fmt = event.media_format
        try:
            uplink = UplinkPath(fmt)
            speech = AgentSpeech(
                fmt,
                lead_ms=self.options.playback_lead_ms,
                ledger=self.ledger,
                transcript=self._transcript,
                stats=self.stats,
            )
        except (ValueError, KeyError) as exc:
            note = Note("call.bad_format", {"format": repr(fmt), "error": str(exc)}, "warning")
            return self._end("unsupported media format", now_ms, [note])
        self._format, self._uplink, self._speech = fmt, uplink, speech
        self._held = ConnectBuffer(self.options.connect_buffer_ms, uplink.out_rate_hz)
        self.call_id, self.stream_id = event.call_id, event.stream_id
        self.stats.started_at_ms = now_ms
        self._live_session = True
        self._enter(CallState.CONNECTING_MODEL)
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

    def _on_live_opened(self, event: LiveOpened, now_ms: float) -> list[Command]:
        held = self._held
        assert held is not None
        buffered_ms, dropped_ms = held.audio_ms, held.dropped_ms
        out: list[Command] = list(held.drain())
        self._held = None
        self.stats.connect_buffer_dropped_ms = dropped_ms
        started_ms = now_ms if self.stats.started_at_ms is None else self.stats.started_at_ms
        self.stats.connect_wait_ms = now_ms - started_ms
        self._enter(CallState.LIVE)
        out.append(CancelTimer(CONNECT_TIMER))
        opened = {
            "session_id": event.session_id,
            "resumed": event.resumed,
            "connect_wait_ms": round(now_ms - started_ms, 1),
            "buffered_ms": round(buffered_ms, 1),
            "dropped_ms": round(dropped_ms, 1),
        }
        out.append(Note("live.opened", opened))
        return out

    def _on_connect_failed(self, event: LiveClosed, now_ms: float) -> list[Command]:
        self.stats.live_close = event.close
        self._live_session = False
        return self._end("live unavailable", now_ms, [])

    def _on_live_closed(self, event: LiveClosed, now_ms: float) -> list[Command]:
        self.stats.live_close = event.close
        self._live_session = False
        speech = self._speech
        assert speech is not None
        out = speech.release_all(now_ms)
        if self.ledger.all_settled:
            return self._end("live closed", now_ms, out)
        self._enter(CallState.ENDING)
        end_ms = max(speech.playout.playout_end_ms, now_ms)
        out.append(StartTimer(ENDING_TIMER, end_ms + self.options.ending_grace_ms))
        pending = {"pending_ms": self.ledger.pending_ms, "last_mark": self.ledger.last_mark_name}
        out.append(Note("bridge.ending", pending))
        return out

    def _on_carrier_ended(self, event: CallStopped | CarrierClosed, now_ms: float) -> list[Command]:
        reason = event.reason if isinstance(event, CallStopped) else "carrier closed"
        out: list[Command] = []
        if self._live_session:
            self._live_session = False
            out.append(CloseLive(reason))
        return self._end(reason, now_ms, out)

    def _on_end_requested(self, event: EndRequested, now_ms: float) -> list[Command]:
        out: list[Command] = []
        if self._live_session:
            self._live_session = False
            out.append(CloseLive(event.reason))
        return self._end(event.reason, now_ms, out)

    def _on_call_controlled(self, event: CallControlled, now_ms: float) -> list[Command]:
        fields = {"action": type(event.action).__name__.lower(), "ok": event.ok}
        if event.ok:
            # The carrier now ends the stream (Twilio sends `stop`); nothing to do until then.
            return [Note("call.controlled", fields)]
        fields["detail"] = event.detail[:200]
        out: list[Command] = [Note("call.control_failed", fields, "warning")]
        if self._live_session:
            self._live_session = False
            out.append(CloseLive("call control failed"))
        return self._end("call control failed", now_ms, out)

    def _on_tool_finished(self, event: ToolFinished, now_ms: float) -> list[Command]:
        result = ToolResult(event.call_id, event.name, event.response, event.scheduling)
        return [SendToolResponse((result,))]

    def _on_timer_fired(self, event: TimerFired, now_ms: float) -> list[Command]:
        # A timer may fire after the state it was meant for has gone (the shell had it queued
        # before it saw the cancel): such a stale timer changes nothing.
        name, state = event.name, self._state
        if name == PLAYBACK_TIMER:
            if self._speech is None:
                return []
            return self._speech.timer_fired(now_ms, release=state is CallState.LIVE)
        if name == START_TIMER and state is CallState.WAITING_FOR_START:
            return self._end("no start", now_ms, [])
        if name == CONNECT_TIMER and state is CallState.CONNECTING_MODEL:
            self._live_session = False
            return self._end("live connect timeout", now_ms, [CloseLive("live connect timeout")])
        if name == ENDING_TIMER and state is CallState.ENDING:
            late = {"pending_ms": self.ledger.pending_ms, "last_mark": self.ledger.last_mark_name}
            return self._end(
                "live closed", now_ms, [Note("bridge.ending_timeout", late, "warning")]
            )
        if name in (START_TIMER, CONNECT_TIMER, ENDING_TIMER):
            return []
        return [Note("bridge.unknown_timer", {"name": name}, "warning")]

    # --------------------------------------------------------------------------- carrier

    def _on_early_audio(self, event: CallerAudio, now_ms: float) -> list[Command]:
        self.stats.caller_frames_before_start += 1
        return []

    def _on_connecting_audio(self, event: CallerAudio, now_ms: float) -> list[Command]:
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
        return [SendAudio(pcm, uplink.out_rate_hz)] if pcm else []

    def _on_ending_audio(self, event: CallerAudio, now_ms: float) -> list[Command]:
        fmt = self._format
        assert fmt is not None
        self.stats.caller_dropped_ms += (
            1000 * len(event.payload) / (fmt.rate_hz * fmt.bytes_per_sample)
        )
        return []

    def _dtmf_text(self, digit: str) -> str:
        self.stats.dtmf_digits += 1
        return self.options.dtmf_text.format(digit=digit)

    def _on_connecting_dtmf(self, event: DtmfPressed, now_ms: float) -> list[Command]:
        assert self._held is not None
        self._held.add_text(self._dtmf_text(event.digit))
        return []

    def _on_dtmf(self, event: DtmfPressed, now_ms: float) -> list[Command]:
        return [SendText(self._dtmf_text(event.digit))]

    def _on_playback_marked(self, event: PlaybackMarked, now_ms: float) -> list[Command]:
        ledger = self.ledger
        out: list[Command] = []
        if not ledger.echoed(event.name):
            out.append(Note("bridge.unknown_mark", {"name": event.name[:64]}, "warning"))
        if self._state is CallState.ENDING and ledger.all_settled:
            self._end("live closed", now_ms, out)
        return out

    def _on_messages_missed(self, event: MessagesMissed, now_ms: float) -> list[Command]:
        missed = max(0, event.count)
        self.stats.messages_missed += missed
        gap = {"expected": event.expected, "received": event.received, "missed": missed}
        return [Note("carrier.sequence_gap", gap, "warning")]

    def _on_message_ignored(self, event: MessageIgnored, now_ms: float) -> list[Command]:
        self.stats.messages_ignored += 1
        ignored = {"reason": event.reason, "detail": event.detail[:200]}
        return [Note("carrier.message_ignored", ignored, "debug")]

    # ------------------------------------------------------------------------------ model

    def _on_audio_chunk(self, event: AudioChunk, now_ms: float) -> list[Command]:
        speech = self._speech
        assert speech is not None
        return speech.chunk(event, now_ms)

    def _on_generation_complete(self, event: GenerationComplete, now_ms: float) -> list[Command]:
        assert self._speech is not None
        return self._speech.finish_generation(now_ms)

    def _on_turn_complete(self, event: TurnComplete, now_ms: float) -> list[Command]:
        assert self._speech is not None
        self.stats.turns += 1
        return self._speech.end_turn(now_ms)

    def _on_interrupted(self, event: Interrupted, now_ms: float) -> list[Command]:
        assert self._speech is not None
        return self._speech.interrupt(now_ms)

    def _on_input_transcript(self, event: InputTranscript, now_ms: float) -> list[Command]:
        if not event.interim:  # an interim guess is replaced by the final text later
            self._transcript.caller(event.text, finished=event.finished)
        return []

    def _on_output_transcript(self, event: OutputTranscript, now_ms: float) -> list[Command]:
        self._transcript.agent(event.text)
        return []

    def _on_tool_call(self, event: ToolCall, now_ms: float) -> list[Command]:
        # No tools are configured yet. An unanswered call would stall the model, so each one is
        # answered at once with an error the model can talk about.
        self.stats.tool_calls += len(event.calls)
        results = tuple(
            ToolResult(
                call_id=call.call_id,
                name=call.name,
                response={"error": f"no tool named {call.name} is configured"},
            )
            for call in event.calls
            if call.call_id  # a response needs the id; without one there is nothing to answer
        )
        out: list[Command] = [SendToolResponse(results)] if results else []
        names = [call.name for call in event.calls]
        ids = [call.call_id for call in event.calls]
        out.append(Note("tool.not_configured", {"names": names, "call_ids": ids}, "warning"))
        return out

    def _on_tool_call_cancellation(
        self, event: ToolCallCancellation, now_ms: float
    ) -> list[Command]:
        return [Note("tool.cancelled", {"call_ids": list(event.call_ids)})]

    def _on_go_away(self, event: GoAway, now_ms: float) -> list[Command]:
        return [Note("live.go_away", {"time_left_s": event.time_left_s})]

    def _on_resumption_update(self, event: SessionResumptionUpdate, now_ms: float) -> list[Command]:
        self.stats.resumption_updates += 1
        if event.resumable and event.new_handle:
            self._resume_handle = event.new_handle
        return []

    def _on_usage(self, event: UsageMetadata, now_ms: float) -> list[Command]:
        stats = self.stats
        stats.prompt_tokens += event.prompt_token_count
        stats.response_tokens += event.response_token_count
        stats.total_tokens += event.total_token_count
        return []


def _handler(name: str) -> _Handler:
    handler: _Handler = getattr(CallBridge, "_ignore" if name == IGNORE else f"_on_{name}")
    return handler


# Resolved once at import: a handler name in the table without a method fails here, not mid-call.
_DISPATCH: Final[dict[CallState, dict[type, _Handler]]] = {
    state: {event_type: _handler(name) for event_type, name in row.items()}
    for state, row in TABLE.items()
}
