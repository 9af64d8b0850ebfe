"""CallBridge across Live sessions, at the event level: goAway handovers, reconnects, the
fallback, tools, transfers and hang-ups, and EndRequested. Exact commands, in order."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from gateway.audio import g711
from gateway.audio.paths import CarrierFormat, DownlinkPath, UplinkPath
from gateway.core.bridge import BridgeOptions, CallBridge, CallState
from gateway.core.events import (
    CallControlled,
    CallerAudio,
    CallStarted,
    CallStopped,
    CancelTimer,
    CancelTool,
    CloseLive,
    Command,
    ControlCall,
    DtmfPressed,
    EndCall,
    EndRequested,
    HangUp,
    LiveClosed,
    LiveOpened,
    Note,
    PlaceMark,
    PlayAudio,
    PlaybackMarked,
    ReconnectLive,
    RunTool,
    SendAudio,
    SendText,
    SendToolResponse,
    StartTimer,
    TimerFired,
    ToolFinished,
    Transfer,
)
from gateway.core.handover import ReconnectPolicy
from gateway.core.options import APOLOGY_GOODBYE, APOLOGY_TRANSFER
from gateway.core.tool_calls import result_as_text
from gateway.live.closes import close_info
from gateway.live.events import (
    AudioChunk,
    FunctionCall,
    GoAway,
    InputTranscript,
    Interrupted,
    OutputTranscript,
    SessionResumptionUpdate,
    ToolCall,
    ToolCallCancellation,
    TurnComplete,
)
from gateway.live.protocol import Scheduling, ToolResult

TWILIO = CarrierFormat()
NO_JITTER = ReconnectPolicy(jitter=0.0)
FALLBACK_NUMBER = "+15550100"
GOODBYE = HangUp(announcement=APOLOGY_GOODBYE)
TO_FALLBACK = Transfer(FALLBACK_NUMBER, "fallback", announcement=APOLOGY_TRANSFER)

CLOSED_1011 = LiveClosed(close_info(1011, "internal error", go_away_seen=False))
CLOSED_1006 = LiveClosed(close_info(None, "", go_away_seen=False))
CLOSED_1008 = LiveClosed(close_info(1008, "session not found", go_away_seen=False))
CLOSED_1007 = LiveClosed(close_info(1007, "invalid argument", go_away_seen=False))
CLOSED_QUOTA = LiveClosed(close_info(1011, "RESOURCE_EXHAUSTED", go_away_seen=False))
CLOSED_1000 = LiveClosed(close_info(1000, "", go_away_seen=False))
SILENCE = b"\xff" * 160  # μ-law zero


def _tone(count: int, amplitude: float = 6000.0) -> list[bytes]:
    """`count` 20 ms μ-law frames of a 300 Hz tone (6000: about -18 dBFS, loud speech)."""
    t = np.arange(160 * count) / 8000
    samples = (amplitude * np.sin(2 * np.pi * 300 * t)).astype("<i2")
    payload = g711.ulaw_encode(samples.tobytes())
    return [payload[i : i + 160] for i in range(0, len(payload), 160)]


def _model_pcm(ms: int, offset_ms: int = 0) -> bytes:
    """`ms` of 24 kHz PCM16 (a gliding tone), continuing from `offset_ms`."""
    t = np.arange(24 * offset_ms, 24 * (offset_ms + ms)) / 24_000
    return (8000 * np.sin(2 * np.pi * 440 * (t + 0.3 * t * t))).astype("<i2").tobytes()


class Caller:
    """Feeds caller frames to a bridge and keeps the PCM its uplink must produce for them."""

    def __init__(self, bridge: CallBridge) -> None:
        self.bridge = bridge
        self.reference = UplinkPath(TWILIO)

    def say(self, frame: bytes, now_ms: float) -> tuple[list[Command], bytes]:
        expected = self.reference.process(frame)
        return self.bridge.handle(CallerAudio(frame), now_ms), expected


def _options(**kwargs: object) -> BridgeOptions:
    kwargs.setdefault("reconnect", NO_JITTER)
    kwargs.setdefault("mark_interval_ms", 0)  # a mark per model chunk: each test sees its marks
    return BridgeOptions(**kwargs)  # type: ignore[arg-type]


def _live(options: BridgeOptions | None = None) -> CallBridge:
    """A call whose first session opened at 300 ms."""
    bridge = CallBridge(options or _options())
    bridge.begin(0)
    bridge.handle(CallStarted("CA1", "MZ1", media_format=TWILIO), 100)
    bridge.handle(LiveOpened("s1"), 300)
    return bridge


def _started(options: BridgeOptions | None = None) -> CallBridge:
    bridge = CallBridge(options or _options())
    bridge.begin(0)
    bridge.handle(CallStarted("CA1", "MZ1", media_format=TWILIO), 100)
    return bridge


def _state(bridge: CallBridge) -> CallState:
    """The bridge's state (a call, so that one assert does not narrow the next for mypy)."""
    return bridge.state


def _kinds(commands: list[Command]) -> list[str]:
    return [type(c).__name__ for c in commands]


def _started_note(
    reason: str, *, forced: bool, handle_age_ms: int | None, resume: bool = True, delay: int = 0
) -> Note:
    fields = {
        "reason": reason,
        "forced": forced,
        "resume": resume,
        "handle_age_ms": handle_age_ms,
        "delay_ms": delay,
    }
    return Note("live.handover_started", fields)


def _handover_note(
    reason: str,
    *,
    forced: bool,
    gap_ms: float,
    handle_age_ms: int | None,
    attempts: int = 1,
    outcome: str = "resumed",
    session_id: str | None = "s2",
    buffered_ms: float = 0.0,
    dropped_ms: float = 0.0,
) -> Note:
    fields = {
        "reason": reason,
        "forced": forced,
        "gap_ms": gap_ms,
        "handle_age_ms": handle_age_ms,
        "attempts": attempts,
        "outcome": outcome,
        "session_id": session_id,
        "buffered_ms": buffered_ms,
        "dropped_ms": dropped_ms,
    }
    return Note("live.handover", fields)


def _retry_note(attempt: int, delay: int, *, resume: bool, code: int, kind: str) -> Note:
    fields = {
        "attempt": attempt,
        "delay_ms": delay,
        "resume": resume,
        "close_code": code,
        "close_kind": kind,
    }
    return Note("live.reconnect_retry", fields, "warning")


def _reconnecting(options: BridgeOptions | None = None) -> CallBridge:
    """Handle h1 at 1 500, the session closed (1011) at 2 000: reconnecting with h1."""
    bridge = _live(options)
    bridge.handle(SessionResumptionUpdate("h1", True), 1_500)
    assert bridge.handle(CLOSED_1011, 2_000)[0] == ReconnectLive("close 1011", "h1", 0.0, None, 1)
    assert _state(bridge) is CallState.RECONNECTING
    return bridge


# ------------------------------------------------------------------------------ goAway


