"""A media stream (its opening, then its CallRunner) with a fake carrier socket and a fake Live
session: ends, stalls and overflows.

The happy paths run end to end in tests/e2e; here each failure the runner must survive is
produced on purpose, and the test checks the call ends (or goes on) and that no task is left.
"""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Awaitable, Callable
from typing import Any, cast

import structlog
from starlette.websockets import WebSocket

from gateway.carriers.twilio.translator import TwilioTranslator
from gateway.core.bridge import CallBridge
from gateway.core.events import (
    BridgeEvent,
    CallerAudio,
    CallStarted,
    Command,
    StartTimer,
    TimerFired,
)
from gateway.core.options import BridgeOptions
from gateway.core.states import CallState
from gateway.live.closes import close_info
from gateway.live.events import LiveEvent, SetupComplete
from gateway.shell.call_plan import CallPlan
from gateway.shell.call_runner import RunnerOptions
from gateway.shell.call_tasks import CallServices
from gateway.shell.live_client import LiveClosedError, LiveSession
from gateway.shell.live_queue import LIVE_QUEUE_MARGIN_MS
from gateway.shell.media_stream import MediaStream

SID = "MZ" + "a" * 32
CALL = "CA" + "b" * 32


def _start() -> str:
    return json.dumps(
        {
            "event": "start",
            "sequenceNumber": "1",
            "streamSid": SID,
            "start": {
                "streamSid": SID,
                "accountSid": "AC1",
                "callSid": CALL,
                "tracks": ["inbound"],
                "customParameters": {},
                "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1},
            },
        }
    )


def _media(sequence: int) -> str:
    payload = base64.b64encode(bytes([0x55]) * 160).decode()
    media = {"track": "inbound", "chunk": str(sequence), "timestamp": "0", "payload": payload}
    return json.dumps(
        {"event": "media", "sequenceNumber": str(sequence), "streamSid": SID, "media": media}
    )


class FakeCarrier:
    """The carrier's side of the socket: `inbound` feeds receive(); sends may be made to hang."""

    def __init__(self, *, hang_sends: bool = False) -> None:
        self.inbound: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.sent: list[str] = []
        self.closed: int | None = None
        self.hang_sends = hang_sends

    def say(self, text: str) -> None:
        self.inbound.put_nowait({"type": "websocket.receive", "text": text})

    def hang_up(self) -> None:
        self.inbound.put_nowait({"type": "websocket.disconnect", "code": 1000})

    async def receive(self) -> dict[str, Any]:
        await asyncio.sleep(0.001)  # a real carrier paces its frames; let the other tasks run
        return await self.inbound.get()

    async def send_text(self, text: str) -> None:
        if self.hang_sends:
            await asyncio.Event().wait()
        self.sent.append(text)

    async def send_bytes(self, data: bytes) -> None:
        raise AssertionError("Twilio takes text frames only")

    async def close(self, code: int = 1000, reason: str = "") -> None:
        if self.closed is None:  # like starlette: only the first close goes out
            self.closed = code


class FakeLive:
    """A Live session whose sends can hang and whose receive waits until it is closed."""

    def __init__(self, *, hang_sends: bool = False) -> None:
        self.setup = SetupComplete(session_id="s1")
        self.frame_received_s = 0.0
        self.log_id = "s1"
        self.audio: list[bytes] = []
        self.closed: int | None = None
        self.hang_sends = hang_sends
        self._closed = asyncio.Event()

    async def recv(self) -> list[LiveEvent]:
        await self._closed.wait()
        raise LiveClosedError(close_info(self.closed or 1000, "", go_away_seen=False))

    async def send_audio(self, pcm: bytes, rate_hz: int = 16_000) -> None:
        if self.hang_sends:
            await asyncio.Event().wait()
        self.audio.append(pcm)

    async def send_text(self, text: str) -> None:
        pass

    async def close(self, code: int = 1000, reason: str = "") -> Any:
        self.closed = code
        self._closed.set()


def _runner(
    carrier: FakeCarrier,
    live: FakeLive,
    options: RunnerOptions,
    *,
    authorize: str | None = None,
    bridge: BridgeOptions | Callable[[BridgeOptions], CallBridge] | None = None,
) -> tuple[MediaStream, list[str]]:
    """A stream whose start is refused with `authorize` (None: accepted) and whose bridges
    (the opening's and the call's) have the options `bridge` (or are built by it)."""
    claims: list[str] = []
    bridge_options = bridge if isinstance(bridge, BridgeOptions) else BridgeOptions()

    async def claim(call_id: str) -> LiveSession:
        claims.append(call_id)
        return cast(LiveSession, live)

    def check(_started: CallStarted) -> str | CallPlan:
        if authorize is not None:
            return authorize
        return CallPlan("default", bridge_options, CallServices(), claim)

    stream = MediaStream(
        cast(WebSocket, carrier),
        TwilioTranslator(),
        authorize=check,
        opening_options=bridge_options,
        options=options,
        new_bridge=bridge if callable(bridge) else CallBridge,
    )
    return stream, claims


