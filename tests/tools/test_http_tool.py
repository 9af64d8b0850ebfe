"""The http kind against real servers on loopback: the example backend and a probe backend."""

from __future__ import annotations

import asyncio
import json
from urllib.parse import quote

import httpx

from gateway.examples.backend import RecordedRequest, build_app
from gateway.live.events import FunctionCall
from gateway.live.protocol import ToolResult, encode_tool_response
from tests.loopback import closed_port_url, serve_app
from tests.tools.helpers import Logs, call, context, toolbox
from tests.tools.probe import probe_app

TOKEN = "backend-token-5f2a9c"

ORDER_TOOL = """
[[tools]]
name = "lookup_order"
kind = "http"
description = "Look up an order"
url = "${BASE}/orders/{order_id}"
headers = { Authorization = "Bearer ${EXAMPLE_BACKEND_TOKEN}" }
{extra}
[tools.parameters]
type = "object"
required = ["order_id"]
[tools.parameters.properties.order_id]
type = "string"
"""

PROBE_TOOL = """
[[tools]]
name = "probe"
kind = "http"
description = "Probe"
url = "${BASE}{path}"
retry_backoff_s = 0
{extra}
[tools.parameters]
type = "object"
[tools.parameters.properties.a]
type = "string"
[tools.parameters.properties.n]
type = "integer"
[tools.parameters.properties.flag]
type = "boolean"
[tools.parameters.properties.tags]
type = "array"
items = { type = "string" }
"""


def order_tool(base: str, extra: str = "") -> str:
    return ORDER_TOOL.replace("{extra}", extra).replace("${BASE}", base)


def probe_tool(base: str, path: str, extra: str = "") -> str:
    return PROBE_TOOL.replace("{extra}", extra).replace("${BASE}", base).replace("{path}", path)


async def test_a_get_fills_the_path_template_and_sends_the_env_header() -> None:
    backend = build_app(token=TOKEN)
    async with serve_app(backend) as base, httpx.AsyncClient() as http:
        box = toolbox(order_tool(base), {"EXAMPLE_BACKEND_TOKEN": TOKEN})
        done = await box.run(call("lookup_order", order_id="A1001"), context(http))
    assert done.outcome == "ok"
    assert done.response["output"]["status"] == "shipped"
    assert done.response["output"]["tracking_number"] == "JD014600003828"
    assert backend.state.requests == [RecordedRequest("GET", "/orders/A1001", "")]


async def test_without_the_token_the_backend_refuses_and_the_model_hears_why() -> None:
    backend = build_app(token=TOKEN)
    async with serve_app(backend) as base, httpx.AsyncClient() as http:
        box = toolbox(order_tool(base), {"EXAMPLE_BACKEND_TOKEN": "wrong-token-0000"})
        done = await box.run(call("lookup_order", order_id="A1001"), context(http))
    assert done.outcome == "error"
    assert done.response == {
        "error": "the backend answered HTTP 401 Unauthorized",
        "detail": {"error": "missing or wrong bearer token"},
    }
    assert len(backend.state.requests) == 1  # 4xx is not retried


async def test_a_404_from_the_backend_is_an_error_with_its_body() -> None:
    async with serve_app(build_app()) as base, httpx.AsyncClient() as http:
        box = toolbox(order_tool(base), {"EXAMPLE_BACKEND_TOKEN": TOKEN})
        done = await box.run(call("lookup_order", order_id="Z9"), context(http))
    assert (done.outcome, done.response) == (
        "error",
        {
            "error": "the backend answered HTTP 404 Not Found",
            "detail": {"error": "there is no order Z9"},
        },
    )


async def test_path_values_are_url_encoded() -> None:
    async with serve_app(probe_app()) as base, httpx.AsyncClient() as http:
        text = probe_tool(base, "/echo/{a}").replace(
            'type = "object"', 'type = "object"\nrequired = ["a"]'
        )
        box = toolbox(text)
        done = await box.run(call("probe", a="A 1/2?x=#"), context(http))
    assert done.outcome == "ok"
    assert done.response["output"]["raw_path"] == "/echo/A%201%2F2%3Fx%3D%23"
    assert done.response["output"]["query"] == []


DOTS_TOOL = """
[[tools]]
name = "details"
kind = "http"
description = "Details"
url = "${BASE}/echo/tool/ok/{x}{y}/details?x={x}"
[tools.parameters]
type = "object"
required = ["x", "y"]
properties.x = { type = "string" }
properties.y = { type = "string" }
"""