def test_go_away_arms_the_handover_timer_and_keeps_the_earliest_deadline() -> None:
    bridge = _live()
    assert bridge.handle(GoAway(50.0), 1_000) == [
        StartTimer("handover", 46_000),
        Note("live.go_away", {"time_left_s": 50.0}),
    ]
    assert bridge.handle(GoAway(4.0), 2_000) == [
        StartTimer("handover", 4_000),
        Note("live.go_away", {"time_left_s": 4.0}),
    ]
    assert bridge.handle(GoAway(None), 2_500) == [
        StartTimer("handover", 4_000),  # 10 s assumed: 7 500, later than 4 000
        Note("live.go_away", {"time_left_s": None}),
    ]
    assert _state(bridge) is CallState.LIVE


def test_the_handover_waits_for_a_fresh_handle() -> None:
    bridge = _live()
    caller = Caller(bridge)
    bridge.handle(GoAway(30.0), 1_000)
    commands, pcm = caller.say(SILENCE, 1_400)  # quiet long enough, but no handle
    assert commands == [SendAudio(pcm)]
    assert bridge.handle(SessionResumptionUpdate(None, False), 1_500) == []
    assert bridge.handle(SessionResumptionUpdate("h-busy", False), 1_550) == []
    assert _state(bridge) is CallState.LIVE
    assert bridge.handle(SessionResumptionUpdate("h1", True), 1_600) == [
        CancelTimer("handover"),
        ReconnectLive(reason="go_away", handle="h1", delay_ms=0.0, attempt=1),
        _started_note("go_away", forced=False, handle_age_ms=0),
    ]
    assert _state(bridge) is CallState.RECONNECTING


def test_no_handover_while_the_model_turn_is_open_then_at_its_end_with_the_newest_handle() -> None:
    bridge = _live()
    caller = Caller(bridge)
    bridge.handle(SessionResumptionUpdate("h1", True), 500)
    pcm = _model_pcm(40)
    downlink = DownlinkPath(TWILIO)
    frames = downlink.process(pcm)
    assert bridge.handle(AudioChunk(pcm, 24_000), 1_000) == [
        PlayAudio(frames[0]),
        PlayAudio(frames[1]),
        PlaceMark("m1"),
    ]
    bridge.handle(GoAway(30.0), 1_100)
    commands, sent = caller.say(SILENCE, 1_500)
    assert commands == [SendAudio(sent)]
    assert bridge.handle(SessionResumptionUpdate("h2", True), 1_550) == []
    assert _state(bridge) is CallState.LIVE
    ring_out = downlink.flush()
    assert len(ring_out) == 1
    assert bridge.handle(TurnComplete(), 1_600) == [
        PlayAudio(ring_out[0]),
        PlaceMark("m2"),
        CancelTimer("handover"),
        ReconnectLive(reason="go_away", handle="h2", delay_ms=0.0, attempt=1),
        _started_note("go_away", forced=False, handle_age_ms=50),
    ]
    assert _state(bridge) is CallState.RECONNECTING
    assert bridge.resume_handle == "h2"


def test_no_handover_while_a_tool_runs() -> None:
    bridge = _live(_options(tool_names=frozenset({"lookup"})))
    caller = Caller(bridge)
    bridge.handle(SessionResumptionUpdate("h1", True), 500)
    call = FunctionCall("c1", "lookup", {"order": 7})
    assert bridge.handle(ToolCall((call,)), 900) == [RunTool(call)]
    bridge.handle(GoAway(30.0), 1_000)
    commands, sent = caller.say(SILENCE, 1_400)
    assert commands == [SendAudio(sent)]
    assert _state(bridge) is CallState.LIVE
    finished = ToolFinished("c1", "lookup", {"output": "shipped"}, duration_ms=600)
    assert bridge.handle(finished, 1_500) == [
        SendToolResponse((ToolResult("c1", "lookup", {"output": "shipped"}),)),
        CancelTimer("handover"),
        ReconnectLive(reason="go_away", handle="h1", delay_ms=0.0, attempt=1),
        _started_note("go_away", forced=False, handle_age_ms=1_000),
    ]
    assert _state(bridge) is CallState.RECONNECTING


def test_a_call_without_an_id_runs_under_a_local_key_and_is_answered_without_an_id() -> None:
    """Vertex may send calls without an id (protocols.md A.11): each is run under a local key,
    and its response carries no id; one with an id next to it keeps its own."""
    bridge = _live(_options(tool_names=frozenset({"lookup"})))
    first, second = FunctionCall(None, "lookup", {"order": 7}), FunctionCall("c9", "lookup")
    assert bridge.handle(ToolCall((first, second)), 900) == [
        Note("tool.without_id", {"name": "lookup", "key": "local-1"}),
        RunTool(FunctionCall("local-1", "lookup", {"order": 7})),
        RunTool(second),
    ]
    finished = ToolFinished("local-1", "lookup", {"output": "shipped"}, duration_ms=600)
    assert bridge.handle(finished, 1_500) == [
        SendToolResponse((ToolResult(None, "lookup", {"output": "shipped"}),)),
    ]
    done = ToolFinished("c9", "lookup", {"output": "ok"}, scheduling=Scheduling.SILENT)
    assert bridge.handle(done, 1_600) == [
        SendToolResponse((ToolResult("c9", "lookup", {"output": "ok"}, Scheduling.SILENT),)),
    ]
    assert bridge.summary()["tool_calls"] == 2


def test_a_cancellation_naming_no_id_cancels_the_calls_that_had_none() -> None:
    """A cancellation names ids; one naming none can only mean the calls without an id. One
    naming ids never touches those."""
    bridge = _live(_options(tool_names=frozenset({"lookup"})))
    calls = (FunctionCall(None, "lookup"), FunctionCall("c2", "lookup"))
    bridge.handle(ToolCall(calls), 900)
    bridge.handle(ToolCall((FunctionCall(None, "lookup"),)), 950)
    assert bridge.handle(ToolCallCancellation(("c2",)), 1_000) == [
        CancelTool("c2"),
        Note("tool.cancelled", {"call_ids": ["c2"]}),
    ]
    assert bridge.handle(ToolCallCancellation(()), 1_100) == [
        CancelTool("local-1"),
        CancelTool("local-2"),
        Note("tool.cancelled", {"call_ids": []}),
    ]
    late = ToolFinished("local-1", "lookup", {"output": "late"})
    assert bridge.handle(late, 1_200) == [
        Note("tool.late_result_dropped", {"name": "lookup", "call_id": "local-1"})
    ]


def test_a_cancelled_tool_no_longer_holds_the_handover_back() -> None:
    bridge = _live(_options(tool_names=frozenset({"lookup"})))
    caller = Caller(bridge)
    bridge.handle(SessionResumptionUpdate("h1", True), 500)
    bridge.handle(ToolCall((FunctionCall("c1", "lookup"),)), 900)
    bridge.handle(GoAway(30.0), 1_000)
    caller.say(SILENCE, 1_400)
    assert bridge.handle(ToolCallCancellation(("c1",)), 1_450) == [
        CancelTool("c1"),
        Note("tool.cancelled", {"call_ids": ["c1"]}),
        CancelTimer("handover"),
        ReconnectLive(reason="go_away", handle="h1", delay_ms=0.0, attempt=1),
        _started_note("go_away", forced=False, handle_age_ms=950),
    ]


