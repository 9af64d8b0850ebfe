"""The call's states and the one table of what each state does with each event and timer.

Like h11's `_state.py`: `TABLE[state][key]` is the `Move` for that pair, where `key` is an
event type, or a timer's name (a `str`) for `TimerFired`. A move names its handler
(`on_<name>` in `on_carrier`, `on_session` or `on_model`, or `IGNORE`: no commands, nothing
changes) and the states the call may be in after it, `to`.
Handlers return commands and never set the state: the dispatcher (`CallBridge.handle`) moves the
call to `to[0]`, or, where the outcome decides, to the one of `to` that the handler names by
returning `Step(state, commands)`. A pair missing from the table is an illegal transition:
`handle` raises `IllegalTransition` before touching anything, and the shell logs it and goes on.
`TimerFired` itself is the key for a timer whose name has no entry of its own (an unknown timer:
a warning). In `ENDED` every event is ignored: late frames during shutdown are normal.

The state diagram in docs/architecture.md is drawn from this table (`scripts/state_diagram.py`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Final, get_args

from gateway.core.answering import HELLO_TIMER, VERDICT_TIMER
from gateway.core.digits import DIGITS_TIMER
from gateway.core.dtmf import DTMF_TIMER
from gateway.core.events import (
    AnswererDetected,
    BridgeEvent,
    CallControlled,
    CallerAudio,
    CallStarted,
    CallStopped,
    CarrierClosed,
    Command,
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
from gateway.core.hold import HOLD_TIMER
from gateway.core.playout import PLAYBACK_TIMER
from gateway.core.silence import SILENCE_TIMER
from gateway.core.stall import STALL_TIMER
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

__all__ = [
    "EVENT_TYPES",
    "IGNORE",
    "LIVE_EVENT_TYPES",
    "TABLE",
    "TIMERS",
    "CallState",
    "IllegalTransition",
    "Key",
    "Move",
    "Step",
]


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

Key = type[BridgeEvent] | str
"""A table key: an event type, or a timer's name (the `TimerFired` of that name)."""


@dataclass(frozen=True, slots=True)
class Move:
    """What one (state, event or timer) pair does: its handler and the states it may lead to."""

    handler: str
    to: tuple[CallState, ...]
    """The states after the move: `to[0]` unless the handler returns a `Step` naming another."""
    heard: bool = False
    """A message from the open Live session: the stall watch notes it (`gateway.core.stall`)."""


@dataclass(frozen=True, slots=True)
class Step:
    """A handler's commands and its next state, where the move allows more than one."""

    state: CallState
    commands: list[Command]


START_TIMER: Final = "start"
CONNECT_TIMER: Final = "connect"
ENDING_TIMER: Final = "ending"
HANDOVER_TIMER: Final = "handover"
WRAP_UP_TIMER: Final = "wrap_up"
HANDOFF_TIMER: Final = "handoff"
TIMERS: Final = (
    START_TIMER,
    CONNECT_TIMER,
    ENDING_TIMER,
    HANDOVER_TIMER,
    WRAP_UP_TIMER,
    HANDOFF_TIMER,
    STALL_TIMER,
    DTMF_TIMER,
    PLAYBACK_TIMER,
    SILENCE_TIMER,
    DIGITS_TIMER,
    HOLD_TIMER,
    HELLO_TIMER,
    VERDICT_TIMER,
)
"""Every timer the bridge sets. A timer may fire after the state it was meant for has gone (the
shell had it queued before it saw the cancel): such a stale timer is ignored."""

EVENT_TYPES: Final[tuple[type[BridgeEvent], ...]] = get_args(BridgeEvent)
"""Every event type the bridge can be fed."""

LIVE_EVENT_TYPES: Final = frozenset(get_args(LiveEvent))
"""Every event parsed from a Live server message."""

_S = CallState
_HANDOVER: Final = (_S.LIVE, _S.RECONNECTING, _S.WRAPPING_UP, _S.HANDING_OFF)
"""Where a move that may start a `goAway` handover leads (a failed start goes to the fallback)."""
_FALLBACK: Final = (_S.WRAPPING_UP, _S.HANDING_OFF)
"""Where the fallback, a transfer or a hang-up leads (straight to the hand-off when nothing is
left to play)."""

STAY: Final = None
"""In a row as written below: the state itself."""
_Row = dict[Key, tuple[str, tuple[CallState | None, ...]]]
"""A row as written below: key -> (handler, next states); `()` means the state stays."""


