"""What every tool shares: its settings, the call context it runs in, its reply and its errors.

A tool is a `ToolSpec` (name, schema, timeout, size limit, scheduling: the same for every kind)
plus a `Handler` that does the kind's work (`gateway.tools.http_tool`, `python_tool`,
`builtin`). `Toolbox.run` (gateway.tools.toolbox) wraps every handler with the timeout, the
size limit, the error responses and the `tool.started`/`tool.completed` log lines, so handlers
only do their one job and raise `ToolError` for failures the model should hear about.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

import httpx

from gateway.core.events import CallAction
from gateway.live.protocol import Scheduling

__all__ = [
    "DEFAULT_MAX_RESULT_BYTES",
    "DEFAULT_TIMEOUT_S",
    "Handler",
    "Outcome",
    "Reply",
    "ToolContext",
    "ToolError",
    "ToolLimits",
    "ToolSpec",
]

DEFAULT_TIMEOUT_S = 8.0
"""How long a tool may take unless the tools file says otherwise (the caller is waiting)."""
DEFAULT_MAX_RESULT_BYTES = 8 * 1024
"""Largest response (compact UTF-8 JSON) sent back to the model unless the file says otherwise."""

Outcome = Literal["ok", "error", "timeout"]


@dataclass(frozen=True)
class ToolContext:
    """What a running tool may know about its phone call, and the shared HTTP client.

    Python tools receive it as their `context` keyword argument when they declare one."""

    http: httpx.AsyncClient = field(repr=False)
    carrier: str = ""
    """Short carrier name (`twilio`)."""
    carrier_call_id: str = ""
    """The carrier's id of the phone call (Twilio CallSid)."""
    from_number: str | None = None
    """The caller's number (or SIP URI) when the carrier told us."""
    to_number: str | None = None
    """The number the caller dialled, when known."""


@dataclass(frozen=True)
class Reply:
    """A handler's success: `output` goes to the model as `{"output": ...}`.

    `action` asks the bridge to transfer or hang up once the agent's last words were heard;
    `log_fields` are safe, small facts for the `tool.completed` line (HTTP status, attempts)."""

    output: Any
    action: CallAction | None = None
    log_fields: Mapping[str, Any] = field(default_factory=dict)


class ToolError(Exception):
    """A failure the model should hear about: `message` is spoken about, so it must be safe.

    Python tools may raise it themselves (`raise ToolError("no such customer")`); the message
    then reaches the model verbatim. `detail` is an optional JSON value sent beside it (a
    backend's error body), `outcome` is `error` or `timeout`."""

    def __init__(
        self,
        message: str,
        *,
        detail: Any = None,
        outcome: Outcome = "error",
        log_fields: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail
        self.outcome: Outcome = outcome
        self.log_fields: Mapping[str, Any] = dict(log_fields or {})


@dataclass(frozen=True)
class ToolSpec:
    """The settings every kind of tool has (validated by gateway.tools.config)."""

    name: str
    description: str
    kind: str
    """`http`, `python`, `transfer` or `hang_up`."""
    parameters: Mapping[str, Any] | None = None
    """The Live (OpenAPI-subset) schema of the arguments, or None for a tool without any."""
    timeout_s: float = DEFAULT_TIMEOUT_S
    max_result_bytes: int = DEFAULT_MAX_RESULT_BYTES
    redact_args: bool = False
    """Keep the model's arguments out of the logs (they may hold personal data)."""
    non_blocking: bool = False
    scheduling: Scheduling | None = None
    """How a NON_BLOCKING tool's result is taken; None: the server's default (WHEN_IDLE)."""

    @property
    def required(self) -> tuple[str, ...]:
        if self.parameters is None:
            return ()
        return tuple(self.parameters.get("required", ()))


@dataclass(frozen=True)
class ToolLimits:
    """What the tools of the whole gateway may take (the tools file's `[limits]`)."""

    max_running_per_call: int = 8
    """Tool calls one phone call may have running at once; the model's calls beyond it are
    answered with an error at once, so one call cannot flood the backends or the gateway."""
    threads: int = 16
    """Worker threads for plain (`def`) Python tools, shared by every call; a tool that finds
    them all busy waits for one within its own timeout."""


class Handler(Protocol):
    """One kind's work. Raises ToolError for failures the model should hear about; any other
    exception becomes a generic error response (its type only); CancelledError propagates."""

    async def invoke(self, args: Mapping[str, Any], context: ToolContext) -> Reply: ...