async def _run(runner: MediaStream) -> dict[str, Any] | None:
    before = asyncio.all_tasks()
    summary = await asyncio.wait_for(runner.run(), 20)
    await asyncio.sleep(0)
    assert asyncio.all_tasks() - before == set()  # nothing of the call left running
    return summary


async def test_carrier_stop_ends_the_call_and_closes_live() -> None:
    carrier, live = FakeCarrier(), FakeLive()
    runner, claims = _runner(carrier, live, RunnerOptions())
    carrier.say(_start())
    for sequence in range(2, 12):
        carrier.say(_media(sequence))
    carrier.say(json.dumps({"event": "stop", "sequenceNumber": "12", "streamSid": SID}))
    summary = await _run(runner)
    assert claims == [CALL]
    assert summary is not None
    assert summary["end_reason"] == "carrier stop"
    assert len(live.audio) == 10
    assert all(len(chunk) == 640 for chunk in live.audio)
    assert live.closed == 1000
    assert carrier.closed == 1000


async def test_a_refused_start_claims_no_live_session() -> None:
    carrier, live = FakeCarrier(), FakeLive()
    runner, claims = _runner(carrier, live, RunnerOptions(), authorize="token reused")
    carrier.say(_start())
    assert await _run(runner) is None
    assert claims == []
    assert carrier.closed == 1008


async def test_a_stream_that_never_starts_is_closed() -> None:
    carrier, live = FakeCarrier(), FakeLive()
    # The start timeout is the bridge's (its options come from the settings), not the runner's.
    bridge = BridgeOptions(start_timeout_ms=100)
    runner, claims = _runner(carrier, live, RunnerOptions(), bridge=bridge)
    carrier.say(json.dumps({"event": "connected", "protocol": "Call", "version": "1.0.0"}))
    assert await _run(runner) is None
    assert claims == []
    assert carrier.closed == 1000
    assert runner.end_reason == "no start"


async def test_a_silent_carrier_ends_the_call() -> None:
    carrier, live = FakeCarrier(), FakeLive()
    runner, _ = _runner(carrier, live, RunnerOptions(carrier_idle_timeout_s=0.2))
    carrier.say(_start())
    summary = await _run(runner)
    assert summary is not None
    assert summary["end_reason"] == "carrier closed"
    assert live.closed == 1000


async def test_a_stuck_live_socket_drops_oldest_audio_and_the_call_still_ends() -> None:
    carrier, live = FakeCarrier(), FakeLive(hang_sends=True)
    # No held audio: the Live queue holds its margin (10 s, 500 frames) of caller audio.
    bridge = BridgeOptions(connect_buffer_ms=0, reconnect_buffer_ms=0)
    runner, _ = _runner(carrier, live, RunnerOptions(), bridge=bridge)
    frames = round(LIVE_QUEUE_MARGIN_MS / 20)
    carrier.say(_start())
    for sequence in range(2, frames + 52):
        carrier.say(_media(sequence))
    carrier.hang_up()
    summary = await _run(runner)
    assert summary is not None
    assert summary["live_queue_dropped"] >= 49  # one frame may be in the stuck send
    assert summary["live_queue_dropped_ms"] == summary["live_queue_dropped"] * 20.0
    assert summary["end_reason"] == "carrier closed"


async def test_a_second_start_is_an_illegal_event_and_the_call_goes_on() -> None:
    carrier, live = FakeCarrier(), FakeLive()
    runner, _ = _runner(carrier, live, RunnerOptions())
    carrier.say(_start())
    second = json.loads(_start())
    second["sequenceNumber"] = "2"
    carrier.say(json.dumps(second))
    carrier.say(_media(3))
    carrier.hang_up()
    summary = await _run(runner)
    assert summary is not None
    assert len(live.audio) == 1
    assert summary["messages_ignored"] + summary["illegal_events"] == 1


# ----------------------------------------------------------------------- internal errors

SECRET_DETAIL = "caller said 4111-1111"  # must never reach a log line


class FaultyBridge(CallBridge):
    """A bridge with a bug: it raises (not `IllegalTransition`) on a chosen event, after a
    half-done step, as a handler bug would."""

    def __init__(self, fails_on: Callable[[BridgeEvent, int], bool]) -> None:
        super().__init__()
        self._fails_on = fails_on
        self.seen = 0

    def handle(self, event: BridgeEvent, now_ms: float) -> list[Command]:
        self.seen += 1
        if isinstance(event, CallStarted):  # arms a timer of its own, as a handler might
            return [*super().handle(event, now_ms), StartTimer("boom", now_ms + 30)]
        if self._fails_on(event, self.seen):
            self.stats.turns += 1  # half-changed
            raise KeyError(SECRET_DETAIL)
        return super().handle(event, now_ms)


def _timer_fails(event: BridgeEvent, _seen: int) -> bool:
    return event == TimerFired("boom")


def _third_frame_fails(event: BridgeEvent, seen: int) -> bool:
    return isinstance(event, CallerAudio) and seen == 4  # start, then the third frame


