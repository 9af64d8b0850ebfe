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
    send_id: bool = True
    """False: the call goes out without an `id` (Vertex mode), and is answered by name."""

    def copy_ids(self) -> list[str]:
        """The ids of the rule's extra copies (`<id>.2`, `<id>.3`, ...)."""
        return [f"{self.call_id}.{n}" for n in range(2, self.rule.copies + 1)]

    def message(self) -> dict[str, Any]:
        ids = [self.call_id, *self.copy_ids()]
        calls: list[dict[str, Any]] = []
        for call_id in ids:
            call: dict[str, Any] = {"id": call_id} if self.send_id else {}
            call.update(name=self.rule.name, args=dict(self.rule.args))
            calls.append(call)
        return {"toolCall": {"functionCalls": calls}}


class Resolution(Enum):
    MATCHED = "matched"
    CANCELLED = "cancelled"
    COPY = "copy"
    """One of a rule's extra copies: answered, nothing more to do."""
    UNKNOWN = "unknown"


class ToolCalls:
    """At most one call pending; ids are `function-call-<session>-<connection>-<n>`.

    With `send_ids` off the calls go out without an id; a response without an id is then matched
    by the function's name (strictest reading: it must name the pending call's function)."""

    def __init__(self, id_prefix: str, *, send_ids: bool = True) -> None:
        self._prefix = id_prefix
        self._count = 0
        self._cancelled: set[str] = set()
        self._send_ids = send_ids
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
        self.pending = PendingTool(
            call_id, rule, issue_at_s, echo, echo_rate_hz, send_id=self._send_ids
        )

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

    @property
    def sends_ids(self) -> bool:
        return self._send_ids

    def cancel_on_barge_in(self) -> str | None:
        """Cancel an issued call whose rule asks for it; returns its id (kept even when the call
        went out without it)."""
        pending = self.pending
        if pending is None or not pending.issued or not pending.rule.cancel_on_barge_in:
            return None
        self.pending = None
        self._cancelled.add(pending.call_id if pending.send_id else f"name:{pending.rule.name}")
        return pending.call_id

    def resolve(
        self, call_id: str | None, name: object = None
    ) -> tuple[Resolution, PendingTool | None]:
        """Match a response (its id, or without one its name when calls go out without ids):
        the pending call (now resolved), a cancelled one, or unknown."""
        pending = self.pending
        if self._send_ids or call_id is not None:
            key = call_id
            matches = pending is not None and pending.send_id and call_id == pending.call_id
        else:
            key = f"name:{name}"
            matches = pending is not None and name == pending.rule.name
        if pending is not None and pending.issued and matches:
            self.pending = None
            return Resolution.MATCHED, pending
        if key in self._cancelled:
            return Resolution.CANCELLED, None
        if call_id in self._copies:
            self._copies.discard(call_id)
            return Resolution.COPY, None
        return Resolution.UNKNOWN, None