def _every_state(ended: tuple[CallState, ...] = (_S.ENDED,)) -> _Row:
    """Carrier housekeeping, the end of the carrier leg, and timers that mean the same in every
    state but ENDED; a state's own row overrides what differs."""
    return {
        StreamConnected: (IGNORE, ()),
        PlaybackMarked: ("playback_marked", ()),
        CallStopped: ("carrier_ended", ended),
        CarrierClosed: ("carrier_ended", ended),
        MessagesMissed: ("messages_missed", ()),
        MessageIgnored: ("message_ignored", ()),
        EndRequested: ("end_requested", ended),
        CallControlled: (IGNORE, ()),
        ToolFinished: (IGNORE, ()),
        AnswererDetected: (IGNORE, ()),
        TimerFired: ("unknown_timer", ()),
        **{name: (IGNORE, ()) for name in TIMERS},
        STALL_TIMER: ("stall_timer_disarmed", ()),
        DTMF_TIMER: ("dropped_dtmf_timer", ()),
        PLAYBACK_TIMER: ("held_playback_timer", ()),
        SILENCE_TIMER: ("silence_timer_disarmed", ()),
        HOLD_TIMER: ("hold_timer_stopped", ()),
    }


_MODEL_EVENTS: Final[_Row] = {
    SetupComplete: ("live_message", ()),
    AudioChunk: ("audio_chunk", ()),
    ModelText: ("live_message", ()),
    InputTranscript: ("input_transcript", ()),
    OutputTranscript: ("output_transcript", ()),
    Interrupted: ("interrupted", ()),
    GenerationComplete: ("generation_complete", ()),
    TurnComplete: ("turn_complete", _HANDOVER),
    WaitingForInput: ("live_message", ()),
    ToolCall: ("tool_call", ()),
    ToolCallCancellation: ("tool_call_cancellation", _HANDOVER),
    GoAway: ("go_away", _HANDOVER),
    SessionResumptionUpdate: ("resumption_update", _HANDOVER),
    UsageMetadata: ("usage", ()),
    VoiceActivity: ("live_message", ()),
    Ignored: ("live_message", ()),
}
"""The open session's messages (LIVE): every one also tells the stall watch it was heard."""

_IGNORE_LIVE: Final[_Row] = {kind: (IGNORE, ()) for kind in LIVE_EVENT_TYPES}

# Wrapping up: what the agent is still saying plays; nothing new is asked of the model.
_LAST_WORDS: Final[_Row] = {
    **_IGNORE_LIVE,
    AudioChunk: ("audio_chunk", ()),
    GenerationComplete: ("generation_complete", ()),
    TurnComplete: ("turn_ended", ()),
    Interrupted: ("interrupted", ()),
    InputTranscript: ("input_transcript", ()),
    OutputTranscript: ("output_transcript", ()),
    UsageMetadata: ("usage", ()),
}

# Events of the session being replaced still arrive while the new one connects (the old socket
# is read until it closes): its audio still plays, its tool calls still run.
_OLD_SESSION_EVENTS: Final[_Row] = {
    **_LAST_WORDS,
    ToolCall: ("old_session_tool_call", ()),
    ToolCallCancellation: ("old_session_tool_call_cancellation", ()),
}

