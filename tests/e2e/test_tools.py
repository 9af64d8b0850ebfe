"""The model's tools end to end: the real gateway (uvicorn on loopback), the Live emulator, the
carrier simulator (Twilio), the example business backend and a fake Twilio REST API.

The gateway loads the documented example file `docs/examples/tools.toml` unchanged, pointed at
`gateway.examples.backend` served on loopback. The emulator's scenarios make the model:

* look an order up (`lookup_order`, an `http` tool) and speak once the answer came back;
* look one up on a backend that answers too late (`?delay_s=8`: the example backend's slow
  mode, reached through the query string, where a GET tool's other arguments go): the tool's
  5 s timeout, an error the model can talk about, and the call goes on;
* look one up slowly and have the caller barge in: `toolCallCancellation`, no result ever sent;
* tell the opening hours (`business_hours`, a `python` tool) in a long answer, then, when the
  caller presses 0, transfer the call to `sales` (`transfer_call`) or end it (`end_call`).

The emulator runs those last calls 3 times faster than real time, as Live generates speech
faster than it plays: when the caller presses 0 the agent's words are still playing at the
carrier, so the transfer or hang-up has to wait for them. What each side did is recorded in
one ordered list of events, shared by the simulator (key presses, mark echoes, `stop`), the
fake REST API (each request as it arrives) and the gateway (its log lines): everything runs on
one event loop, so the list's order is the order things happened. Ordering, never timing, is
what the tests read.

The calls run concurrently, once per test session; each test reads one of them.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Iterable, Mapping, MutableMapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
import structlog
from starlette.types import ASGIApp, Receive, Scope, Send

from gateway.emulator import EmulatorConfig, LiveEmulator, Scenario, SessionRecord
from gateway.emulator.scenario import ToolCallRule
from gateway.examples.backend import ORDERS, RecordedRequest
from gateway.examples.backend import build_app as build_backend
from gateway.shell.runtime import CallRecord
from gateway.sim.call import place_call
from gateway.sim.dialect import (
    GatewayCommand,
    ProtocolViolation,
    StreamAnswer,
    StreamDialect,
    WebhookRequest,
)
from gateway.sim.entries import CallOutcome, Segment
from gateway.sim.recording import load_recording
from gateway.sim.report import CallReport
from gateway.sim.script import CALL_RATE_HZ, CallScript, DtmfPress, SimOptions, Utterance
from gateway.sim.twilio import TwilioDialect
from tests.e2e.harness import ACCOUNT_SID, AUTH_TOKEN, best_correlation, running_gateway, wait_for
from tests.fake_twilio import Received, fake_twilio
from tests.loopback import serve_app

ROOT = Path(__file__).resolve().parents[2]
RECORDINGS = ROOT / "tests" / "recordings"
TOOLS_FILE = ROOT / "docs" / "examples" / "tools.toml"
BACKEND_TOKEN = "example-backend-token-e2e-0123"
SALES = "+15551230100"  # the example file's sales number (${SALES_NUMBER:-+15551230100})
DONE_KEY = "0"
"""The key the caller presses when done: the emulator's model then transfers or hangs up."""
SLOW_S = 8  # the slow lookup's backend delay: beyond lookup_order's timeout_s = 5
CANCELLED_DELAY_S = 4
"""The cancelled lookup's backend delay: within the tool's timeout, so a task left running
would come back with a result (which the gateway must then drop, never send)."""

LOOKUP_ANSWER = "Your order A1001 has shipped and will arrive on March the sixth."
SLOW_ANSWER = "I am sorry, our order system is slow right now."
HOURS = "We are open Monday to Friday from nine to five, and on Saturday from ten to two."
TRANSFER_WORDS = HOURS + " Let me put you through to our sales team now."
GOODBYE_WORDS = HOURS + " Thank you for calling, goodbye."
TIMEOUT_ERROR = (
    "lookup_order did not finish within 5 seconds; the system is slow, you may offer to try again"
)
TWIML_DIAL = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    f"<Response><Dial><Number>{SALES}</Number></Dial></Response>"
)


# ------------------------------------------------------------------------- the shared record