async def test_dot_segments_from_the_model_cannot_move_up_the_backend_path() -> None:
    cases = {
        ("..", ""): "/echo/tool/ok/%2E%2E/details?x=..",
        (".", ""): "/echo/tool/ok/%2E/details?x=.",
        (".", "."): "/echo/tool/ok/%2E%2E/details?x=.",  # two arguments make one `..`
        ("a.b", ""): "/echo/tool/ok/a.b/details?x=a.b",  # dots inside a name stay as they are
        ("...", ""): "/echo/tool/ok/.../details?x=...",  # not a dot segment
        ("../..", ""): "/echo/tool/ok/..%2F../details?x=..%2F..",
    }
    probe = probe_app()
    seen = {}
    async with serve_app(probe) as base, httpx.AsyncClient() as http:
        box = toolbox(DOTS_TOOL.replace("${BASE}", base))
        for (x, y), _ in cases.items():
            done = await box.run(call("details", x=x, y=y), context(http))
            assert done.outcome == "ok", done.response
            output = done.response["output"]
            assert output["path"].startswith("/echo/tool/ok/")
            assert output["path"].endswith("/details")
            seen[(x, y)] = (
                output["raw_path"]
                + "?"
                + "&".join(f"{k}={quote(v, safe='.')}" for k, v in output["query"])
            )
    # What the backend's server received on the wire (its raw path): the model's `..` is a
    # name under /tool/ok/, never a step up to /tool/details.
    assert seen == cases


