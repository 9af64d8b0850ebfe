"""A call's side work: its tool runs and its carrier REST requests, one task each.

The runner hands `RunTool`, `CancelTool` and `ControlCall` here; `CallTasks` starts the work in the
call's task group and feeds the outcome (`ToolFinished`, `CallControlled`) back to the bridge. A
cancelled tool feeds nothing back. `CallServices` is what a call may use for it, all optional:
without a toolbox a tool call is answered with an error, without call control the bridge is told
the request failed (and ends the stream itself).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from gateway.carriers.control import CallControl
from gateway.core.events import BridgeEvent, CallAction, CallControlled, ToolFinished
from gateway.live.events import FunctionCall
from gateway.shell.live_link import OpenSession
from gateway.tools.base import ToolContext

__all__ = ["CallServices", "CallTasks", "PerformsControl", "RunsTools"]


class RunsTools(Protocol):
    async def run(self, call: FunctionCall, context: ToolContext) -> ToolFinished: ...


class PerformsControl(Protocol):
    async def perform(
        self, control: CallControl, call_id: str, action: CallAction
    ) -> CallControlled: ...


@dataclass(frozen=True)
class CallServices:
    """What a call may use besides its two sockets; each part is optional."""

    open_session: OpenSession | None = None
    """Opens replacement Live sessions (handovers, reconnects); None: a lost session ends."""
    tools: RunsTools | None = None
    tool_context: Callable[[str], ToolContext] | None = None
    """The context of the call's tool runs, from its carrier call id."""
    control: CallControl | None = None
    """The carrier's REST requests (transfer, hang-up); None: the stream just ends."""
    control_client: PerformsControl | None = None


class CallTasks:
    def __init__(self, services: CallServices, handle: Callable[[BridgeEvent], None]) -> None:
        self._services = services
        self._handle = handle
        self._tools: dict[str, asyncio.Task[None]] = {}
        self._controls: set[asyncio.Task[None]] = set()

    def tasks(self) -> list[asyncio.Task[None]]:
        """Everything still running (the call cancels it when it ends)."""
        return [*self._tools.values(), *self._controls]

    def run_tool(self, group: asyncio.TaskGroup, call: FunctionCall, carrier_call_id: str) -> None:
        call_id = call.call_id
        if not call_id:
            return  # the bridge never asks for a call without an id
        tools, make_context = self._services.tools, self._services.tool_context
        if tools is None or make_context is None:
            error = {"error": f"the tool {call.name} is not available"}
            self._handle(ToolFinished(call_id, call.name, error, outcome="error"))
            return
        context = make_context(carrier_call_id)

        async def run() -> None:
            try:
                finished = await tools.run(call, context)
            finally:
                self._tools.pop(call_id, None)
            self._handle(finished)

        self._tools[call_id] = group.create_task(run(), name="tool")

    def cancel_tool(self, call_id: str) -> None:
        task = self._tools.pop(call_id, None)
        if task is not None:
            task.cancel()

    def control(
        self, group: asyncio.TaskGroup, action: CallAction, carrier_call_id: str | None
    ) -> None:
        control, client = self._services.control, self._services.control_client
        if control is None or client is None or carrier_call_id is None:
            self._handle(CallControlled(action, ok=False, detail="no call control configured"))
            return
        call_id = carrier_call_id

        async def perform() -> None:
            self._handle(await client.perform(control, call_id, action))

        task = group.create_task(perform(), name="call-control")
        self._controls.add(task)
        task.add_done_callback(self._controls.discard)