def test_the_handover_waits_until_the_caller_was_quiet_300_ms() -> None:
    bridge = _live()
    caller = Caller(bridge)
    bridge.handle(SessionResumptionUpdate("h1", True), 500)
    # The goAway itself counts as "maybe speaking": 300 ms of quiet from then on.
    assert _kinds(bridge.handle(GoAway(30.0), 1_000)) == ["StartTimer", "Note"]
    commands, sent = caller.say(SILENCE, 1_299)
    assert commands == [SendAudio(sent)]
    commands, sent = caller.say(SILENCE, 1_300)
    assert commands == [
        SendAudio(sent),
        CancelTimer("handover"),
        ReconnectLive(reason="go_away", handle="h1", delay_ms=0.0, attempt=1),
        _started_note("go_away", forced=False, handle_age_ms=800),
    ]


def test_loud_caller_audio_holds_the_handover_back_and_faint_audio_does_not() -> None:
    bridge = _live()
    caller = Caller(bridge)
    bridge.handle(SessionResumptionUpdate("h1", True), 500)
    bridge.handle(GoAway(30.0), 1_000)
    for now, frame in zip((1_300, 1_320, 1_340), _tone(3), strict=True):
        commands, sent = caller.say(frame, now)
        stall = [StartTimer("live_stall", 21_300)] if now == 1_300 else []
        assert commands == [SendAudio(sent), *stall]
    # The first quiet frame may still carry the resampler's ring-out of the tone.
    commands, sent = caller.say(SILENCE, 1_360)
    assert commands == [SendAudio(sent)]
    commands, sent = caller.say(SILENCE, 1_600)  # 240 ms after the last loud frame
    assert commands == [SendAudio(sent)]
    for now, frame in zip((1_620, 1_640), _tone(2, amplitude=100.0), strict=True):  # -53 dBFS
        commands, sent = caller.say(frame, now)
        assert commands == [SendAudio(sent)]
    commands, sent = caller.say(_tone(1, amplitude=100.0)[0], 1_700)
    assert commands == [
        SendAudio(sent),
        CancelTimer("handover"),
        ReconnectLive(reason="go_away", handle="h1", delay_ms=0.0, attempt=1),
        _started_note("go_away", forced=False, handle_age_ms=1_200),
    ]


def test_with_no_quiet_period_the_go_away_hands_over_at_once() -> None:
    bridge = _live(_options(handover_quiet_ms=0.0))
    bridge.handle(SessionResumptionUpdate("h1", True), 500)
    assert bridge.handle(GoAway(30.0), 1_000) == [
        StartTimer("handover", 26_000),
        Note("live.go_away", {"time_left_s": 30.0}),
        CancelTimer("handover"),
        ReconnectLive(reason="go_away", handle="h1", delay_ms=0.0, attempt=1),
        _started_note("go_away", forced=False, handle_age_ms=500),
    ]


def test_the_deadline_forces_the_handover_mid_turn() -> None:
    bridge = _live()
    bridge.handle(SessionResumptionUpdate("h1", True), 900)
    assert bridge.handle(GoAway(10.0), 1_000)[0] == StartTimer("handover", 6_000)
    pcm = _model_pcm(40)
    downlink = DownlinkPath(TWILIO)
    assert len(bridge.handle(AudioChunk(pcm, 24_000), 5_000)) == 3
    downlink.process(pcm)
    ring_out = downlink.flush()
    assert bridge.handle(TimerFired("handover"), 6_000) == [
        PlayAudio(ring_out[0]),  # what the model already said plays out
        PlaceMark("m2"),
        CancelTimer("handover"),
        ReconnectLive(reason="go_away", handle="h1", delay_ms=0.0, attempt=1),
        _started_note("go_away", forced=True, handle_age_ms=5_100),
    ]
    assert _state(bridge) is CallState.RECONNECTING
    # A handover timer that was already queued changes nothing now, nor once live again.
    assert bridge.handle(TimerFired("handover"), 6_001) == []
    bridge.handle(LiveOpened("s2", resumed=True), 6_200)
    assert bridge.handle(TimerFired("handover"), 6_300) == []
    assert _state(bridge) is CallState.LIVE
    assert bridge.summary()["handovers"] == [
        {
            "reason": "go_away",
            "forced": True,
            "gap_ms": 200.0,
            "handle_age_ms": 5_100,
            "attempts": 1,
            "outcome": "resumed",
        }
    ]


def test_a_close_after_go_away_resumes_and_cancels_the_handover_timer() -> None:
    bridge = _live()
    bridge.handle(SessionResumptionUpdate("h1", True), 900)
    bridge.handle(AudioChunk(_model_pcm(40), 24_000), 950)  # the turn is open: no handover
    bridge.handle(GoAway(10.0), 1_000)
    closed = LiveClosed(close_info(1000, "", go_away_seen=True))  # resumable after a goAway
    commands = bridge.handle(closed, 2_000)
    assert commands[2:] == [
        CancelTimer("handover"),
        ReconnectLive(reason="close 1000", handle="h1", delay_ms=0.0, attempt=1),
        _started_note("close 1000", forced=True, handle_age_ms=1_100),
    ]


# -------------------------------------------------------------------------- reconnecting


def test_caller_audio_and_keys_are_held_while_reconnecting_and_replayed_in_order() -> None:
    bridge = _live()
    caller = Caller(bridge)
    commands, first = caller.say(_tone(1)[0], 1_000)
    assert commands == [SendAudio(first), StartTimer("live_stall", 21_000)]
    bridge.handle(SessionResumptionUpdate("h1", True), 1_500)
    assert bridge.handle(CLOSED_1011, 2_000) == [
        ReconnectLive(reason="close 1011", handle="h1", delay_ms=0.0, attempt=1),
        _started_note("close 1011", forced=True, handle_age_ms=500),
    ]
    tone = _tone(5)
    held: list[bytes] = []
    for now, frame in zip((2_020, 2_040, 2_060), tone[1:4], strict=True):
        commands, pcm = caller.say(frame, now)
        assert commands == []
        held.append(pcm)
        if now == 2_020:
            assert bridge.handle(DtmfPressed("5"), 2_030) == []
        if now == 2_040:  # 20 ms after the last key: it waits for the DTMF gate's window
            assert bridge.handle(DtmfPressed("#"), 2_050) == [StartTimer("dtmf", 2_230.0)]
    # The old session's audio still plays while the new one connects.
    pcm_model = _model_pcm(40)
    assert bridge.handle(AudioChunk(pcm_model, 24_000), 2_070) == [
        *(PlayAudio(f) for f in DownlinkPath(TWILIO).process(pcm_model)),
        PlaceMark("m1"),
    ]
    assert bridge.handle(TimerFired("dtmf"), 2_230) == []  # held with the audio
    assert bridge.handle(LiveOpened("s2", resumed=True), 2_300) == [
        SendAudio(held[0]),
        SendText("The caller pressed 5 on the keypad."),
        SendAudio(held[1] + held[2]),  # held audio is replayed joined, up to 1 s a message
        SendText("The caller pressed # on the keypad."),
        _handover_note(
            "close 1011", forced=True, gap_ms=300.0, handle_age_ms=500, buffered_ms=60.0
        ),
    ]
    assert _state(bridge) is CallState.LIVE
    # The uplink ran on without a gap: the next frame continues the same stream.
    commands, pcm = caller.say(tone[4], 2_320)
    assert commands == [SendAudio(pcm)]
    summary = bridge.summary()
    assert summary["dtmf_digits"] == 2
    assert summary["reconnect_buffer_dropped_ms"] == 0.0
    assert summary["handovers"] == [
        {
            "reason": "close 1011",
            "forced": True,
            "gap_ms": 300.0,
            "handle_age_ms": 500,
            "attempts": 1,
            "outcome": "resumed",
        }
    ]


