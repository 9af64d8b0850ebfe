"""The bridge's per-call configuration (agent profiles): `configure` and the agent's greeting."""

from __future__ import annotations

import pytest

from gateway.audio.paths import CarrierFormat
from gateway.core.bridge import BridgeOptions, CallBridge, CallState
from gateway.core.events import (
    CallStarted,
    CancelTimer,
    DtmfPressed,
    LiveClosed,
    LiveOpened,
    Note,
    ReconnectLive,
    SendText,
    SendToolResponse,
)
from gateway.live.closes import close_info
from gateway.live.events import FunctionCall, SessionResumptionUpdate, ToolCall

TWILIO = CarrierFormat()
GREETING = "The caller has just been connected. Greet them."


def _opened_note(connect_wait_ms: float) -> Note:
    fields = {
        "session_id": "s1",
        "resumed": False,
        "connect_wait_ms": connect_wait_ms,
        "buffered_ms": 0.0,
        "dropped_ms": 0.0,
    }
    return Note("live.opened", fields)


def test_the_agent_speaks_first_when_its_first_session_opens() -> None:
    bridge = CallBridge(BridgeOptions(greeting_text=GREETING))
    bridge.begin(0)
    bridge.handle(CallStarted("CA1", "MZ1", media_format=TWILIO), 100)
    assert bridge.handle(LiveOpened("s1"), 300) == [
        SendText(GREETING),
        CancelTimer("connect"),
        _opened_note(200.0),
    ]


def test_the_greeting_goes_before_what_the_caller_said_while_connecting() -> None:
    bridge = CallBridge(BridgeOptions(greeting_text=GREETING, dtmf_text="pressed {digit}"))
    bridge.begin(0)
    bridge.handle(CallStarted("CA1", "MZ1", media_format=TWILIO), 100)
    bridge.handle(DtmfPressed("4"), 150)
    commands = bridge.handle(LiveOpened("s1"), 300)
    assert commands[:2] == [SendText(GREETING), SendText("pressed 4")]


def test_without_a_greeting_the_agent_waits() -> None:
    bridge = CallBridge()
    bridge.begin(0)
    bridge.handle(CallStarted("CA1", "MZ1", media_format=TWILIO), 100)
    assert bridge.handle(LiveOpened("s1"), 300) == [CancelTimer("connect"), _opened_note(200.0)]


def test_a_replacement_session_does_not_greet_again() -> None:
    bridge = CallBridge(BridgeOptions(greeting_text=GREETING))
    bridge.begin(0)
    bridge.handle(CallStarted("CA1", "MZ1", media_format=TWILIO), 100)
    bridge.handle(LiveOpened("s1"), 300)
    bridge.handle(SessionResumptionUpdate("h1", True), 1_500)
    closed = LiveClosed(close_info(1011, "internal error", go_away_seen=False))
    assert isinstance(bridge.handle(closed, 2_000)[0], ReconnectLive)
    reopened = bridge.handle(LiveOpened("s2", resumed=True), 2_100)
    assert not any(isinstance(command, SendText) for command in reopened)
    assert bridge.state is CallState.LIVE


def test_configure_sets_the_tools_the_call_may_use() -> None:
    bridge = CallBridge()
    bridge.begin(0)
    bridge.configure(BridgeOptions(tool_names=frozenset({"lookup"})))
    bridge.handle(CallStarted("CA1", "MZ1", media_format=TWILIO), 100)
    bridge.handle(LiveOpened("s1"), 300)
    unknown = bridge.handle(ToolCall((FunctionCall("c1", "transfer", {}),)), 400)
    assert any(isinstance(command, SendToolResponse) for command in unknown)
    known = bridge.handle(ToolCall((FunctionCall("c2", "lookup", {}),)), 500)
    assert not any(isinstance(command, SendToolResponse) for command in known)


def test_configure_is_refused_once_the_call_started() -> None:
    bridge = CallBridge()
    bridge.begin(0)
    bridge.handle(CallStarted("CA1", "MZ1", media_format=TWILIO), 100)
    with pytest.raises(ValueError, match="before it starts"):
        bridge.configure(BridgeOptions(greeting_text=GREETING))
