"""One call's I/O: the carrier socket and the Live session around a pure `CallBridge`.

A `CallRunner` is built once, after the stream's `start` came and was authorized
(`gateway.shell.media_stream`), from the `OpenedStream` and the call's `CallPlan`: the bridge
options, services, Live session claim and recording of the agent profile. Nothing of it changes
after construction. `CallRunner.run()` feeds the bridge what came before the start, then the
start, and runs four tasks in one `asyncio.TaskGroup`:

* carrier reader: wire message -> translator -> bridge;
* Live link (`LiveLink`): claims the session, sends the Live queue to it, replaces it when the
  bridge says `ReconnectLive`, and runs one reader per session (Live frame -> bridge);
* carrier writer: drains the carrier queue;
* one task per running tool call (`RunTool` -> `ToolFinished`) and per carrier REST request
  (`ControlCall` -> `CallControlled`).

Every command the bridge returns is executed synchronously (enqueue, set a timer, log), so one
bridge step never interleaves with another. Timers are `loop.call_at` handles (`TimerSet`).
When the bridge says `EndCall`, the writers flush, the sockets close and every task of the call
ends.

Internal errors: an exception other than `IllegalTransition` while a bridge step runs or its
commands are executed (whether a carrier or Live frame, a timer or a tool brought the event) is
a bug, never bad input. It is handled in one place (`_internal_error`): logged as
`call.internal_error` with the exception's type and where it was raised (never its message,
which could carry call data), counted (`internal_errors` in the summary, a metric), and the call
is sent to the fallback (`EndRequested(fallback=True)`: the caller hears the apology) or, if
that fails too, ended at once. The bridge is fed nothing more after a second error.

Queues and their overflow policies:
* carrier out (`CARRIER_QUEUE_MAX` messages): the bridge already bounds playback to its lead, so
  a full queue means the carrier stopped reading: the call ends (`carrier.stalled`).
* Live out: see `gateway.shell.live_queue` (the oldest caller audio past a bound sized from the
  call's held-audio limits, counted; nothing else is ever dropped).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import traceback
from collections.abc import Awaitable, Iterable
from dataclasses import dataclass
from typing import Any

import structlog
from starlette.websockets import WebSocket, WebSocketDisconnect

from gateway.call_log import new_call_fields
from gateway.carriers.base import CarrierTranslator
from gateway.carriers.browser.translator import BrowserTranslator
from gateway.core.bridge import CallBridge, IllegalTransition
from gateway.core.events import (
    BridgeEvent,
    CallerAudio,
    CancelTimer,
    CancelTool,
    CarrierClosed,
    ClearPlayback,
    CloseLive,
    Command,
    ControlCall,
    EndCall,
    EndRequested,
    Note,
    PlaceMark,
    PlayAudio,
    ReconnectLive,
    RunTool,
    SendAudio,
    SendText,
    SendToolResponse,
    StartTimer,
    TimerFired,
)
from gateway.live.events import AudioChunk, Interrupted
from gateway.log import get_logger
from gateway.shell.call_plan import CallPlan, OpenedStream
from gateway.shell.call_tasks import CallTasks
from gateway.shell.carrier_socket import MESSAGE_TOO_BIG, CarrierSocket
from gateway.shell.deadline import Deadline
from gateway.shell.latency import LatencySamples
from gateway.shell.live_client import LiveSession
from gateway.shell.live_link import CLOSE_LIVE, LiveLink
from gateway.shell.live_queue import LIVE_QUEUE_MARGIN_MS
from gateway.shell.mailbox import Mailbox
from gateway.shell.phone_view import PhoneView
from gateway.shell.timers import TimerSet

__all__ = ["MESSAGE_TOO_BIG", "CallRunner", "RunnerOptions", "log_internal_error"]

CARRIER_QUEUE_MAX = 1000
_END = object()  # carrier-queue sentinel: close the socket after what is queued
_NO_METRIC, _DOWNLINK, _CLEAR = 0, 1, 2


@dataclass(frozen=True)
class RunnerOptions:
    """Socket-level waits only. How long a stream may take to `start` and a Live session to
    open are the call's policy: the bridge's `BridgeOptions.start_timeout_ms` and
    `connect_timeout_ms` (set from the settings in `GatewayServices.bridge_options`)."""

    carrier_idle_timeout_s: float = 20.0
    """No message from the carrier for this long (media flows every 20 ms): the call is dead."""
    carrier_send_timeout_s: float = 5.0
    close_timeout_s: float = 5.0
    finish_timeout_s: float = 3.0
    """How long an ending call waits for its writers to flush before cancelling them."""


class CallRunner:
    """Runs one started, authorized stream as a call: build it, then `await run()` once."""

    def __init__(
        self,
        ws: WebSocket,
        translator: CarrierTranslator,
        opened: OpenedStream,
        plan: CallPlan,
        *,
        bridge: CallBridge | None = None,
        options: RunnerOptions | None = None,
    ) -> None:
        """`bridge`: a fresh bridge for the call (default: one with `plan.bridge_options`)."""
        self._ws = ws
        self._translator = translator
        self._opened = opened
        self.bridge = bridge if bridge is not None else CallBridge(plan.bridge_options)
        self._claim = plan.claim_session
        self._options = options or RunnerOptions()
        self._services = plan.services
        self._loop = asyncio.get_running_loop()
        self._carrier_out: Mailbox[tuple[Any, float, int]] = Mailbox(CARRIER_QUEUE_MAX)
        self._timers = TimerSet(self._loop, lambda name: self._handle(TimerFired(name)))
        # The web softphone also shows the call as it goes (transcript, tools, latencies).
        self._view: PhoneView | None = None
        if isinstance(translator, BrowserTranslator):
            self._view = PhoneView(translator, self.summary)
        self._live: LiveLink | None = None
        self._group: asyncio.TaskGroup | None = None
        self._side = CallTasks(self._services, self._handle)
        self._end_requested = asyncio.Event()
        self._carrier_done = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._log: Any = get_logger(component="call")
        self._socket = CarrierSocket(
            ws, idle_timeout_s=self._options.carrier_idle_timeout_s, log=self._log
        )
        self.end_reason: str | None = None
        self.call_id: str | None = None
        self.downlink_ms = LatencySamples()
        self.clear_ms = LatencySamples()
        self.illegal_events = 0
        self.internal_errors = 0
        self._broken = False  # a second internal error: the bridge is fed nothing more
        self.profile = plan.profile
        self.recording = plan.recording

    @property
    def uplink_ms(self) -> LatencySamples:
        """Added latency caller frame -> Live send (ms), over every session of the call."""
        return self._live.uplink_ms if self._live is not None else LatencySamples()

    @property
    def live_dropped(self) -> int:
        return self._live.dropped if self._live is not None else 0

    @property
    def live_dropped_ms(self) -> float:
        return self._live.dropped_ms if self._live is not None else 0.0

    # ------------------------------------------------------------------------------ run

    async def run(self) -> dict[str, Any]:
        """Run the call to its end; returns the call summary."""
        try:
            return await self._run_call()
        finally:
            self._timers.cancel_all()
            if self._live is not None:
                await self._live.close()
            await self._close_carrier(1000, "")

    def _replay_before_start(self) -> None:
        """Feed the bridge what the stream sent before its start. The opening's own bridge
        already decided on it and logged it: only the counts are wanted here."""
        now_ms = self._now_ms()
        for event, times in self._opened.before:
            for _ in range(times):
                try:
                    self.bridge.handle(event, now_ms)
                except IllegalTransition:
                    self.illegal_events += 1

    async def _run_call(self) -> dict[str, Any]:
        started = self._opened.started
        self.call_id = started.call_id
        structlog.contextvars.bind_contextvars(
            call_sid=started.call_id, stream_sid=started.stream_id
        )
        new_call_fields()  # shared by the call's tasks: the Live session, once one is open
        call_id = started.call_id

        def claim() -> Awaitable[LiveSession]:
            return self._claim(call_id)

        # The queue takes whatever held audio the bridge releases at once, plus a margin.
        options = self.bridge.options
        held_ms = max(options.connect_buffer_ms, options.reconnect_buffer_ms)
        self._live = LiveLink(
            claim=claim,
            open_session=self._services.open_session,
            handle=self._handle,
            # A session (first or replacement) that is not ready within the call's connect
            # timeout is a failed attempt; the socket-level waits inside are the client's.
            connect_timeout_s=self.bridge.options.connect_timeout_ms / 1000,
            close_timeout_s=self._options.close_timeout_s,
            log=self._log,
            audio_limit_ms=held_ms + LIVE_QUEUE_MARGIN_MS,
        )
        self._replay_before_start()
        self._handle(started)
        for event in self._opened.after:
            self._handle(event)
        try:
            async with asyncio.TaskGroup() as group:
                self._group = group
                self._tasks = [
                    group.create_task(self._read_carrier(), name="carrier-reader"),
                    group.create_task(self._write_carrier(), name="carrier-writer"),
                    group.create_task(self._live.run(group), name="live-link"),
                ]
                if self.recording is not None:
                    self._tasks.append(group.create_task(self.recording.run(), name="recording"))
                group.create_task(self._finish_when_ended(), name="call-finisher")
        except* Exception as failure:  # a bug, not bad input: end this call, keep the process
            self._log_internal_error(failure.exceptions[0], "task")
            self._log.error("call.failed", error_type=type(failure.exceptions[0]).__name__)
            self.end_reason = self.end_reason or "internal error"
        return self.summary()

    def request_end(self, reason: str) -> None:
        """End this call cleanly from outside (drain, shutdown): Live closes, the stream ends."""
        if self.call_id is None:
            self._end(reason)  # not running yet: it ends as soon as it runs
        else:
            self._handle(EndRequested(reason))

    def hand_over_now(self, reason: str) -> None:
        """Close the stream now without a goodbye (cluster mode's drain: the call's state is
        saved and the carrier asks another replica to carry it on)."""
        self._end(reason)

    def deliver(self, event: BridgeEvent) -> bool:
        """A fact about this call from outside it (a dial-out's machine-detection verdict),
        handled like any event; False when the call is not running yet."""
        if self.call_id is None:
            return False
        self._handle(event)
        return True

    def summary(self) -> dict[str, Any]:
        """The bridge's call summary plus what only the shell measures (latencies, drops)."""
        result = dict(self.bridge.summary())
        result["end_reason"] = self.end_reason or result.get("end_reason")
        result.update(self.uplink_ms.summary("uplink"))
        result.update(self.downlink_ms.summary("downlink"))
        result.update(self.clear_ms.summary("clear"))
        result["live_queue_dropped"] = self.live_dropped
        result["live_queue_dropped_ms"] = round(self.live_dropped_ms, 1)
        result["illegal_events"] = self.illegal_events
        result["internal_errors"] = self.internal_errors
        return result

    # -------------------------------------------------------------------------- readers

    async def _read_carrier(self) -> None:
        while True:
            received = await self._socket.receive()
            stamp = time.perf_counter()
            if isinstance(received, CarrierClosed):
                self._handle(received)
                return
            try:
                events = self._translator.parse(received)
            except Exception as exc:  # a translator bug: as if a bridge step had raised
                self._internal_error(exc, "carrier_parse")
                continue
            for event in events:
                self._handle(event, stamp)

    # -------------------------------------------------------------------------- writers

    async def _write_carrier(self) -> None:
        deadline = Deadline(self._loop)  # this task's sends: one timer, not one per message
        timeout_s = self._options.carrier_send_timeout_s
        try:
            while True:
                item, stamp, metric = await self._carrier_out.get()
                if item is _END:
                    break
                try:
                    with deadline.bound(timeout_s):
                        if isinstance(item, bytes):
                            await self._ws.send_bytes(item)
                        else:
                            await self._ws.send_text(item)
                except (TimeoutError, WebSocketDisconnect, RuntimeError, OSError) as exc:
                    self._log.warning("carrier.send_failed", error=type(exc).__name__)
                    self._handle(CarrierClosed())
                    break
                if metric == _DOWNLINK:
                    self.downlink_ms.add((time.perf_counter() - stamp) * 1000)
                elif metric == _CLEAR:
                    self.clear_ms.add((time.perf_counter() - stamp) * 1000)
        finally:
            deadline.close()
        self._carrier_done.set()

    async def _finish_when_ended(self) -> None:
        await self._end_requested.wait()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(self._options.finish_timeout_s):
                await self._carrier_done.wait()
        # The group waits for every task: readers of replaced sessions, tools and REST requests
        # are told to stop too.
        readers = self._live.readers if self._live is not None else set()
        for task in (*self._tasks, *self._side.tasks(), *readers):
            task.cancel()

    # ------------------------------------------------------------------------ execution

    def _now_ms(self) -> float:
        return self._loop.time() * 1000.0

    def _handle(self, event: BridgeEvent, stamp: float = 0.0) -> None:
        """One bridge step and its commands. Never raises: readers, timers and tool tasks all
        come through here, so an internal error is handled the same way whoever brought it."""
        if self._broken:
            return
        recording = self.recording
        try:
            if recording is not None and isinstance(event, CallerAudio):
                recording.caller(event.payload, self._now_ms())
            commands = self.bridge.handle(event, self._now_ms())
            if recording is not None:
                recording.observe(event, commands, self._now_ms())
            if self._view is not None:
                for message in self._view.observe(event, commands, self._now_ms()):
                    self._enqueue_carrier(message, 0.0, _NO_METRIC)
            metric = _CLEAR if isinstance(event, Interrupted) else _NO_METRIC
            if isinstance(event, AudioChunk):
                metric = _DOWNLINK
            self._execute(commands, stamp, metric)
        except IllegalTransition as exc:
            self.illegal_events += 1
            self._log.warning("bridge.illegal_event", detail=str(exc))
        except Exception as exc:
            self._internal_error(exc, type(event).__name__)

    def _internal_error(self, exc: Exception, during: str) -> None:
        """A bug in this call (see the module doc): log, count, fall back or end."""
        self._log_internal_error(exc, during)
        if self.internal_errors > 1 or self._end_requested.is_set():
            self._broken = True
            self._end("internal error")
            return
        self._handle(EndRequested("internal error", fallback=True))

    def _log_internal_error(self, exc: BaseException, during: str) -> None:
        self.internal_errors += 1
        log_internal_error(self._log, exc, during)

    def _execute(self, commands: Iterable[Command], stamp: float = 0.0, metric: int = 0) -> None:
        for command in commands:
            if isinstance(command, SendAudio | SendText | SendToolResponse | ReconnectLive):
                assert self._live is not None
                self._live.enqueue(command, stamp)
            elif isinstance(command, PlayAudio | PlaceMark | ClearPlayback):
                if self.recording is not None:
                    self.recording.carrier_command(command, self._now_ms())
                # Only the first frame an event released is a latency sample (later ones are
                # paced deliberately); a clear measures interrupted -> clear.
                wanted = metric if stamp and isinstance(command, PlayAudio | ClearPlayback) else 0
                self._enqueue_carrier(self._translator.encode(command), stamp, wanted)
                if wanted:
                    metric = _NO_METRIC
            elif isinstance(command, StartTimer):
                self._timers.start(command.name, command.at_ms)
            elif isinstance(command, CancelTimer):
                self._timers.cancel(command.name)
            elif isinstance(command, CloseLive):
                if self._live is not None:
                    self._live.enqueue(CLOSE_LIVE)
            elif isinstance(command, RunTool):
                if self._group is not None:
                    self._side.run_tool(self._group, command.call, self.call_id or "")
            elif isinstance(command, CancelTool):
                self._side.cancel_tool(command.call_id)
            elif isinstance(command, ControlCall):
                if self._group is not None:
                    self._side.control(self._group, command.action, self.call_id)
            elif isinstance(command, EndCall):
                self._end(command.reason)
            elif isinstance(command, Note):
                getattr(self._log, command.level, self._log.info)(command.event, **command.fields)

    def _enqueue_carrier(self, message: str | bytes, stamp: float, metric: int) -> None:
        if not self._carrier_out.put_nowait((message, stamp, metric)):
            self._log.error("carrier.stalled", queued=self._carrier_out.qsize())
            self._end("carrier stalled")

    def _end(self, reason: str) -> None:
        if self._end_requested.is_set():
            return
        self.end_reason = reason
        self._end_requested.set()
        if not self._carrier_out.put_nowait((_END, 0.0, 0)):
            self._carrier_done.set()

    # -------------------------------------------------------------------------- closing

    async def _close_carrier(self, code: int, reason: str) -> None:
        await self._socket.close(code, reason, timeout_s=self._options.close_timeout_s)


def log_internal_error(log: Any, exc: BaseException, during: str) -> None:
    """`call.internal_error`: the exception's type and where it was raised (never its message,
    which could carry call data)."""
    frames = traceback.extract_tb(exc.__traceback__)[-4:]
    where = [f"{frame.filename.rsplit('/', 1)[-1]}:{frame.lineno}:{frame.name}" for frame in frames]
    log.error("call.internal_error", error_type=type(exc).__name__, during=during, where=where)