async def test_a_backend_answer_with_lone_surrogates_reaches_the_model_cleaned(
    logs: Logs,
) -> None:
    probe = probe_app()
    async with serve_app(probe) as base, httpx.AsyncClient() as http:
        box = toolbox(probe_tool(base, "/lone-surrogate"))
        done = await box.run(call("probe"), context(http))
    assert done.outcome == "ok"
    assert done.response == {"output": {"name": "caf\ufffd", "items": ["\ufffdok"], "\ufffdkey": 1}}
    # It can be sent to Live and logged as UTF-8.
    encode_tool_response([ToolResult(done.call_id, done.name, done.response)]).encode("utf-8")
    [completed] = logs.events("tool.completed")
    assert completed["result_bytes"] == len(
        json.dumps(done.response, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    )


async def test_query_arguments_are_encoded_as_the_docs_say() -> None:
    async with serve_app(probe_app()) as base, httpx.AsyncClient() as http:
        box = toolbox(probe_tool(base, "/echo/q?fixed=1"))
        done = await box.run(call("probe", a="x y", n=3, flag=True, tags=["p", "q"]), context(http))
    output = done.response["output"]
    assert output["method"] == "GET"
    assert output["query"] == [
        ["fixed", "1"],
        ["a", "x y"],
        ["n", "3"],
        ["flag", "true"],
        ["tags", "p"],
        ["tags", "q"],
    ]
    assert output["json"] is None
    assert output["accept"] == "application/json"


async def test_a_post_sends_the_arguments_as_json_and_books() -> None:
    backend = build_app(token=TOKEN)
    tool = """
[[tools]]
name = "book"
kind = "http"
description = "Book"
method = "POST"
url = "BASE/appointments"
headers = { Authorization = "Bearer ${EXAMPLE_BACKEND_TOKEN}" }
[tools.parameters]
type = "object"
properties = { phone = { type = "string" }, name = { type = "string" }, date = { type = "string" }, time = { type = "string" } }
"""  # noqa: E501
    args = {"phone": "+15551230009", "name": "Ada", "date": "2025-04-14", "time": "10:30"}
    async with serve_app(backend) as base, httpx.AsyncClient() as http:
        box = toolbox(tool.replace("BASE", base), {"EXAMPLE_BACKEND_TOKEN": TOKEN})
        taken = await box.run(FunctionCall("fc-1", "book", args), context(http))
        booked = await box.run(
            FunctionCall("fc-2", "book", {**args, "time": "11:30"}), context(http)
        )
    assert taken.outcome == "error"
    assert taken.response["error"] == "the backend answered HTTP 409 Conflict"
    assert taken.response["detail"]["error"] == "10:30 on 2025-04-14 is taken"
    assert "11:30" in taken.response["detail"]["free_times"]
    assert booked.outcome == "ok"
    assert booked.response["output"]["booked"] == {
        "id": "AP-4",
        **args,
        "time": "11:30",
        "service": "consultation",
    }
    assert [r.method for r in backend.state.requests] == ["POST", "POST"]


async def test_a_json_body_leaves_path_arguments_out() -> None:
    async with serve_app(probe_app()) as base, httpx.AsyncClient() as http:
        text = probe_tool(base, "/echo/{a}", 'method = "PUT"\nargs_in = "json"\n')
        text = text.replace('type = "object"', 'type = "object"\nrequired = ["a"]')
        done = await toolbox(text).run(call("probe", a="k1", n=2, flag=False), context(http))
    output = done.response["output"]
    assert (output["method"], output["path"], output["json"]) == (
        "PUT",
        "/echo/k1",
        {"n": 2, "flag": False},
    )


async def test_5xx_is_retried_for_get_only() -> None:
    probe = probe_app()
    async with serve_app(probe) as base, httpx.AsyncClient() as http:
        get = toolbox(probe_tool(base, "/status/500", "retries = 2\n"))
        post = toolbox(probe_tool(base, "/status/502", 'method = "POST"\n'))
        got = await get.run(call("probe"), context(http))
        posted = await post.run(call("probe"), context(http))
    assert (got.outcome, got.response) == (
        "error",
        {
            "error": "the backend answered HTTP 500 Internal Server Error",
            "detail": {"error": "status 500", "hint": "from the probe"},
        },
    )
    assert posted.outcome == "error"
    assert probe.state.hits["/status/500"] == 3
    assert probe.state.hits["/status/502"] == 1


async def test_a_retry_that_succeeds_answers_ok_and_logs_the_attempts(logs: Logs) -> None:
    probe = probe_app()
    async with serve_app(probe) as base, httpx.AsyncClient() as http:
        box = toolbox(probe_tool(base, "/flaky/x?fail=2", "retries = 2\n"))
        done = await box.run(call("probe"), context(http))
    assert (done.outcome, done.response) == ("ok", {"output": {"ok": True, "attempt": 3}})
    (completed,) = logs.events("tool.completed")
    assert (completed["attempts"], completed["status"], completed["outcome"]) == (3, 200, "ok")


async def test_a_slow_backend_times_out_and_the_call_goes_on() -> None:
    backend = build_app()
    async with serve_app(backend) as base, httpx.AsyncClient() as http:
        text = order_tool(base, "timeout_s = 0.3\nretries = 0\n")
        text = text.replace("/orders/{order_id}", "/orders/{order_id}?delay_s=5")
        box = toolbox(text, {"EXAMPLE_BACKEND_TOKEN": TOKEN})
        slow = await box.run(call("lookup_order", order_id="A1002"), context(http))
        fast = toolbox(order_tool(base), {"EXAMPLE_BACKEND_TOKEN": TOKEN})
        after = await fast.run(call("lookup_order", order_id="A1002"), context(http))
    assert slow.outcome == "timeout"
    assert slow.response == {
        "error": "lookup_order did not finish within 0.3 seconds; "
        "the system is slow, you may offer to try again"
    }
    assert slow.action is None
    assert after.outcome == "ok"


async def test_text_and_empty_answers() -> None:
    async with serve_app(probe_app()) as base, httpx.AsyncClient() as http:
        text = await toolbox(probe_tool(base, "/text")).run(call("probe"), context(http))
        empty = await toolbox(probe_tool(base, "/empty")).run(call("probe"), context(http))
    assert text.response == {"output": "plain words, not JSON"}
    assert empty.response == {"output": "HTTP 204, no content"}


async def test_a_large_answer_is_cut_to_the_tool_limit(logs: Logs) -> None:
    async with serve_app(probe_app()) as base, httpx.AsyncClient() as http:
        box = toolbox(probe_tool(base, "/big?n=2000", "max_result_bytes = 2048\n"))
        done = await box.run(call("probe"), context(http))
    assert done.outcome == "ok"
    assert done.response["truncated"] is True
    assert done.response["original_bytes"] > 40_000
    items = done.response["output"]["items"]
    assert items[0] == {"n": 0, "name": "item number 0"}
    assert items[-1].endswith("more items")
    (completed,) = logs.events("tool.completed")
    assert completed["truncated"] is True
    assert completed["result_bytes"] <= 2048


async def test_an_unreachable_backend_is_an_error_after_its_retries() -> None:
    async with httpx.AsyncClient() as http:
        box = toolbox(probe_tool(closed_port_url(), "/x", "retries = 1\n"))
        done = await box.run(call("probe"), context(http))
    assert (done.outcome, done.response) == (
        "error",
        {"error": "the backend could not be reached (ConnectError)"},
    )


async def test_concurrent_calls_share_the_client() -> None:
    backend = build_app()
    async with serve_app(backend) as base, httpx.AsyncClient() as http:
        box = toolbox(order_tool(base), {"EXAMPLE_BACKEND_TOKEN": TOKEN})
        done = await asyncio.gather(
            *(
                box.run(call("lookup_order", f"fc-{i}", order_id=i), context(http))
                for i in ("A1001", "A1002", "A1003")
            )
        )
    assert [d.call_id for d in done] == ["fc-A1001", "fc-A1002", "fc-A1003"]
    assert [d.response["output"]["status"] for d in done] == ["shipped", "processing", "delivered"]
