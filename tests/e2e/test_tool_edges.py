"""Hostile tool backends and a flooding model, end to end: the real gateway (uvicorn on
loopback), the Live emulator, the carrier simulator (Twilio), backends on loopback and a fake
Twilio REST API.

* A backend whose JSON holds halves of surrogate pairs (a JavaScript backend cutting a string in
  the middle of an emoji), and a Live whose transcripts hold them too: the model gets its result
  (each lone half as U+FFFD), the call goes on, and its transcript file is written.
* A model asking for 1,000 calls of a tool at once against a backend that never answers: the
  calls beyond the per-call limit are answered at once with an error in one toolResponse, and
  while the running ones hold every connection of the tools' pool, another call's hang-up still
  reaches the carrier's REST API (carrier REST has its own pool) and its toolResponse reaches
  the model first.

Ordering and counts are asserted, never timings.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import numpy as np
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.emulator import LiveEmulator, Scenario, SessionRecord
from gateway.emulator.scenario import ToolCallRule
from gateway.shell.runtime import CallRecord
from gateway.sim.call import place_call
from gateway.sim.recording import load_recording
from gateway.sim.report import CallReport
from gateway.sim.script import CALL_RATE_HZ, CallScript, DtmfPress, SimOptions, Utterance
from tests.e2e.harness import ACCOUNT_SID, AUTH_TOKEN, running_gateway, wait_for
from tests.fake_twilio import Received, fake_twilio
from tests.loopback import serve_app

ROOT = Path(__file__).resolve().parents[2]
RECORDINGS = ROOT / "tests" / "recordings"
ANSWER = "Your order \ud83d is on its way."  # the emulator sends "\ud83d" escaped, as JSON does
ASKED = "Where is my order \udc00?"


def _script(
    *, question_at_ms: float | None, end_ms: float, key_at_ms: float | None = None
) -> CallScript:
    """Silence with the caller's question ("Hi, can you tell me when my order will arrive?")
    and a key press where asked."""
    audio = np.zeros(round(end_ms * CALL_RATE_HZ / 1000), dtype=np.int16)
    utterances: tuple[Utterance, ...] = ()
    if question_at_ms is not None:
        script = load_recording(RECORDINGS / "greeting_question.wav").script
        said = script.utterances[1]
        start = round((said.start_ms - 100) * CALL_RATE_HZ / 1000)
        end = round((said.end_ms + 100) * CALL_RATE_HZ / 1000)
        at = round(question_at_ms * CALL_RATE_HZ / 1000)
        audio[at : at + end - start] = script.audio[start:end]
        speech_ms = question_at_ms + 100
        utterances = (Utterance(speech_ms, speech_ms + said.duration_ms, said.text),)
    presses = () if key_at_ms is None else (DtmfPress(key_at_ms, "5"),)
    return CallScript(audio, dtmf=presses, utterances=utterances, tail_ms=0)


def _options() -> SimOptions:
    return SimOptions(auth_token=AUTH_TOKEN, account_sid=ACCOUNT_SID)


@asynccontextmanager
async def _backend(app: Starlette) -> AsyncIterator[str]:
    async with serve_app(app) as url:
        yield url


# ---------------------------------------------------------------------- lone surrogates


def _surrogate_backend() -> Starlette:
    async def order(request: Request) -> Response:
        # Valid JSON: a JavaScript backend cut "café 😀" after the emoji's first half.
        body = b'{"status": "shipped \\ud83d", "note": "\\udc00caf\\u00e9"}'
        return Response(body, media_type="application/json")

    return Starlette(routes=[Route("/orders/{order_id}", order)])


LOOKUP_TOOL = """
[[tools]]
name = "lookup_order"
kind = "http"
description = "Look up an order"
url = "{base}/orders/{{order_id}}"
timeout_s = 5
[tools.parameters]
type = "object"
required = ["order_id"]
properties.order_id = {{ type = "string" }}
"""


async def test_lone_surrogates_from_a_backend_and_from_live_do_not_fail_the_call(
    tmp_path: Path,
) -> None:
    rule = ToolCallRule("lookup_order", {"order_id": "A1"}, on_turn=1, say_ms=1200, say_text=ANSWER)
    scenario = Scenario(tool_calls=(rule,), transcripts=(ASKED,))
    recordings = tmp_path / "recordings"
    async with _backend(_surrogate_backend()) as base:
        tools = tmp_path / "tools.toml"
        tools.write_text(LOOKUP_TOOL.format(base=base), encoding="utf-8")
        env = {
            "GATEWAY_TOOLS_FILE": str(tools),
            "GATEWAY_RECORDINGS_DIR": str(recordings),
            "GATEWAY_RECORD": "transcript",
        }
        async with LiveEmulator(None, scenario) as emulator, running_gateway(emulator, env) as gw:
            report = await place_call(
                gw.base_url, _script(question_at_ms=400, end_ms=8_000), _options()
            )
            await wait_for(lambda: len(gw.calls) == 1, 15)
            [session] = emulator.recorder.sessions
    [call] = gw.calls
    assert report.ok, report.errors
    # The model got its result, each lone half replaced, under the id of its call...
    assert session.tool_responses == [
        {
            "id": f"function-call-{session.session_id[:8]}-1-1",
            "name": "lookup_order",
            "response": {"output": {"status": "shipped \ufffd", "note": "\ufffdcafé"}},
        }
    ]
    assert call.summary["tools"][0]["outcome"] == "ok"
    # ...and the call went on to its natural end: the answer was spoken and heard.
    assert call.summary["end_reason"] == "carrier stop"
    assert call.summary["illegal_events"] == 0
    clean_answer = ANSWER.replace("\ud83d", "\ufffd")
    assert [(ln.role, ln.text) for ln in call.transcript] == [
        ("caller", "Where is my order \ufffd?"),
        ("agent", clean_answer),
    ]
    assert call.transcript[1].heard_text == clean_answer
    # The transcript file was written, as UTF-8 JSON.
    [path] = recordings.glob("*/*.json")
    document = json.loads(path.read_bytes().decode("utf-8"))
    assert [line["text"] for line in document["lines"]] == [
        "Where is my order \ufffd?",
        clean_answer,
    ]


# --------------------------------------------------------------------------------- flood

FLOOD = 1000
RUNNING = 300  # more than the tools' connection pool holds (200): every connection hangs
FLOOD_TOOLS = f"""
[limits]
max_running_per_call = {RUNNING}

