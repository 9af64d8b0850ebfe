"""Toolbox.run: never raises (but on cancel), built-in actions, scheduling, logs, the clock."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from gateway.core.events import HangUp, ToolFinished, Transfer
from gateway.examples.backend import build_app
from gateway.live.events import FunctionCall
from gateway.live.protocol import Scheduling
from tests.loopback import serve_app
from tests.tools import sample_functions
from tests.tools.helpers import FakeClock, Logs, call, context, toolbox

BUILT_INS = """
[[tools]]
name = "transfer_call"
kind = "transfer"
description = "Transfer the caller"
destinations = { sales = "+15551230100", support = { target = "sip:help@pbx.example.com", description = "problems" } }

[[tools]]
name = "end_call"
kind = "hang_up"
"""  # noqa: E501

SLOW = """
[[tools]]
name = "slow"
kind = "python"
description = "slow"
function = "tests.tools.sample_functions:slow"
timeout_s = {timeout}
{extra}
[tools.parameters]
type = "object"
required = ["seconds"]
properties = { seconds = { type = "number" } }
"""


def slow_tool(timeout: float, extra: str = "") -> str:
    return SLOW.replace("{timeout}", str(timeout)).replace("{extra}", extra)


async def test_transfer_names_a_configured_destination_and_asks_for_the_action() -> None:
    box = toolbox(BUILT_INS)
    async with httpx.AsyncClient() as http:
        sales = await box.run(call("transfer_call", destination="sales"), context(http))
        support = await box.run(call("transfer_call", destination="support"), context(http))
    assert sales == ToolFinished(
        call_id="fc-1",
        name="transfer_call",
        response={"output": "transferring the caller to sales"},
        outcome="ok",
        duration_ms=sales.duration_ms,
        action=Transfer(target="+15551230100", label="sales"),
    )
    assert support.action == Transfer(target="sip:help@pbx.example.com", label="support")


async def test_an_unknown_destination_is_an_error_without_an_action() -> None:
    box = toolbox(BUILT_INS)
    async with httpx.AsyncClient() as http:
        numbered = await box.run(call("transfer_call", destination="+15559999999"), context(http))
        missing = await box.run(call("transfer_call"), context(http))
    assert (numbered.outcome, numbered.action) == ("error", None)
    assert numbered.response == {"error": "unknown destination; choose one of: sales, support"}
    assert missing.response == {"error": "missing required argument: destination"}
    assert "+15559999999" not in str(numbered.response)


async def test_hang_up_asks_for_the_action() -> None:
    async with httpx.AsyncClient() as http:
        done = await toolbox(BUILT_INS).run(call("end_call"), context(http))
    assert (done.outcome, done.action) == ("ok", HangUp())
    assert done.response == {"output": "the call will end once your last words have been heard"}


async def test_an_unknown_tool_is_an_error_response(logs: Logs) -> None:
    async with httpx.AsyncClient() as http:
        done = await toolbox(BUILT_INS).run(call("launch_rocket"), context(http))
    assert done == ToolFinished(
        "fc-1", "launch_rocket", {"error": "there is no tool named launch_rocket"}, "error", 0.0
    )
    (completed,) = logs.events("tool.completed")
    assert (completed["name"], completed["outcome"], completed["reason"]) == (
        "launch_rocket",
        "error",
        "unknown tool",
    )


async def test_a_timeout_is_an_outcome_the_model_can_speak_about() -> None:
    async with httpx.AsyncClient() as http:
        done = await toolbox(slow_tool(0.05)).run(call("slow", seconds=30), context(http))
    assert (done.outcome, done.action) == ("timeout", None)
    assert done.response == {
        "error": "slow did not finish within 0.05 seconds; "
        "the system is slow, you may offer to try again"
    }


async def test_cancelling_a_run_during_a_slow_backend_call_propagates(logs: Logs) -> None:
    backend = build_app()
    tool = """
[[tools]]
name = "lookup_order"
kind = "http"
description = "Look up an order"
url = "BASE/orders/A1001?delay_s=30"
timeout_s = 60
"""
    async with serve_app(backend) as base, httpx.AsyncClient() as http:
        box = toolbox(tool.replace("BASE", base))
        task = asyncio.create_task(box.run(call("lookup_order"), context(http)))
        async with asyncio.timeout(10):
            while not backend.state.requests:  # noqa: ASYNC110 - the backend's own record
                await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await asyncio.wait_for(task, 10)
    assert task.cancelled()
    assert [line["event"] for line in logs.lines()] == ["tool.started", "tool.cancelled"]


async def test_calls_run_concurrently() -> None:
    sample_functions.reset_rendezvous()
    text = """
