"""CallBridge with a silent caller (issue 20, silence): the check-in, the goodbye, the hang-up
after it was heard, and the clock that does not run while the agent speaks, a tool runs or the
session is being replaced. Exact commands, in order; where model audio is involved, a twin
bridge with the silence watch off gets the same events and the difference is asserted."""

from __future__ import annotations

from gateway.core.bridge import CallBridge, CallState
from gateway.core.events import (
    BridgeEvent,
    CallStarted,
    CancelTimer,
    CloseLive,
    Command,
    ControlCall,
    DtmfPressed,
    HangUp,
    LiveOpened,
    Note,
    PlaceMark,
    PlayAudio,
    PlaybackMarked,
    RunTool,
    SendAudio,
    SendText,
    SendToolResponse,
    StartTimer,
    TimerFired,
    ToolFinished,
)
from gateway.core.silence import SILENCE_GOODBYE, SILENCE_PROMPT
from gateway.live.events import AudioChunk, FunctionCall, InputTranscript, ToolCall, TurnComplete
from gateway.live.protocol import ToolResult
from tests.core.test_bridge_sessions import (
    CLOSED_1011,
    SILENCE,
    TWILIO,
    Caller,
    _live,
    _model_pcm,
    _options,
    _tone,
)

PROMPT_MS = 8_000.0
HANGUP_MS = 15_000.0
OPENED_MS = 300.0


def _silent_call(**kwargs: object) -> CallBridge:
    options = _options(silence_prompt_ms=PROMPT_MS, silence_hangup_ms=HANGUP_MS, **kwargs)
    return _live(options)


def _timer(at_ms: float) -> StartTimer:
    return StartTimer("silence", at_ms)


def _prompt(at_ms: float, prompts: int = 1) -> list[Command]:
    return [
        SendText(SILENCE_PROMPT),
        Note("call.silence_prompt", {"silent_ms": PROMPT_MS, "prompts": prompts}),
        _timer(at_ms + HANGUP_MS),
    ]


def _goodbye(at_ms: float) -> list[Command]:
    return [
        SendText(SILENCE_GOODBYE),
        Note("call.silence_goodbye", {"silent_ms": HANGUP_MS}),
        _timer(at_ms + 10_000),
    ]


class Twins:
    """The call with the silence watch on, and its twin with it off, fed the same events."""

    def __init__(self, **kwargs: object) -> None:
        self.on = _silent_call(**kwargs)
        self.off = _live(_options(tool_names=kwargs.get("tool_names", frozenset())))

        self.marks: list[str] = []

    def handle(self, event: BridgeEvent, now_ms: float) -> tuple[list[Command], list[Command]]:
        on = self.on.handle(event, now_ms)
        self.marks += [c.name for c in on if isinstance(c, PlaceMark)]
        return on, self.off.handle(event, now_ms)

    def ahead_ms(self, now_ms: float) -> float:
        speech = self.on.call.speech
        assert speech is not None
        return speech.playout.ahead_ms(now_ms)


def test_the_clock_starts_when_the_session_opens() -> None:
    on = CallBridge(_options(silence_prompt_ms=PROMPT_MS, silence_hangup_ms=HANGUP_MS))
    off = CallBridge(_options())
    for bridge in (on, off):
        bridge.begin(0)
        bridge.handle(CallStarted("CA1", "MZ1", media_format=TWILIO), 100)
    opened = on.handle(LiveOpened("s1"), OPENED_MS)
    assert opened == [*off.handle(LiveOpened("s1"), OPENED_MS), _timer(OPENED_MS + PROMPT_MS)]


def test_a_silent_caller_is_checked_on_then_said_goodbye_to_then_hung_up() -> None:
    twins = Twins()
    caller = Caller(twins.on)
    commands, pcm = caller.say(SILENCE, 1_000)
    assert commands == [SendAudio(pcm)]  # quiet audio does not stop the clock
    # 8 s after the session opened (nothing was said): the model is told.
    assert twins.on.handle(TimerFired("silence"), 8_300) == _prompt(8_300)
    # It checks in ("Are you still there?"): its audio pauses the clock ...
    on, off = twins.handle(AudioChunk(_model_pcm(1_000), 24_000), 8_500)
    assert on == off
    on, off = twins.handle(TurnComplete(), 8_600)
    # ... which starts again once the check-in has played: the timer already set (23.3 s) is
    # earlier than the new deadline, so it is not set again: it re-arms when it fires.
    end_ms = 8_600 + twins.ahead_ms(8_600)
    assert on == off
    assert twins.on.handle(TimerFired("silence"), 23_300) == [_timer(end_ms + HANGUP_MS)]
    # 15 s more of silence: the goodbye is asked for.
    assert twins.on.handle(TimerFired("silence"), end_ms + HANGUP_MS) == _goodbye(
        end_ms + HANGUP_MS
    )
    # The model says it; at the end of its turn the call is wrapped up like the hang-up tool's.
    said_ms = end_ms + HANGUP_MS + 200
    on, off = twins.handle(AudioChunk(_model_pcm(600), 24_000), said_ms)
    assert on == off
    on, off = twins.handle(TurnComplete(), said_ms + 100)
    assert twins.on.state is CallState.WRAPPING_UP
    # The turn ends as ever, then the hang-up tool's wrap-up: what is held goes out at once and
    # the hang-up waits for the last mark.
    wrap_at = said_ms + 100 + twins.ahead_ms(said_ms + 100) + 2_000
    assert on[: len(off) + 1] == [*off, Note("call.silence_hang_up", {"prompts": 1})]
    released = on[len(off) + 1 : -3]
    assert released
    assert all(isinstance(c, PlayAudio | PlaceMark) for c in released)
    assert on[-3:] == [
        CancelTimer("playback"),
        StartTimer("wrap_up", wrap_at),
        Note("call.wrap_up", {"action": "hang_up", "pending_ms": twins.on.ledger.pending_ms}),
    ]
    # Once the goodbye has played, the carrier hangs up.
    out: list[Command] = []
    for name in twins.marks:
        out = twins.on.handle(PlaybackMarked(name), wrap_at - 1_000)
    assert out[-4:] == [
        CancelTimer("wrap_up"),
        CloseLive("handing off"),
        ControlCall(HangUp()),
        StartTimer("handoff", wrap_at - 1_000 + 10_000),
    ]
    summary = twins.on.summary()
    assert (summary["silence_prompts"], summary["silence_hangups"]) == (1, 1)
    assert summary["call_action"] == "hang_up"


