"""`Toolbox`: the configured tools, their declarations for Live, and running one call.

`run` never raises, except `asyncio.CancelledError` (the model cancelled the call, the phone
call ended): an unknown tool, missing arguments, a timeout, a backend's HTTP error or any
exception in your code becomes a `ToolFinished` with an `{"error": ...}` response the model can
talk about, and the call goes on. Every run logs `tool.started` and `tool.completed` (name,
call id, kind, outcome, duration_ms, response size; the arguments unless the tool redacts them)
or `tool.cancelled`. Runs share nothing, so a call's tools may run concurrently. Text in the
response is cleaned here (a lone surrogate becomes U+FFFD, gateway.text), so that no backend's
answer can fail the call that asked for it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from gateway.core.digits import DigitCollection
from gateway.core.events import ToolFinished
from gateway.live.events import FunctionCall
from gateway.live.setup import FunctionDeclaration
from gateway.log import get_logger
from gateway.text import clean_json
from gateway.tools.base import (
    Handler,
    Outcome,
    Reply,
    ToolContext,
    ToolError,
    ToolLimits,
    ToolSpec,
)
from gateway.tools.builtin import DigitsHandler
from gateway.tools.results import encoded_size, limit_response
from gateway.tools.threads import ToolThreads

__all__ = ["Tool", "Toolbox"]

_log = get_logger(component="tools")
_REDACTED = "[redacted]"


@dataclass(frozen=True)
class Tool:
    spec: ToolSpec
    handler: Handler

    def declaration(self) -> FunctionDeclaration:
        return FunctionDeclaration(
            name=self.spec.name,
            description=self.spec.description,
            parameters=self.spec.parameters,
            non_blocking=self.spec.non_blocking,
        )


class Toolbox:
    """The tools of one gateway (immutable; shared by every call)."""

    def __init__(
        self,
        tools: Sequence[Tool],
        *,
        clock: Callable[[], float] = time.monotonic,
        source: str = "",
        limits: ToolLimits | None = None,
        threads: ToolThreads | None = None,
    ) -> None:
        names = [tool.spec.name for tool in tools]
        if len(names) != len(set(names)):
            raise ValueError("tool names must be unique")
        self._tools: dict[str, Tool] = {tool.spec.name: tool for tool in tools}
        self._clock = clock
        self.source = source
        """Where the tools came from (the file's path), for logs."""
        self.limits = limits or ToolLimits()
        self.threads = threads
        """The worker threads of its plain Python tools (None: it has none of its own)."""

    def close(self) -> None:
        """Stop the tools' worker threads (the gateway is stopping); running functions go on
        to their end in daemon threads, tools waiting for a thread are cancelled."""
        if self.threads is not None:
            self.threads.shutdown()

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self._tools)

    def __len__(self) -> int:
        return len(self._tools)

    def __contains__(self, name: object) -> bool:
        return name in self._tools

    def tool(self, name: str) -> Tool | None:
        return self._tools.get(name)

    def spec(self, name: str) -> ToolSpec | None:
        tool = self._tools.get(name)
        return tool.spec if tool is not None else None

    def digit_collections(self, names: Iterable[str]) -> tuple[DigitCollection, ...]:
        """The `collect_digits` tools among `names` (the call's bridge gathers them)."""
        handlers = (t.handler for t in map(self._tools.get, names) if t is not None)
        return tuple(h.collection for h in handlers if isinstance(h, DigitsHandler))

    def declarations(self) -> tuple[FunctionDeclaration, ...]:
        """What to put in `LiveConfig.tools`."""
        return tuple(tool.declaration() for tool in self._tools.values())

    async def run(self, call: FunctionCall, context: ToolContext) -> ToolFinished:
        """Run one function call to its end (see the module doc); never raises but on cancel."""
        started = self._clock()
        call_id = call.call_id or ""
        tool = self._tools.get(call.name)
        log = _log.bind(name=call.name, call_id=call_id)
        if tool is None:
            log.warning("tool.completed", outcome="error", reason="unknown tool", duration_ms=0.0)
            unknown = {"error": f"there is no tool named {call.name}"}
            return ToolFinished(call_id, call.name, unknown, "error", 0.0)
        spec = tool.spec
        args = call.args if isinstance(call.args, Mapping) else {}
        log = log.bind(kind=spec.kind)
        log.info("tool.started", args=_REDACTED if spec.redact_args else dict(args))
        outcome: Outcome = "ok"
        reply: Reply | None = None
        fields: dict[str, Any] = {}
        response: dict[str, Any]
        deadline = asyncio.timeout(spec.timeout_s)
        try:
            missing = [name for name in spec.required if args.get(name) is None]
            if missing:
                raise ToolError(f"missing required argument: {', '.join(missing)}")
            async with deadline:
                reply = await tool.handler.invoke(args, context)
            response = {"output": reply.output}
            fields.update(reply.log_fields)
        except ToolError as exc:
            outcome = exc.outcome
            response = {"error": exc.message}
            if exc.detail is not None:
                response["detail"] = exc.detail
            fields.update(exc.log_fields, reason=exc.message)
        except TimeoutError:
            if not deadline.expired():  # the tool's own code raised it
                outcome, response = "error", {"error": f"{spec.name} failed (TimeoutError)"}
                fields["reason"] = "TimeoutError"
            else:
                outcome = "timeout"
                response = {
                    "error": f"{spec.name} did not finish within {spec.timeout_s:g} seconds; "
                    "the system is slow, you may offer to try again"
                }
                fields["reason"] = "timeout"
        except asyncio.CancelledError:
            log.info("tool.cancelled", duration_ms=self._elapsed_ms(started))
            raise
        except Exception as exc:
            outcome = "error"
            response = {"error": f"{spec.name} failed ({type(exc).__name__})"}
            fields["reason"] = type(exc).__name__
        # The edge for text from backends and your code: no lone surrogate gets further.
        response = clean_json(response)
        fields = clean_json(fields)
        response, truncated = limit_response(response, spec.max_result_bytes)
        duration_ms = self._elapsed_ms(started)
        action = reply.action if reply is not None and outcome == "ok" else None
        level = log.info if outcome == "ok" else log.warning
        level(
            "tool.completed",
            outcome=outcome,
            duration_ms=duration_ms,
            result_bytes=encoded_size(response),
            truncated=truncated,
            action=type(action).__name__ if action is not None else None,
            **fields,
        )
        return ToolFinished(
            call_id=call_id,
            name=spec.name,
            response=response,
            outcome=outcome,
            duration_ms=duration_ms,
            action=action,
            scheduling=spec.scheduling if spec.non_blocking else None,
        )

    def _elapsed_ms(self, started: float) -> float:
        return round((self._clock() - started) * 1000.0, 3)
