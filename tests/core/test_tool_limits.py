"""The bridge's tools under pressure: a cap on calls running at once, and the built-ins answered.

A model that asks for a thousand calls at once gets the first `max_running_tools` run and the
rest answered with an error at once, in one toolResponse; the transfer and hang-up tools get
their response before the call is wrapped up (every function call gets one).
"""

from __future__ import annotations

from gateway.core.bridge import CallBridge
from gateway.core.events import (
    CallControlled,
    CloseLive,
    ControlCall,
    HangUp,
    LiveOpened,
    Note,
    RunTool,
    SendToolResponse,
    StartTimer,
    ToolFinished,
    Transfer,
)
from gateway.core.states import CallState
from gateway.live.events import FunctionCall, SessionResumptionUpdate, ToolCall
from gateway.live.protocol import ToolResult
from tests.core.test_bridge_sessions import (
    CLOSED_1011,
    _kinds,
    _live,
    _options,
    _reconnecting,
    _state,
)

LOOKUP = frozenset({"lookup"})


def _calls(count: int, first: int = 1) -> tuple[FunctionCall, ...]:
    return tuple(FunctionCall(f"c{i}", "lookup", {"n": i}) for i in range(first, first + count))


def _too_many(limit: int) -> dict[str, str]:
    return {
        "error": f"lookup was not run: at most {limit} tool calls may run at once; "
        "wait for their results, then try again if you still need it"
    }


def test_calls_beyond_the_limit_are_answered_at_once_in_one_response() -> None:
    bridge = _live(_options(tool_names=LOOKUP, max_running_tools=3))
    calls = _calls(1000)
    commands = bridge.handle(ToolCall(calls), 1_000)
    refused = tuple(ToolResult(c.call_id or "", "lookup", _too_many(3)) for c in calls[3:])
    assert commands == [
        SendToolResponse(refused),
        RunTool(calls[0]),
        RunTool(calls[1]),
        RunTool(calls[2]),
        Note("tool.refused", {"refused": 997, "running": 3, "limit": 3}, "warning"),
    ]
    summary = bridge.summary()
    assert (summary["tool_calls"], summary["tool_calls_refused"]) == (1000, 997)
    assert summary["tools"] == []  # the refused ones never ran: no record each (bounded)


def test_a_finished_call_frees_its_place() -> None:
    bridge = _live(_options(tool_names=LOOKUP, max_running_tools=2))
    first = _calls(2)
    bridge.handle(ToolCall(first), 1_000)
    [refused] = bridge.handle(ToolCall(_calls(1, first=3)), 1_010)[:1]
    assert refused == SendToolResponse((ToolResult("c3", "lookup", _too_many(2)),))
    bridge.handle(ToolFinished("c1", "lookup", {"output": 1}, duration_ms=5), 1_020)
    [again] = _calls(1, first=4)
    assert bridge.handle(ToolCall((again,)), 1_030) == [RunTool(again)]
    assert bridge.summary()["tool_calls_refused"] == 1


def test_unknown_names_and_refused_calls_share_one_response() -> None:
    bridge = _live(_options(tool_names=LOOKUP, max_running_tools=1))
    calls = (*_calls(2), FunctionCall("w1", "weather"))
    commands = bridge.handle(ToolCall(calls), 1_000)
    assert commands[0] == SendToolResponse(
        (
            ToolResult("c2", "lookup", _too_many(1)),
            ToolResult("w1", "weather", {"error": "no tool named weather is configured"}),
        )
    )
    assert _kinds(commands[1:]) == ["RunTool", "Note", "Note"]


def test_while_reconnecting_a_refused_call_of_the_old_session_gets_no_response() -> None:
    bridge = _reconnecting(_options(tool_names=LOOKUP, max_running_tools=1))
    commands = bridge.handle(ToolCall(_calls(3)), 2_050)
    assert not [c for c in commands if isinstance(c, SendToolResponse)]
    assert bridge.summary()["tool_calls_refused"] == 2


# ------------------------------------------------------------------- transfer and hang-up


def test_a_hang_up_is_answered_before_the_live_session_closes() -> None:
    bridge = _live(_options(tool_names=frozenset({"end_call"})))
    bridge.handle(ToolCall((FunctionCall("h1", "end_call"),)), 1_000)
    said = {"output": "the call will end once your last words have been heard"}
    finished = ToolFinished("h1", "end_call", said, duration_ms=1, action=HangUp())
    assert bridge.handle(finished, 1_010) == [
        SendToolResponse((ToolResult("h1", "end_call", said),)),
        CloseLive("handing off"),
        ControlCall(HangUp()),
        StartTimer("handoff", 11_010),
    ]


def test_a_transfer_asked_by_a_replaced_session_is_not_answered_on_the_new_one() -> None:
    bridge = _live(_options(tool_names=frozenset({"transfer"})))
    bridge.handle(SessionResumptionUpdate("h1", True), 500)
    bridge.handle(ToolCall((FunctionCall("t1", "transfer", {"destination": "sales"}),)), 900)
    bridge = _hand_over(bridge)
    sales = Transfer("+15550199", "sales")
    finished = ToolFinished("t1", "transfer", {"output": "transferring"}, action=sales)
    commands = bridge.handle(finished, 3_000)
    assert not [c for c in commands if isinstance(c, SendToolResponse)]
    assert ControlCall(sales) in commands
    assert _state(bridge) is CallState.HANDING_OFF
    assert bridge.handle(CallControlled(sales, ok=True), 3_100) == [
        Note("call.controlled", {"action": "transfer:sales", "ok": True})
    ]


def _hand_over(bridge: CallBridge) -> CallBridge:
    """The call's session closed (1011) and was replaced by a resumed one."""
    bridge.handle(CLOSED_1011, 1_000)
    bridge.handle(LiveOpened("s2", resumed=True), 1_300)
    assert _state(bridge) is CallState.LIVE
    return bridge
