"""CallBridge against a Live service that loops or goes silent (issue 22, items 2 and 6).

A `goAway` with no time left after every setup, and a session that stops sending while the
caller talks: both are replaced with the same backoff and budget as an abrupt close, then the
call goes to the fallback; the call summary stays bounded however many handovers happen.
Exact commands, in order.
"""

from __future__ import annotations

import json

from gateway.core.bridge import CallBridge, CallState
from gateway.core.events import (
    CancelTimer,
    CloseLive,
    Command,
    ControlCall,
    EndCall,
    EndRequested,
    LiveClosed,
    LiveOpened,
    Note,
    ReconnectLive,
    SendAudio,
    StartTimer,
    TimerFired,
)
from gateway.core.handover import ReconnectPolicy
from gateway.core.handover_log import HEAD, TAIL
from gateway.live.closes import CloseInfo, CloseKind
from gateway.live.events import (
    GoAway,
    InputTranscript,
    SessionResumptionUpdate,
    TurnComplete,
    UsageMetadata,
    WaitingForInput,
)
from tests.core.test_bridge_sessions import (
    CLOSED_1011,
    GOODBYE,
    SILENCE,
    Caller,
    _handover_note,
    _live,
    _options,
    _started_note,
    _state,
    _tone,
)

STALL_MS = 1_000.0
LOUD = _tone(1)[0]


def _fallback(*, close: bool = True) -> list[Command]:
    return [
        *([CloseLive("fallback")] if close else []),
        Note(
            "call.fallback", {"reason": "live session keeps failing", "action": "hang_up"}, "error"
        ),
    ]


# ------------------------------------------------------------------- goAway with no time left


def test_go_away_with_no_time_left_after_every_setup_backs_off_then_falls_back() -> None:
    bridge = _live()
    bridge.handle(SessionResumptionUpdate("h1", True), 400)
    now, handle_at, delays = 500.0, 400.0, [0.0, 250.0, 500.0, 1_000.0, 2_000.0]
    for attempt in range(1, 7):
        assert bridge.handle(GoAway(0.0), now) == [
            StartTimer("handover", now),  # no time left: the deadline is now
            Note("live.go_away", {"time_left_s": 0.0}),
        ]
        commands = bridge.handle(TimerFired("handover"), now)
        if attempt == 6:  # five attempts per outage, then the fallback (never a loop)
            assert commands == [
                CancelTimer("handover"),
                *_fallback(),
                ControlCall(GOODBYE),
                StartTimer("handoff", now + 10_000),
            ]
            break
        delay = delays[attempt - 1]
        assert commands == [
            CancelTimer("handover"),
            ReconnectLive("go_away", f"h{attempt}", delay, None, attempt),
            _started_note(
                "go_away", forced=True, handle_age_ms=round(now - handle_at), delay=round(delay)
            ),
        ]
        opened = now + delay + 20
        assert bridge.handle(LiveOpened(f"s{attempt + 1}", resumed=True), opened) == [
            _handover_note(
                "go_away",
                forced=True,
                gap_ms=delay + 20,
                handle_age_ms=round(now - handle_at),
                attempts=attempt,
                session_id=f"s{attempt + 1}",
            )
        ]
        # The new session sends its handle, then goAway(0s) again at once.
        handle_at = opened + 10
        bridge.handle(SessionResumptionUpdate(f"h{attempt + 1}", True), handle_at)
        now = opened + 20
    assert _state(bridge) is CallState.HANDING_OFF
    summary = bridge.summary()
    assert (summary["fallback"], summary["call_action"]) == (
        "live session keeps failing",
        "hang_up",
    )
    assert summary["handovers_total"] == 6
    assert summary["handover_counts"] == [
        {"reason": "go_away", "outcome": "resumed", "count": 5},
        {"reason": "go_away", "outcome": "failed", "count": 1},
    ]
    assert [h["attempts"] for h in summary["handovers"]] == [1, 2, 3, 4, 5, 5]


