"""Scenario objects and files."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.emulator.scenario import (
    Scenario,
    ScenarioError,
    SetupRejection,
    TimedAction,
    ToolCallRule,
)

TOML = """
transcripts = ["I'd like to check my order"]
replies = ["Let me look"]
abort_audio_during_tool_call = true

[[tool_calls]]
name = "lookup_order"
args = { order = "42" }
on_turn = 1
say_ms = 1500
say_text = "It shipped"

[[tool_calls]]
name = "menu"
on_text = "pressed 5"
cancel_on_barge_in = false

[[actions]]
at_s = 30.0
action = "go_away"
time_left_s = 10.0

[[actions]]
at_s = 45.0
action = "close"
connection = 0
code = 1011
reason = "Internal error encountered."

[reject_setups]
count = 2
code = 1008
reason = "nope"
"""

EXPECTED = Scenario(
    tool_calls=(
        ToolCallRule(
            name="lookup_order", args={"order": "42"}, on_turn=1, say_ms=1500, say_text="It shipped"
        ),
        ToolCallRule(name="menu", on_text="pressed 5", cancel_on_barge_in=False),
    ),
    actions=(
        TimedAction(at_s=30.0, action="go_away", time_left_s=10.0),
        TimedAction(at_s=45.0, action="close", connection=0),
    ),
    reject_setups=SetupRejection(count=2, code=1008, reason="nope"),
    transcripts=("I'd like to check my order",),
    replies=("Let me look",),
    abort_audio_during_tool_call=True,
)


def test_toml_file(tmp_path: Path) -> None:
    path = tmp_path / "s.toml"
    path.write_text(TOML)
    assert Scenario.load(path) == EXPECTED


def test_json_file(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    path.write_text('{"tool_calls": [{"name": "f", "on_turn": 2}], "actions": []}')
    assert Scenario.load(path) == Scenario(tool_calls=(ToolCallRule(name="f", on_turn=2),))


def test_rule_lookup() -> None:
    assert EXPECTED.rule_for_turn(1) == EXPECTED.tool_calls[0]
    assert EXPECTED.rule_for_turn(2) is None
    assert EXPECTED.rule_for_text("Caller pressed 5 twice") == EXPECTED.tool_calls[1]
    assert EXPECTED.rule_for_text("pressed 4") is None
    assert EXPECTED.actions[1].applies_to(7)
    assert not EXPECTED.actions[0].applies_to(2)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"tool_calls": [{"name": "f"}]}, "exactly one of on_turn, on_text"),
        ({"tool_calls": [{"name": "f", "on_turn": 1, "on_text": "x"}]}, "exactly one"),
        ({"actions": [{"at_s": 1, "action": "explode"}]}, "go_away, close, drop or silence"),
        ({"actions": [{"at_s": 1, "action": "close", "code": 99}]}, "close code"),
        ({"tool_calls": [{"name": "f", "on_turn": 1, "colour": "red"}]}, "bad scenario entry"),
        ({"surprise": 1}, "unknown scenario keys: surprise"),
    ],
)
def test_malformed_scenarios(data: dict[str, object], message: str) -> None:
    with pytest.raises(ScenarioError, match=message):
        Scenario.from_mapping(data)


def test_unparsable_files(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text("[[tool_calls]\n")
    with pytest.raises(ScenarioError, match=r"bad\.toml"):
        Scenario.load(path)
    listed = tmp_path / "list.json"
    listed.write_text("[]")
    with pytest.raises(ScenarioError, match="table/object"):
        Scenario.load(listed)
