"""The python kind: sync in a thread, async awaited, the context, errors and non-JSON results."""

from __future__ import annotations

import threading

import httpx

from tests.tools.helpers import Logs, call, context, toolbox
from tests.tools.sample_functions import SECRET_IN_MESSAGE

MODULE = "tests.tools.sample_functions"


def python_tool(name: str, function: str, parameters: str = "", extra: str = "") -> str:
    text = f"""
[[tools]]
name = "{name}"
kind = "python"
description = "test tool"
function = "{MODULE}:{function}"
{extra}
"""
    if parameters:
        text += f'[tools.parameters]\ntype = "object"\n{parameters}\n'
    return text


ADD = python_tool(
    "add",
    "add",
    'required = ["a"]\nproperties = { a = { type = "integer" }, b = { type = "integer" } }',
)


async def test_a_sync_function_runs_in_a_worker_thread() -> None:
    async with httpx.AsyncClient() as http:
        done = await toolbox(ADD).run(call("add", a=2, b=3), context(http))
    assert done.outcome == "ok"
    assert done.response["output"]["sum"] == 5
    assert done.response["output"]["thread"] != threading.current_thread().name


async def test_an_async_function_gets_the_call_context() -> None:
    text = python_tool("greet", "greet", 'properties = { name = { type = "string" } }')
    async with httpx.AsyncClient() as http:
        done = await toolbox(text).run(call("greet", name="Ada"), context(http))
    assert done.response == {
        "output": {
            "greeting": "hello Ada",
            "carrier": "twilio",
            "carrier_call_id": "CA" + "a" * 32,
            "from": "+15551230002",
        }
    }


async def test_the_example_tools_run() -> None:
    text = python_tool("hours", "x").replace(f"{MODULE}:x", "gateway.examples.tools:business_hours")
    text += python_tool("who", "x").replace(f"{MODULE}:x", "gateway.examples.tools:caller_number")
    box = toolbox(text)
    async with httpx.AsyncClient() as http:
        week = await box.run(call("hours"), context(http))
        sunday = await box.run(call("hours", day="Sunday"), context(http))
        bad = await box.run(call("hours", day="Caturday"), context(http))
        who = await box.run(call("who"), context(http, from_number=None))
    assert week.response["output"]["opening_hours"]["saturday"] == "10:00-14:00"
    assert sunday.response == {"output": {"day": "sunday", "open": False, "hours": "closed"}}
    assert (bad.outcome, bad.response) == (
        "error",
        {"error": "'Caturday' is not a day of the week"},
    )
    assert who.response == {"output": {"caller_number": "unknown"}}


async def test_an_exception_reaches_the_model_as_its_type_only(logs: Logs) -> None:
    async with httpx.AsyncClient() as http:
        done = await toolbox(python_tool("boom", "explode")).run(call("boom"), context(http))
    assert (done.outcome, done.response) == ("error", {"error": "boom failed (RuntimeError)"})
    (completed,) = logs.events("tool.completed")
    assert completed["reason"] == "RuntimeError"
    assert SECRET_IN_MESSAGE not in logs.text


async def test_a_tool_error_message_reaches_the_model() -> None:
    async with httpx.AsyncClient() as http:
        done = await toolbox(python_tool("ask", "refuse")).run(call("ask"), context(http))
    assert (done.outcome, done.response) == ("error", {"error": "no customer with that number"})


async def test_results_must_be_json() -> None:
    box = toolbox(python_tool("s", "returns_set") + python_tool("t", "returns_tuple"))
    async with httpx.AsyncClient() as http:
        as_set = await box.run(call("s"), context(http))
        as_tuple = await box.run(call("t"), context(http))
    assert (as_set.outcome, as_set.response) == (
        "error",
        {"error": f"{MODULE}:returns_set returned a set, which is not JSON"},
    )
    assert as_tuple.response == {"output": [1, "two"]}


async def test_arguments_the_function_does_not_take_are_an_error() -> None:
    async with httpx.AsyncClient() as http:
        done = await toolbox(ADD).run(call("add", a=1, c=2), context(http))
    assert (done.outcome, done.response) == (
        "error",
        {"error": "invalid arguments: got an unexpected keyword argument 'c'"},
    )


async def test_a_timeout_error_of_its_own_is_an_error_not_a_timeout() -> None:
    async with httpx.AsyncClient() as http:
        done = await toolbox(python_tool("t", "own_timeout")).run(call("t"), context(http))
    assert (done.outcome, done.response) == ("error", {"error": "t failed (TimeoutError)"})
