"""An outbound call's opening through the bridge: exact commands for the hello, the hello
timeout, a machine hung up on, a voicemail left after the beep (gateway.core.answering)."""

from __future__ import annotations

from gateway.audio.paths import CarrierFormat
from gateway.core.answering import HELLO_TIMER, VERDICT_TIMER, OutboundPolicy
from gateway.core.bridge import BridgeOptions, CallBridge, CallState
from gateway.core.events import (
    AnswererDetected,
    CallControlled,
    CallerAudio,
    CallStarted,
    CancelTimer,
    CloseLive,
    ControlCall,
    HangUp,
    LiveOpened,
    Note,
    PlaceMark,
    PlayAudio,
    PlaybackMarked,
    SendAudio,
    SendText,
    StartTimer,
    TimerFired,
)
from gateway.core.silence import SILENCE_TIMER
from gateway.live.events import AudioChunk, TurnComplete

TWILIO = CarrierFormat()
GREET = "The callee answered. Greet them."
MESSAGE = "Hi Ada, your appointment is on Tuesday."
SILENCE = b"\xff" * 160  # μ-law silence, 20 ms
LOUD = b"\x10" * 160  # loud μ-law, 20 ms


def opened(policy: OutboundPolicy) -> tuple[CallBridge, list[object]]:
    bridge = CallBridge(BridgeOptions(outbound=policy))
    bridge.begin(0)
    bridge.handle(CallStarted("CA1", "MZ1", media_format=TWILIO), 100)
    return bridge, list(bridge.handle(LiveOpened("s1"), 300))


def sent_audio(commands: list[object]) -> bool:
    return any(isinstance(c, SendAudio) for c in commands)


def test_the_agent_waits_for_the_hello_and_the_hello_cancels_its_clock() -> None:
    bridge, out = opened(OutboundPolicy(GREET, hello_timeout_ms=4_000))
    assert StartTimer(HELLO_TIMER, 4_300) in out
    assert not any(isinstance(c, SendText) for c in out)  # no greeting over the hello
    quiet = bridge.handle(CallerAudio(SILENCE), 400)
    assert sent_audio(quiet)
    assert CancelTimer(HELLO_TIMER) not in quiet
    hello = bridge.handle(CallerAudio(LOUD), 500)
    assert hello[:2] == [CancelTimer(HELLO_TIMER), Note("outbound.callee_spoke", {})]
    assert sent_audio(hello)
    assert bridge.handle(TimerFired(HELLO_TIMER), 4_300) == []  # a stale timer


def test_a_callee_who_says_nothing_is_greeted_after_the_timeout() -> None:
    bridge, _ = opened(OutboundPolicy(GREET, hello_timeout_ms=4_000))
    bridge.handle(CallerAudio(SILENCE), 400)
    assert bridge.handle(TimerFired(HELLO_TIMER), 4_300) == [
        Note("outbound.hello_timeout", {"timeout_ms": 4_000}),
        SendText(GREET),
    ]


def test_screening_keeps_the_model_deaf_until_a_person_is_detected() -> None:
    bridge, out = opened(OutboundPolicy(GREET, screening=True, machine_hang_up=True))
    assert not any(isinstance(c, StartTimer) and c.name == HELLO_TIMER for c in out)
    assert bridge.handle(CallerAudio(LOUD), 400) == []
    assert bridge.handle(AnswererDetected("person"), 1_500) == [
        Note(
            "outbound.verdict",
            {"answered_by": "person", "greeting_ended": False, "decision": "greet"},
        ),
        SendText(GREET),
    ]
    assert sent_audio(bridge.handle(CallerAudio(LOUD), 1_520))


def test_a_machine_is_hung_up_on_with_nothing_said() -> None:
    bridge, _ = opened(OutboundPolicy(GREET, screening=True, machine_hang_up=True))
    out = bridge.handle(AnswererDetected("machine", greeting_ended=True), 8_000)
    assert out[0] == Note(
        "outbound.verdict",
        {"answered_by": "machine", "greeting_ended": True, "decision": "hang_up"},
    )
    assert CloseLive("handing off") in out
    assert ControlCall(HangUp()) in out
    assert bridge.state is CallState.HANDING_OFF