def test_the_summary_stays_bounded_however_many_handovers_happen() -> None:
    policy = ReconnectPolicy(jitter=0.0, max_attempts_per_call=10_000)
    bridge = _live(_options(reconnect=policy))
    now = 1_000.0
    for number in range(1, 1_001):  # each session stays up 6 s, so each is a new outage
        bridge.handle(SessionResumptionUpdate(f"h{number}", True), now)
        assert bridge.handle(CLOSED_1011, now + 6_000)[0] == ReconnectLive(
            "close 1011", f"h{number}", 0.0, None, 1
        )
        bridge.handle(LiveOpened(f"s{number + 1}", resumed=True), now + 6_000 + number % 7)
        now += 6_000 + number % 7
    summary = bridge.summary()
    assert summary["handovers_total"] == 1_000
    assert summary["handovers_omitted"] == 1_000 - HEAD - TAIL
    gaps = [h["gap_ms"] for h in summary["handovers"]]
    assert gaps == [n % 7 for n in (*range(1, HEAD + 1), *range(1_001 - TAIL, 1_001))]
    assert summary["handover_counts"] == [
        {"reason": "close 1011", "outcome": "resumed", "count": 1_000}
    ]
    assert len(json.dumps(summary)) < 6_000


def test_handover_counts_fold_rare_reasons_into_other_past_sixteen() -> None:
    policy = ReconnectPolicy(jitter=0.0, max_attempts_per_call=10_000)
    bridge = _live(_options(reconnect=policy))
    bridge.handle(SessionResumptionUpdate("h1", True), 500)
    now = 1_000.0
    for code in range(4000, 4030):  # a server inventing close codes
        bridge.handle(LiveClosed(CloseInfo(code, "x", CloseKind.RESUMABLE)), now)
        bridge.handle(LiveOpened("s", resumed=True), now + 10)
        now += 10_000
    counts = bridge.summary()["handover_counts"]
    assert len(counts) == 17
    assert {"reason": "other", "outcome": "resumed", "count": 14} in counts


# ------------------------------------------------------------------------- stalled sessions


def _stall_live() -> tuple[CallBridge, Caller]:
    """A live call (stall timeout 1 s) whose session sent handle h1 at 400."""
    bridge = _live(_options(live_stall_timeout_ms=STALL_MS))
    bridge.handle(SessionResumptionUpdate("h1", True), 400)
    return bridge, Caller(bridge)


def test_the_stall_clock_does_not_run_while_the_caller_is_quiet() -> None:
    bridge, caller = _stall_live()
    for now in range(1_000, 5_000, 20):  # silence and faint noise: nothing is expected
        frame = SILENCE if now % 40 else _tone(1, amplitude=100.0)[0]
        commands, sent = caller.say(frame, now)
        assert commands == [SendAudio(sent)]
    assert bridge.handle(TimerFired("live_stall"), 5_000) == []  # a stray timer: nothing


def test_caller_speech_starts_the_clock_and_any_server_message_stops_it() -> None:
    bridge, caller = _stall_live()
    commands, sent = caller.say(LOUD, 1_000)
    assert commands == [SendAudio(sent), StartTimer("live_stall", 2_000)]
    commands, sent = caller.say(LOUD, 1_020)  # the clock runs: nothing more to arm
    assert commands == [SendAudio(sent)]
    assert bridge.handle(InputTranscript("hello"), 1_500) == []
    assert bridge.handle(TimerFired("live_stall"), 2_000) == []  # answered: nothing to do
    # Speech after the answer restarts the clock; a usage message stops it too.
    commands, sent = caller.say(LOUD, 3_000)
    assert commands == [SendAudio(sent), StartTimer("live_stall", 4_000)]
    assert bridge.handle(UsageMetadata(total_token_count=1), 3_100) == []
    assert bridge.handle(WaitingForInput(), 3_200) == []  # handled: it is a server message
    assert bridge.handle(TimerFired("live_stall"), 4_000) == []
    assert bridge.summary()["live_stalls"] == 0


def test_a_timer_armed_for_an_earlier_clock_waits_for_the_current_one() -> None:
    bridge, caller = _stall_live()
    caller.say(LOUD, 1_000)
    bridge.handle(TurnComplete(), 1_200)
    commands, sent = caller.say(LOUD, 1_700)  # the timer for 2 000 is still pending
    assert commands == [SendAudio(sent)]
    assert bridge.handle(TimerFired("live_stall"), 2_000) == [StartTimer("live_stall", 2_700)]