@dataclass(frozen=True)
class Event:
    """One thing that happened: `source` is `carrier` (the simulator), `rest` (the fake Twilio
    API) or `gateway` (a log line); `name` the message, request or log event."""

    call_sid: str | None
    source: str
    name: str
    fields: Mapping[str, Any] = field(default_factory=dict)


Events = list[Event]


def _collector(events: Events) -> Callable[[Any, str, MutableMapping[str, Any]], Any]:
    """A structlog processor that files every gateway log line (with the call's bound ids)."""

    def collect(_logger: Any, _method: str, event_dict: MutableMapping[str, Any]) -> Any:
        sid = event_dict.get("call_sid")
        name = str(event_dict.get("event"))
        events.append(Event(sid if isinstance(sid, str) else None, "gateway", name, event_dict))
        raise structlog.DropEvent

    return collect


class _ObservedStream:
    """Twilio's stream as the simulator runs it, filing key presses, mark echoes and `stop`.

    With `lose_marks_after_key`, every mark echo due after the key press is lost (never sent):
    the gateway then has to end the call without the final mark."""

    def __init__(
        self, inner: StreamDialect, note: Callable[[str, str], None], lose_marks_after_key: bool
    ) -> None:
        self._inner = inner
        self._note = note
        self._lose_after_key = lose_marks_after_key
        self._losing = False
        self.stream_sid = inner.stream_sid

    def opening(self, parameters: tuple[tuple[str, str], ...]) -> list[str]:
        return self._inner.opening(parameters)

    def media(self, payload: bytes, timestamp_ms: int) -> str | bytes | list[str | bytes]:
        return self._inner.media(payload, timestamp_ms)

    def dtmf(self, digit: str) -> str:
        self._note("dtmf", digit)
        self._losing = self._lose_after_key
        return self._inner.dtmf(digit)

    def mark_echo(self, name: str) -> str | None:
        if self._losing:
            self._note("mark_lost", name)
            return None
        self._note("mark_echo", name)
        return self._inner.mark_echo(name)

    def stop(self) -> str | list[str | bytes] | None:
        self._note("stop", "")
        return self._inner.stop()

    def encode_audio(self, samples: npt.NDArray[np.int16]) -> bytes:
        return self._inner.encode_audio(samples)

    def parse_gateway(self, message: str | bytes) -> GatewayCommand | ProtocolViolation:
        return self._inner.parse_gateway(message)

    def event_name(self, message: str | bytes) -> str:
        return self._inner.event_name(message)


class _ObservedTwilio:
    """The Twilio dialect, its streams observed (see `_ObservedStream`)."""

    name = "twilio"
    webhook_path = "/twilio/voice"

    def __init__(self, events: Events, call_sid: str, *, lose_marks_after_key: bool) -> None:
        self._twilio = TwilioDialect()
        self._events = events
        self._call_sid = call_sid
        self._lose = lose_marks_after_key

    def webhook(self, base_url: str, options: SimOptions) -> WebhookRequest:
        return self._twilio.webhook(base_url, options)

    def parse_answer(self, body: str) -> StreamAnswer:
        return self._twilio.parse_answer(body)

    def upgrade_headers(self, stream_url: str, options: SimOptions) -> list[tuple[str, str]]:
        return self._twilio.upgrade_headers(stream_url, options)

    def new_stream(self, options: SimOptions) -> StreamDialect:
        def note(name: str, detail: str) -> None:
            self._events.append(Event(self._call_sid, "carrier", name, {"detail": detail}))

        return _ObservedStream(self._twilio.new_stream(options), note, self._lose)


