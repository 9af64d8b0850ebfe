"""CallTasks: tool runs and carrier REST requests as tasks, their outcomes fed to the bridge."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from gateway.carriers.control import CallControl
from gateway.core.events import BridgeEvent, CallAction, CallControlled, HangUp, ToolFinished
from gateway.live.events import FunctionCall
from gateway.shell.call_tasks import CallServices, CallTasks
from gateway.tools.base import ToolContext


class _Tools:
    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.contexts: list[ToolContext] = []

    async def run(self, call: FunctionCall, context: ToolContext) -> ToolFinished:
        self.contexts.append(context)
        await self.release.wait()
        assert call.call_id is not None
        return ToolFinished(call.call_id, call.name, {"output": dict(call.args)})


class _Client:
    def __init__(self) -> None:
        self.calls: list[tuple[Any, str, CallAction]] = []

    async def perform(self, control: CallControl, call_id: str, action: CallAction) -> Any:
        self.calls.append((control, call_id, action))
        return CallControlled(action, ok=True)


def _context(http: httpx.AsyncClient) -> Any:
    return lambda call_id: ToolContext(http=http, carrier="twilio", carrier_call_id=call_id)


async def test_a_tool_runs_in_the_group_and_its_result_is_fed_back() -> None:
    fed: list[BridgeEvent] = []
    tools = _Tools()
    async with httpx.AsyncClient() as http:
        side = CallTasks(CallServices(tools=tools, tool_context=_context(http)), fed.append)
        async with asyncio.TaskGroup() as group:
            side.run_tool(group, FunctionCall("fc-1", "lookup", {"order": "A1"}), "CA1")
            assert len(side.tasks()) == 1
            await asyncio.sleep(0)
            tools.release.set()
    assert fed == [ToolFinished("fc-1", "lookup", {"output": {"order": "A1"}})]
    assert tools.contexts[0].carrier_call_id == "CA1"
    assert side.tasks() == []


async def test_a_cancelled_tool_feeds_nothing_back() -> None:
    fed: list[BridgeEvent] = []
    async with httpx.AsyncClient() as http:
        side = CallTasks(CallServices(tools=_Tools(), tool_context=_context(http)), fed.append)
        async with asyncio.TaskGroup() as group:
            side.run_tool(group, FunctionCall("fc-2", "lookup"), "CA1")
            await asyncio.sleep(0)
            side.cancel_tool("fc-2")
            side.cancel_tool("unknown")  # nothing running under that id: nothing happens
    assert fed == []
    assert side.tasks() == []


async def test_without_a_toolbox_the_call_is_answered_with_an_error() -> None:
    fed: list[BridgeEvent] = []
    side = CallTasks(CallServices(), fed.append)
    async with asyncio.TaskGroup() as group:
        side.run_tool(group, FunctionCall("fc-3", "lookup"), "CA1")
    assert fed == [
        ToolFinished("fc-3", "lookup", {"error": "the tool lookup is not available"}, "error")
    ]


async def test_control_goes_through_the_client_with_the_carrier_call_id() -> None:
    fed: list[BridgeEvent] = []
    client = _Client()
    control: Any = object()
    side = CallTasks(CallServices(control=control, control_client=client), fed.append)
    async with asyncio.TaskGroup() as group:
        side.control(group, HangUp(), "CA9")
    assert client.calls == [(control, "CA9", HangUp())]
    assert fed == [CallControlled(HangUp(), ok=True)]


async def test_without_call_control_the_bridge_is_told_it_failed() -> None:
    fed: list[BridgeEvent] = []
    side = CallTasks(CallServices(), fed.append)
    async with asyncio.TaskGroup() as group:
        side.control(group, HangUp(), "CA9")
    assert fed == [CallControlled(HangUp(), ok=False, detail="no call control configured")]