[[tools]]
name = "slow_lookup"
kind = "http"
description = "A lookup on a backend that never answers"
url = "{{base}}/hang"
timeout_s = 120
retries = 0
[tools.parameters]
type = "object"
properties.n = {{{{ type = "integer" }}}}

[[tools]]
name = "end_call"
kind = "hang_up"
"""
BUSY = (
    f"slow_lookup was not run: at most {RUNNING} tool calls may run at once; "
    "wait for their results, then try again if you still need it"
)
HANG_UP_SAID = "the call will end once your last words have been heard"


def _hanging_backend(arrived: list[str], released: asyncio.Event) -> Starlette:
    async def hang(request: Request) -> Response:
        arrived.append(request.url.query)
        await released.wait()  # not while the calls last: set once the gateway has stopped
        return Response(status_code=500)

    return Starlette(routes=[Route("/hang", hang)])


async def test_a_tool_flood_is_capped_and_another_call_still_hangs_up(tmp_path: Path) -> None:
    flood = ToolCallRule("slow_lookup", {"n": 1}, on_turn=1, copies=FLOOD)
    hang_up = ToolCallRule("end_call", on_text="pressed 5")
    scenario = Scenario(tool_calls=(flood, hang_up))
    arrived: list[str] = []
    released = asyncio.Event()
    rest = fake_twilio()
    async with (
        _backend(_hanging_backend(arrived, released)) as base,
        serve_app(rest) as rest_url,
    ):
        tools = tmp_path / "tools.toml"
        tools.write_text(FLOOD_TOOLS.format(base=base), encoding="utf-8")
        env = {"GATEWAY_TOOLS_FILE": str(tools), "TWILIO_API_BASE": rest_url}
        async with LiveEmulator(None, scenario) as emulator, running_gateway(emulator, env) as gw:
            flooding = _options()
            flooder = asyncio.create_task(
                place_call(gw.base_url, _script(question_at_ms=400, end_ms=25_000), flooding)
            )
            # Once the flood holds every connection of the tools' pool, a second call hangs up.
            await wait_for(lambda: len(arrived) >= 200, 20)
            ending = _options()
            script = _script(question_at_ms=None, end_ms=5_000, key_at_ms=500)
            ended_report = await place_call(gw.base_url, script, ending)
            held = len(arrived)
            flood_report = await flooder
            await wait_for(lambda: len(gw.calls) == 2, 15)
            sessions = list(emulator.recorder.sessions)
        released.set()
    calls = {call.call_id: call for call in gw.calls}
    _check_the_flood(calls[flooding.call_sid], _session_with(sessions, "slow_lookup"), flood_report)
    _check_the_hang_up(
        calls[ending.call_sid],
        _session_with(sessions, "end_call"),
        ended_report,
        rest.state.received,
        ending.call_sid,
    )
    # The hang-up went through while the flood still held its connections.
    assert held >= 200


def _session_with(sessions: list[SessionRecord], tool: str) -> SessionRecord:
    [session] = [s for s in sessions if any(r["name"] == tool for r in s.tool_responses)]
    return session


def _check_the_flood(call: CallRecord, session: SessionRecord, report: CallReport) -> None:
    assert report.ok, report.errors
    first = f"function-call-{session.session_id[:8]}-1-1"
    ids = [first] + [f"{first}.{n}" for n in range(2, FLOOD + 1)]
    # The calls beyond the limit were answered at once, with the error, in one toolResponse;
    # the running ones hung until the call ended (cancelled: nothing sent for them).
    assert session.tool_responses == [
        {"id": i, "name": "slow_lookup", "response": {"error": BUSY}} for i in ids[RUNNING:]
    ]
    assert session.kinds().count("toolResponse") == 1
    assert call.summary["tool_calls"] == FLOOD
    assert call.summary["tool_calls_refused"] == FLOOD - RUNNING
    assert call.summary["tools"] == []  # none finished: the call ended with them running
    assert call.summary["end_reason"] == "carrier stop"
    assert call.summary["illegal_events"] == 0


def _check_the_hang_up(
    call: CallRecord,
    session: SessionRecord,
    report: CallReport,
    received: list[Received],
    call_sid: str,
) -> None:
    path = f"/2010-04-01/Accounts/{ACCOUNT_SID}/Calls/{call_sid}.json"
    form = {"Status": ["completed"]}
    content_type = "application/x-www-form-urlencoded"
    assert [r for r in received if r.path == path] == [
        Received("POST", path, ACCOUNT_SID, AUTH_TOKEN, content_type, form)
    ]
    assert call.summary["call_action"] == "hang_up"
    assert call.summary["end_reason"] == "handed off (hang_up)"
    # The model was answered before the session closed: every function call gets a response.
    first = f"function-call-{session.session_id[:8]}-1-1"
    assert session.tool_responses == [
        {"id": first, "name": "end_call", "response": {"output": HANG_UP_SAID}}
    ]
    assert report.errors == ()
