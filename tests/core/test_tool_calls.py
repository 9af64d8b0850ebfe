"""ToolCalls bookkeeping (pending, finished, cancelled, late) and result_as_text."""

from __future__ import annotations

import json
import re
from typing import Any

from gateway.core.events import HangUp, ToolFinished
from gateway.core.tool_calls import PendingCall, ToolCalls, result_as_text
from gateway.live.protocol import Scheduling

_PREFIX = (
    "(The connection was renewed while your call to the function {name} was running. "
    "It has now returned: "
)
_SUFFIX = " Continue the conversation with this result.)"


def _body(text: str, name: str) -> str:
    prefix = _PREFIX.format(name=name)
    assert text.startswith(prefix), text
    assert text.endswith(_SUFFIX), text
    return text[len(prefix) : -len(_SUFFIX)]


def test_start_and_finish() -> None:
    tools = ToolCalls(frozenset({"lookup", "weather"}))
    assert tools.configured == frozenset({"lookup", "weather"})
    tools.start("c1", "lookup", 1_000, session=1)
    tools.start("c2", "weather", 1_100, session=2)
    assert tools.pending == {
        "c1": PendingCall("lookup", 1_000, 1),
        "c2": PendingCall("weather", 1_100, 2),
    }
    finished = ToolFinished("c1", "lookup", {"output": 1}, outcome="ok", duration_ms=123.456)
    assert tools.finish(finished) == PendingCall("lookup", 1_000, 1)
    assert list(tools.pending) == ["c2"]
    failed = ToolFinished("c2", "weather", {"error": "x"}, outcome="timeout", duration_ms=5_000)
    assert tools.finish(failed) == PendingCall("weather", 1_100, 2)
    assert tools.pending == {}
    assert tools.records == [
        {"name": "lookup", "outcome": "ok", "duration_ms": 123.5},
        {"name": "weather", "outcome": "timeout", "duration_ms": 5_000.0},
    ]
    assert (tools.cancelled, tools.late) == (0, 0)


def test_a_cancelled_call_is_recorded_and_its_result_is_late() -> None:
    tools = ToolCalls(frozenset({"lookup"}))
    tools.start("c1", "lookup", 1_000, session=1)
    assert tools.cancel("c1", 1_250.25) == PendingCall("lookup", 1_000, 1)
    assert tools.pending == {}
    assert tools.cancel("c1", 1_300) is None  # twice: nothing more
    assert tools.cancel("nope", 1_300) is None
    assert tools.cancelled == 1
    assert tools.finish(ToolFinished("c1", "lookup", {"output": 1}, duration_ms=400)) is None
    assert tools.late == 1
    assert tools.records == [{"name": "lookup", "outcome": "cancelled", "duration_ms": 250.2}]


def test_a_result_nobody_asked_for_is_late_and_not_recorded() -> None:
    tools = ToolCalls(frozenset())
    assert tools.finish(ToolFinished("zz", "ghost", {"output": 1})) is None
    assert (tools.late, tools.records) == (1, [])


def test_finishing_twice_counts_the_second_as_late() -> None:
    tools = ToolCalls(frozenset({"lookup"}))
    tools.start("c1", "lookup", 0, session=1)
    event = ToolFinished("c1", "lookup", {"output": "a"}, duration_ms=10)
    assert tools.finish(event) is not None
    assert tools.finish(event) is None
    assert tools.late == 1
    assert len(tools.records) == 1


def test_result_as_text_holds_the_response_as_compact_json() -> None:
    response = {"output": {"status": "shipped", "eta": "2 days", "items": [1, 2]}, "n": 3.5}
    event = ToolFinished("c1", "lookup_order", response, scheduling=Scheduling.WHEN_IDLE)
    text = result_as_text(event)
    body = _body(text, "lookup_order")
    assert body == '{"output":{"status":"shipped","eta":"2 days","items":[1,2]},"n":3.5}'
    assert json.loads(body) == response


def test_result_as_text_keeps_non_ascii_as_is() -> None:
    event = ToolFinished("c1", "greet", {"output": "Grüße, 東京 ✓"}, action=HangUp())
    body = _body(result_as_text(event), "greet")
    assert body == '{"output":"Grüße, 東京 ✓"}'
    assert json.loads(body) == {"output": "Grüße, 東京 ✓"}


def test_an_unencodable_result_says_so_in_valid_json() -> None:
    event = ToolFinished("c1", "lookup", {"output": object()})
    body = _body(result_as_text(event), "lookup")
    assert json.loads(body) == {"error": "the result could not be encoded"}
    circular: dict[str, Any] = {}
    circular["self"] = circular
    body = _body(result_as_text(ToolFinished("c2", "lookup", circular)), "lookup")
    assert json.loads(body) == {"error": "the result could not be encoded"}


def test_a_result_of_exactly_the_limit_is_not_cut() -> None:
    filler = "x" * (4_000 - len('{"output":""}'))
    event = ToolFinished("c1", "lookup", {"output": filler})
    body = _body(result_as_text(event), "lookup")
    assert len(body) == 4_000
    assert json.loads(body) == {"output": filler}


def test_a_long_result_is_cut_at_4000_characters_with_an_ellipsis() -> None:
    filler = "y" * 10_000
    event = ToolFinished("c1", "lookup", {"output": filler})
    body = _body(result_as_text(event), "lookup")
    assert len(body) == 4_001
    assert body.endswith("…")
    assert body[:-1] == ('{"output":"' + filler)[:4_000]
    assert re.fullmatch(r'\{"output":"y+…', body)
