"""Connections that have not sent a complete request yet: a deadline each, and a cap on them all.

uvicorn itself never times out a connection that has sent nothing (its keep-alive timer starts
only after a first response), nor one that drips a request a byte at a time (every byte cancels
the keep-alive timer). Its `limit_concurrency` counts those connections too, so a few hundred
bare connects used to turn every webhook and `/healthz` into a 503 for as long as they were held.
The gateway therefore runs without `limit_concurrency` (admission, GATEWAY_MAX_CALLS, is the
limit that answers politely) and guards the HTTP protocol here instead:

* a **request deadline** (`REQUEST_TIMEOUT_S`): a new connection must deliver a complete request
  (head and body) within it, and so must each later request on a keep-alive connection, counted
  from its first byte; otherwise the connection is closed. Idle keep-alive connections between
  requests keep uvicorn's own `timeout_keep_alive`;
* a **cap on waiting connections** (`max_pending`): when more connections than that are waiting
  for their request, the one that has waited longest is closed. A legitimate client sends its
  request at once, so the oldest waiting connection is an abuser's; health probes and webhooks
  always get through.

Closes are counted (`timed_out`, `evicted`, read by the metrics) and logged as one
`http.connections_closed` line at most every `LOG_INTERVAL_S`, never one line per connection.
"""

from __future__ import annotations

import asyncio
import resource
from collections import OrderedDict
from typing import Any, ClassVar

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from gateway.log import get_logger

__all__ = [
    "REQUEST_TIMEOUT_S",
    "ConnectionGuard",
    "GuardedH11Protocol",
    "default_max_pending",
    "guarded_protocol",
]

_log = get_logger(component="http")
REQUEST_TIMEOUT_S = 10.0
"""A connection's time to deliver a complete request: from the connect, or from the first byte
of a later request on a keep-alive connection. Webhooks are a few hundred bytes sent at once."""
LOG_INTERVAL_S = 60.0
_WAITING_STATES = (h11.IDLE, h11.SEND_BODY)


def default_max_pending() -> int:
    """Waiting connections allowed at once: 1024, or a quarter of the file descriptor limit when
    that is lower (the rest stays for calls, their Live sessions and files)."""
    soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return 1024
    return max(16, min(1024, soft // 4))


class ConnectionGuard:
    """The waiting connections of one server, oldest first, and what was closed."""

    def __init__(
        self, *, request_timeout_s: float = REQUEST_TIMEOUT_S, max_pending: int | None = None
    ) -> None:
        self.request_timeout_s = request_timeout_s
        self.max_pending = default_max_pending() if max_pending is None else max_pending
        self._waiting: OrderedDict[GuardedH11Protocol, None] = OrderedDict()
        self.timed_out = 0
        """Connections closed because their request was not complete within the deadline."""
        self.evicted = 0
        """Connections closed to make room (the oldest waiting one, when over `max_pending`)."""
        self._logged = (0, 0)
        self._last_log_s: float | None = None

    @property
    def waiting(self) -> int:
        return len(self._waiting)

    def wait(self, connection: GuardedH11Protocol) -> None:
        """`connection` now waits for a complete request (it is the newest waiting one)."""
        self._waiting[connection] = None
        while len(self._waiting) > self.max_pending:
            oldest, _ = self._waiting.popitem(last=False)
            self.evicted += 1
            oldest.close_waiting()
            self._maybe_log()

    def done(self, connection: GuardedH11Protocol) -> None:
        self._waiting.pop(connection, None)

    def expired(self, connection: GuardedH11Protocol) -> None:
        self._waiting.pop(connection, None)
        self.timed_out += 1
        self._maybe_log()

    def _maybe_log(self) -> None:
        now = asyncio.get_running_loop().time()
        if self._last_log_s is not None and now - self._last_log_s < LOG_INTERVAL_S:
            return
        self._last_log_s = now
        timed_out = self.timed_out - self._logged[0]
        evicted = self.evicted - self._logged[1]
        self._logged = (self.timed_out, self.evicted)
        _log.warning(
            "http.connections_closed",
            timed_out=timed_out,
            evicted=evicted,
            waiting=len(self._waiting),
            request_timeout_s=self.request_timeout_s,
            max_pending=self.max_pending,
            message="connections that sent no complete request in time were closed (counts "
            f"since the last such line; at most one line per {LOG_INTERVAL_S:.0f} s)",
        )


class GuardedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with the request deadline and the waiting cap of `guard`."""

    guard: ClassVar[ConnectionGuard]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._start_waiting()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self.transport.is_closing() or self.transport.get_protocol() is not self:
            self._stop_waiting()
        elif self.conn.their_state in _WAITING_STATES:
            if data and self._deadline is None:  # the first byte of a later request
                self._start_waiting()
        else:  # the request is complete (or the connection is done with)
            self._stop_waiting()

    def handle_websocket_upgrade(self, event: h11.Request) -> None:
        self._stop_waiting()  # the upgrade request is complete; the WebSocket has its own timers
        super().handle_websocket_upgrade(event)

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_waiting()
        super().connection_lost(exc)

    def close_waiting(self) -> None:
        """Close this connection, which has not sent a complete request (the guard's choice)."""
        self._cancel_deadline()
        self.transport.close()

    def _start_waiting(self) -> None:
        self._cancel_deadline()
        self._deadline = self.loop.call_later(self.guard.request_timeout_s, self._expired)
        self.guard.wait(self)

    def _stop_waiting(self) -> None:
        self._cancel_deadline()
        self.guard.done(self)

    def _cancel_deadline(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _expired(self) -> None:
        self._deadline = None
        self.guard.expired(self)
        self.transport.close()


def guarded_protocol(guard: ConnectionGuard) -> type[GuardedH11Protocol]:
    """A protocol class for uvicorn's `http=` bound to `guard` (one guard per server)."""
    return type("GuardedH11Protocol", (GuardedH11Protocol,), {"guard": guard})
