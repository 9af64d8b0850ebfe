"""Scripted tool calls of one connection: issue, wait for the matching response, cancel."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any

import numpy as np
import numpy.typing as npt

from gateway.emulator.scenario import ToolCallRule

__all__ = ["PendingTool", "Resolution", "ToolCalls"]


@dataclass
class PendingTool:
    call_id: str
    rule: ToolCallRule
    issue_at_s: float
    echo: npt.NDArray[np.int16] | None
    """The caller utterance that triggered the call (None for text), spoken after the result."""
    echo_rate_hz: int = 16_000
    issued: bool = False

    def copy_ids(self) -> list[str]:
        """The ids of the rule's extra copies (`<id>.2`, `<id>.3`, ...)."""
        return [f"{self.call_id}.{n}" for n in range(2, self.rule.copies + 1)]

    def message(self) -> dict[str, Any]:
        ids = [self.call_id, *self.copy_ids()]
        calls = [{"id": i, "name": self.rule.name, "args": dict(self.rule.args)} for i in ids]
        return {"toolCall": {"functionCalls": calls}}


class Resolution(Enum):
    MATCHED = "matched"
    CANCELLED = "cancelled"
    COPY = "copy"
    """One of a rule's extra copies: answered, nothing more to do."""
    UNKNOWN = "unknown"


class ToolCalls:
    """At most one call pending; ids are `function-call-<session>-<connection>-<n>`."""

    def __init__(self, id_prefix: str) -> None:
        self._prefix = id_prefix
        self._count = 0
        self._cancelled: set[str] = set()
        self._copies: set[str] = set()
        self.pending: PendingTool | None = None

    def start(
        self,
        rule: ToolCallRule,
        issue_at_s: float,
        echo: npt.NDArray[np.int16] | None,
        echo_rate_hz: int = 16_000,
    ) -> None:
        self._count += 1
        call_id = f"{self._prefix}-{self._count}"
        self.pending = PendingTool(call_id, rule, issue_at_s, echo, echo_rate_hz)

    def due(self, now_s: float) -> PendingTool | None:
        """The call to issue now, if its time has come (marked issued)."""
        pending = self.pending
        if pending is None or pending.issued or now_s < pending.issue_at_s:
            return None
        pending.issued = True
        self._copies.update(pending.copy_ids())
        return pending

    def next_s(self) -> float | None:
        pending = self.pending
        return pending.issue_at_s if pending is not None and not pending.issued else None

    def withdraw_unissued(self) -> PendingTool | None:
        """Forget a call not yet issued (the caller kept talking); returns it."""
        pending = self.pending
        if pending is None or pending.issued:
            return None
        self.pending = None
        return pending

    def cancel_on_barge_in(self) -> str | None:
        """Cancel an issued call whose rule asks for it; returns its id."""
        pending = self.pending
        if pending is None or not pending.issued or not pending.rule.cancel_on_barge_in:
            return None
        self.pending = None
        self._cancelled.add(pending.call_id)
        return pending.call_id

    def resolve(self, call_id: str) -> tuple[Resolution, PendingTool | None]:
        """Match a response id: the pending call (now resolved), a cancelled one, or unknown."""
        pending = self.pending
        if pending is not None and pending.issued and call_id == pending.call_id:
            self.pending = None
            return Resolution.MATCHED, pending
        if call_id in self._cancelled:
            return Resolution.CANCELLED, None
        if call_id in self._copies:
            self._copies.discard(call_id)
            return Resolution.COPY, None
        return Resolution.UNKNOWN, None