def _observed_api(app: ASGIApp, events: Events) -> ASGIApp:
    """The fake Twilio API, filing each request as it arrives (its call SID from the path)."""

    async def observed(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path: str = scope["path"]
            call_sid = path.rsplit("/", 1)[-1].removesuffix(".json")
            events.append(Event(call_sid, "rest", scope["method"], {"path": path}))
        await app(scope, receive, send)

    return observed


# ---------------------------------------------------------------------------- the caller


def _clip(recording: str, index: int) -> tuple[npt.NDArray[np.int16], Utterance]:
    """One annotated utterance of a recording, with 100 ms of its silence either side."""
    script = load_recording(RECORDINGS / f"{recording}.wav").script
    utterance = script.utterances[index]
    start = round((utterance.start_ms - 100) * CALL_RATE_HZ / 1000)
    end = round((utterance.end_ms + 100) * CALL_RATE_HZ / 1000)
    return script.audio[start:end], utterance


HELLO = ("greeting_question", 0)  # "Hello?"
QUESTION = ("greeting_question", 1)  # "Hi, can you tell me when my order will arrive?"
THANKS = ("dtmf_menu", 1)  # "Yes, thank you."


def _script(
    *said: tuple[float, tuple[str, int]], end_ms: float, key_at_ms: float | None = None
) -> CallScript:
    """Utterances placed at their times (ms) in silence; the carrier stops at `end_ms`."""
    audio = np.zeros(round(end_ms * CALL_RATE_HZ / 1000), dtype=np.int16)
    utterances = []
    for at_ms, (recording, index) in said:
        samples, utterance = _clip(recording, index)
        start = round(at_ms * CALL_RATE_HZ / 1000)
        audio[start : start + len(samples)] = samples
        speech_ms = at_ms + 100
        utterances.append(Utterance(speech_ms, speech_ms + utterance.duration_ms, utterance.text))
    presses = () if key_at_ms is None else (DtmfPress(key_at_ms, DONE_KEY),)
    return CallScript(audio, dtmf=presses, utterances=tuple(utterances), tail_ms=0)


# ------------------------------------------------------------------------------ the calls


@dataclass(frozen=True)
class Plan:
    scenario: Scenario
    script: CallScript
    config: EmulatorConfig = field(default_factory=EmulatorConfig)
    lose_marks_after_key: bool = False


def _hours_then(rule: ToolCallRule, words: str) -> Scenario:
    """A long answer from `business_hours`, then `rule` when the caller presses the key."""
    hours = ToolCallRule(
        "business_hours", {"day": "monday"}, on_turn=1, say_ms=5000, say_text=words
    )
    return Scenario(tool_calls=(hours, rule))


_TRANSFER = ToolCallRule("transfer_call", {"destination": "sales"}, on_text=f"pressed {DONE_KEY}")
_HANG_UP = ToolCallRule("end_call", on_text=f"pressed {DONE_KEY}")
# Live bursts ahead: the 5 s answer arrives in under 2 s, and the key press at 4.3 s falls
# after the emulator's answer ended (no barge-in) but while the caller still hears it.
_FAST = EmulatorConfig(speed=3.0)
_HAND_OFF_SCRIPT = _script((400, HELLO), end_ms=8500, key_at_ms=4300)

PLANS: dict[str, Plan] = {
    "lookup": Plan(
        Scenario(
            tool_calls=(
                ToolCallRule(
                    "lookup_order",
                    {"order_id": "A1001"},
                    on_turn=1,
                    say_ms=1500,
                    say_text=LOOKUP_ANSWER,
                ),
            )
        ),
        _script((400, QUESTION), (6500, THANKS), end_ms=11_000),
    ),
    "timeout": Plan(
        Scenario(
            tool_calls=(
                ToolCallRule(
                    "lookup_order",
                    {"order_id": "A1002", "delay_s": SLOW_S},
                    on_turn=1,
                    say_ms=1200,
                    say_text=SLOW_ANSWER,
                ),
            )
        ),
        _script((400, HELLO), (9000, THANKS), end_ms=13_500),
    ),
    "cancelled": Plan(
        Scenario(
            tool_calls=(
                ToolCallRule(
                    "lookup_order",
                    {"order_id": "A1003", "delay_s": CANCELLED_DELAY_S},
                    on_turn=1,
                    say_text="(never said: the call was cancelled)",
                    cancel_on_barge_in=True,
                ),
            )
        ),
        # The caller asks their question while the lookup runs (from 3.0 s).
        _script((400, HELLO), (2900, QUESTION), end_ms=10_500),
    ),
    "transfer": Plan(_hours_then(_TRANSFER, TRANSFER_WORDS), _HAND_OFF_SCRIPT, _FAST),
    "hang_up": Plan(_hours_then(_HANG_UP, GOODBYE_WORDS), _HAND_OFF_SCRIPT, _FAST),
    # The carrier never echoes the marks due after the key press: the hang-up still happens,
    # after the gateway's bounded wait, well before the caller's side would have ended.
    "hang_up_marks_lost": Plan(
        _hours_then(_HANG_UP, GOODBYE_WORDS),
        _script((400, HELLO), end_ms=12_000, key_at_ms=4300),
        _FAST,
        lose_marks_after_key=True,
    ),
}


@dataclass
class Outcome:
    call_sid: str
    report: CallReport
    call: CallRecord
    sessions: list[SessionRecord]
    events: Events
    """This call's events, in the order they happened."""
    tool_tasks_seen: list[str]
    """Call ids of the gateway's tool tasks seen running during the call (sampled)."""
    tool_tasks_after: list[str]
    """Call ids of the gateway's tool tasks still alive once the call had ended."""

    @property
    def summary(self) -> Mapping[str, Any]:
        return self.call.summary

    @property
    def session(self) -> SessionRecord:
        [session] = self.sessions
        return session

    @property
    def first_call_id(self) -> str:
        """The id of the emulator's first tool call (its scheme: session, connection, count)."""
        return f"function-call-{self.session.session_id[:8]}-1-1"

    def logged(self, name: str) -> list[Mapping[str, Any]]:
        return [e.fields for e in self.events if e.source == "gateway" and e.name == name]

    def index(self, source: str, name: str) -> list[int]:
        return [i for i, e in enumerate(self.events) if e.source == source and e.name == name]

    def agent_line(self, text: str) -> tuple[str, str]:
        """(text, heard_text) of the agent's transcript line holding `text`."""
        [line] = [ln for ln in self.call.transcript if ln.role == "agent" and text in ln.text]
        return line.text, line.heard_text


@dataclass
class Run:
    outcomes: dict[str, Outcome]
    backend: list[RecordedRequest]
    rest: list[Received]
    tool_tasks_left: int


def _tool_task_ids() -> list[str]:
    """The call ids of the gateway's running tool tasks (`CallRunner` names them `tool`)."""
    ids = []
    for task in asyncio.all_tasks():
        if task.get_name() != "tool":
            continue
        frame = getattr(task.get_coro(), "cr_frame", None)
        ids.append(str(frame.f_locals.get("call_id")) if frame is not None else "?")
    return ids


async def _call(plan: Plan, rest_url: str, events: Events) -> Outcome:
    options = SimOptions(auth_token=AUTH_TOKEN, account_sid=ACCOUNT_SID)
    dialect = _ObservedTwilio(
        events, options.call_sid, lose_marks_after_key=plan.lose_marks_after_key
    )
    env = {"TWILIO_API_BASE": rest_url, "GATEWAY_TOOLS_FILE": str(TOOLS_FILE)}
    seen: set[str] = set()

    async def watch_tool_tasks() -> None:
        while True:
            seen.update(_tool_task_ids())
            await asyncio.sleep(0.02)

    async with (
        LiveEmulator(plan.config, plan.scenario) as emulator,
        running_gateway(emulator, env) as gateway,
    ):
        watcher = asyncio.create_task(watch_tool_tasks())
        try:
            report = await place_call(gateway.base_url, plan.script, options, dialect=dialect)
            await wait_for(lambda: len(gateway.calls) == 1, 15)
            await wait_for(lambda: gateway.runtime.active_calls == 0, 15)
        finally:
            watcher.cancel()
        sessions = list(emulator.recorder.sessions)
        prefixes = tuple(f"function-call-{s.session_id[:8]}-" for s in sessions)

        def own(ids: Iterable[str]) -> list[str]:  # an unknown id counts too
            return [i for i in ids if i.startswith(prefixes) or not i.startswith("function-")]

        left = own(_tool_task_ids())
        mine = [e for e in events if e.call_sid == options.call_sid]
        call = gateway.calls[0]
        return Outcome(options.call_sid, report, call, sessions, mine, sorted(own(seen)), left)


async def _all(events: Events) -> Run:
    backend_app = build_backend(token=BACKEND_TOKEN)
    rest_app = fake_twilio()
    async with (
        serve_app(backend_app) as backend_url,
        serve_app(_observed_api(rest_app, events)) as rest_url,
    ):
        # The tools file's ${EXAMPLE_BACKEND_URL} and ${EXAMPLE_BACKEND_TOKEN} come from the
        # process environment, read as each gateway starts.
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("EXAMPLE_BACKEND_URL", backend_url)
            patch.setenv("EXAMPLE_BACKEND_TOKEN", BACKEND_TOKEN)
            patch.delenv("SALES_NUMBER", raising=False)
            results = await asyncio.gather(
                *(_call(plan, rest_url, events) for plan in PLANS.values())
            )
        outcomes = dict(zip(PLANS, results, strict=True))
        requests: list[RecordedRequest] = backend_app.state.requests
        received: list[Received] = rest_app.state.received
        return Run(outcomes, list(requests), list(received), len(_tool_task_ids()))


@functools.cache
def run() -> Run:
    events: Events = []
    structlog.configure(
        processors=[structlog.contextvars.merge_contextvars, _collector(events)],
        cache_logger_on_first_use=False,
    )
    try:
        return asyncio.run(_all(events))
    finally:
        structlog.reset_defaults()


def outcome(name: str) -> Outcome:
    return run().outcomes[name]


# ------------------------------------------------------------------------------ what was heard


def _tone_segments(report: CallReport) -> list[Segment]:
    """Stretches the caller heard that are the emulator's answer tone (440 Hz), not an echo."""
    found = []
    for segment in report.agent_segments:
        start = round(segment.start_ms * CALL_RATE_HZ / 1000)
        end = round(segment.end_ms * CALL_RATE_HZ / 1000)
        audio = report.heard[start:end].astype(np.float64)
        power = np.abs(np.fft.rfft(audio)) ** 2
        freqs = np.fft.rfftfreq(len(audio), 1 / CALL_RATE_HZ)
        if power.sum() and power[np.abs(freqs - 440) < 25].sum() / power.sum() > 0.9:
            found.append(segment)
    return found


def _echo_heard_after(report: CallReport, utterance: Segment) -> bool:
    """The caller heard their `utterance` echoed back (the emulator's answer) after saying it."""
    probe_end = min(utterance.end_ms, utterance.start_ms + 400)
    probe = report.said[round(utterance.start_ms * 8) : round(probe_end * 8)]
    heard = report.heard[round(utterance.end_ms * 8) :]
    return best_correlation(heard, probe) > 0.95


def _backend_requests(order_id: str) -> list[RecordedRequest]:
    return [r for r in run().backend if r.path == f"/orders/{order_id}"]


def _rest_requests(o: Outcome) -> list[Received]:
    return [r for r in run().rest if r.path.endswith(f"/Calls/{o.call_sid}.json")]


def _tool_records(o: Outcome) -> list[tuple[str, str]]:
    tools: Sequence[Mapping[str, Any]] = o.summary["tools"]
    for record in tools:
        assert set(record) == {"name", "outcome", "duration_ms"}
        assert record["duration_ms"] >= 0
    return [(record["name"], record["outcome"]) for record in tools]


# ---------------------------------------------------------------------------------- lookup


def test_a_lookup_reaches_the_backend_and_its_answer_the_model() -> None:
    o = outcome("lookup")
    assert o.report.ok, o.report.errors
    assert _backend_requests("A1001") == [RecordedRequest("GET", "/orders/A1001", "")]
    # The backend's JSON (it wants the bearer token: a 401 would be an error here) reached the
    # model under the id of the call the model made.
    assert o.session.tool_responses == [
        {"id": o.first_call_id, "name": "lookup_order", "response": {"output": ORDERS["A1001"]}}
    ]
    assert o.session.kinds().count("toolResponse") == 1
    [started] = o.logged("tool.started")
    assert (started["call_id"], started["args"]) == (o.first_call_id, {"order_id": "A1001"})
    [completed] = o.logged("tool.completed")
    assert (completed["outcome"], completed["status"], completed["attempts"]) == ("ok", 200, 1)
    assert _tool_records(o) == [("lookup_order", "ok")]
    assert o.summary["tool_calls"] == 1
    # Nothing was said before: the first audio the caller heard back came after the result.
    assert o.index("gateway", "tool.completed")[0] < o.index("carrier", "mark_echo")[0]


def test_after_the_lookup_the_caller_hears_the_model_speak() -> None:
    o = outcome("lookup")
    # The emulator speaks its scripted answer (a tone, with these words) only once a response
    # with the right id came back; the caller heard all of it, after their question.
    assert o.agent_line(LOOKUP_ANSWER) == (LOOKUP_ANSWER, LOOKUP_ANSWER)
    [tone] = _tone_segments(o.report)
    question, thanks = o.report.caller_utterances
    assert tone.start_ms > question.end_ms
    # ...and the conversation goes on: the caller's next words are answered.
    assert tone.end_ms < thanks.start_ms
    assert _echo_heard_after(o.report, thanks)
    assert o.summary["end_reason"] == "carrier stop"
    assert o.summary["illegal_events"] == 0


# --------------------------------------------------------------------------------- timeout


def test_a_slow_backend_times_out_into_an_error_the_model_can_speak_about() -> None:
    o = outcome("timeout")
    assert o.report.ok, o.report.errors
    # One attempt: the tool's 5 s bound all retries included, and it ran out during the first.
    assert _backend_requests("A1002") == [
        RecordedRequest("GET", "/orders/A1002", f"delay_s={SLOW_S}")
    ]
    assert o.session.tool_responses == [
        {"id": o.first_call_id, "name": "lookup_order", "response": {"error": TIMEOUT_ERROR}}
    ]
    [completed] = o.logged("tool.completed")
    assert (completed["call_id"], completed["outcome"]) == (o.first_call_id, "timeout")
    assert _tool_records(o) == [("lookup_order", "timeout")]
    assert o.index("gateway", "tool.completed")[0] < o.index("carrier", "mark_echo")[0]


def test_after_a_timeout_the_model_speaks_and_the_call_goes_on() -> None:
    o = outcome("timeout")
    assert o.agent_line(SLOW_ANSWER) == (SLOW_ANSWER, SLOW_ANSWER)
    [tone] = _tone_segments(o.report)
    hello, thanks = o.report.caller_utterances
    assert hello.end_ms < tone.start_ms < tone.end_ms < thanks.start_ms
    assert _echo_heard_after(o.report, thanks)
    assert o.summary["end_reason"] == "carrier stop"
    assert o.summary["fallback"] is None
    assert o.summary["illegal_events"] == 0


# ------------------------------------------------------------------------------- cancelled


def test_a_cancelled_call_never_sends_a_result() -> None:
    o = outcome("cancelled")
    assert o.report.ok, o.report.errors
    # The lookup did start (the backend got it), then the caller spoke over it.
    assert _backend_requests("A1003") == [
        RecordedRequest("GET", "/orders/A1003", f"delay_s={CANCELLED_DELAY_S}")
    ]
    # The bridge got Live's toolCallCancellation for the call (its note lists the ids).
    notes = [line for line in o.logged("tool.cancelled") if "call_ids" in line]
    assert [line["call_ids"] for line in notes] == [[o.first_call_id]]
    assert o.session.tool_responses == []
    assert "toolResponse" not in o.session.kinds()
    assert o.logged("tool.completed") == []
    assert o.logged("tool.late_result_dropped") == []
    assert _tool_records(o) == [("lookup_order", "cancelled")]


def test_a_cancelled_tool_task_is_cancelled_at_once_and_does_not_outlive_the_call() -> None:
    o = outcome("cancelled")
    cancelled = [
        i
        for i in o.index("gateway", "tool.cancelled")
        if o.events[i].fields.get("call_id") == o.first_call_id
    ]
    # The toolbox's own line: the task itself was cancelled (its HTTP request abandoned) when
    # the model cancelled the call, long before the call ended (the carrier's stop).
    assert len(cancelled) == 1
    [stop] = o.index("carrier", "stop")
    assert cancelled[0] < stop
    assert o.tool_tasks_seen == [o.first_call_id]  # the task ran, and is found by its id
    assert o.tool_tasks_after == []
    assert run().tool_tasks_left == 0
    # The call went on: the question the caller barged in with was answered.
    _, question = o.report.caller_utterances
    assert _echo_heard_after(o.report, question)
    assert o.summary["end_reason"] == "carrier stop"
    assert o.summary["illegal_events"] == 0


# ------------------------------------------------------------------- transfer and hang-up

HAND_OFFS = {
    "transfer": ("transfer:sales", {"Twiml": [TWIML_DIAL]}, TRANSFER_WORDS),
    "hang_up": ("hang_up", {"Status": ["completed"]}, GOODBYE_WORDS),
}


@pytest.mark.parametrize("name", list(HAND_OFFS))
def test_the_action_reaches_twilio_exactly_once(name: str) -> None:
    o = outcome(name)
    action, form, _ = HAND_OFFS[name]
    path = f"/2010-04-01/Accounts/{ACCOUNT_SID}/Calls/{o.call_sid}.json"
    content_type = "application/x-www-form-urlencoded"
    assert _rest_requests(o) == [
        Received("POST", path, ACCOUNT_SID, AUTH_TOKEN, content_type, form)
    ]
    assert o.summary["call_action"] == action
    # Twilio's answer to the update is its `stop`: the call ends as handed off.
    assert o.summary["end_reason"] == f"handed off ({action})"
    assert o.report.outcome is CallOutcome.COMPLETED
    assert o.report.errors == ()
    assert o.summary["illegal_events"] == 0


@pytest.mark.parametrize("name", list(HAND_OFFS))
def test_the_action_waits_for_the_final_mark(name: str) -> None:
    o = outcome(name)
    _, _, words = HAND_OFFS[name]
    [key] = o.index("carrier", "dtmf")
    [request] = o.index("rest", "POST")
    [stop] = o.index("carrier", "stop")
    echoes = o.index("carrier", "mark_echo")
    assert o.index("carrier", "mark_lost") == []
    # Every mark the gateway sent came back as played, in order; the last of them is the end
    # of the agent's last words.
    assert [o.events[i].fields["detail"] for i in echoes] == [m.name for m in o.report.marks]
    assert all(mark.played for mark in o.report.marks)
    assert len(echoes) == o.summary["marks_sent"] == o.summary["marks_played"]
    # When the caller pressed the key the agent was still speaking: the gateway wrapped up with
    # audio pending, and marks kept coming back after the key press...
    [wrap_up] = [i for i in o.index("gateway", "call.wrap_up") if key < i]
    assert o.events[wrap_up].fields["pending_ms"] > 0
    assert any(key < i for i in echoes)
    # ...and the REST request went out only after the final one, before the carrier's stop.
    assert echoes[-1] < request < stop
    assert o.logged("call.wrap_up_timeout") == []
    assert o.summary["pending_ms"] == 0
    # So the caller heard the agent's last words in full.
    assert o.agent_line(HOURS) == (words, words)


def test_a_hang_up_whose_final_mark_never_comes_back_still_happens() -> None:
    o = outcome("hang_up_marks_lost")
    path = f"/2010-04-01/Accounts/{ACCOUNT_SID}/Calls/{o.call_sid}.json"
    content_type = "application/x-www-form-urlencoded"
    assert _rest_requests(o) == [
        Received("POST", path, ACCOUNT_SID, AUTH_TOKEN, content_type, {"Status": ["completed"]})
    ]
    [key] = o.index("carrier", "dtmf")
    [request] = o.index("rest", "POST")
    [stop] = o.index("carrier", "stop")
    lost = o.index("carrier", "mark_lost")
    # Marks were still due at the key press, and none of them ever came back...
    assert lost
    assert all(key < i for i in lost)
    assert all(i < key for i in o.index("carrier", "mark_echo"))
    # ...yet the gateway gave up waiting (its bounded wrap-up) and hung up, before the caller's
    # side would have ended the call.
    [timeout] = o.index("gateway", "call.wrap_up_timeout")
    assert key < timeout < request < stop
    assert o.events[timeout].fields["pending_ms"] > 0
    assert o.summary["call_action"] == "hang_up"
    assert o.summary["end_reason"] == "handed off (hang_up)"
    assert o.summary["marks_played"] < o.summary["marks_sent"]
    assert o.summary["pending_ms"] > 0
    # The gateway knows the caller may not have heard the end of the goodbye.
    text, heard = o.agent_line(HOURS)
    assert text == GOODBYE_WORDS
    assert heard != text
    assert o.report.errors == ()