def test_a_silent_session_is_replaced_by_resuming_its_handle() -> None:
    bridge, caller = _stall_live()
    caller.say(LOUD, 1_000)
    caller.say(LOUD, 1_020)
    assert bridge.handle(TimerFired("live_stall"), 2_000) == [
        Note("live.stalled", {"silent_ms": 1_000, "answered_before": False}, "warning"),
        ReconnectLive("stalled", "h1", 0.0, None, 1),
        _started_note("stalled", forced=True, handle_age_ms=1_600),
    ]
    assert _state(bridge) is CallState.RECONNECTING
    assert bridge.handle(LiveOpened("s2", resumed=True), 2_100) == [
        _handover_note("stalled", forced=True, gap_ms=100.0, handle_age_ms=1_600)
    ]
    # The new session answers: the call goes on.
    caller.say(LOUD, 2_200)
    assert bridge.handle(InputTranscript("hello"), 2_400) == []
    assert bridge.handle(TimerFired("live_stall"), 3_200) == []
    summary = bridge.summary()
    assert summary["live_stalls"] == 1
    assert summary["handovers"][0]["reason"] == "stalled"


def test_sessions_that_stall_without_answering_back_off_then_fall_back() -> None:
    bridge, caller = _stall_live()
    now, delays = 1_000.0, [0.0, 250.0, 500.0, 1_000.0, 2_000.0]
    for attempt in range(1, 7):
        commands, _ = caller.say(LOUD, now)
        assert commands[1:] == [StartTimer("live_stall", now + STALL_MS)]
        now += STALL_MS
        commands = bridge.handle(TimerFired("live_stall"), now)
        assert commands[0] == Note(
            "live.stalled", {"silent_ms": 1_000, "answered_before": False}, "warning"
        )
        if attempt == 6:
            assert commands[1:] == [
                *_fallback(),
                ControlCall(GOODBYE),
                StartTimer("handoff", now + 10_000),
            ]
            break
        # Each replacement lives longer than 5 s? No matter: it never answered.
        assert commands[1] == ReconnectLive("stalled", "h1", delays[attempt - 1], None, attempt)
        now += delays[attempt - 1] + 10_000  # slow to connect, then up for a while
        bridge.handle(LiveOpened(f"s{attempt + 1}", resumed=True), now)
    assert bridge.summary()["live_stalls"] == 6
    assert _state(bridge) is CallState.HANDING_OFF


def test_a_stall_timer_while_reconnecting_changes_nothing() -> None:
    bridge, caller = _stall_live()
    caller.say(LOUD, 1_000)
    bridge.handle(CLOSED_1011, 1_500)
    assert bridge.handle(TimerFired("live_stall"), 2_000) == []
    assert _state(bridge) is CallState.RECONNECTING
    # Once the new session is up the clock starts afresh (the old timer is gone: re-armed).
    bridge.handle(LiveOpened("s2", resumed=True), 2_100)
    commands, sent = caller.say(LOUD, 2_200)
    assert commands == [SendAudio(sent), StartTimer("live_stall", 3_200)]


# ---------------------------------------------------------------- an internal error's request


def test_an_end_request_with_fallback_sends_a_live_call_to_the_fallback() -> None:
    bridge = _live()
    assert bridge.handle(EndRequested("internal error", fallback=True), 1_000) == [
        CloseLive("fallback"),
        Note("call.fallback", {"reason": "internal error", "action": "hang_up"}, "error"),
        ControlCall(GOODBYE),
        StartTimer("handoff", 11_000),
    ]
    assert bridge.summary()["fallback"] == "internal error"


def test_an_end_request_with_fallback_before_the_call_started_just_ends_it() -> None:
    bridge = CallBridge()
    bridge.begin(0)
    assert bridge.handle(EndRequested("internal error", fallback=True), 10) == [
        EndCall("internal error")
    ]
    assert _state(bridge) is CallState.ENDED