def test_the_reconnect_buffer_drops_the_oldest_audio_and_counts_it() -> None:
    bridge = _reconnecting(_options(reconnect_buffer_ms=40.0))
    caller = Caller(bridge)
    sent = []
    for index, (now, frame) in enumerate(zip((2_020, 2_040, 2_060), _tone(3), strict=True)):
        commands, pcm = caller.say(frame, now)
        assert commands == []
        sent.append(pcm)
        if index == 0:
            bridge.handle(DtmfPressed("1"), 2_030)
    assert bridge.handle(LiveOpened("s2", resumed=True), 2_500) == [
        SendText("The caller pressed 1 on the keypad."),  # keys are never dropped
        SendAudio(sent[1] + sent[2]),  # held audio is replayed in chunks
        _handover_note(
            "close 1011",
            forced=True,
            gap_ms=500.0,
            handle_age_ms=500,
            buffered_ms=40.0,
            dropped_ms=20.0,
        ),
    ]
    summary = bridge.summary()
    assert summary["reconnect_buffer_dropped_ms"] == 20.0
    assert summary["connect_buffer_dropped_ms"] == 0.0


def test_audio_held_when_the_call_ends_while_reconnecting_is_counted_as_dropped() -> None:
    bridge = _reconnecting()
    for now, frame in zip((2_020, 2_040), _tone(2), strict=True):
        bridge.handle(CallerAudio(frame), now)
    assert bridge.handle(CallStopped(), 2_100) == [
        CloseLive("carrier stop"),
        EndCall("carrier stop"),
    ]
    assert bridge.summary()["reconnect_buffer_dropped_ms"] == 40.0


def test_a_resumable_close_without_a_handle_reconnects_fresh() -> None:
    bridge = _live()
    assert bridge.handle(CLOSED_1006, 1_000) == [
        ReconnectLive(reason="close 1006", handle=None, delay_ms=0.0, context=None, attempt=1),
        _started_note("close 1006", forced=True, handle_age_ms=None, resume=False),
    ]
    assert bridge.handle(LiveOpened("s2"), 1_100) == [
        _handover_note(
            "close 1006", forced=True, gap_ms=100.0, handle_age_ms=None, outcome="fresh"
        ),
    ]


def test_a_close_while_reconnecting_backs_off() -> None:
    bridge = _reconnecting()
    assert bridge.handle(CLOSED_1011, 2_100) == [
        ReconnectLive(reason="close 1011", handle="h1", delay_ms=250.0, attempt=2),
        _retry_note(2, 250, resume=True, code=1011, kind="resumable"),
    ]
    assert bridge.handle(CLOSED_1006, 2_400) == [
        ReconnectLive(reason="close 1011", handle="h1", delay_ms=500.0, attempt=3),
        _retry_note(3, 500, resume=True, code=1006, kind="resumable"),
    ]
    assert _state(bridge) is CallState.RECONNECTING
    assert bridge.handle(LiveOpened("s2", resumed=True), 3_000) == [
        _handover_note("close 1011", forced=True, gap_ms=1_000.0, handle_age_ms=500, attempts=3)
    ]


def test_backoff_with_the_default_jitter_stays_in_its_band() -> None:
    bridge = _reconnecting(_options())
    commands = bridge.handle(CLOSED_1011, 2_100)
    retry = commands[0]
    assert isinstance(retry, ReconnectLive)
    assert (retry.attempt, retry.handle) == (2, "h1")
    assert 125.0 <= retry.delay_ms < 375.0


def test_a_session_that_dies_soon_after_a_handover_continues_the_attempt_count() -> None:
    bridge = _reconnecting()
    bridge.handle(LiveOpened("s2", resumed=True), 2_200)
    bridge.handle(SessionResumptionUpdate("h2", True), 3_000)
    assert bridge.handle(CLOSED_1011, 7_199) == [  # lived 4 999 ms
        ReconnectLive(reason="close 1011", handle="h2", delay_ms=250.0, attempt=2),
        _started_note("close 1011", forced=True, handle_age_ms=4_199, delay=250),
    ]


def test_a_session_that_stayed_up_starts_a_new_outage() -> None:
    bridge = _reconnecting()
    bridge.handle(LiveOpened("s2", resumed=True), 2_200)
    assert bridge.handle(CLOSED_1011, 7_200)[0] == ReconnectLive(
        reason="close 1011", handle="h1", delay_ms=0.0, attempt=1
    )


def _heard_conversation(bridge: CallBridge) -> None:
    """A caller question and the agent's answer, played; then a second answer, cut off."""
    bridge.handle(InputTranscript("When do you open?", finished=True), 900)
    bridge.handle(OutputTranscript("We open at nine."), 950)
    bridge.handle(AudioChunk(_model_pcm(40), 24_000), 1_000)  # m1
    bridge.handle(TurnComplete(), 1_010)  # m2: the ring-out
    bridge.handle(PlaybackMarked("m2"), 1_070)  # settles m1 and m2 as played
    bridge.handle(InputTranscript("And on Sunday?", finished=True), 1_200)
    bridge.handle(OutputTranscript("On Sunday we are closed."), 1_250)
    bridge.handle(AudioChunk(_model_pcm(40, offset_ms=40), 24_000), 1_300)  # m3, never heard
    bridge.handle(Interrupted(), 1_310)
    bridge.handle(TurnComplete(), 1_320)


CONTEXT = (
    "This phone call is already in progress; it moved to a new session. Continue it without "
    "greeting the caller again. The conversation so far:\n"
    "caller: When do you open?\n"
    "agent: We open at nine.\n"
    "caller: And on Sunday?"
)


def test_a_refused_handle_gets_a_fresh_session_told_the_conversation() -> None:
    bridge = _live()
    _heard_conversation(bridge)
    bridge.handle(SessionResumptionUpdate("h1", True), 1_500)
    assert bridge.handle(CLOSED_1011, 2_000)[0] == ReconnectLive("close 1011", "h1", 0.0, None, 1)
    assert bridge.handle(CLOSED_1008, 2_100) == [
        ReconnectLive(reason="close 1011", handle=None, delay_ms=0.0, context=CONTEXT, attempt=2),
        _retry_note(2, 0, resume=False, code=1008, kind="fatal_config"),
    ]
    assert bridge.handle(LiveOpened("s3", resumed=False), 2_400) == [
        _handover_note(
            "close 1011",
            forced=True,
            gap_ms=400.0,
            handle_age_ms=None,
            attempts=2,
            outcome="fresh",
            session_id="s3",
        )
    ]
    assert _state(bridge) is CallState.LIVE