def test_a_voicemail_waits_for_the_beep_and_hangs_up_once_the_message_played() -> None:
    bridge, _ = opened(OutboundPolicy(GREET, screening=True, voicemail_text=MESSAGE))
    early = bridge.handle(AnswererDetected("machine"), 2_000)  # the greeting still plays
    assert early == [
        Note(
            "outbound.verdict",
            {"answered_by": "machine", "greeting_ended": False, "decision": "nothing"},
        )
    ]
    assert bridge.handle(CallerAudio(LOUD), 2_020) == []  # still deaf: the greeting
    beep = bridge.handle(AnswererDetected("machine", greeting_ended=True), 7_000)
    (prompt,) = [c for c in beep if isinstance(c, SendText)]
    assert prompt.text.endswith(MESSAGE)
    assert bridge.state is CallState.LIVE
    played = bridge.handle(AudioChunk(b"\x00\x10" * 2_400, 24_000), 7_500)  # 100 ms
    assert any(isinstance(c, PlayAudio) for c in played)
    ended = bridge.handle(TurnComplete(), 7_600)
    assert Note("outbound.voicemail_said", {}) in ended
    assert bridge.state is CallState.WRAPPING_UP  # the message plays out first
    marks = [c for c in played + ended if isinstance(c, PlaceMark)]
    assert marks
    last: list[object] = []
    for mark in marks:
        last = list(bridge.handle(PlaybackMarked(mark.name), 8_000))
    assert ControlCall(HangUp()) in last
    assert bridge.state is CallState.HANDING_OFF
    bridge.handle(CallControlled(HangUp(), ok=True), 8_100)


def test_a_verdict_before_the_session_opened_is_applied_once_it_did() -> None:
    bridge = CallBridge(BridgeOptions(outbound=OutboundPolicy(GREET, screening=True)))
    bridge.begin(0)
    bridge.handle(CallStarted("CA1", "MZ1", media_format=TWILIO), 100)
    held = bridge.handle(AnswererDetected("person"), 150)
    assert held == [Note("outbound.verdict_held", {"answered_by": "person"})]
    out = bridge.handle(LiveOpened("s1"), 300)
    assert StartTimer(VERDICT_TIMER, 300) in out
    assert SendText(GREET) in bridge.handle(TimerFired(VERDICT_TIMER), 300)


def test_an_inbound_call_ignores_a_verdict() -> None:
    bridge = CallBridge()
    bridge.begin(0)
    bridge.handle(CallStarted("CA1", "MZ1", media_format=TWILIO), 100)
    bridge.handle(LiveOpened("s1"), 300)
    assert bridge.handle(AnswererDetected("machine", True), 400) == [
        Note("outbound.verdict_ignored", {"answered_by": "machine", "greeting_ended": True})
    ]
    assert bridge.state is CallState.LIVE


def test_no_silence_check_in_while_a_machine_greeting_is_screened() -> None:
    policy = OutboundPolicy(GREET, screening=True, machine_hang_up=True)
    bridge = CallBridge(BridgeOptions(outbound=policy, silence_prompt_ms=8_000))
    bridge.begin(0)
    bridge.handle(CallStarted("CA1", "MZ1", media_format=TWILIO), 100)
    out = list(bridge.handle(LiveOpened("s1"), 300))
    out += bridge.handle(CallerAudio(LOUD), 400)
    out += bridge.handle(TurnComplete(), 500)
    assert not any(isinstance(c, StartTimer) and c.name == SILENCE_TIMER for c in out)
    bridge.handle(AnswererDetected("person"), 1_500)
    bridge.handle(AudioChunk(b"\x00\x00" * 480, 24_000), 1_600)
    greeted = bridge.handle(TurnComplete(), 1_700)
    assert any(isinstance(c, StartTimer) and c.name == SILENCE_TIMER for c in greeted)