_ROWS: Final[dict[CallState, _Row]] = {
    # No Live session exists before LIVE: model events there are illegal.
    _S.WAITING_FOR_START: {
        **_every_state(),
        CallStarted: ("call_started", (_S.CONNECTING_MODEL, _S.ENDED)),
        CallerAudio: ("early_audio", ()),
        DtmfPressed: (IGNORE, ()),
        PLAYBACK_TIMER: (IGNORE, ()),  # nothing plays before the call starts
        START_TIMER: ("start_timeout", (_S.ENDED,)),
    },
    _S.CONNECTING_MODEL: {
        **_every_state(),
        EndRequested: ("end_requested_connecting", (_S.ENDED, *_FALLBACK)),
        CallerAudio: ("held_audio", ()),
        DtmfPressed: ("held_dtmf", ()),
        LiveOpened: ("live_opened", (_S.LIVE,)),
        LiveClosed: ("connect_failed", (STAY, *_FALLBACK)),
        AnswererDetected: ("early_verdict", ()),
        DTMF_TIMER: ("held_dtmf_timer", ()),
        CONNECT_TIMER: ("connect_timeout", _FALLBACK),
    },
    _S.LIVE: {
        **_every_state(),
        **_MODEL_EVENTS,
        EndRequested: ("end_requested_fallback", (_S.ENDED, *_FALLBACK)),
        CallerAudio: ("caller_audio", _HANDOVER),
        DtmfPressed: ("dtmf", ()),
        LiveClosed: ("live_closed", (_S.ENDING, _S.ENDED, _S.RECONNECTING, *_FALLBACK)),
        ToolFinished: ("tool_finished", _HANDOVER),
        DTMF_TIMER: ("dtmf_timer", ()),
        PLAYBACK_TIMER: ("playback_timer", ()),
        STALL_TIMER: ("stall_timer", _HANDOVER),
        HANDOVER_TIMER: ("handover_timer", _HANDOVER),
        SILENCE_TIMER: ("silence_timer", (_S.LIVE, *_FALLBACK)),
        DIGITS_TIMER: ("digits_timer", ()),
        HOLD_TIMER: ("hold_timer", ()),
        AnswererDetected: ("answerer_detected", (STAY, *_FALLBACK)),
        HELLO_TIMER: ("hello_timer", ()),
        VERDICT_TIMER: ("verdict_timer", (STAY, *_FALLBACK)),
    },
    _S.RECONNECTING: {
        **_every_state(),
        **_OLD_SESSION_EVENTS,
        EndRequested: ("end_requested_fallback", (_S.ENDED, *_FALLBACK)),
        CallerAudio: ("held_audio", ()),
        DtmfPressed: ("held_dtmf", ()),
        LiveOpened: ("live_reopened", (_S.LIVE,)),
        AnswererDetected: ("early_verdict", ()),
        LiveClosed: ("reconnect_failed", (STAY, *_FALLBACK)),
        ToolFinished: ("held_tool_finished", (STAY, *_FALLBACK)),
        DTMF_TIMER: ("held_dtmf_timer", ()),
        PLAYBACK_TIMER: ("playback_timer", ()),
        DIGITS_TIMER: ("held_digits_timer", ()),
        HOLD_TIMER: ("hold_timer", ()),
    },
    # The model has closed: whatever it still sent, and whatever the caller says or presses, has
    # nowhere to go.
    _S.ENDING: {
        **_every_state(),
        **_IGNORE_LIVE,
        PlaybackMarked: ("final_mark", (STAY, _S.ENDED)),
        CallerAudio: ("dropped_audio", ()),
        DtmfPressed: (IGNORE, ()),
        LiveClosed: (IGNORE, ()),
        ENDING_TIMER: ("ending_timeout", (_S.ENDED,)),
    },
    _S.WRAPPING_UP: {
        **_every_state(),
        **_LAST_WORDS,
        PlaybackMarked: ("last_words_mark", (STAY, _S.HANDING_OFF)),
        CallerAudio: ("dropped_audio", ()),
        DtmfPressed: (IGNORE, ()),
        LiveOpened: ("unwanted_live_opened", ()),
        LiveClosed: ("last_words_live_closed", (STAY, _S.HANDING_OFF)),
        PLAYBACK_TIMER: ("playback_timer", ()),
        WRAP_UP_TIMER: ("wrap_up_timeout", (_S.HANDING_OFF,)),
    },
    _S.HANDING_OFF: {
        **_every_state(),
        **_IGNORE_LIVE,
        CallStopped: ("handed_off", (_S.ENDED,)),
        CarrierClosed: ("handed_off", (_S.ENDED,)),
        CallerAudio: ("dropped_audio", ()),
        DtmfPressed: (IGNORE, ()),
        LiveOpened: ("unwanted_live_opened", ()),
        LiveClosed: (IGNORE, ()),
        CallControlled: ("call_controlled", (STAY, _S.ENDED)),
        HANDOFF_TIMER: ("handoff_timeout", (_S.ENDED,)),
    },
    _S.ENDED: {**dict.fromkeys(EVENT_TYPES, (IGNORE, ())), **dict.fromkeys(TIMERS, (IGNORE, ()))},
}


def _resolve(state: CallState, row: _Row) -> dict[Key, Move]:
    moves: dict[Key, Move] = {}
    for key, (handler, targets) in row.items():
        to = tuple(state if target is STAY else target for target in targets) or (state,)
        if handler == IGNORE and to != (state,):
            raise ValueError(f"{state}: an ignored {key!r} cannot change the state")
        heard = state is CallState.LIVE and key in LIVE_EVENT_TYPES
        moves[key] = Move(handler, to, heard)
    return moves


TABLE: Final[Mapping[CallState, Mapping[Key, Move]]] = {
    state: _resolve(state, row) for state, row in _ROWS.items()
}
"""Every (state, event type) and (state, timer name) pair the call knows, and its move."""