def test_a_fresh_session_refused_too_sends_the_call_to_the_fallback() -> None:
    bridge = _reconnecting()
    bridge.handle(CLOSED_1008, 2_100)
    commands = bridge.handle(CLOSED_1008, 2_200)
    assert commands == [
        Note(
            "live.handover",
            {
                "reason": "close 1011",
                "forced": True,
                "gap_ms": None,
                "handle_age_ms": None,
                "attempts": 2,
                "outcome": "failed",
            },
            "error",
        ),
        Note("call.fallback", {"reason": "live lost (fatal_config)", "action": "hang_up"}, "error"),
        ControlCall(GOODBYE),
        StartTimer("handoff", 12_200),
    ]
    assert _state(bridge) is CallState.HANDING_OFF


def _exhausted(options: BridgeOptions) -> tuple[CallBridge, list[Command]]:
    """Agent audio pending (m1, m2), a caller frame held, both attempts (max 2) failed at 1 400."""
    bridge = _live(options)
    bridge.handle(SessionResumptionUpdate("h1", True), 500)
    bridge.handle(AudioChunk(_model_pcm(40), 24_000), 1_000)  # m1: 40 ms, until 1 040
    commands = bridge.handle(CLOSED_1011, 1_010)
    assert _kinds(commands) == ["PlayAudio", "PlaceMark", "ReconnectLive", "Note"]
    assert commands[1] == PlaceMark("m2")  # the ring-out, until 1 060
    assert bridge.handle(CallerAudio(_tone(1)[0]), 1_020) == []
    assert bridge.handle(CLOSED_1011, 1_050)[0] == ReconnectLive("close 1011", "h1", 250.0, None, 2)
    return bridge, bridge.handle(CLOSED_1011, 1_400)


FAILED_HANDOVER = Note(
    "live.handover",
    {
        "reason": "close 1011",
        "forced": True,
        "gap_ms": None,
        "handle_age_ms": 510,
        "attempts": 2,
        "outcome": "failed",
    },
    "error",
)


def test_exhausted_attempts_say_goodbye_after_the_last_words_are_heard() -> None:
    bridge, commands = _exhausted(_options(reconnect=ReconnectPolicy(max_attempts=2, jitter=0.0)))
    assert commands == [
        FAILED_HANDOVER,
        Note("call.fallback", {"reason": "live lost (resumable)", "action": "hang_up"}, "error"),
        StartTimer("wrap_up", 1_400 + 2_000),
        Note("call.wrap_up", {"action": "hang_up", "pending_ms": 60.0}),
    ]
    assert _state(bridge) is CallState.WRAPPING_UP
    assert bridge.handle(CallerAudio(_tone(1)[0]), 1_410) == []  # goes nowhere now
    assert bridge.handle(DtmfPressed("1"), 1_415) == []
    assert bridge.handle(PlaybackMarked("m1"), 1_420) == []
    assert _state(bridge) is CallState.WRAPPING_UP
    assert bridge.handle(PlaybackMarked("m2"), 1_440) == [
        CancelTimer("wrap_up"),
        ControlCall(GOODBYE),
        StartTimer("handoff", 11_440),
    ]
    assert _state(bridge) is CallState.HANDING_OFF
    assert bridge.handle(CallControlled(GOODBYE, ok=True), 1_600) == [
        Note("call.controlled", {"action": "hang_up", "ok": True})
    ]
    assert bridge.handle(CallStopped(), 1_800) == [EndCall("handed off (hang_up)")]
    summary = bridge.summary()
    assert summary["end_reason"] == "handed off (hang_up)"
    assert (summary["fallback"], summary["call_action"]) == ("live lost (resumable)", "hang_up")
    assert summary["reconnect_buffer_dropped_ms"] == 20.0  # the held frame never reached a model
    assert summary["caller_dropped_ms"] == 20.0
    assert summary["handovers"] == [FAILED_HANDOVER.fields]
    assert summary["live_close"] == {"code": 1011, "reason": "internal error", "kind": "resumable"}


def test_exhausted_attempts_transfer_to_the_fallback_number_on_the_wrap_up_timer() -> None:
    options = _options(
        reconnect=ReconnectPolicy(max_attempts=2, jitter=0.0), fallback_number=FALLBACK_NUMBER
    )
    bridge, commands = _exhausted(options)
    assert commands == [
        FAILED_HANDOVER,
        Note(
            "call.fallback",
            {"reason": "live lost (resumable)", "action": "transfer:fallback"},
            "error",
        ),
        StartTimer("wrap_up", 3_400),
        Note("call.wrap_up", {"action": "transfer:fallback", "pending_ms": 60.0}),
    ]
    assert bridge.handle(PlaybackMarked("m1"), 1_420) == []
    assert bridge.handle(TimerFired("wrap_up"), 3_400) == [
        Note("call.wrap_up_timeout", {"pending_ms": 20.0}, "warning"),
        CancelTimer("wrap_up"),
        ControlCall(TO_FALLBACK),
        StartTimer("handoff", 13_400),
    ]
    assert _state(bridge) is CallState.HANDING_OFF
    assert bridge.handle(TimerFired("handoff"), 13_400) == [
        Note("call.handoff_timeout", {"action": "transfer:fallback"}, "warning"),
        EndCall("handed off (transfer:fallback)"),
    ]
    assert _state(bridge) is CallState.ENDED
    assert bridge.summary()["call_action"] == "transfer:fallback"


def test_a_failed_call_control_ends_the_call() -> None:
    bridge, _ = _exhausted(_options(reconnect=ReconnectPolicy(max_attempts=2, jitter=0.0)))
    bridge.handle(PlaybackMarked("m2"), 1_440)
    detail = "HTTP 404 " + "x" * 300
    assert bridge.handle(CallControlled(GOODBYE, ok=False, detail=detail), 1_500) == [
        Note(
            "call.control_failed",
            {"action": "hang_up", "ok": False, "detail": detail[:200]},
            "warning",
        ),
        EndCall("call control failed"),
    ]
    assert _state(bridge) is CallState.ENDED


def test_a_session_that_opens_after_the_call_moved_on_is_closed() -> None:
    bridge, _ = _exhausted(_options(reconnect=ReconnectPolicy(max_attempts=2, jitter=0.0)))
    assert _state(bridge) is CallState.WRAPPING_UP
    assert bridge.handle(LiveOpened("late"), 1_410) == [CloseLive("not needed")]
    assert _state(bridge) is CallState.WRAPPING_UP
    bridge.handle(PlaybackMarked("m2"), 1_440)
    assert _state(bridge) is CallState.HANDING_OFF
    assert bridge.handle(LiveOpened("later"), 1_450) == [CloseLive("not needed")]
    assert _state(bridge) is CallState.HANDING_OFF


def test_a_stop_while_handing_off_ends_as_handed_off() -> None:
    bridge = _live(_options(fallback_number=FALLBACK_NUMBER))
    bridge.handle(CLOSED_1007, 1_000)
    assert _state(bridge) is CallState.HANDING_OFF
    assert bridge.handle(CallStopped("call transferred"), 1_500) == [
        EndCall("handed off (transfer:fallback)")
    ]
    assert bridge.summary()["end_reason"] == "handed off (transfer:fallback)"


