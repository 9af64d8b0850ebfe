"""CallBridge with keypad entry (issue 20): the built-in `collect_digits` tool is gathered by
the call itself until the end key, the maximum length or a timeout, and answered with the
digits; single keys are not sent to the model while it runs; with `redact` the transcript shows
`***`. Exact commands, in order."""

from __future__ import annotations

from gateway.core.bridge import CallBridge, CallState
from gateway.core.digits import DigitCollection
from gateway.core.events import (
    CancelTool,
    DtmfPressed,
    LiveOpened,
    Note,
    SendText,
    SendToolResponse,
    StartTimer,
    TimerFired,
    ToolFinished,
)
from gateway.core.tool_calls import result_as_text
from gateway.live.events import FunctionCall, ToolCall, ToolCallCancellation
from gateway.live.protocol import ToolResult
from tests.core.test_bridge_sessions import CLOSED_1011, _live, _options

PIN = DigitCollection("enter_pin", max_digits=6, redact=True)
ACCOUNT = DigitCollection("enter_account", max_digits=4, end_key="")


def _bridge() -> CallBridge:
    options = _options(
        tool_names=frozenset({"enter_pin", "enter_account", "lookup"}),
        digit_collections=(PIN, ACCOUNT),
    )
    return _live(options)


def _collecting(name: str, at_ms: float, timeout_ms: float = 15_000) -> list[object]:
    spec = PIN if name == "enter_pin" else ACCOUNT
    return [
        StartTimer("digits", at_ms + timeout_ms),
        Note(
            "tool.collecting_digits",
            {"name": name, "max_digits": spec.max_digits, "end_key": spec.end_key},
        ),
    ]


def _collected(name: str, digits: str, ended_by: str, call_id: str = "fc1") -> list[object]:
    fields = {"name": name, "outcome": "ok", "digits": len(digits), "ended_by": ended_by}
    result = {"output": {"digits": digits, "ended_by": ended_by}}
    return [
        Note("tool.digits_collected", fields),
        SendToolResponse((ToolResult(call_id, name, result),)),
    ]


def test_digits_are_gathered_until_the_end_key_and_answer_the_call() -> None:
    bridge = _bridge()
    ask = ToolCall((FunctionCall("fc1", "enter_pin", {}),))
    assert bridge.handle(ask, 1_000) == _collecting("enter_pin", 1_000)  # nothing for the shell
    for at_ms, digit in ((2_000, "4"), (2_300, "2"), (2_600, "4"), (2_900, "2")):
        # Single keys are not sent to the model: only the next inter-digit deadline.
        assert bridge.handle(DtmfPressed(digit), at_ms) == [StartTimer("digits", at_ms + 5_000)]
    assert bridge.handle(DtmfPressed("#"), 3_200) == _collected("enter_pin", "4242", "end_key")
    # Redacted: the transcript shows the entry, never its digits.
    assert [(line.role, line.text) for line in bridge.transcript()] == [("caller", "[keypad] ***")]
    # After the entry, keys go to the model as ever.
    assert bridge.handle(DtmfPressed("9"), 4_000) == [
        SendText("The caller pressed 9 on the keypad.")
    ]
    summary = bridge.summary()
    assert summary["tools"] == [{"name": "enter_pin", "outcome": "ok", "duration_ms": 2_200.0}]
    assert summary["dtmf_texts"] == 1


def test_the_maximum_length_ends_the_entry_and_the_transcript_shows_unredacted_digits() -> None:
    bridge = _bridge()
    bridge.handle(ToolCall((FunctionCall("fc1", "enter_account", {}),)), 1_000)
    for at_ms, digit in ((1_500, "1"), (1_600, "#"), (1_700, "3")):  # no end key: # is a digit
        assert bridge.handle(DtmfPressed(digit), at_ms) == [StartTimer("digits", at_ms + 5_000)]
    assert bridge.handle(DtmfPressed("7"), 1_800) == _collected(
        "enter_account", "1#37", "max_digits"
    )
    assert [(line.role, line.text) for line in bridge.transcript()] == [("caller", "[keypad] 1#37")]


def test_a_timeout_ends_the_entry_with_what_was_typed() -> None:
    bridge = _bridge()
    bridge.handle(ToolCall((FunctionCall("fc1", "enter_pin", {}),)), 1_000)
    bridge.handle(DtmfPressed("1"), 2_000)
    bridge.handle(DtmfPressed("2"), 3_000)
    # The first deadline (16 s) is stale; the timer set last (8 s) is the one that ends it.
    assert bridge.handle(TimerFired("digits"), 8_000) == _collected("enter_pin", "12", "timeout")
    assert bridge.handle(TimerFired("digits"), 16_000) == []  # nothing under way
    other = _bridge()
    other.handle(ToolCall((FunctionCall("fc2", "enter_pin", {}),)), 1_000)
    assert other.handle(TimerFired("digits"), 16_000) == _collected(
        "enter_pin", "", "timeout", "fc2"
    )


def test_a_timer_that_fires_before_the_deadline_waits_on() -> None:
    bridge = _bridge()
    bridge.handle(ToolCall((FunctionCall("fc1", "enter_pin", {}),)), 1_000)
    bridge.handle(DtmfPressed("1"), 2_000)
    assert bridge.handle(TimerFired("digits"), 6_000) == [StartTimer("digits", 7_000)]


def test_a_second_entry_while_one_runs_is_refused_and_other_tools_still_run() -> None:
    bridge = _bridge()
    bridge.handle(ToolCall((FunctionCall("fc1", "enter_pin", {}),)), 1_000)
    busy = {"error": "the caller is already entering digits for another request"}
    assert bridge.handle(ToolCall((FunctionCall("fc2", "enter_account", {}),)), 1_100) == [
        Note("tool.digits_collected", {"name": "enter_account", "outcome": "error"}),
        SendToolResponse((ToolResult("fc2", "enter_account", busy),)),
    ]


def test_a_cancelled_entry_gives_the_keys_back_to_the_model() -> None:
    bridge = _bridge()
    bridge.handle(ToolCall((FunctionCall("fc1", "enter_pin", {}),)), 1_000)
    bridge.handle(DtmfPressed("1"), 1_200)
    assert bridge.handle(ToolCallCancellation(("fc1",)), 1_500) == [
        CancelTool("fc1"),
        Note("tool.cancelled", {"call_ids": ["fc1"]}),
    ]
    assert bridge.handle(DtmfPressed("5"), 2_000) == [
        SendText("The caller pressed 5 on the keypad.")
    ]
    assert bridge.handle(TimerFired("digits"), 6_200) == []


def test_an_entry_finished_while_the_session_is_replaced_is_told_to_the_next_one() -> None:
    bridge = _bridge()
    bridge.handle(ToolCall((FunctionCall("fc1", "enter_pin", {}),)), 1_000)
    bridge.handle(CLOSED_1011, 1_500)
    assert bridge.state is CallState.RECONNECTING
    bridge.handle(DtmfPressed("7"), 1_600)
    fields = {"name": "enter_pin", "outcome": "ok", "digits": 1, "ended_by": "end_key"}
    assert bridge.handle(DtmfPressed("#"), 1_700) == [Note("tool.digits_collected", fields)]
    reopened = bridge.handle(LiveOpened("s2", resumed=True), 2_000)
    told = ToolFinished(
        "fc1",
        "enter_pin",
        {"output": {"digits": "7", "ended_by": "end_key"}},
        duration_ms=700,
    )
    assert SendText(result_as_text(told)) in reopened
