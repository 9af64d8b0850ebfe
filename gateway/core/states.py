"""The call's states and the one table that says what each state does with each event.

`TABLE[state][event type]` names the `CallBridge` handler for that pair (`_on_<name>`), or
`IGNORE` (no commands, nothing changes). A pair missing from the table is an illegal transition:
`CallBridge.handle` raises `IllegalTransition` before touching anything, and the shell logs it
and goes on. In `ENDED` every event is ignored: late frames during shutdown are normal.

Where the handlers lead:

    WAITING_FOR_START --CallStarted--> CONNECTING_MODEL --LiveOpened--> LIVE
    LIVE --goAway at a turn boundary (or its deadline) / resumable close--> RECONNECTING
    RECONNECTING --LiveOpened--> LIVE
    LIVE --normal close--> ENDING --final mark echoed / "ending" timer--> ENDED
    LIVE --transfer or hang-up tool--> WRAPPING_UP
    CONNECTING_MODEL / LIVE / RECONNECTING --fatal failure, attempts exhausted--> WRAPPING_UP
    WRAPPING_UP --final mark echoed / "wrap_up" timer--> HANDING_OFF (ControlCall)
    HANDING_OFF --carrier stop / control failed / "handoff" timer--> ENDED
    any state but ENDED --CallStopped / CarrierClosed / EndRequested / a fatal timer--> ENDED
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Final, get_args

from gateway.core.events import (
    BridgeEvent,
    CallControlled,
    CallerAudio,
    CallStarted,
    CallStopped,
    CarrierClosed,
    DtmfPressed,
    EndRequested,
    LiveClosed,
    LiveOpened,
    MessageIgnored,
    MessagesMissed,
    PlaybackMarked,
    StreamConnected,
    TimerFired,
    ToolFinished,
)
from gateway.live.events import (
    AudioChunk,
    GenerationComplete,
    GoAway,
    Ignored,
    InputTranscript,
    Interrupted,
    LiveEvent,
    ModelText,
    OutputTranscript,
    SessionResumptionUpdate,
    SetupComplete,
    ToolCall,
    ToolCallCancellation,
    TurnComplete,
    UsageMetadata,
    VoiceActivity,
    WaitingForInput,
)

__all__ = ["EVENT_TYPES", "IGNORE", "LIVE_EVENT_TYPES", "TABLE", "CallState", "IllegalTransition"]


class CallState(StrEnum):
    WAITING_FOR_START = "waiting_for_start"
    """The carrier stream is open; its `start` (call identity, media format) has not come."""
    CONNECTING_MODEL = "connecting_model"
    """The call started; the Live session is being connected. Caller audio is held."""
    LIVE = "live"
    """Caller and model are bridged."""
    RECONNECTING = "reconnecting"
    """The Live session is being replaced (goAway, abrupt close); caller audio is held and the
    agent audio already received plays on."""
    ENDING = "ending"
    """The model is gone; the audio already queued plays out before the call ends."""
    WRAPPING_UP = "wrapping_up"
    """A transfer or hang-up (a tool's, or the fallback's) waits for the agent's last words to be
    heard; caller audio goes nowhere."""
    HANDING_OFF = "handing_off"
    """The carrier's REST API was asked to transfer or hang up; waiting for the stream to end."""
    ENDED = "ended"
    """`EndCall` was returned; every later event is ignored."""


class IllegalTransition(Exception):  # noqa: N818 (a transition, not an error value)
    """An event that has no meaning in the current state; nothing was changed."""

    def __init__(self, state: CallState, event_type: type) -> None:
        super().__init__(f"{event_type.__name__} is not expected in state {state.value}")
        self.state = state
        self.event_type = event_type


IGNORE: Final = "ignore"
"""Handler name of a pair that is legal but needs nothing (no commands, no state change)."""

EVENT_TYPES: Final[tuple[type[BridgeEvent], ...]] = get_args(BridgeEvent)
"""Every event type the bridge can be fed."""

LIVE_EVENT_TYPES: Final = frozenset(get_args(LiveEvent))
"""Every event parsed from a Live server message."""
_LIVE_EVENT_TYPES: Final = LIVE_EVENT_TYPES

