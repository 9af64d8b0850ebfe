"""Reading and closing a carrier's media WebSocket: what the stream's opening and its call share.

`receive()` returns one carrier message, or a `CarrierClosed` saying how the socket ended: closed
by the carrier, broken, silent for longer than the idle timeout, or closed by the server's own
WebSocket layer for a message over `ws_max_size` (1009). `close()` is bounded and never raises.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from starlette.websockets import WebSocket, WebSocketDisconnect

from gateway.carriers.base import MAX_CARRIER_MESSAGE_BYTES
from gateway.carriers.messages import clip
from gateway.core.events import CarrierClosed
from gateway.shell.deadline import Deadline

__all__ = ["MESSAGE_TOO_BIG", "CarrierSocket"]

MESSAGE_TOO_BIG = 1009
"""The close code of a message over the server's `ws_max_size` (RFC 6455)."""


class CarrierSocket:
    """The receiving and closing side of an accepted carrier WebSocket."""

    def __init__(self, ws: WebSocket, *, idle_timeout_s: float, log: Any) -> None:
        self._ws = ws
        self._idle_timeout_s = idle_timeout_s
        self._log = log
        self._deadline = Deadline(asyncio.get_running_loop())
        """Bounds the receiving task's waits (one task receives from a `CarrierSocket`)."""

    async def receive(self) -> str | bytes | CarrierClosed:
        """One carrier message, or how the socket ended (closed, or silent too long)."""
        try:
            with self._deadline.bound(self._idle_timeout_s):
                message = await self._ws.receive()
        except TimeoutError:
            self._log.warning("carrier.idle_timeout", timeout_s=self._idle_timeout_s)
            return CarrierClosed()
        except (WebSocketDisconnect, RuntimeError, OSError):
            return CarrierClosed()
        if message["type"] == "websocket.disconnect":
            return self._closed(message.get("code"), message.get("reason"))
        text = message.get("text")
        return text if text is not None else message.get("bytes") or b""

    def _closed(self, code: object, reason: object) -> CarrierClosed:
        """How the socket ended. 1009 comes from the server's own WebSocket layer: a carrier
        message over `ws_max_size` (the carrier never has a reason to send it, the gateway's
        messages being far below any carrier's limit); it is logged, and the call's end reason
        says the gateway closed the stream and why."""
        number = code if isinstance(code, int) else None
        if number != MESSAGE_TOO_BIG:
            return CarrierClosed(number)
        detail = clip(reason) if isinstance(reason, str) else ""
        self._log.warning(
            "carrier.message_refused",
            code=number,
            limit_bytes=MAX_CARRIER_MESSAGE_BYTES,
            detail=detail,
        )
        return CarrierClosed(number, "carrier message too big")

    async def close(self, code: int, reason: str, *, timeout_s: float) -> None:
        """Close the socket (only the first close goes out); gives up after `timeout_s`."""
        self._deadline.close()
        with contextlib.suppress(Exception):
            async with asyncio.timeout(timeout_s):
                await self._ws.close(code, reason)
