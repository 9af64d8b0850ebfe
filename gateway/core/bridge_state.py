"""What one call's bridge knows, and the moves every handler group shares (ending the call).

`CallBridge` is built in layers, one concern per module, each a subclass of the one before:
`BridgeState` (this: the call's state and its end) -> `SessionSide` (Live sessions: opening,
handovers, reconnects, the fallback, transfers and hang-ups) -> `ModelSide` (what the model says
and asks for) -> `CallBridge` (the carrier side, timers, and the dispatch table).
"""

from __future__ import annotations

from typing import Any

from gateway.audio.paths import CarrierFormat, UplinkPath
from gateway.core.connect_buffer import ConnectBuffer
from gateway.core.events import CallAction, Command, EndCall
from gateway.core.handover import SessionKeeper
from gateway.core.options import BridgeOptions
from gateway.core.playback import PlaybackLedger
from gateway.core.speech import AgentSpeech
from gateway.core.states import (
    CONNECT_TIMER,
    ENDING_TIMER,
    HANDOFF_TIMER,
    HANDOVER_TIMER,
    STALL_TIMER,
    START_TIMER,
    WRAP_UP_TIMER,
    CallState,
    Step,
)
from gateway.core.summary import CallStats, summarize
from gateway.core.tool_calls import ToolCalls
from gateway.core.transcript import Transcript, TranscriptLine
from gateway.core.usage import CallUsage

__all__ = [
    "CONNECT_TIMER",
    "ENDING_TIMER",
    "HANDOFF_TIMER",
    "HANDOVER_TIMER",
    "STALL_TIMER",
    "START_TIMER",
    "WRAP_UP_TIMER",
    "BridgeState",
]


class BridgeState:
    def __init__(self, options: BridgeOptions) -> None:
        self.options = options
        self._state = CallState.WAITING_FOR_START
        self.ledger = PlaybackLedger()
        self._transcript = Transcript(self.ledger)
        self.stats = CallStats()
        self.usage = CallUsage()
        """Live token usage, summed over the call's sessions."""
        self.call_id: str | None = None
        self.stream_id: str | None = None
        # Built at CallStarted, from the call's media format.
        self._format: CarrierFormat | None = None
        self._uplink: UplinkPath | None = None
        self._speech: AgentSpeech | None = None
        self._held: ConnectBuffer | None = None
        """Caller audio and keys held while no session is ready (connect, reconnect)."""
        self._held_on_connect = True  # whether `_held` serves the first connect (its figures)
        self._live_session = False  # a session is open or being connected: close it at the end
        self._session_no = 0  # sessions opened so far (tool calls remember theirs)
        self._keeper = SessionKeeper(options.reconnect)
        self._tools = ToolCalls(options.tool_names)
        self._undelivered: list[str] = []  # tool results for the next session, as text
        self._model_turn_open = False  # the model has spoken since its last turnComplete
        self._caller_loud_ms = 0.0  # last caller speech seen while a handover is due
        # Stall watch (LIVE only): caller speech since the session's last message, at this time;
        # whether the stall timer is pending; whether the session has answered anything yet.
        self._stall_from_ms: float | None = None
        self._stall_armed = False
        self._session_answered = False
        self._action: CallAction | None = None  # the transfer or hang-up being wrapped up

    # ------------------------------------------------------------------------------ API

    def configure(self, options: BridgeOptions) -> None:
        """Use `options` for this call: the agent profile is known once the stream's `start`
        was authorized, before it is handled. Only before `CallStarted` (ValueError after)."""
        if self._state is not CallState.WAITING_FOR_START:
            raise ValueError(f"a call is configured before it starts, not in {self._state}")
        self.options = options
        self._keeper = SessionKeeper(options.reconnect)
        self._tools = ToolCalls(options.tool_names)

    @property
    def state(self) -> CallState:
        return self._state

    @property
    def resume_handle(self) -> str | None:
        """The latest resumable Live session handle, if any."""
        return self._keeper.handle

    def _call_time_ms(self, now_ms: float) -> float:
        """`now_ms` as ms since the call started (transcript times)."""
        started = self.stats.started_at_ms
        return round(now_ms - (started if started is not None else now_ms), 1)

    def transcript(self) -> list[TranscriptLine]:
        """Every line so far, caller and agent, each with what of it was heard."""
        return self._transcript.lines()

    def heard_transcript(self) -> list[tuple[str, str]]:
        """(role, text) of what the caller actually heard (agent text of played marks only)."""
        return self._transcript.heard()

    def summary(self) -> dict[str, Any]:
        uplink = self._uplink
        caller_ms = 0.0 if uplink is None else 1000 * uplink.input_samples / uplink.carrier.rate_hz
        log = self._keeper.log
        self.stats.handovers = self._keeper.summary()
        self.stats.handovers_total = log.total
        self.stats.handovers_omitted = log.omitted
        self.stats.handover_counts = log.counts()
        self.stats.tools = list(self._tools.records)
        return summarize(
            self.stats,
            self.ledger,
            state=self._state.value,
            caller_audio_ms=caller_ms,
            usage=self.usage.summary(),
        )

    # ----------------------------------------------------------------------- transitions

    def _drop_held(self) -> None:
        """Forget held caller audio (the call is not going back to a model), counting it."""
        held = self._held
        if held is None:
            return
        if self._held_on_connect:
            self.stats.connect_buffer_dropped_ms += held.dropped_ms + held.audio_ms
        else:
            self.stats.reconnect_buffer_dropped_ms += held.dropped_ms + held.audio_ms
        self._held = None

    def _end(self, reason: str, now_ms: float, out: list[Command]) -> Step:
        out.append(EndCall(reason))
        self._drop_held()
        self.stats.end_reason = reason
        self.stats.ended_at_ms = now_ms
        return Step(CallState.ENDED, out)
