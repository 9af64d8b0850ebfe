"""A carrier media stream until its `start`: the phase before anything is known of the call.

`StreamOpening.wait()` reads the carrier socket and feeds what comes to a bridge of its own,
built with the gateway's default options, which decides as for any call: the start must come
within `BridgeOptions.start_timeout_ms` (else the stream ends as `no start`), a close or a
`request_end` (drain) ends it. When the `start` comes it returns an `OpenedStream`: the start,
the events of its message after it, and what came before it (run-length coded, bounded), which
the call's own bridge, built from the agent profile's options once the start is authorized, is
fed first. Nothing is known of the call before its start, so no profile can apply to it yet.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable
from typing import Any, Final

from starlette.websockets import WebSocket

from gateway.carriers.base import CarrierTranslator
from gateway.core.bridge import CallBridge, IllegalTransition
from gateway.core.events import (
    BridgeEvent,
    CallerAudio,
    CallStarted,
    CancelTimer,
    CarrierClosed,
    CarrierEvent,
    Command,
    EndCall,
    EndRequested,
    MessageIgnored,
    Note,
    StartTimer,
    TimerFired,
)
from gateway.log import get_logger
from gateway.shell.call_plan import OpenedStream
from gateway.shell.call_runner import RunnerOptions, log_internal_error
from gateway.shell.carrier_socket import CarrierSocket
from gateway.shell.timers import TimerSet

__all__ = ["MAX_EVENTS_BEFORE_START", "StreamOpening"]

MAX_EVENTS_BEFORE_START: Final = 256
"""Distinct entries kept of what came before the start (caller frames and ignored messages
merge into one entry per run, so only a flood of other distinct events reaches it)."""
_MERGED: Final = (CallerAudio, MessageIgnored)
"""Events whose content the bridge does not look at before the start: a run of them is one
entry."""


class StreamOpening:
    """One accepted stream's wait for its `start` (create per WebSocket, `await wait()` once)."""

    def __init__(
        self,
        ws: WebSocket,
        translator: CarrierTranslator,
        bridge: CallBridge,
        options: RunnerOptions | None = None,
    ) -> None:
        self._options = options or RunnerOptions()
        self._translator = translator
        self._bridge = bridge
        self._log: Any = get_logger(component="call")
        self._socket = CarrierSocket(
            ws, idle_timeout_s=self._options.carrier_idle_timeout_s, log=self._log
        )
        self._timers = TimerSet(
            asyncio.get_running_loop(), lambda name: self._handle(TimerFired(name))
        )
        self._ended = asyncio.Event()
        self._before: list[tuple[BridgeEvent, int]] = []
        self._dropped = 0
        self.end_reason: str | None = None

    @property
    def bridge(self) -> CallBridge:
        """The opening's bridge (default options; in `WAITING_FOR_START` until it ends)."""
        return self._bridge

    @property
    def call_id(self) -> None:
        """No call yet (the drain's view: see `GatewayRuntime.calls`)."""
        return None

    def request_end(self, reason: str) -> None:
        """Stop waiting for the start (drain, shutdown)."""
        self._end(reason)

    async def wait(self) -> OpenedStream | None:
        """The stream once its `start` came; None when it ended first (then it is closed)."""
        loop = asyncio.get_running_loop()
        self._execute(self._bridge.begin(loop.time() * 1000.0))
        try:
            opened = await self._read_until_start()
        finally:
            self._timers.cancel_all()
        if opened is None:
            if self.end_reason == "no start":
                timeout_s = self._bridge.options.start_timeout_ms / 1000
                self._log.warning("stream.no_start", timeout_s=timeout_s)
            await self.close(1000, "")
        elif self._dropped:
            self._log.warning("stream.early_events_uncounted", events=self._dropped)
        return opened

    async def close(self, code: int, reason: str) -> None:
        """Close the carrier socket (a refused stream: 1008)."""
        await self._socket.close(code, reason, timeout_s=self._options.close_timeout_s)

    async def _read_until_start(self) -> OpenedStream | None:
        ended = asyncio.ensure_future(self._ended.wait())
        try:
            while not self._ended.is_set():
                receive = asyncio.ensure_future(self._socket.receive())
                await asyncio.wait((receive, ended), return_when=asyncio.FIRST_COMPLETED)
                if not receive.done():
                    receive.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await receive
                    return None
                received = receive.result()
                if isinstance(received, CarrierClosed):
                    self._handle(received)
                    return None
                try:
                    events = self._translator.parse(received)
                except Exception as exc:  # a translator bug: as if a bridge step had raised
                    self._internal_error(exc, "carrier_parse")
                    continue
                for index, event in enumerate(events):
                    if isinstance(event, CallStarted):
                        after: tuple[CarrierEvent, ...] = tuple(events[index + 1 :])
                        return OpenedStream(event, after, tuple(self._before))
                    self._remember(event)
                    self._handle(event)
            return None
        finally:
            ended.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await ended

    def _remember(self, event: BridgeEvent) -> None:
        if self._before:
            last, times = self._before[-1]
            if event == last or (type(event) is type(last) and isinstance(event, _MERGED)):
                self._before[-1] = (event, times + 1)
                return
        if len(self._before) < MAX_EVENTS_BEFORE_START:
            self._before.append((event, 1))
        else:
            self._dropped += 1

    def _handle(self, event: BridgeEvent) -> None:
        """One step of the opening's bridge and its commands; never raises."""
        try:
            loop = asyncio.get_running_loop()
            self._execute(self._bridge.handle(event, loop.time() * 1000.0))
        except IllegalTransition as exc:
            self._log.warning("bridge.illegal_event", detail=str(exc))
        except Exception as exc:
            self._internal_error(exc, type(event).__name__)

    def _internal_error(self, exc: Exception, during: str) -> None:
        """A bug (see `gateway.shell.call_runner`): logged, and the stream ends."""
        log_internal_error(self._log, exc, during)
        if self._ended.is_set():
            return
        try:
            loop = asyncio.get_running_loop()
            fallback = EndRequested("internal error", fallback=True)
            self._execute(self._bridge.handle(fallback, loop.time() * 1000.0))
        except Exception as second:
            log_internal_error(self._log, second, "EndRequested")
        self._end("internal error")

    def _execute(self, commands: Iterable[Command]) -> None:
        """Before the start the bridge only keeps time, ends the stream and logs."""
        for command in commands:
            if isinstance(command, StartTimer):
                self._timers.start(command.name, command.at_ms)
            elif isinstance(command, CancelTimer):
                self._timers.cancel(command.name)
            elif isinstance(command, EndCall):
                self._end(command.reason)
            elif isinstance(command, Note):
                getattr(self._log, command.level, self._log.info)(command.event, **command.fields)
            else:
                self._log.error("stream.command_before_start", command=type(command).__name__)

    def _end(self, reason: str) -> None:
        if not self._ended.is_set():
            self.end_reason = reason
            self._ended.set()