[[tools]]
name = "meet"
kind = "python"
description = "returns once two calls of it run at the same time"
function = "tests.tools.sample_functions:rendezvous"
timeout_s = 10
"""
    box = toolbox(text)
    async with httpx.AsyncClient() as http:
        first, second = await asyncio.gather(
            box.run(call("meet", "fc-a"), context(http)),
            box.run(call("meet", "fc-b"), context(http)),
        )
    assert (first.call_id, first.response) == ("fc-a", {"output": "met"})
    assert (second.call_id, second.response) == ("fc-b", {"output": "met"})


async def test_scheduling_is_reported_for_non_blocking_tools_only() -> None:
    text = slow_tool(5, 'non_blocking = true\nscheduling = "SILENT"\n').replace(
        'name = "slow"', 'name = "background"'
    ) + slow_tool(5)
    box = toolbox(text)
    assert [d.non_blocking for d in box.declarations()] == [True, False]
    async with httpx.AsyncClient() as http:
        background = await box.run(call("background", seconds=0), context(http))
        blocking = await box.run(call("slow", seconds=0), context(http))
    assert background.scheduling is Scheduling.SILENT
    assert blocking.scheduling is None


async def test_the_clock_is_injectable_and_durations_come_from_it(logs: Logs) -> None:
    box = toolbox(BUILT_INS, clock=FakeClock(step=0.25))
    async with httpx.AsyncClient() as http:
        done = await box.run(call("end_call", "fc-9"), context(http))
    assert done.duration_ms == 250.0
    started, completed = logs.lines()
    assert started == {
        "component": "tools",
        "name": "end_call",
        "call_id": "fc-9",
        "kind": "hang_up",
        "args": {},
        "event": "tool.started",
        "level": "info",
        "timestamp": started["timestamp"],
    }
    assert {k: completed[k] for k in ("name", "call_id", "outcome", "duration_ms", "action")} == {
        "name": "end_call",
        "call_id": "fc-9",
        "outcome": "ok",
        "duration_ms": 250.0,
        "action": "HangUp",
    }


async def test_redacted_arguments_stay_out_of_the_logs(logs: Logs) -> None:
    text = slow_tool(5, "redact_args = true\n") + slow_tool(5).replace('"slow"', '"open"', 1)
    box = toolbox(text)
    async with httpx.AsyncClient() as http:
        await box.run(FunctionCall("fc-1", "slow", {"seconds": 0.001234}), context(http))
        await box.run(FunctionCall("fc-2", "open", {"seconds": 0.004321}), context(http))
    started = logs.events("tool.started")
    assert [line["args"] for line in started] == ["[redacted]", {"seconds": 0.004321}]
    assert "0.001234" not in logs.text


async def test_header_secrets_from_the_environment_never_reach_the_logs(logs: Logs) -> None:
    secret = "s3cr3t-orders-token-8841"
    backend = build_app(token=secret)
    tool = """
[[tools]]
name = "lookup_order"
kind = "http"
description = "Look up an order"
url = "BASE/orders/{order_id}"
headers = { Authorization = "Bearer ${ORDERS_TOKEN}" }
[tools.parameters]
type = "object"
required = ["order_id"]
properties = { order_id = { type = "string" } }
"""
    async with serve_app(backend) as base, httpx.AsyncClient() as http:
        box = toolbox(tool.replace("BASE", base), {"ORDERS_TOKEN": secret})
        ok = await box.run(call("lookup_order", order_id="A1003"), context(http))
        # Even a model that repeats the secret back cannot get it into a log line.
        echoed = await box.run(call("lookup_order", order_id=secret), context(http))
    assert ok.outcome == "ok"
    assert echoed.outcome == "error"
    assert [line["event"] for line in logs.lines()] == ["tool.started", "tool.completed"] * 2
    assert logs.events("tool.started")[1]["args"] == {"order_id": "***"}
    assert secret not in logs.text


async def test_run_never_raises_for_odd_calls() -> None:
    box = toolbox(BUILT_INS)
    async with httpx.AsyncClient() as http:
        no_id = await box.run(FunctionCall(None, "end_call", {}), context(http))
        bad_type = await box.run(call("transfer_call", destination=["sales"]), context(http))
    assert (no_id.call_id, no_id.outcome) == ("", "ok")
    assert bad_type.outcome == "error"
