"""Scripted tool calls: ids, issue time, withdrawal, cancellation, resolution."""

from __future__ import annotations

from gateway.emulator.scenario import ToolCallRule
from gateway.emulator.tools import Resolution, ToolCalls

RULE = ToolCallRule(name="lookup", args={"order": "42"}, on_turn=1)


def test_issue_and_resolve() -> None:
    tools = ToolCalls("function-call-s-1")
    tools.start(RULE, 1.0, echo=None)
    assert tools.next_s() == 1.0
    assert tools.due(0.9) is None
    issued = tools.due(1.0)
    assert issued is not None
    assert issued.message() == {
        "toolCall": {
            "functionCalls": [
                {"id": "function-call-s-1-1", "name": "lookup", "args": {"order": "42"}}
            ]
        }
    }
    assert tools.next_s() is None
    assert tools.resolve("other") == (Resolution.UNKNOWN, None)
    assert tools.resolve("function-call-s-1-1") == (Resolution.MATCHED, issued)
    assert tools.pending is None


def test_withdraw_before_issue_and_cancel_after() -> None:
    tools = ToolCalls("p")
    tools.start(RULE, 1.0, echo=None)
    assert tools.cancel_on_barge_in() is None  # not issued yet
    withdrawn = tools.withdraw_unissued()
    assert withdrawn is not None
    assert withdrawn.call_id == "p-1"
    tools.start(RULE, 2.0, echo=None)
    tools.due(2.0)
    assert tools.withdraw_unissued() is None
    assert tools.cancel_on_barge_in() == "p-2"
    assert tools.resolve("p-2") == (Resolution.CANCELLED, None)


def test_rules_can_keep_calls_through_barge_in() -> None:
    tools = ToolCalls("p")
    tools.start(ToolCallRule(name="x", on_text="5", cancel_on_barge_in=False), 0.0, echo=None)
    tools.due(0.0)
    assert tools.cancel_on_barge_in() is None
    assert tools.pending is not None


def test_copies_issue_many_calls_in_one_tool_call_each_answerable_once() -> None:
    tools = ToolCalls("p")
    tools.start(ToolCallRule(name="lookup", on_turn=1, copies=3), 1.0, echo=None)
    issued = tools.due(1.0)
    assert issued is not None
    assert issued.message() == {
        "toolCall": {
            "functionCalls": [
                {"id": "p-1", "name": "lookup", "args": {}},
                {"id": "p-1.2", "name": "lookup", "args": {}},
                {"id": "p-1.3", "name": "lookup", "args": {}},
            ]
        }
    }
    assert tools.resolve("p-1.3") == (Resolution.COPY, None)
    assert tools.resolve("p-1.3") == (Resolution.UNKNOWN, None)  # answered twice
    assert tools.pending is issued  # the reply still waits for the first call
    assert tools.resolve("p-1") == (Resolution.MATCHED, issued)
    assert tools.resolve("p-1.2") == (Resolution.COPY, None)
