"""CallBridge on scripted event sequences: the exact commands, in order."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest

from gateway.audio import g711
from gateway.audio.paths import CarrierFormat, DownlinkPath, Encoding, UplinkPath
from gateway.core.bridge import BridgeOptions, CallBridge, CallState, IllegalTransition
from gateway.core.events import (
    CallControlled,
    CallerAudio,
    CallStarted,
    CallStopped,
    CancelTimer,
    CarrierClosed,
    ClearPlayback,
    CloseLive,
    Command,
    ControlCall,
    DtmfPressed,
    EndCall,
    HangUp,
    LiveClosed,
    LiveOpened,
    MessageIgnored,
    MessagesMissed,
    Note,
    PlaceMark,
    PlayAudio,
    PlaybackMarked,
    SendAudio,
    SendText,
    SendToolResponse,
    StartTimer,
    TimerFired,
)
from gateway.core.options import APOLOGY_GOODBYE
from gateway.live.closes import close_info
from gateway.live.events import (
    AudioChunk,
    FunctionCall,
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

TWILIO = CarrierFormat()
NORMAL_CLOSE = LiveClosed(close_info(1000, "", go_away_seen=False))


def _caller_frames(count: int) -> list[bytes]:
    """20 ms μ-law frames of a 300 Hz tone."""
    samples = (6000 * np.sin(2 * np.pi * 300 * np.arange(160 * count) / 8000)).astype("<i2")
    payload = g711.ulaw_encode(samples.tobytes())
    return [payload[i : i + 160] for i in range(0, len(payload), 160)]


def _model_pcm(ms: int, hz: float = 440.0, offset_ms: int = 0) -> bytes:
    """`ms` of 24 kHz PCM16 speech stand-in, continuing from `offset_ms`: a tone whose pitch
    wanders (no two 20 ms frames alike), so frame order is checkable."""
    t = np.arange(24 * offset_ms, 24 * (offset_ms + ms)) / 24_000
    phase = 2 * np.pi * hz * (t + 0.3 * t * t)
    return (8000 * np.sin(phase)).astype("<i2").tobytes()


def _started(options: BridgeOptions | None = None) -> CallBridge:
    # A mark after every model chunk, so each test sees each chunk's mark: the marks' spacing
    # (`mark_interval_ms`, the gateway's default) is tested in test_playout.py and test_marks.py.
    bridge = CallBridge(replace(options or BridgeOptions(), mark_interval_ms=0))
    bridge.begin(0)
    bridge.handle(CallStarted("CA1", "MZ1", media_format=TWILIO), 100)
    return bridge


def _live(options: BridgeOptions | None = None) -> CallBridge:
    bridge = _started(options)
    bridge.handle(LiveOpened("s1"), 300)
    return bridge


def _audio(commands: list[Command]) -> list[bytes]:
    return [c.payload for c in commands if isinstance(c, PlayAudio)]


def _kinds(commands: list[Command]) -> list[str]:
    return [type(c).__name__ for c in commands]


# ------------------------------------------------------------------------------ start, connect


def test_begin_arms_the_start_timer_and_no_start_ends_the_call() -> None:
    bridge = CallBridge()
    assert bridge.begin(1000) == [StartTimer("start", 11_000)]
    assert bridge.handle(TimerFired("start"), 11_000) == [EndCall("no start")]
    assert bridge.state is CallState.ENDED
    assert bridge.summary()["end_reason"] == "no start"
    assert bridge.summary()["duration_ms"] is None


def test_call_started_connects_the_model() -> None:
    bridge = CallBridge()
    bridge.begin(0)
    assert bridge.handle(CallerAudio(b"\xff" * 160), 10) == []  # before start: counted, ignored
    commands = bridge.handle(CallStarted("CA1", "MZ1", media_format=TWILIO), 100)
    assert commands == [
        CancelTimer("start"),
        Note(
            "call.started",
            {"call_id": "CA1", "stream_id": "MZ1", "encoding": "mulaw", "rate_hz": 8000,
             "frame_ms": 20},
        ),
        StartTimer("connect", 10_100),
    ]  # fmt: skip
    assert bridge.state is CallState.CONNECTING_MODEL
    assert (bridge.call_id, bridge.stream_id) == ("CA1", "MZ1")
    assert bridge.summary()["caller_frames_before_start"] == 1
    # A stale start timer (fired before the shell saw the cancel) changes nothing.
    assert bridge.handle(TimerFired("start"), 10_000) == []
    assert bridge.state is CallState.CONNECTING_MODEL


def test_audio_and_keys_while_connecting_go_out_in_order_when_the_model_opens() -> None:
    frames = _caller_frames(3)
    reference = UplinkPath(TWILIO)
    expected_pcm = [reference.process(f) for f in frames]
    bridge = _started()
    assert bridge.handle(CallerAudio(frames[0]), 120) == []
    assert bridge.handle(CallerAudio(frames[1]), 140) == []
    assert bridge.handle(DtmfPressed("5"), 150) == []
    assert bridge.handle(CallerAudio(frames[2]), 160) == []
    commands = bridge.handle(LiveOpened("s1"), 400)
    assert commands == [
        SendAudio(expected_pcm[0] + expected_pcm[1]),  # held audio is replayed in chunks
        SendText("The caller pressed 5 on the keypad."),
        SendAudio(expected_pcm[2]),
        CancelTimer("connect"),
        Note(
            "live.opened",
            {"session_id": "s1", "resumed": False, "connect_wait_ms": 300.0,
             "buffered_ms": 60.0, "dropped_ms": 0.0},
        ),
    ]  # fmt: skip
    assert bridge.state is CallState.LIVE
    # The uplink's state ran on: the next frame continues the same stream.
    next_frame = _caller_frames(4)[3]
    assert bridge.handle(CallerAudio(next_frame), 420) == [
        SendAudio(reference.process(next_frame)),
        StartTimer("live_stall", 420 + 20_000),  # speech: the session must answer in time
    ]
    summary = bridge.summary()
    assert (summary["connect_wait_ms"], summary["caller_audio_ms"]) == (300.0, 80.0)
    assert summary["dtmf_digits"] == 1


def test_the_connect_buffer_drops_the_oldest_audio_and_counts_it() -> None:
    frames = _caller_frames(3)
    reference = UplinkPath(TWILIO)
    expected_pcm = [reference.process(f) for f in frames]
    bridge = _started(BridgeOptions(connect_buffer_ms=40))
    for frame in frames:
        bridge.handle(CallerAudio(frame), 200)
    commands = bridge.handle(LiveOpened("s1"), 500)
    assert commands[0] == SendAudio(expected_pcm[1] + expected_pcm[2])  # one chunk
    note = commands[-1]
    assert isinstance(note, Note)
    assert (note.fields["buffered_ms"], note.fields["dropped_ms"]) == (40.0, 20.0)
    assert bridge.summary()["connect_buffer_dropped_ms"] == 20.0


GOODBYE = HangUp(announcement=APOLOGY_GOODBYE)


def test_connect_timeout_closes_the_session_and_falls_back_to_a_goodbye() -> None:
    bridge = _started()
    assert bridge.handle(TimerFired("connect"), 10_100) == [
        CloseLive("fallback"),
        Note("call.fallback", {"reason": "live connect timeout", "action": "hang_up"}, "error"),
        CancelTimer("connect"),
        ControlCall(GOODBYE),
        StartTimer("handoff", 10_100 + 10_000),
    ]
    assert bridge.state is CallState.HANDING_OFF
    assert bridge.handle(CallControlled(GOODBYE, ok=True), 10_300) == [
        Note("call.controlled", {"action": "hang_up", "ok": True})
    ]
    assert bridge.handle(CallStopped(), 10_500) == [EndCall("handed off (hang_up)")]
    summary = bridge.summary()
    assert (summary["fallback"], summary["call_action"]) == ("live connect timeout", "hang_up")


def test_live_unavailable_while_connecting_falls_back_without_retrying() -> None:
    bridge = _started()
    refused = LiveClosed(close_info(1008, "API key not valid", go_away_seen=False))
    reason = "live unavailable (fatal_config)"
    assert bridge.handle(refused, 900) == [
        Note("call.fallback", {"reason": reason, "action": "hang_up"}, "error"),
        CancelTimer("connect"),
        ControlCall(GOODBYE),
        StartTimer("handoff", 900 + 10_000),
    ]
    assert bridge.summary()["live_close"] == {
        "code": 1008,
        "reason": "API key not valid",
        "kind": "fatal_config",
    }


def test_an_unsupported_media_format_ends_the_call() -> None:
    bridge = CallBridge()
    commands = bridge.handle(
        CallStarted("CA1", "MZ1", media_format=CarrierFormat(rate_hz=11_025)), 5
    )
    assert _kinds(commands) == ["Note", "EndCall"]
    assert commands[-1] == EndCall("unsupported media format")
    assert bridge.state is CallState.ENDED


# ------------------------------------------------------------------------------- caller side


def test_live_caller_audio_is_one_send_per_frame_without_buffering() -> None:
    bridge = _live()
    reference = UplinkPath(TWILIO)
    for index, frame in enumerate(_caller_frames(5)):
        # The first speech also starts the stall clock (once: it runs until Live answers).
        stall = [StartTimer("live_stall", 20_500)] if index == 0 else []
        assert bridge.handle(CallerAudio(frame), 500) == [
            SendAudio(reference.process(frame)),
            *stall,
        ]
    assert bridge.summary()["caller_audio_ms"] == 100.0


def test_an_empty_uplink_result_sends_nothing() -> None:
    bridge = CallBridge()
    l16 = CarrierFormat(Encoding.L16, 16_000)
    bridge.handle(CallStarted("CA1", "MZ1", media_format=l16), 0)
    bridge.handle(LiveOpened(), 1)
    assert bridge.handle(CallerAudio(b"\x01"), 2) == []  # half a sample: held by the uplink
    assert bridge.handle(CallerAudio(b"\x00"), 3) == [SendAudio(b"\x01\x00")]


def test_dtmf_is_told_to_the_model_as_text() -> None:
    bridge = _live(BridgeOptions(dtmf_text="Key: the caller pressed {digit}."))
    assert bridge.handle(DtmfPressed("#"), 500) == [SendText("Key: the caller pressed #.")]


@pytest.mark.parametrize("text", ["Key {digit}", "pressed {key}", "pressed {digit"])
def test_dtmf_text_must_say_pressed_digit(text: str) -> None:
    with pytest.raises(ValueError, match="dtmf_text"):
        BridgeOptions(dtmf_text=text)


@pytest.mark.parametrize(
    "field", ["playback_lead_ms", "start_timeout_ms", "connect_timeout_ms", "ending_grace_ms"]
)
def test_options_reject_non_positive_durations(field: str) -> None:
    with pytest.raises(ValueError, match=field):
        BridgeOptions(**{field: 0})  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="connect_buffer_ms"):
        BridgeOptions(connect_buffer_ms=-1)


# ------------------------------------------------------------------------------- model audio


def test_a_40ms_chunk_is_two_frames_then_a_mark() -> None:
    pcm = _model_pcm(40)
    expected = DownlinkPath(TWILIO).process(pcm)
    assert [len(f) for f in expected] == [160, 160]
    bridge = _live()
    assert bridge.handle(AudioChunk(pcm, 24_000), 1000) == [
        PlayAudio(expected[0]),
        PlayAudio(expected[1]),
        PlaceMark("m1"),
    ]
    assert bridge.summary()["model_audio_ms"] == 40.0


def test_the_lead_limit_holds_audio_locally_and_timers_release_it() -> None:
    pcm = _model_pcm(1000)
    expected = DownlinkPath(TWILIO).process(pcm)
    assert len(expected) == 50
    bridge = _live()
    commands = bridge.handle(AudioChunk(pcm, 24_000), 1000)
    # 400 ms go out; the next frame fits when 20 ms of them have played.
    assert commands == [PlayAudio(f) for f in expected[:20]] + [StartTimer("playback", 1020)]
    assert bridge.handle(TimerFired("playback"), 1020) == [
        PlayAudio(expected[20]),
        StartTimer("playback", 1040),
    ]
    # Woken late: what fits goes out at once.
    commands = bridge.handle(TimerFired("playback"), 1100)
    assert commands == [PlayAudio(f) for f in expected[21:25]] + [StartTimer("playback", 1120)]
    # A second chunk queues behind the held audio, and nothing new fits before the timer.
    more = _model_pcm(40, offset_ms=1000)
    assert bridge.handle(AudioChunk(more, 24_000), 1110) == []
    sent = [*expected[:25]]
    now = 1120.0
    tail: list[Command] = []
    while True:
        commands = bridge.handle(TimerFired("playback"), now)
        tail += commands
        if not commands or not isinstance(commands[-1], StartTimer):
            break
        assert commands[-1].at_ms == now + 20
        now += 20
    sent += _audio(tail)
    assert sent[:50] == expected
    assert [c for c in tail if isinstance(c, PlaceMark)] == [PlaceMark("m1"), PlaceMark("m2")]
    assert tail.index(PlaceMark("m1")) == tail.index(PlayAudio(expected[49])) + 1
    assert isinstance(tail[-1], PlaceMark)
    assert bridge.ledger.sent_ms == 1040


def test_generation_complete_flushes_the_downlink_once_per_turn() -> None:
    pcm = _model_pcm(50)
    reference = DownlinkPath(TWILIO)
    expected = reference.process(pcm)
    rest = reference.flush()
    assert (len(expected), len(rest)) == (2, 1)
    bridge = _live()
    assert _audio(bridge.handle(AudioChunk(pcm, 24_000), 1000)) == expected
    assert bridge.handle(GenerationComplete(), 1010) == [PlayAudio(rest[0]), PlaceMark("m2")]
    assert bridge.handle(TurnComplete(), 1020) == []
    assert bridge.summary()["turns"] == 1
    # Without a generationComplete, turnComplete flushes.
    assert _kinds(bridge.handle(AudioChunk(_model_pcm(50), 24_000), 2000)) == [
        "PlayAudio", "PlayAudio", "PlaceMark"
    ]  # fmt: skip
    assert _kinds(bridge.handle(TurnComplete(), 2010)) == ["PlayAudio", "PlaceMark"]


def test_a_chunk_shorter_than_a_frame_waits_for_the_next() -> None:
    bridge = _live()
    assert bridge.handle(AudioChunk(_model_pcm(10), 24_000), 1000) == []
    commands = bridge.handle(AudioChunk(_model_pcm(10, offset_ms=10), 24_000), 1005)
    assert _kinds(commands) == ["PlayAudio", "PlaceMark"]
    assert commands[-1] == PlaceMark("m1")


def test_chunks_at_another_rate_are_noted_once_and_ignored() -> None:
    bridge = _live()
    commands = bridge.handle(AudioChunk(b"\x00\x00" * 320, 16_000), 1000)
    assert commands == [Note("bridge.model_rate_ignored", {"rate_hz": 16_000}, "warning")]
    assert bridge.handle(AudioChunk(b"\x00\x00" * 320, 16_000), 1020) == []
    assert bridge.summary()["model_chunks_ignored"] == 2


# ----------------------------------------------------------------------------------- barge-in


def test_barge_in_clears_first_and_nothing_stale_goes_out_afterwards() -> None:
    bridge = _live()
    first = bridge.handle(AudioChunk(_model_pcm(1000), 24_000), 1000)
    assert len(_audio(first)) == 20
    commands = bridge.handle(Interrupted(), 1100)
    assert commands[0] == ClearPlayback()
    assert commands == [
        ClearPlayback(),
        CancelTimer("playback"),
        Note("bridge.barge_in", {"played_ms": 100.0, "flushed_ms": 900.0, "held_ms": 600.0}),
    ]
    # The timer the shell had already queued, and the turn's ends, release nothing.
    assert bridge.handle(TimerFired("playback"), 1120) == []
    assert bridge.handle(GenerationComplete(), 1130) == []
    assert bridge.handle(TurnComplete(), 1140) == []
    # m1 was never placed: flushed with the 400 ms it had sent ahead.
    summary = bridge.summary()
    assert (summary["sent_ms"], summary["flushed_ms"], summary["played_ms"]) == (400, 400, 0)
    assert (summary["held_dropped_ms"], summary["interruptions"], summary["marks_flushed"]) == (
        600.0,
        1,
        1,
    )
    # The next turn plays from a fresh downlink.
    pcm = _model_pcm(40, hz=600)
    assert bridge.handle(AudioChunk(pcm, 24_000), 1200) == [
        *(PlayAudio(f) for f in DownlinkPath(TWILIO).process(pcm)),
        PlaceMark("m2"),
    ]


def test_barge_in_always_clears_even_with_nothing_queued() -> None:
    bridge = _live()
    assert bridge.handle(Interrupted(), 500) == [
        ClearPlayback(),
        Note("bridge.barge_in", {"played_ms": 0.0, "flushed_ms": 0.0, "held_ms": 0.0}),
    ]


def test_echoes_after_a_clear_count_as_flushed() -> None:
    bridge = _live()
    bridge.handle(AudioChunk(_model_pcm(40), 24_000), 1000)  # m1
    bridge.handle(AudioChunk(_model_pcm(40, offset_ms=40), 24_000), 1010)  # m2
    bridge.handle(AudioChunk(_model_pcm(40, offset_ms=80), 24_000), 1020)  # m3
    assert bridge.handle(PlaybackMarked("m1"), 1045) == []
    bridge.handle(Interrupted(), 1050)
    # The carrier echoes every pending mark after the clear.
    assert bridge.handle(PlaybackMarked("m2"), 1051) == []
    assert bridge.handle(PlaybackMarked("m3"), 1051) == []
    summary = bridge.summary()
    assert (summary["played_ms"], summary["flushed_ms"], summary["sent_ms"]) == (40, 80, 120)
    assert (summary["marks_played"], summary["marks_flushed"]) == (1, 2)


def test_heard_transcript_keeps_only_played_marks_text() -> None:
    bridge = _live()
    bridge.handle(InputTranscript("When do you open?", finished=True), 900)
    bridge.handle(InputTranscript("When do", interim=True), 901)  # interim guesses are skipped
    bridge.handle(OutputTranscript("We "), 950)  # before any audio: goes to m1
    bridge.handle(AudioChunk(_model_pcm(40), 24_000), 1000)  # m1
    bridge.handle(OutputTranscript("open at nine, "), 1001)
    bridge.handle(AudioChunk(_model_pcm(40, offset_ms=40), 24_000), 1010)  # m2
    bridge.handle(OutputTranscript("and close at five."), 1011)
    bridge.handle(PlaybackMarked("m1"), 1040)
    bridge.handle(Interrupted(), 1050)
    bridge.handle(PlaybackMarked("m2"), 1051)
    bridge.handle(TurnComplete(), 1052)
    assert bridge.heard_transcript() == [
        ("caller", "When do you open?"),
        ("agent", "We open at nine, "),
    ]
    lines = bridge.transcript()
    assert [(line.role, line.text, line.heard) for line in lines] == [
        ("caller", "When do you open?", True),
        ("agent", "We open at nine, and close at five.", False),
    ]
    assert lines[1].heard_text == "We open at nine, "
    assert [line.at_ms for line in lines] == [800.0, 850.0]  # call time: started at 100


def test_an_echo_settles_earlier_marks_and_unknown_names_are_noted() -> None:
    bridge = _live()
    bridge.handle(AudioChunk(_model_pcm(40), 24_000), 1000)
    bridge.handle(AudioChunk(_model_pcm(40, offset_ms=40), 24_000), 1010)
    assert bridge.handle(PlaybackMarked("m2"), 1080) == []
    assert bridge.summary()["marks_played"] == 2
    assert bridge.handle(PlaybackMarked("m1"), 1081) == [
        Note("bridge.unknown_mark", {"name": "m1"}, "warning")
    ]
    assert bridge.handle(PlaybackMarked("zz"), 1082) == [
        Note("bridge.unknown_mark", {"name": "zz"}, "warning")
    ]
    summary = bridge.summary()
    assert (summary["marks_played"], summary["marks_unknown"], summary["played_ms"]) == (2, 2, 80)


# ------------------------------------------------------------------------- other model events


def test_tool_calls_are_answered_at_once_with_an_error() -> None:
    bridge = _live()
    calls = (FunctionCall("c1", "lookup_order", {"id": 7}), FunctionCall("c2", "transfer"))
    assert bridge.handle(ToolCall(calls), 1000) == [
        SendToolResponse(
            (
                ToolResult(
                    "c1", "lookup_order", {"error": "no tool named lookup_order is configured"}
                ),
                ToolResult("c2", "transfer", {"error": "no tool named transfer is configured"}),
            )
        ),
        Note("tool.not_configured", {"name": "lookup_order"}, "warning"),
        Note("tool.not_configured", {"name": "transfer"}, "warning"),
    ]  # fmt: skip
    # A call without an id (Vertex may send those) is answered too, without an id.
    assert bridge.handle(ToolCall((FunctionCall(None, "x"),)), 1010) == [
        SendToolResponse((ToolResult(None, "x", {"error": "no tool named x is configured"}),)),
        Note("tool.without_id", {"name": "x", "key": "local-1"}),
        Note("tool.not_configured", {"name": "x"}, "warning"),
    ]
    assert bridge.summary()["tool_calls"] == 3
    assert bridge.handle(ToolCallCancellation(("c1",)), 1020) == [
        Note("tool.cancelled", {"call_ids": ["c1"]})
    ]


def test_go_away_resumption_and_usage() -> None:
    bridge = _live()
    assert bridge.handle(GoAway(50.0), 1000) == [
        StartTimer("handover", 1000 + 50_000 - 5_000),
        Note("live.go_away", {"time_left_s": 50.0}),
    ]
    assert bridge.handle(SessionResumptionUpdate("h1", True), 1001) == []
    assert bridge.handle(SessionResumptionUpdate(None, False), 1002) == []
    assert bridge.resume_handle == "h1"
    bridge.handle(SessionResumptionUpdate("h2", True), 1003)
    assert bridge.resume_handle == "h2"
    bridge.handle(
        UsageMetadata(prompt_token_count=10, response_token_count=5, total_token_count=15), 1
    )
    bridge.handle(
        UsageMetadata(prompt_token_count=1, response_token_count=2, total_token_count=3), 2
    )
    summary = bridge.summary()
    assert summary["resumption_updates"] == 3
    assert (summary["prompt_tokens"], summary["response_tokens"], summary["total_tokens"]) == (
        11,
        7,
        18,
    )
    assert summary["usage"]["messages"] == 2


def test_carrier_sequence_gaps_and_ignored_messages_are_counted() -> None:
    bridge = _live()
    assert bridge.handle(MessagesMissed(expected=5, received=8), 1000) == [
        Note("carrier.sequence_gap", {"expected": 5, "received": 8, "missed": 3}, "warning")
    ]
    assert bridge.handle(MessageIgnored("bad json", "{"), 1001) == [
        Note("carrier.message_ignored", {"reason": "bad json", "detail": "{"}, "debug")
    ]
    summary = bridge.summary()
    assert (summary["messages_missed"], summary["messages_ignored"]) == (3, 1)


# --------------------------------------------------------------------------------- the end


def test_live_closed_plays_out_the_queue_and_ends_at_the_final_mark() -> None:
    bridge = _live()
    pcm = _model_pcm(1000)
    first = bridge.handle(AudioChunk(pcm, 24_000), 1000)
    commands = bridge.handle(NORMAL_CLOSE, 1100)
    # Everything held goes out at once, plus the downlink's ring-out under a final mark.
    assert _audio(first) + _audio(commands)[:30] == DownlinkPath(TWILIO).process(pcm)
    assert _kinds(commands)[30:] == [
        "PlaceMark", "PlayAudio", "PlaceMark", "CancelTimer", "StartTimer", "Note"
    ]  # fmt: skip
    assert commands[-3:] == [
        CancelTimer("playback"),
        StartTimer("ending", 1000 + 1020 + 2000),
        Note("bridge.ending", {"pending_ms": 1020.0, "last_mark": "m2"}),
    ]
    assert bridge.state is CallState.ENDING
    assert bridge.handle(CallerAudio(_caller_frames(1)[0]), 1200) == []  # dropped, counted
    assert bridge.handle(PlaybackMarked("m1"), 2000) == []
    assert bridge.handle(PlaybackMarked("m2"), 2020) == [EndCall("live closed")]
    summary = bridge.summary()
    assert (summary["state"], summary["end_reason"], summary["played_ms"]) == (
        "ended",
        "live closed",
        1020,
    )
    assert summary["caller_dropped_ms"] == 20.0
    assert summary["duration_ms"] == 1920.0


def test_live_closed_ends_on_the_timer_when_the_final_mark_never_comes() -> None:
    bridge = _live()
    bridge.handle(AudioChunk(_model_pcm(40), 24_000), 1000)
    bridge.handle(TurnComplete(), 1001)
    commands = bridge.handle(NORMAL_CLOSE, 1010)
    assert commands[0] == StartTimer("ending", 1060 + 2000)
    assert bridge.handle(TimerFired("ending"), 3060) == [
        Note("bridge.ending_timeout", {"pending_ms": 60.0, "last_mark": "m2"}, "warning"),
        EndCall("live closed"),
    ]


def test_live_closed_with_nothing_pending_ends_at_once() -> None:
    bridge = _live()
    bridge.handle(AudioChunk(_model_pcm(40), 24_000), 1000)
    bridge.handle(GenerationComplete(), 1001)
    bridge.handle(PlaybackMarked("m2"), 1060)
    assert bridge.handle(NORMAL_CLOSE, 2000) == [EndCall("live closed")]
    assert bridge.summary()["live_close"] == {"code": 1000, "reason": "", "kind": "normal"}


def test_carrier_stop_closes_the_model_and_ends() -> None:
    bridge = _live()
    assert bridge.handle(CallStopped(), 5000) == [
        CloseLive("carrier stop"),
        EndCall("carrier stop"),
    ]
    assert bridge.state is CallState.ENDED
    assert bridge.handle(CallerAudio(b"\xff" * 160), 5001) == []  # late frames are normal
    assert bridge.handle(Interrupted(), 5002) == []


def test_carrier_close_while_connecting_cancels_the_connect() -> None:
    bridge = _started()
    assert bridge.handle(CarrierClosed(1006), 200) == [
        CloseLive("carrier closed"),
        EndCall("carrier closed"),
    ]


def test_a_socket_the_gateway_closed_says_so_and_why() -> None:
    bridge = _started()
    refused = CarrierClosed(1009, "carrier message too big")
    assert bridge.handle(refused, 200) == [
        CloseLive("gateway closed: carrier message too big"),
        EndCall("gateway closed: carrier message too big"),
    ]
    assert bridge.summary()["end_reason"] == "gateway closed: carrier message too big"


def test_carrier_close_before_start_or_after_the_model_closed_just_ends() -> None:
    bridge = CallBridge()
    assert bridge.handle(CarrierClosed(), 10) == [EndCall("carrier closed")]
    bridge = _live()
    bridge.handle(AudioChunk(_model_pcm(40), 24_000), 1000)
    bridge.handle(NORMAL_CLOSE, 1001)
    assert bridge.handle(CallStopped("call transferred"), 1002) == [EndCall("call transferred")]


def test_an_illegal_event_raises_and_changes_nothing() -> None:
    bridge = _live()
    before = bridge.summary()
    with pytest.raises(IllegalTransition) as raised:
        bridge.handle(CallStarted("CA2", "MZ2"), 1000)
    assert raised.value.state is CallState.LIVE
    assert raised.value.event_type is CallStarted
    assert bridge.state is CallState.LIVE
    assert bridge.call_id == "CA1"
    assert bridge.summary() == before


def test_unknown_timers_are_noted() -> None:
    bridge = _live()
    assert bridge.handle(TimerFired("nonsense"), 1) == [
        Note("bridge.unknown_timer", {"name": "nonsense"}, "warning")
    ]


# ----------------------------------------------------------------------------------- summary


def test_summary_of_a_whole_call() -> None:
    bridge = CallBridge(BridgeOptions(mark_interval_ms=0))  # a mark per chunk
    bridge.begin(0)
    bridge.handle(CallStarted("CA1", "MZ1"), 50)
    bridge.handle(CallerAudio(_caller_frames(1)[0]), 60)
    bridge.handle(LiveOpened("s1"), 250)
    for frame in _caller_frames(10):
        bridge.handle(CallerAudio(frame), 300)
    bridge.handle(DtmfPressed("1"), 310)
    bridge.handle(AudioChunk(_model_pcm(60), 24_000), 400)  # m1: 3 frames
    bridge.handle(GenerationComplete(), 401)  # m2: ring-out frame
    bridge.handle(PlaybackMarked("m1"), 460)
    bridge.handle(TurnComplete(), 470)
    bridge.handle(AudioChunk(_model_pcm(40, offset_ms=60), 24_000), 500)  # m3
    bridge.handle(Interrupted(), 510)
    bridge.handle(PlaybackMarked("m2"), 511)
    bridge.handle(PlaybackMarked("m3"), 511)
    bridge.handle(MessagesMissed(10, 11), 520)
    bridge.handle(ToolCall((FunctionCall("c1", "f"),)), 530)
    bridge.handle(SessionResumptionUpdate("h", True), 540)
    bridge.handle(
        UsageMetadata(prompt_token_count=4, response_token_count=6, total_token_count=10), 550
    )
    bridge.handle(CallStopped(), 1050)
    summary = bridge.summary()
    assert summary == {
        "end_reason": "carrier stop",
        "state": "ended",
        "duration_ms": 1000.0,
        "connect_wait_ms": 200.0,
        "caller_audio_ms": 220.0,
        "caller_frames_before_start": 0,
        "caller_dropped_ms": 0.0,
        "connect_buffer_dropped_ms": 0.0,
        "model_audio_ms": 100.0,
        "model_chunks_ignored": 0,
        "model_audio_dropped_ms": 0.0,
        "sent_ms": 120.0,
        "played_ms": 60.0,
        "flushed_ms": 60.0,
        "pending_ms": 0.0,
        "held_dropped_ms": 0.0,
        "interruptions": 1,
        "turns": 1,
        "dtmf_digits": 1,
        "dtmf_texts": 1,
        "dtmf_dropped": 0,
        "marks_sent": 3,
        "marks_played": 1,
        "marks_flushed": 2,
        "marks_unknown": 0,
        "messages_missed": 1,
        "messages_ignored": 0,
        "logs_suppressed": {},
        "tool_calls": 1,
        "tool_calls_refused": 0,
        "resumption_updates": 1,
        "prompt_tokens": 4,
        "response_tokens": 6,
        "total_tokens": 10,
        "usage": {
            "messages": 1,
            "rejected": 0,
            "prompt_tokens": 4,
            "cached_tokens": 0,
            "response_tokens": 6,
            "tool_use_prompt_tokens": 0,
            "thoughts_tokens": 0,
            "total_tokens": 10,
            "prompt_by_modality": {"unspecified": 4},
            "response_by_modality": {"unspecified": 6},
            "cached_by_modality": {},
            "tool_use_prompt_by_modality": {},
        },
        "reconnect_buffer_dropped_ms": 0.0,
        "handovers": [],
        "handovers_total": 0,
        "handovers_omitted": 0,
        "handover_counts": [],
        "live_stalls": 0,
        "tools": [],
        "silence_prompts": 0,
        "silence_hangups": 0,
        "holds": 0,
        "hold_ms": 0.0,
        "fallback": None,
        "call_action": None,
        "live_close": None,
    }
    json.dumps(summary)  # JSON-safe primitives only