async def _faulty_call(fails_on: Callable[[BridgeEvent, int], bool]) -> dict[str, Any]:
    carrier, live = FakeCarrier(), FakeLive()
    runner, _ = _runner(
        carrier, live, RunnerOptions(), bridge=lambda _options: FaultyBridge(fails_on)
    )
    carrier.say(_start())
    for sequence in range(2, 7):
        carrier.say(_media(sequence))
    with structlog.testing.capture_logs() as logs:
        task = asyncio.ensure_future(_run(runner))
        await asyncio.sleep(0.2)  # the failing timer is due 30 ms into the call
        carrier.hang_up()
        summary = await task
    assert summary is not None
    assert live.closed == 1000  # Live closed, the stream too: the call ended cleanly
    assert carrier.closed == 1000
    assert SECRET_DETAIL not in repr(logs)
    summary["logs"] = logs
    return summary


async def test_a_timer_callback_that_raises_sends_the_call_to_the_fallback() -> None:
    summary = await _faulty_call(_timer_fails)
    [error] = [line for line in summary["logs"] if line["event"] == "call.internal_error"]
    assert (error["error_type"], error["during"], error["log_level"]) == (
        "KeyError",
        "TimerFired",
        "error",
    )
    assert any("handle" in frame for frame in error["where"])
    assert summary["internal_errors"] == 1
    # The bridge went to the fallback: the apology as a hang-up (no carrier REST here, so the
    # request fails and the stream is ended), as a reader's event would.
    assert (summary["fallback"], summary["call_action"]) == ("internal error", "hang_up")
    assert summary["end_reason"] == "call control failed"


async def test_an_event_whose_handler_raises_is_treated_alike() -> None:
    summary = await _faulty_call(_third_frame_fails)
    [error] = [line for line in summary["logs"] if line["event"] == "call.internal_error"]
    assert (error["error_type"], error["during"]) == ("KeyError", "CallerAudio")
    assert summary["internal_errors"] == 1
    assert (summary["fallback"], summary["call_action"]) == ("internal error", "hang_up")
    assert not any(line["event"] == "call.failed" for line in summary["logs"])


async def test_a_bridge_that_keeps_raising_is_ended_at_once_and_fed_nothing_more() -> None:
    summary = await _faulty_call(lambda event, _seen: not isinstance(event, CallStarted))
    errors = [line for line in summary["logs"] if line["event"] == "call.internal_error"]
    # The first event after the start raised, then the fallback request raised too: the call
    # ends there, and none of the frames or the hang-up that followed reached the bridge.
    assert [line["during"] for line in errors][1:] == ["EndRequested"]
    assert len(errors) == 2
    assert summary["internal_errors"] == 2
    assert summary["end_reason"] == "internal error"


# ------------------------------------------------------------------- opening, then the call


async def test_what_came_before_the_start_is_counted_in_the_call_summary() -> None:
    carrier, live = FakeCarrier(), FakeLive()
    runner, _ = _runner(carrier, live, RunnerOptions())
    carrier.say(json.dumps({"event": "connected", "protocol": "Call", "version": "1.0.0"}))
    for _ in range(300):  # a run of them is one entry of the opening's memory
        carrier.say(_media(2))
    carrier.say(json.dumps({"event": "bogus"}))
    carrier.say(_start())
    carrier.hang_up()
    summary = await _run(runner)
    assert summary is not None
    assert summary["messages_ignored"] == 301  # 300 frames before the start, one unknown event
    assert summary["illegal_events"] == 0


async def test_the_call_bridge_is_built_with_the_plan_options_not_the_opening_ones() -> None:
    carrier, live = FakeCarrier(), FakeLive()
    opening = BridgeOptions(start_timeout_ms=5_000)
    plan = CallPlan("sales", BridgeOptions(connect_buffer_ms=0), CallServices(), _claim_from(live))
    stream = MediaStream(
        cast(WebSocket, carrier),
        TwilioTranslator(),
        authorize=lambda _started: plan,
        opening_options=opening,
    )
    carrier.say(_start())
    carrier.hang_up()
    assert await _run(stream) is not None
    assert stream.plan is plan
    assert stream.runner is not None
    assert stream.runner.bridge.options is plan.bridge_options
    assert (stream.runner.profile, stream.call_id) == ("sales", CALL)


async def test_a_drain_before_the_start_ends_the_wait() -> None:
    carrier, live = FakeCarrier(), FakeLive()
    runner, claims = _runner(carrier, live, RunnerOptions())
    task = asyncio.ensure_future(_run(runner))
    await asyncio.sleep(0.05)
    assert (runner.call_id, runner.bridge.state) == (None, CallState.WAITING_FOR_START)
    runner.request_end("draining")
    assert await task is None
    assert (runner.end_reason, carrier.closed, claims) == ("draining", 1000, [])


def _claim_from(live: FakeLive) -> Callable[[str], Awaitable[LiveSession]]:
    async def claim(_call_id: str) -> LiveSession:
        return cast(LiveSession, live)

    return claim