# ------------------------------------------------------------------ fatal and normal closes


def test_a_fatal_close_in_live_falls_back() -> None:
    bridge = _live()
    assert bridge.handle(CLOSED_1007, 1_000) == [
        Note(
            "call.fallback", {"reason": "live failed (fatal_config)", "action": "hang_up"}, "error"
        ),
        ControlCall(GOODBYE),
        StartTimer("handoff", 11_000),
    ]
    assert _state(bridge) is CallState.HANDING_OFF
    summary = bridge.summary()
    assert (summary["fallback"], summary["handovers"]) == ("live failed (fatal_config)", [])


def test_a_quota_close_in_live_falls_back_without_retrying() -> None:
    bridge = _live(_options(fallback_number=FALLBACK_NUMBER))
    bridge.handle(SessionResumptionUpdate("h1", True), 500)
    assert bridge.handle(CLOSED_QUOTA, 1_000) == [
        Note(
            "call.fallback",
            {"reason": "live failed (quota)", "action": "transfer:fallback"},
            "error",
        ),
        ControlCall(TO_FALLBACK),
        StartTimer("handoff", 11_000),
    ]


def test_a_normal_close_still_plays_out_and_ends() -> None:
    bridge = _live()
    bridge.handle(SessionResumptionUpdate("h1", True), 500)
    assert bridge.handle(CLOSED_1000, 1_000) == [EndCall("live closed")]
    bridge = _live()
    bridge.handle(AudioChunk(_model_pcm(40), 24_000), 1_000)
    commands = bridge.handle(CLOSED_1000, 1_010)
    assert _state(bridge) is CallState.ENDING
    assert _kinds(commands) == ["PlayAudio", "PlaceMark", "StartTimer", "Note"]
    summary = bridge.summary()
    assert (summary["fallback"], summary["handovers"]) == (None, [])


def test_a_connect_timeout_transfers_to_the_fallback_number() -> None:
    bridge = _started(_options(fallback_number=FALLBACK_NUMBER))
    bridge.handle(CallerAudio(_tone(1)[0]), 200)
    assert bridge.handle(TimerFired("connect"), 10_100) == [
        CloseLive("fallback"),
        Note(
            "call.fallback",
            {"reason": "live connect timeout", "action": "transfer:fallback"},
            "error",
        ),
        CancelTimer("connect"),
        ControlCall(TO_FALLBACK),
        StartTimer("handoff", 20_100),
    ]
    assert _state(bridge) is CallState.HANDING_OFF
    summary = bridge.summary()
    assert summary["connect_buffer_dropped_ms"] == 20.0
    assert summary["reconnect_buffer_dropped_ms"] == 0.0


def test_a_transient_connect_failure_is_retried_with_backoff() -> None:
    bridge = _started()
    bridge.handle(CallerAudio(_tone(1)[0]), 200)
    assert bridge.handle(CLOSED_1011, 400) == [
        ReconnectLive(reason="connect failed", handle=None, delay_ms=250.0, attempt=2),
        _retry_note(2, 250, resume=False, code=1011, kind="resumable"),
    ]
    assert _state(bridge) is CallState.CONNECTING_MODEL
    commands = bridge.handle(LiveOpened("s1"), 900)
    assert _kinds(commands) == ["SendAudio", "CancelTimer", "Note"]
    assert _state(bridge) is CallState.LIVE
    assert bridge.summary()["handovers"] == [
        {
            "reason": "connect failed",
            "forced": True,
            "gap_ms": 500.0,
            "handle_age_ms": None,
            "attempts": 2,
            "outcome": "fresh",
        }
    ]


# ------------------------------------------------------------------------------- tools

TOOLS = frozenset({"lookup"})


def test_a_configured_tool_runs_and_an_unknown_one_is_refused_at_once() -> None:
    bridge = _live(_options(tool_names=TOOLS))
    lookup = FunctionCall("c1", "lookup", {"order": 7})
    other = FunctionCall("c2", "weather", {"city": "Oslo"})
    assert bridge.handle(ToolCall((lookup, other)), 1_000) == [
        SendToolResponse(
            (ToolResult("c2", "weather", {"error": "no tool named weather is configured"}),)
        ),
        RunTool(lookup),
        Note("tool.not_configured", {"name": "weather"}, "warning"),
    ]
    assert bridge.summary()["tool_calls"] == 2


def test_a_finished_tool_is_answered_with_its_id_name_response_and_scheduling() -> None:
    bridge = _live(_options(tool_names=TOOLS))
    bridge.handle(ToolCall((FunctionCall("c1", "lookup", {"order": 7}),)), 1_000)
    response = {"output": {"status": "shipped", "eta_days": 2}}
    finished = ToolFinished(
        "c1", "lookup", response, duration_ms=234.56, scheduling=Scheduling.WHEN_IDLE
    )
    assert bridge.handle(finished, 1_235) == [
        SendToolResponse((ToolResult("c1", "lookup", response, Scheduling.WHEN_IDLE),))
    ]
    error = ToolFinished("c1", "lookup", {"error": "x"}, outcome="error")
    assert bridge.handle(error, 1_300) == [  # the same id twice: the second is late
        Note("tool.late_result_dropped", {"name": "lookup", "call_id": "c1"})
    ]
    assert bridge.summary()["tools"] == [{"name": "lookup", "outcome": "ok", "duration_ms": 234.6}]


def test_a_cancelled_tool_is_cancelled_and_its_late_result_dropped() -> None:
    bridge = _live(_options(tool_names=TOOLS))
    bridge.handle(ToolCall((FunctionCall("c1", "lookup"), FunctionCall("c2", "lookup"))), 1_000)
    assert bridge.handle(ToolCallCancellation(("c1", "c9")), 1_400) == [
        CancelTool("c1"),  # c9 never ran: nothing to cancel
        Note("tool.cancelled", {"call_ids": ["c1", "c9"]}),
    ]
    late = ToolFinished("c1", "lookup", {"output": "too late"}, duration_ms=500)
    assert bridge.handle(late, 1_500) == [
        Note("tool.late_result_dropped", {"name": "lookup", "call_id": "c1"})
    ]
    done = ToolFinished("c2", "lookup", {"output": "ok"}, duration_ms=600)
    assert bridge.handle(done, 1_600) == [
        SendToolResponse((ToolResult("c2", "lookup", {"output": "ok"}),))
    ]
    assert bridge.summary()["tools"] == [
        {"name": "lookup", "outcome": "cancelled", "duration_ms": 400.0},
        {"name": "lookup", "outcome": "ok", "duration_ms": 600.0},
    ]


def test_a_result_for_a_replaced_session_is_told_as_text() -> None:
    bridge = _live(_options(tool_names=TOOLS))
    bridge.handle(SessionResumptionUpdate("h1", True), 500)
    bridge.handle(ToolCall((FunctionCall("c1", "lookup"),)), 900)
    bridge.handle(CLOSED_1011, 1_000)  # an abrupt close does not wait for the tool
    bridge.handle(LiveOpened("s2", resumed=True), 1_200)
    finished = ToolFinished("c1", "lookup", {"output": {"status": "shipped"}}, duration_ms=600)
    assert bridge.handle(finished, 1_500) == [SendText(result_as_text(finished))]
    assert bridge.summary()["tools"] == [{"name": "lookup", "outcome": "ok", "duration_ms": 600.0}]


