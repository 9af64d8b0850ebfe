"""The state table, exhaustively: every state x every event type is handled, ignored or illegal
exactly as declared, and an illegal pair changes nothing."""

from __future__ import annotations

import copy
from collections import deque
from collections.abc import Callable
from enum import Enum

import numpy as np
import pytest

from gateway.core import on_answer, on_carrier, on_conduct, on_model, on_session
from gateway.core.bridge import _DISPATCH, HANDLERS, CallBridge, ignore
from gateway.core.events import (
    AnswererDetected,
    BridgeEvent,
    CallControlled,
    CallerAudio,
    CallStarted,
    CallStopped,
    CarrierClosed,
    DtmfPressed,
    EndRequested,
    HangUp,
    LiveClosed,
    LiveOpened,
    MessageIgnored,
    MessagesMissed,
    Note,
    PlaybackMarked,
    StreamConnected,
    TimerFired,
    ToolFinished,
)
from gateway.core.states import (
    CONNECT_TIMER,
    ENDING_TIMER,
    EVENT_TYPES,
    HANDOFF_TIMER,
    HANDOVER_TIMER,
    IGNORE,
    LIVE_EVENT_TYPES,
    START_TIMER,
    TABLE,
    TIMERS,
    WRAP_UP_TIMER,
    CallState,
    IllegalTransition,
)
from gateway.live.closes import close_info
from gateway.live.events import (
    AudioChunk,
    FunctionCall,
    GenerationComplete,
    GoAway,
    Ignored,
    InputTranscript,
    Interrupted,
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

_PCM_40MS = (4000 * np.sin(np.arange(960) * 0.1)).astype("<i2").tobytes()

SAMPLES: dict[type, BridgeEvent] = {
    StreamConnected: StreamConnected("Call", "1.0.0"),
    CallStarted: CallStarted("CA1", "MZ1"),
    CallerAudio: CallerAudio(b"\xff" * 160),
    DtmfPressed: DtmfPressed("5"),
    PlaybackMarked: PlaybackMarked("m1"),
    CallStopped: CallStopped(),
    MessagesMissed: MessagesMissed(4, 6),
    MessageIgnored: MessageIgnored("bad json"),
    SetupComplete: SetupComplete("s1"),
    AudioChunk: AudioChunk(_PCM_40MS, 24_000),
    ModelText: ModelText("hi"),
    InputTranscript: InputTranscript("hello"),
    OutputTranscript: OutputTranscript("hi there"),
    Interrupted: Interrupted(),
    GenerationComplete: GenerationComplete(),
    TurnComplete: TurnComplete(),
    WaitingForInput: WaitingForInput(),
    ToolCall: ToolCall((FunctionCall("c1", "lookup"),)),
    ToolCallCancellation: ToolCallCancellation(("c1",)),
    GoAway: GoAway(10.0),
    SessionResumptionUpdate: SessionResumptionUpdate("h1", True),
    UsageMetadata: UsageMetadata(prompt_token_count=3, total_token_count=5),
    VoiceActivity: VoiceActivity(True),
    Ignored: Ignored("unknown field"),
    LiveOpened: LiveOpened("s1"),
    LiveClosed: LiveClosed(close_info(1000, "", go_away_seen=False)),
    CarrierClosed: CarrierClosed(1006),
    TimerFired: TimerFired("playback"),
    ToolFinished: ToolFinished("c1", "lookup", {"output": "ok"}),
    CallControlled: CallControlled(HangUp(), ok=True),
    EndRequested: EndRequested("draining"),
    AnswererDetected: AnswererDetected("machine", greeting_ended=True),
}

_MODEL_EVENT_TYPES = {
    SetupComplete,
    AudioChunk,
    ModelText,
    InputTranscript,
    OutputTranscript,
    Interrupted,
    GenerationComplete,
    TurnComplete,
    WaitingForInput,
    ToolCall,
    ToolCallCancellation,
    GoAway,
    SessionResumptionUpdate,
    UsageMetadata,
    VoiceActivity,
    Ignored,
}

# The illegal pairs, spelled out: what cannot happen in each state.
ILLEGAL: dict[CallState, set[type]] = {
    # No Live session exists yet.
    CallState.WAITING_FOR_START: _MODEL_EVENT_TYPES | {LiveOpened, LiveClosed},
    # The session is not open yet; a second start is a protocol error.
    CallState.CONNECTING_MODEL: _MODEL_EVENT_TYPES | {CallStarted},
    CallState.LIVE: {CallStarted, LiveOpened},
    CallState.RECONNECTING: {CallStarted},
    CallState.ENDING: {CallStarted, LiveOpened},
    CallState.WRAPPING_UP: {CallStarted},
    CallState.HANDING_OFF: {CallStarted},
    CallState.ENDED: set(),
}


def _waiting() -> CallBridge:
    bridge = CallBridge()
    bridge.begin(0)
    return bridge


def _connecting() -> CallBridge:
    bridge = _waiting()
    bridge.handle(CallStarted("CA1", "MZ1"), 10)
    return bridge


def _live() -> CallBridge:
    bridge = _connecting()
    bridge.handle(LiveOpened("s1"), 20)
    return bridge


def _ending() -> CallBridge:
    bridge = _live()
    bridge.handle(AudioChunk(_PCM_40MS, 24_000), 30)
    bridge.handle(LiveClosed(close_info(1000, "", go_away_seen=False)), 31)
    return bridge


def _reconnecting() -> CallBridge:
    bridge = _live()
    bridge.handle(AudioChunk(_PCM_40MS, 24_000), 30)
    bridge.handle(LiveClosed(close_info(1011, "internal", go_away_seen=False)), 31)
    return bridge


def _wrapping_up() -> CallBridge:
    bridge = _live()
    bridge.handle(AudioChunk(_PCM_40MS, 24_000), 30)
    bridge.handle(LiveClosed(close_info(1008, "policy", go_away_seen=False)), 31)
    return bridge


def _handing_off() -> CallBridge:
    bridge = _live()
    bridge.handle(LiveClosed(close_info(1007, "invalid", go_away_seen=False)), 31)
    return bridge


def _ended() -> CallBridge:
    bridge = _live()
    bridge.handle(CallStopped(), 40)
    return bridge


BUILDERS: dict[CallState, Callable[[], CallBridge]] = {
    CallState.WAITING_FOR_START: _waiting,
    CallState.CONNECTING_MODEL: _connecting,
    CallState.LIVE: _live,
    CallState.RECONNECTING: _reconnecting,
    CallState.ENDING: _ending,
    CallState.WRAPPING_UP: _wrapping_up,
    CallState.HANDING_OFF: _handing_off,
    CallState.ENDED: _ended,
}

PAIRS = [(state, event_type) for state in CallState for event_type in EVENT_TYPES]


def test_samples_cover_every_event_type() -> None:
    assert set(SAMPLES) == set(EVENT_TYPES)
    assert len(EVENT_TYPES) == 32


def test_builders_reach_their_states() -> None:
    for state, build in BUILDERS.items():
        assert build().state is state


def test_the_table_declares_every_state_and_ended_ignores_everything() -> None:
    assert set(TABLE) == set(CallState)
    ended = TABLE[CallState.ENDED]
    assert set(ended) == set(EVENT_TYPES) | set(TIMERS)
    assert {move.handler for move in ended.values()} == {IGNORE}
    for row in TABLE.values():
        assert set(row) <= set(EVENT_TYPES) | set(TIMERS)


def test_every_handler_name_resolves_to_a_handler() -> None:
    modules = (on_carrier, on_session, on_model, on_conduct, on_answer)
    for state, row in TABLE.items():
        for key, move in row.items():
            if move.handler == IGNORE:
                assert _DISPATCH[state][key].handler is ignore
            else:
                [found] = [
                    vars(m)[f"on_{move.handler}"]
                    for m in modules
                    if f"on_{move.handler}" in vars(m)
                ]
                assert _DISPATCH[state][key].handler is found
    used = {move.handler for row in TABLE.values() for move in row.values()}
    assert used == set(HANDLERS)  # no handler that the table never names


@pytest.mark.parametrize(
    ("state", "event_type"), PAIRS, ids=[f"{s.value}-{t.__name__}" for s, t in PAIRS]
)
def test_pair_is_handled_ignored_or_illegal_as_declared(state: CallState, event_type: type) -> None:
    bridge = BUILDERS[state]()
    event = SAMPLES[event_type]
    move = TABLE[state].get(event_type)
    declared = None if move is None else move.handler
    assert (declared is None) == (event_type in ILLEGAL[state])
    before = (bridge.state, bridge.summary(), copy.copy(bridge.__dict__))
    deep = _snapshot(bridge)
    if declared is None:
        with pytest.raises(IllegalTransition) as raised:
            bridge.handle(event, 50)
        assert (raised.value.state, raised.value.event_type) == (state, event_type)
        assert event_type.__name__ in str(raised.value)
        assert (bridge.state, bridge.summary(), bridge.__dict__) == before
        assert _snapshot(bridge) == deep
    elif declared == IGNORE:
        assert bridge.handle(event, 50) == []
        assert (bridge.state, bridge.summary(), bridge.__dict__) == before
        assert _snapshot(bridge) == deep
    else:
        commands = bridge.handle(event, 50)
        assert isinstance(commands, list)
        assert move is not None
        assert bridge.state in move.to


TIMER_PAIRS = [(state, name) for state in CallState for name in TIMERS]


@pytest.mark.parametrize(
    ("state", "name"), TIMER_PAIRS, ids=[f"{s.value}-{n}" for s, n in TIMER_PAIRS]
)
def test_timer_is_handled_or_ignored_as_declared(state: CallState, name: str) -> None:
    bridge = BUILDERS[state]()
    move = TABLE[state][name]
    deep = _snapshot(bridge)
    commands = bridge.handle(TimerFired(name), 50)
    if move.handler == IGNORE:
        assert commands == []
        assert _snapshot(bridge) == deep
    assert bridge.state in move.to


@pytest.mark.parametrize("state", list(CallState), ids=lambda s: s.value)
def test_an_unknown_timer_is_a_warning_and_changes_no_state(state: CallState) -> None:
    bridge = BUILDERS[state]()
    commands = bridge.handle(TimerFired("no_such_timer"), 50)
    assert bridge.state is state
    if state is CallState.ENDED:
        assert commands == []
    else:
        assert commands == [Note("bridge.unknown_timer", {"name": "no_such_timer"}, "warning")]


def test_the_timer_ladder_is_in_the_table() -> None:
    """Each policy timer does something in exactly the state it was set for (it is stale, so
    ignored, in every other); the keypad, playback and stall timers work in several."""
    own = {
        START_TIMER: CallState.WAITING_FOR_START,
        CONNECT_TIMER: CallState.CONNECTING_MODEL,
        HANDOVER_TIMER: CallState.LIVE,
        ENDING_TIMER: CallState.ENDING,
        WRAP_UP_TIMER: CallState.WRAPPING_UP,
        HANDOFF_TIMER: CallState.HANDING_OFF,
    }
    for name, state in own.items():
        handled = {s for s in CallState if TABLE[s][name].handler != IGNORE}
        assert handled == {state}, name


def test_only_the_open_session_is_heard_by_the_stall_watch() -> None:
    for state, row in TABLE.items():
        heard = {key for key, move in row.items() if move.heard}
        assert heard == (set(LIVE_EVENT_TYPES) if state is CallState.LIVE else set()), state


def test_the_snapshot_sees_a_change_deep_inside_a_part() -> None:
    bridge = _live()
    deep = _snapshot(bridge)
    bridge.handle(AudioChunk(_PCM_40MS, 24_000), 30)  # the speech's playout and the ledger
    assert _snapshot(bridge) != deep


def _snapshot(value: object, path: frozenset[int] = frozenset()) -> object:
    """Everything reachable from `value`, as plain comparable data (cycles cut)."""
    if id(value) in path:
        return "<cycle>"
    if isinstance(value, str | bytes | int | float | bool | type(None) | type | Enum):
        return value
    inner = path | {id(value)}
    if isinstance(value, dict):
        return {repr(k): _snapshot(v, inner) for k, v in value.items()}
    if isinstance(value, list | tuple | deque | set | frozenset):
        items = [_snapshot(v, inner) for v in value]
        return sorted(items, key=repr) if isinstance(value, set | frozenset) else items
    if callable(value) and not hasattr(value, "__dict__"):
        return repr(value)
    fields: dict[str, object] = {}
    for klass in type(value).__mro__:
        for name in getattr(klass, "__slots__", ()):
            if hasattr(value, name):
                fields[name] = _snapshot(getattr(value, name), inner)
    for name, item in getattr(value, "__dict__", {}).items():
        fields[name] = _snapshot(item, inner)
    return (type(value).__name__, fields)
