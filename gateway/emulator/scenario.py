"""Scripted emulator behaviour for tests: tool calls, timed goAway/close, rejected setups.

A scenario is a frozen Python object, or a TOML/JSON file with the same shape:

```toml
transcripts = ["I'd like to check my order"]   # inputTranscription text per caller turn
replies = ["Let me look that up"]             # outputTranscription text per model turn
abort_audio_during_tool_call = false           # close 1008 on audio while a call is pending

[[tool_calls]]
name = "lookup_order"
args = { order = "42" }
on_turn = 1                 # the caller's 1st utterance of the session triggers it...
# on_text = "pressed 5"     # ...or realtime text containing this (e.g. a DTMF note)
say_ms = 1500               # after the matching toolResponse, speak this long (default: echo)
say_text = "Your order has shipped"
cancel_on_barge_in = true   # caller speech while pending sends toolCallCancellation

[[actions]]
at_s = 30.0                 # emulated seconds after setupComplete on that connection
action = "go_away"          # or "close", "drop" (TCP reset, no close frame: 1006), or
                            # "silence" (from then on the connection sends nothing, a stall)
connection = 1              # which connection of the session (1-based); 0 means every one
time_left_s = 10.0          # goAway only
# code = 1011               # close only
# reason = "Internal error encountered."

[reject_setups]
count = 1                   # the first N setups the emulator receives
code = 1008
reason = "models/x is not found for API version v1beta."
```
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["Scenario", "ScenarioError", "SetupRejection", "TimedAction", "ToolCallRule"]


class ScenarioError(ValueError):
    """The scenario is malformed (the message says where)."""


@dataclass(frozen=True)
class ToolCallRule:
    name: str
    args: Mapping[str, Any] = field(default_factory=dict)
    on_turn: int | None = None
    on_text: str | None = None
    say_ms: int | None = None
    say_text: str = ""
    cancel_on_barge_in: bool = True
    copies: int = 1
    """Function calls in the one `toolCall` (a model asking for many at once); the first is the
    call whose response the reply waits for, the others only need a response."""

    def __post_init__(self) -> None:
        if (self.on_turn is None) == (self.on_text is None):
            raise ScenarioError(f"tool call {self.name!r}: give exactly one of on_turn, on_text")
        if self.copies < 1:
            raise ScenarioError(f"tool call {self.name!r}: copies must be >= 1")


@dataclass(frozen=True)
class TimedAction:
    at_s: float
    action: str
    connection: int = 1
    time_left_s: float = 10.0
    code: int = 1011
    reason: str = "Internal error encountered."

    def __post_init__(self) -> None:
        if self.action not in {"go_away", "close", "drop", "silence"}:
            raise ScenarioError(
                f"action must be go_away, close, drop or silence, not {self.action!r}"
            )
        if not 1000 <= self.code <= 4999:
            raise ScenarioError(f"close code {self.code} is not a WebSocket close code")

    def applies_to(self, connection: int) -> bool:
        return self.connection in (0, connection)


@dataclass(frozen=True)
class SetupRejection:
    count: int = 1
    code: int = 1008
    reason: str = "Operation is not implemented, or supported, or enabled."


@dataclass(frozen=True)
class Scenario:
    tool_calls: tuple[ToolCallRule, ...] = ()
    actions: tuple[TimedAction, ...] = ()
    reject_setups: SetupRejection | None = None
    transcripts: tuple[str, ...] = ()
    replies: tuple[str, ...] = ()
    abort_audio_during_tool_call: bool = False

    def rule_for_turn(self, turn: int) -> ToolCallRule | None:
        return next((r for r in self.tool_calls if r.on_turn == turn), None)

    def rule_for_text(self, text: str) -> ToolCallRule | None:
        return next((r for r in self.tool_calls if r.on_text and r.on_text in text), None)

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> Scenario:
        """Build from parsed TOML/JSON; unknown keys are errors."""
        try:
            rules = tuple(ToolCallRule(**dict(r)) for r in data.get("tool_calls", ()))
            actions = tuple(TimedAction(**dict(a)) for a in data.get("actions", ()))
            rejection = data.get("reject_setups")
            known = {
                "tool_calls",
                "actions",
                "reject_setups",
                "transcripts",
                "replies",
                "abort_audio_during_tool_call",
            }
            extra = set(data) - known
            if extra:
                raise ScenarioError(f"unknown scenario keys: {', '.join(sorted(extra))}")
            return cls(
                tool_calls=rules,
                actions=actions,
                reject_setups=SetupRejection(**dict(rejection)) if rejection else None,
                transcripts=tuple(str(t) for t in data.get("transcripts", ())),
                replies=tuple(str(t) for t in data.get("replies", ())),
                abort_audio_during_tool_call=bool(data.get("abort_audio_during_tool_call", False)),
            )
        except TypeError as exc:
            raise ScenarioError(f"bad scenario entry: {exc}") from None

    @classmethod
    def load(cls, path: str | Path) -> Scenario:
        """Read a `.toml` or `.json` scenario file."""
        path = Path(path)
        text = path.read_text(encoding="utf-8")
        try:
            data = json.loads(text) if path.suffix == ".json" else tomllib.loads(text)
        except (ValueError, tomllib.TOMLDecodeError) as exc:
            raise ScenarioError(f"{path}: {exc}") from None
        if not isinstance(data, dict):
            raise ScenarioError(f"{path}: the scenario must be a table/object")
        return cls.from_mapping(data)