def test_a_result_arriving_while_reconnecting_follows_the_held_audio() -> None:
    bridge = _live(_options(tool_names=TOOLS))
    caller = Caller(bridge)
    bridge.handle(SessionResumptionUpdate("h1", True), 500)
    bridge.handle(ToolCall((FunctionCall("c1", "lookup"),)), 900)
    bridge.handle(CLOSED_1011, 1_000)
    _, first = caller.say(_tone(1)[0], 1_020)
    finished = ToolFinished("c1", "lookup", {"output": "found"}, duration_ms=130)
    assert bridge.handle(finished, 1_030) == []
    _, second = caller.say(SILENCE, 1_040)
    commands = bridge.handle(LiveOpened("s2", resumed=True), 1_300)
    assert commands[:2] == [
        SendAudio(first + second),  # held audio is replayed in chunks
        SendText(result_as_text(finished)),
    ]
    assert _kinds(commands[2:]) == ["Note"]
    # Told once: nothing is repeated at the next handover.
    bridge.handle(SessionResumptionUpdate("h2", True), 9_000)
    bridge.handle(CLOSED_1011, 9_100)
    assert _kinds(bridge.handle(LiveOpened("s3", resumed=True), 9_200)) == ["Note"]


def test_a_transfer_tool_lets_the_last_words_play_then_transfers() -> None:
    bridge = _live(_options(tool_names=frozenset({"transfer"})))
    bridge.handle(AudioChunk(_model_pcm(40), 24_000), 1_000)  # m1, until 1 040
    bridge.handle(ToolCall((FunctionCall("t1", "transfer", {"to": "sales"}),)), 1_005)
    sales = Transfer("+15550199", "sales")
    finished = ToolFinished("t1", "transfer", {"output": "transferring"}, action=sales)
    commands = bridge.handle(finished, 1_010)
    assert _kinds(commands) == ["SendToolResponse", "PlayAudio", "PlaceMark", "StartTimer", "Note"]
    # The model hears what happens (every function call gets its response), then the wrap-up.
    assert commands[0] == SendToolResponse(
        (ToolResult("t1", "transfer", {"output": "transferring"}),)
    )
    assert commands[2:] == [
        PlaceMark("m2"),  # the ring-out, until 1 060
        StartTimer("wrap_up", 1_060 + 2_000),
        Note("call.wrap_up", {"action": "transfer:sales", "pending_ms": 60.0}),
    ]
    assert _state(bridge) is CallState.WRAPPING_UP
    assert bridge.handle(PlaybackMarked("m2"), 1_070) == [
        CancelTimer("wrap_up"),
        CloseLive("handing off"),
        ControlCall(sales),
        StartTimer("handoff", 11_070),
    ]
    assert _state(bridge) is CallState.HANDING_OFF
    assert bridge.handle(CallControlled(sales, ok=True), 1_200) == [
        Note("call.controlled", {"action": "transfer:sales", "ok": True})
    ]
    assert bridge.handle(CallStopped(), 1_300) == [EndCall("handed off (transfer:sales)")]
    summary = bridge.summary()
    assert (summary["call_action"], summary["fallback"]) == ("transfer:sales", None)
    assert summary["tools"] == [{"name": "transfer", "outcome": "ok", "duration_ms": 0.0}]


def test_a_hang_up_tool_with_nothing_pending_hangs_up_at_once() -> None:
    bridge = _live(_options(tool_names=frozenset({"hang_up"})))
    bridge.handle(ToolCall((FunctionCall("h1", "hang_up"),)), 1_000)
    finished = ToolFinished("h1", "hang_up", {"output": "bye"}, duration_ms=2, action=HangUp())
    assert bridge.handle(finished, 1_010) == [
        SendToolResponse((ToolResult("h1", "hang_up", {"output": "bye"}),)),  # sent, then closed
        CloseLive("handing off"),
        ControlCall(HangUp()),
        StartTimer("handoff", 11_010),
    ]
    assert _state(bridge) is CallState.HANDING_OFF
    assert bridge.handle(CallStopped(), 1_200) == [EndCall("handed off (hang_up)")]
    summary = bridge.summary()
    assert summary["call_action"] == "hang_up"
    assert summary["tools"] == [{"name": "hang_up", "outcome": "ok", "duration_ms": 2.0}]


def test_a_hang_up_call_without_an_id_is_answered_without_one() -> None:
    """Vertex: the hang-up tool's own response carries the call's (absent) id, not the local
    key it ran under."""
    bridge = _live(_options(tool_names=frozenset({"hang_up"})))
    assert bridge.handle(ToolCall((FunctionCall(None, "hang_up"),)), 1_000) == [
        Note("tool.without_id", {"name": "hang_up", "key": "local-1"}),
        RunTool(FunctionCall("local-1", "hang_up")),
    ]
    finished = ToolFinished("local-1", "hang_up", {"output": "bye"}, action=HangUp())
    assert bridge.handle(finished, 1_010) == [
        SendToolResponse((ToolResult(None, "hang_up", {"output": "bye"}),)),
        CloseLive("handing off"),
        ControlCall(HangUp()),
        StartTimer("handoff", 11_010),
    ]


def test_agent_audio_after_a_transfer_is_all_played_before_the_transfer() -> None:
    """FAILS (bug in gateway/core/bridge.py, `_on_timer_fired`: the playback timer releases
    only in LIVE and RECONNECTING). The last words that arrive while wrapping up must reach the
    caller: WRAPPING_UP takes model audio (its handler is `audio_chunk`), so what exceeds the
    carrier lead must still be released by the playback timer, and the transfer follows its
    final mark."""
    bridge = _live(_options(tool_names=frozenset({"transfer"})))
    bridge.handle(AudioChunk(_model_pcm(40), 24_000), 1_000)  # m1
    bridge.handle(ToolCall((FunctionCall("t1", "transfer"),)), 1_005)
    sales = Transfer("+15550199", "sales")
    bridge.handle(ToolFinished("t1", "transfer", {"output": "ok"}, action=sales), 1_010)  # m2
    assert _state(bridge) is CallState.WRAPPING_UP
    pcm = _model_pcm(1_000, offset_ms=40)
    downlink = DownlinkPath(TWILIO)
    downlink.process(_model_pcm(40))
    downlink.flush()  # the wrap-up released the ring-out (m2)
    expected = downlink.process(pcm)
    sent: list[bytes] = []
    commands = bridge.handle(AudioChunk(pcm, 24_000), 1_020)  # m3
    now = 1_020.0
    for _ in range(200):  # the shell fires each playback timer the bridge asks for
        sent += [c.payload for c in commands if isinstance(c, PlayAudio)]
        timers = [c for c in commands if isinstance(c, StartTimer) and c.name == "playback"]
        if not timers:
            break
        now = timers[-1].at_ms
        commands = bridge.handle(TimerFired("playback"), now)
    assert sent == expected, f"{len(sent)} of {len(expected)} frames reached the carrier"