# Carrier housekeeping and the end of the carrier leg mean the same in every state but ENDED.
_EVERY_STATE: Final[Mapping[type[BridgeEvent], str]] = {
    StreamConnected: IGNORE,
    PlaybackMarked: "playback_marked",
    CallStopped: "carrier_ended",
    CarrierClosed: "carrier_ended",
    MessagesMissed: "messages_missed",
    MessageIgnored: "message_ignored",
    TimerFired: "timer_fired",
    EndRequested: "end_requested",
    CallControlled: IGNORE,
    ToolFinished: IGNORE,
}

_MODEL_EVENTS: Final[Mapping[type[BridgeEvent], str]] = {
    SetupComplete: IGNORE,
    AudioChunk: "audio_chunk",
    ModelText: IGNORE,
    InputTranscript: "input_transcript",
    OutputTranscript: "output_transcript",
    Interrupted: "interrupted",
    GenerationComplete: "generation_complete",
    TurnComplete: "turn_complete",
    WaitingForInput: IGNORE,
    ToolCall: "tool_call",
    ToolCallCancellation: "tool_call_cancellation",
    GoAway: "go_away",
    SessionResumptionUpdate: "resumption_update",
    UsageMetadata: "usage",
    VoiceActivity: IGNORE,
    Ignored: IGNORE,
}

# Events of the session being replaced still arrive while the new one connects (the old socket
# is read until it closes): its audio still plays, its tool calls still run.
_OLD_SESSION_EVENTS: Final[Mapping[type[BridgeEvent], str]] = {
    **_MODEL_EVENTS,
    GoAway: IGNORE,
    SessionResumptionUpdate: IGNORE,
}

# Wrapping up: what the agent is still saying plays; nothing new is asked of the model.
_LAST_WORDS: Final[Mapping[type[BridgeEvent], str]] = {
    **dict.fromkeys(_LIVE_EVENT_TYPES, IGNORE),
    AudioChunk: "audio_chunk",
    GenerationComplete: "generation_complete",
    TurnComplete: "turn_complete",
    Interrupted: "interrupted",
    InputTranscript: "input_transcript",
    OutputTranscript: "output_transcript",
    UsageMetadata: "usage",
}

TABLE: Final[Mapping[CallState, Mapping[type[BridgeEvent], str]]] = {
    # No Live session exists before LIVE: model events there are illegal.
    CallState.WAITING_FOR_START: {
        **_EVERY_STATE,
        CallStarted: "call_started",
        CallerAudio: "early_audio",
        DtmfPressed: IGNORE,
    },
    CallState.CONNECTING_MODEL: {
        **_EVERY_STATE,
        CallerAudio: "held_audio",
        DtmfPressed: "held_dtmf",
        LiveOpened: "live_opened",
        LiveClosed: "connect_failed",
    },
    CallState.LIVE: {
        **_EVERY_STATE,
        **_MODEL_EVENTS,
        # Nothing to do, but the session is heard from (it is not stalled, see bridge_session).
        **{kind: "live_message" for kind, name in _MODEL_EVENTS.items() if name == IGNORE},
        CallerAudio: "caller_audio",
        DtmfPressed: "dtmf",
        LiveClosed: "live_closed",
        ToolFinished: "tool_finished",
    },
    CallState.RECONNECTING: {
        **_EVERY_STATE,
        **_OLD_SESSION_EVENTS,
        CallerAudio: "held_audio",
        DtmfPressed: "held_dtmf",
        LiveOpened: "live_reopened",
        LiveClosed: "reconnect_failed",
        ToolFinished: "tool_finished",
    },
    # The model has closed: whatever it still sent, and whatever the caller says or presses, has
    # nowhere to go.
    CallState.ENDING: {
        **_EVERY_STATE,
        **dict.fromkeys(_LIVE_EVENT_TYPES, IGNORE),
        CallerAudio: "dropped_audio",
        DtmfPressed: IGNORE,
        LiveClosed: IGNORE,
    },
    CallState.WRAPPING_UP: {
        **_EVERY_STATE,
        **_LAST_WORDS,
        CallerAudio: "dropped_audio",
        DtmfPressed: IGNORE,
        LiveOpened: "unwanted_live_opened",
        LiveClosed: "last_words_live_closed",
    },
    CallState.HANDING_OFF: {
        **_EVERY_STATE,
        **dict.fromkeys(_LIVE_EVENT_TYPES, IGNORE),
        CallerAudio: "dropped_audio",
        DtmfPressed: IGNORE,
        LiveOpened: "unwanted_live_opened",
        LiveClosed: IGNORE,
        CallControlled: "call_controlled",
    },
    CallState.ENDED: dict.fromkeys(EVENT_TYPES, IGNORE),
}