def test_the_clock_does_not_run_while_the_agent_speaks() -> None:
    twins = Twins()
    on, off = twins.handle(AudioChunk(_model_pcm(1_000), 24_000), 400)
    assert on == off
    # The timer set at the opening comes while the agent still speaks: nothing, not re-armed.
    assert twins.on.handle(TimerFired("silence"), 8_300) == []
    on, off = twins.handle(AudioChunk(_model_pcm(9_000, 1_000), 24_000), 8_400)
    assert on == off
    on, off = twins.handle(TurnComplete(), 9_000)
    end_ms = 9_000 + twins.ahead_ms(9_000)
    assert end_ms > 9_000 + 8_000  # the answer is still playing for a long while
    assert on == [*off, _timer(end_ms + PROMPT_MS)]


def test_the_clock_does_not_run_while_a_tool_runs() -> None:
    twins = Twins(tool_names=frozenset({"lookup"}))
    call = FunctionCall("fc1", "lookup", {})
    assert twins.on.handle(ToolCall((call,)), 1_000) == [RunTool(call)]
    assert twins.on.handle(TimerFired("silence"), 8_300) == []  # paused
    finished = ToolFinished("fc1", "lookup", {"output": "ok"}, duration_ms=19_000)
    assert twins.on.handle(finished, 20_000) == [
        SendToolResponse((ToolResult("fc1", "lookup", {"output": "ok"}),)),
        _timer(20_000 + PROMPT_MS),
    ]


def test_the_clock_does_not_run_while_the_session_is_replaced() -> None:
    bridge = _silent_call()
    out = bridge.handle(CLOSED_1011, 5_000)
    assert bridge.state is CallState.RECONNECTING
    assert not any(isinstance(c, StartTimer) and c.name == "silence" for c in out)
    assert bridge.handle(TimerFired("silence"), 8_300) == []  # no clock: disarmed
    reopened = bridge.handle(LiveOpened("s2", resumed=True), 12_000)
    assert reopened[-2].event == "live.handover"  # type: ignore[union-attr]
    assert reopened[-1] == _timer(12_000 + PROMPT_MS)  # from zero, once the new one is open


def test_a_caller_who_speaks_after_the_check_in_is_checked_on_again_later() -> None:
    bridge = _silent_call()
    caller = Caller(bridge)
    assert bridge.handle(TimerFired("silence"), 8_300) == _prompt(8_300)
    loud = _tone(1)[0]
    commands, pcm = caller.say(loud, 9_000)
    # The check-in is taken back: the next deadline is a check-in again, 8 s from now (the
    # stall watch starts as ever: speech awaits an answer).
    assert commands == [SendAudio(pcm), _timer(17_000), StartTimer("live_stall", 29_000)]
    commands, pcm = caller.say(loud, 9_500)
    assert commands == [SendAudio(pcm)]  # the clock restarts, no timer per frame
    assert bridge.handle(TimerFired("silence"), 17_000) == [_timer(17_500)]
    assert bridge.handle(TimerFired("silence"), 17_500) == _prompt(17_500, prompts=2)


def test_a_caller_transcript_or_a_keypress_counts_as_the_caller_being_there() -> None:
    bridge = _silent_call()
    assert bridge.handle(TimerFired("silence"), 8_300) == _prompt(8_300)
    assert bridge.handle(InputTranscript("yes I'm here", finished=True), 9_000) == [_timer(17_000)]
    other = _silent_call()
    other.handle(TimerFired("silence"), 8_300)
    out = other.handle(DtmfPressed("5"), 9_000)
    assert out == [SendText("The caller pressed 5 on the keypad."), _timer(17_000)]


def test_a_goodbye_the_model_never_says_still_ends_the_call() -> None:
    bridge = _silent_call()
    bridge.handle(TimerFired("silence"), 8_300)
    assert bridge.handle(TimerFired("silence"), 23_300) == _goodbye(23_300)
    assert bridge.handle(TimerFired("silence"), 33_300) == [
        Note("call.silence_goodbye_missing", {}, "warning"),
        Note("call.silence_hang_up", {"prompts": 1}),
        CloseLive("handing off"),
        ControlCall(HangUp()),
        StartTimer("handoff", 43_300),
    ]
    assert bridge.state is CallState.HANDING_OFF


def test_off_without_a_prompt_time_and_no_hang_up_without_a_hang_up_time() -> None:
    off = _live()
    assert off.handle(TimerFired("silence"), 8_300) == []
    prompt_only = _live(_options(silence_prompt_ms=PROMPT_MS))
    assert prompt_only.handle(TimerFired("silence"), 8_300) == [
        SendText(SILENCE_PROMPT),
        Note("call.silence_prompt", {"silent_ms": PROMPT_MS, "prompts": 1}),
    ]
    assert prompt_only.handle(TimerFired("silence"), 60_000) == []