def test_a_transfer_while_a_handover_is_due_cancels_the_handover_timer() -> None:
    bridge = _live(_options(tool_names=frozenset({"transfer"})))
    bridge.handle(SessionResumptionUpdate("h1", True), 500)
    bridge.handle(AudioChunk(_model_pcm(40), 24_000), 1_000)  # m1: the turn is open
    bridge.handle(GoAway(30.0), 1_001)
    bridge.handle(ToolCall((FunctionCall("t1", "transfer"),)), 1_005)
    sales = Transfer("+15550199", "sales")
    commands = bridge.handle(ToolFinished("t1", "transfer", {}, action=sales), 1_010)
    assert commands[0] == SendToolResponse((ToolResult("t1", "transfer", {}),))
    assert commands[2:] == [
        PlaceMark("m2"),
        CancelTimer("handover"),
        StartTimer("wrap_up", 3_060),
        Note("call.wrap_up", {"action": "transfer:sales", "pending_ms": 60.0}),
    ]
    assert bridge.handle(TimerFired("handover"), 26_000) == []  # stale: nothing happens
    assert _state(bridge) is CallState.WRAPPING_UP


def test_a_tool_call_of_the_replaced_session_gets_no_tool_response_on_the_new_one() -> None:
    """FAILS (bug in gateway/core/bridge_model.py, `_on_tool_call` while RECONNECTING).
    While reconnecting, events of the old session are still read. A call to an unknown tool
    it asked is answered at once with a SendToolResponse, which the shell queues after the
    ReconnectLive: it goes to the NEW session, which never asked for that call id. The module
    doc of tool_calls says a toolResponse may only go to the session that asked for it."""
    bridge = _reconnecting()
    commands = bridge.handle(ToolCall((FunctionCall("c7", "weather"),)), 2_050)
    responses = [c for c in commands if isinstance(c, SendToolResponse)]
    assert responses == [], f"a toolResponse for the old session's call: {responses}"


def test_exhausted_attempts_while_connecting_fall_back() -> None:
    bridge = _started(_options(reconnect=ReconnectPolicy(max_attempts=2, jitter=0.0)))
    bridge.handle(CLOSED_1011, 400)
    assert bridge.handle(CLOSED_1006, 900) == [
        Note(
            "call.fallback",
            {"reason": "live unavailable (resumable)", "action": "hang_up"},
            "error",
        ),
        CancelTimer("connect"),
        ControlCall(GOODBYE),
        StartTimer("handoff", 10_900),
    ]
    assert _state(bridge) is CallState.HANDING_OFF
    handovers = bridge.summary()["handovers"]
    assert [(h["reason"], h["attempts"], h["outcome"]) for h in handovers] == [
        ("connect failed", 2, "failed")
    ]


def test_a_handover_session_dying_again_after_the_last_attempt_falls_back() -> None:
    bridge = _live(_options(reconnect=ReconnectPolicy(max_attempts=2, jitter=0.0)))
    bridge.handle(SessionResumptionUpdate("h1", True), 500)
    bridge.handle(CLOSED_1011, 1_000)
    bridge.handle(CLOSED_1011, 1_100)  # attempt 2
    bridge.handle(LiveOpened("s2", resumed=True), 1_500)
    assert bridge.handle(CLOSED_1011, 2_000) == [  # lived 500 ms: the same outage, no attempt left
        Note(
            "call.fallback", {"reason": "live session keeps failing", "action": "hang_up"}, "error"
        ),
        ControlCall(GOODBYE),
        StartTimer("handoff", 12_000),
    ]
    assert _state(bridge) is CallState.HANDING_OFF
    last = bridge.summary()["handovers"][-1]
    assert (last["reason"], last["outcome"], last["gap_ms"]) == ("close 1011", "failed", None)


# ------------------------------------------------------------------------------ EndRequested


def _waiting() -> CallBridge:
    bridge = CallBridge(_options())
    bridge.begin(0)
    return bridge


def _ending() -> CallBridge:
    bridge = _live()
    bridge.handle(AudioChunk(_model_pcm(40), 24_000), 1_000)
    bridge.handle(CLOSED_1000, 1_010)
    return bridge


def _wrapping_up_for_a_tool() -> CallBridge:
    bridge = _live(_options(tool_names=frozenset({"transfer"})))
    bridge.handle(AudioChunk(_model_pcm(40), 24_000), 1_000)
    bridge.handle(ToolCall((FunctionCall("t1", "transfer"),)), 1_005)
    action = Transfer("+15550199", "sales")
    bridge.handle(ToolFinished("t1", "transfer", {"output": "ok"}, action=action), 1_010)
    return bridge


def _wrapping_up_for_the_fallback() -> CallBridge:
    bridge = _live()
    bridge.handle(AudioChunk(_model_pcm(40), 24_000), 1_000)
    bridge.handle(CLOSED_1007, 1_010)
    return bridge


def _handing_off() -> CallBridge:
    bridge = _live()
    bridge.handle(CLOSED_1007, 1_010)
    return bridge


def _ended() -> CallBridge:
    bridge = _live()
    bridge.handle(CallStopped(), 1_010)
    return bridge


DRAINING = EndRequested("draining")
CLOSE_AND_END: list[Command] = [CloseLive("draining"), EndCall("draining")]
JUST_END: list[Command] = [EndCall("draining")]

END_CASES: list[tuple[str, Callable[[], CallBridge], CallState, list[Command]]] = [
    ("waiting", _waiting, CallState.WAITING_FOR_START, JUST_END),
    ("connecting", lambda: _started(), CallState.CONNECTING_MODEL, CLOSE_AND_END),
    ("live", lambda: _live(), CallState.LIVE, CLOSE_AND_END),
    ("reconnecting", lambda: _reconnecting(), CallState.RECONNECTING, CLOSE_AND_END),
    ("ending", _ending, CallState.ENDING, JUST_END),
    ("wrapping_up_tool", _wrapping_up_for_a_tool, CallState.WRAPPING_UP, CLOSE_AND_END),
    ("wrapping_up_fallback", _wrapping_up_for_the_fallback, CallState.WRAPPING_UP, JUST_END),
    ("handing_off", _handing_off, CallState.HANDING_OFF, JUST_END),
]


@pytest.mark.parametrize(
    ("build", "state", "expected"),
    [case[1:] for case in END_CASES],
    ids=[case[0] for case in END_CASES],
)
def test_end_requested_closes_any_session_and_ends_the_call(
    build: Callable[[], CallBridge], state: CallState, expected: list[Command]
) -> None:
    bridge = build()
    assert _state(bridge) is state
    assert bridge.handle(DRAINING, 20_000) == expected
    assert _state(bridge) is CallState.ENDED
    assert bridge.summary()["end_reason"] == "draining"
    # Once ended, nothing more is asked of anyone.
    assert bridge.handle(DRAINING, 20_001) == []
    assert bridge.handle(LiveOpened("late"), 20_002) == []


def test_end_requested_once_ended_is_ignored() -> None:
    bridge = _ended()
    assert bridge.handle(DRAINING, 2_000) == []
    assert bridge.summary()["end_reason"] == "carrier stop"
