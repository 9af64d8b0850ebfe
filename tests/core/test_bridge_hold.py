"""CallBridge with hold audio while a tool runs (issue 20): after `hold_after_ms` of a tool the
model waits for, the hold sound plays (kept 400 ms ahead of the carrier by a 200 ms timer) until
the model speaks, the caller barges in or the tool's result comes with the model silent: then it
stops at once (a clear). Exact commands, in order."""

from __future__ import annotations

from gateway.audio.hold_sound import soft_chime
from gateway.audio.paths import DownlinkPath
from gateway.core.bridge import CallBridge
from gateway.core.digits import DigitCollection
from gateway.core.events import (
    CancelTimer,
    ClearPlayback,
    Command,
    HangUp,
    Note,
    PlayAudio,
    RunTool,
    SendToolResponse,
    StartTimer,
    TimerFired,
    ToolFinished,
)
from gateway.live.events import AudioChunk, FunctionCall, Interrupted, ToolCall
from gateway.live.protocol import ToolResult
from tests.core.test_bridge_sessions import TWILIO, _live, _model_pcm, _options

PCM = soft_chime()
_path = DownlinkPath(TWILIO)
FRAMES = _path.process(PCM) + _path.flush()
LOOKUP = FunctionCall("fc1", "lookup", {})
RESULT = ToolFinished("fc1", "lookup", {"output": "shipped"}, duration_ms=5_000)
ANSWER = SendToolResponse((ToolResult("fc1", "lookup", {"output": "shipped"}),))


def _bridge(**kwargs: object) -> CallBridge:
    kwargs.setdefault("tool_names", frozenset({"lookup", "notify", "pin"}))
    options = _options(
        non_blocking_tools=frozenset({"notify"}),
        digit_collections=(DigitCollection("pin"),),
        hold_after_ms=1_200.0,
        hold_pcm=PCM,
        **kwargs,
    )
    return _live(options)


def _frames(first: int, count: int) -> list[Command]:
    return [PlayAudio(FRAMES[(first + i) % len(FRAMES)], hold=True) for i in range(count)]


def _holding(bridge: CallBridge) -> None:
    assert bridge.handle(ToolCall((LOOKUP,)), 1_000) == [RunTool(LOOKUP), StartTimer("hold", 2_200)]
    assert bridge.handle(TimerFired("hold"), 2_200) == [
        *_frames(0, 20),  # 400 ms ahead of the carrier
        StartTimer("hold", 2_400),
        Note("call.hold_started", {"after_ms": 1_200.0}),
    ]


def test_a_slow_tool_gets_the_hold_sound_kept_just_ahead_of_the_carrier() -> None:
    bridge = _bridge()
    _holding(bridge)
    assert bridge.handle(TimerFired("hold"), 2_400) == [*_frames(20, 10), StartTimer("hold", 2_600)]
    # The loop wraps around (2 s = 100 frames).
    for at in range(2_600, 4_000, 200):
        bridge.handle(TimerFired("hold"), at)
    assert bridge.handle(TimerFired("hold"), 4_000)[:10] == _frames(100 % len(FRAMES), 10)


def test_the_model_speaking_stops_the_hold_at_once() -> None:
    bridge = _bridge()
    twin = _live(_options(tool_names=frozenset({"lookup"})))
    twin.handle(ToolCall((LOOKUP,)), 1_000)
    _holding(bridge)
    bridge.handle(TimerFired("hold"), 2_400)
    chunk = AudioChunk(_model_pcm(200), 24_000)
    out = bridge.handle(chunk, 3_000)
    assert out == [
        ClearPlayback(),
        CancelTimer("hold"),
        Note("call.hold_stopped", {"heard_ms": 600.0}),  # what was sent had played by 2.8 s
        *twin.handle(chunk, 3_000),
    ]
    assert [(line.role, line.text) for line in bridge.transcript()] == [
        ("hold", "[hold audio, 0.6 s]")
    ]
    assert bridge.summary()["holds"] == 1
    assert bridge.summary()["hold_ms"] == 600.0
    assert bridge.call.transcript.heard() == []  # never told to a later session as speech


def test_the_result_with_the_model_silent_stops_the_hold() -> None:
    bridge = _bridge()
    _holding(bridge)
    assert bridge.handle(RESULT, 2_500) == [
        ClearPlayback(),
        CancelTimer("hold"),
        Note("call.hold_stopped", {"heard_ms": 300.0}),
        ANSWER,
    ]
    assert bridge.handle(TimerFired("hold"), 2_600) == []  # a stale tick


def test_a_barge_in_stops_the_hold_with_its_own_clear() -> None:
    bridge = _bridge()
    _holding(bridge)
    out = bridge.handle(Interrupted(), 2_300)
    assert out[0] == ClearPlayback()
    assert out.count(ClearPlayback()) == 1
    assert out[-2:] == [CancelTimer("hold"), Note("call.hold_stopped", {"heard_ms": 100.0})]


def test_a_quick_tool_never_gets_the_hold() -> None:
    bridge = _bridge()
    bridge.handle(ToolCall((LOOKUP,)), 1_000)
    assert bridge.handle(RESULT, 1_500) == [CancelTimer("hold"), ANSWER]


def test_non_blocking_tools_and_keypad_entry_get_no_hold() -> None:
    bridge = _bridge()
    notify = FunctionCall("fc2", "notify", {})
    assert bridge.handle(ToolCall((notify,)), 1_000) == [RunTool(notify)]
    pin = FunctionCall("fc3", "pin", {})
    assert not any(
        isinstance(c, StartTimer) and c.name == "hold"
        for c in bridge.handle(ToolCall((pin,)), 1_100)
    )


def test_the_hold_waits_for_the_agents_words_to_play_out() -> None:
    bridge = _bridge()
    bridge.handle(AudioChunk(_model_pcm(2_000), 24_000), 900)  # "let me check that"
    bridge.handle(ToolCall((LOOKUP,)), 1_000)
    speech = bridge.call.speech
    assert speech is not None
    quiet_at = 2_200 + speech.playout.ahead_ms(2_200)
    assert quiet_at > 2_200
    assert bridge.handle(TimerFired("hold"), 2_200) == [StartTimer("hold", quiet_at)]


def test_no_hold_without_hold_audio_configured() -> None:
    bridge = _live(_options(tool_names=frozenset({"lookup"})))
    assert bridge.handle(ToolCall((LOOKUP,)), 1_000) == [RunTool(LOOKUP)]


def test_a_hang_up_during_the_hold_stops_it_before_the_last_words() -> None:
    bridge = _bridge(tool_names=frozenset({"lookup", "bye"}))
    _holding(bridge)
    bye = FunctionCall("fc9", "bye", {})
    bridge.handle(ToolCall((bye,)), 2_300)
    finished = ToolFinished("fc9", "bye", {"output": "ending"}, action=HangUp())
    out = bridge.handle(finished, 2_400)
    # The hold is cleared first (the lookup still runs, but the call is being wrapped up).
    assert out[1:3] == [ClearPlayback(), CancelTimer("hold")]
    assert [line.role for line in bridge.transcript()] == ["hold"]
