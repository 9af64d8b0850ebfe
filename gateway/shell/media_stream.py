"""One carrier media stream from its accept to its end: the opening, the authorization, the call.

`MediaStream.run()` waits for the stream's `start` (`StreamOpening`), asks `authorize` whether
the stream may become a call (stream token, known call) and with which `CallPlan` (the agent
profile's options, services, Live session and recording), then builds the call's `CallRunner`
from the opened stream and the plan in one constructor call, and runs it. A refused stream is
closed with 1008 and claims no Live session. For the drain it is one running call throughout
(`call_id`, `request_end`), whichever phase it is in.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.websockets import WebSocket

from gateway.carriers.base import CarrierTranslator
from gateway.carriers.messages import bounded_id
from gateway.core.bridge import CallBridge
from gateway.core.events import BridgeEvent, CallStarted
from gateway.core.options import BridgeOptions
from gateway.log import get_logger
from gateway.shell.call_plan import CallPlan
from gateway.shell.call_runner import CallRunner, RunnerOptions
from gateway.shell.stream_opening import StreamOpening

__all__ = ["Authorize", "MediaStream", "NewBridge"]

Authorize = Callable[[CallStarted], "str | CallPlan | Awaitable[str | CallPlan]"]
"""A stream's `start` is accepted with the call's `CallPlan`, else refused with the reason
(logged as `stream.rejected`); cluster mode's asks Redis, so it may be awaited."""
NewBridge = Callable[[BridgeOptions], CallBridge]
"""Builds a bridge (the opening's, with the default options; the call's, with its plan's)."""


class MediaStream:
    """Runs one accepted carrier WebSocket: create per socket, then `await run()` once."""

    def __init__(
        self,
        ws: WebSocket,
        translator: CarrierTranslator,
        *,
        authorize: Authorize,
        opening_options: BridgeOptions,
        options: RunnerOptions | None = None,
        new_bridge: NewBridge = CallBridge,
    ) -> None:
        """`opening_options`: the bridge options before the profile is known (the gateway's
        defaults: how long the `start` may take)."""
        self._ws = ws
        self._translator = translator
        self._authorize = authorize
        self._options = options or RunnerOptions()
        self._new_bridge = new_bridge
        self._opening = StreamOpening(ws, translator, new_bridge(opening_options), self._options)
        self.plan: CallPlan | None = None
        """The call's plan, once its start was authorized."""
        self.runner: CallRunner | None = None
        """The call, once its start was authorized."""
        self.started: CallStarted | None = None
        """The stream's `start`, once it was authorized."""
        self.became_call = asyncio.Event()
        """Set once `runner` is built (cluster mode keeps the call's state from then on)."""

    @property
    def call_id(self) -> str | None:
        return self.runner.call_id if self.runner is not None else None

    @property
    def bridge(self) -> CallBridge:
        """The bridge deciding for the stream now: the call's, else the opening's."""
        return self.runner.bridge if self.runner is not None else self._opening.bridge

    @property
    def end_reason(self) -> str | None:
        return self.runner.end_reason if self.runner is not None else self._opening.end_reason

    def request_end(self, reason: str) -> None:
        """End the call (or stop waiting for its start): drain, shutdown."""
        if self.runner is not None:
            self.runner.request_end(reason)
        else:
            self._opening.request_end(reason)

    def deliver(self, event: BridgeEvent) -> bool:
        """Hand a running call an event from outside it; False before it runs."""
        return self.runner.deliver(event) if self.runner is not None else False

    async def run(self) -> dict[str, Any] | None:
        """Run the stream to its end; the call summary, or None if it never became a call."""
        opened = await self._opening.wait()
        if opened is None:
            return None
        verdict = self._authorize(opened.started)
        if inspect.isawaitable(verdict):
            verdict = await verdict
        if isinstance(verdict, str):
            call_sid = bounded_id(opened.started.call_id)
            get_logger(component="call").warning(
                "stream.rejected", reason=verdict, call_sid=call_sid
            )
            await self._opening.close(1008, "stream not authorized")
            return None
        self.plan = verdict
        self.runner = CallRunner(
            self._ws,
            self._translator,
            opened,
            verdict,
            bridge=self._new_bridge(verdict.bridge_options),
            options=self._options,
        )
        self.started = opened.started
        self.became_call.set()
        return await self.runner.run()
